"""Training into the run store: one run, or a sweep of runs, watched from a background thread.

A Streamlit click reruns the page script, so training cannot live in the script: a `RunJob`'s
thread hands each run to a worker process (`core.mlp.workers`, the page's way) or trains it
itself, every record going to the `RunStore` as it is made, while the page (any number of
reruns later) reads `RunJob.runs` to draw, and `RunJob.stop()` ends the run between two
minibatches. Several sessions each own one job; the store keeps their writes apart. A reloaded
tab finds its job again by the token in its URL (`find_job`). (Over 300 lines: `record_run`,
the job and what a page reads of it—progress, time left, outcomes—belong together.)
"""

from __future__ import annotations

import threading
import time
import uuid
import weakref
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from core.mlp.eta import Mark, cpu_share, seconds_left
from core.mlp.records import Record
from core.mlp.status import ENDED, RunStatus, to_stored

if TYPE_CHECKING:  # the command-line trainer imports this module without needing a database
    from core.mlp.runstore import RunStore
    from core.mlp.workers import Task, WorkerPool

__all__ = ["Trainable", "record_run", "LiveRun", "RunJob", "ENDED", "single_blas_thread",
           "find_job", "HEARTBEAT_S"]

# Seconds between heartbeats of a training run (`RunStore.beat`), records aside: well inside the
# store's STALE_AFTER_S, so only a dead trainer is ever taken for one.
HEARTBEAT_S = 5.0
# Below this share of a core (core.mlp.eta.cpu_share) the progress line says the machine is busy.
SLOW_SHARE = 0.7


def limit_blas_threads(n: int = 1) -> None:
    """Run BLAS on at most `n` threads in this process (process-wide, idempotent); 0 = no limit.

    The MLP's matrices are small: OpenBLAS's worker threads gain little on them and, when the
    cores are busy (two sessions training, a test suite), spin-wait so badly that an epoch took
    38× longer in our measurement. One thread per training job uses the cores better.
    """
    if n <= 0:
        return
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # scikit-learn brings threadpoolctl; without it, keep the default
        return
    threadpool_limits(limits=n, user_api="blas")


def single_blas_thread() -> None:
    """`limit_blas_threads(1)`: what the page does for every training job."""
    limit_blas_threads(1)


class Trainable(Protocol):
    """What `record_run` needs of a `core.mlp.training.TrainingRun`."""

    config: Any
    status: str
    message: str
    train_seconds: float

    def run(self, should_stop: Callable[[], bool] | None = None) -> Iterator[Record]: ...
    def summary(self) -> dict: ...


def _beating(store: RunStore, run_id: int,
             should_stop: Callable[[], bool] | None) -> Callable[[], bool]:
    """`should_stop`, polled before every minibatch, that also sends a heartbeat every
    HEARTBEAT_S seconds: a long epoch must not look like a dead trainer."""
    last = [time.monotonic()]

    def poll() -> bool:
        now = time.monotonic()
        if now - last[0] >= HEARTBEAT_S:
            last[0] = now
            store.beat(run_id)
        return should_stop is not None and should_stop()

    return poll


def record_run(
    store: RunStore, run: Trainable, *, label: str = "", sweep: str = "",
    should_stop: Callable[[], bool] | None = None,
    on_start: Callable[[int], None] | None = None,
    on_record: Callable[[Record], None] | None = None,
) -> int:
    """Train `run`, storing every record as it is made; returns the run id.

    Whatever ends the loop (the end, Stop, divergence, an exception, a KeyboardInterrupt), the
    run's row is closed with a status and every record already made stays stored.
    """
    settings = run.config.to_dict() if hasattr(run.config, "to_dict") else dict(run.config)
    run_id = store.create_run(settings, label=label, sweep=sweep)
    if on_start is not None:
        on_start(run_id)
    status, message = RunStatus.FAILED, ""
    try:
        for record in run.run(_beating(store, run_id, should_stop)):
            store.add_record(run_id, record)
            if on_record is not None:
                on_record(record)
        status = to_stored(run.status)
        message = run.message
        if run.status == RunStatus.EARLY_STOPPED and not message:
            message = "stopped early: validation accuracy stopped improving"
    except Exception as exc:  # the run failed, but what it made is kept
        status, message = RunStatus.FAILED, f"{type(exc).__name__}: {exc}"
    except BaseException:
        status, message = RunStatus.STOPPED, "interrupted"
        raise
    finally:
        summary: dict = {}
        try:
            summary = run.summary()
        except Exception:  # a summary is a convenience; never lose the status over it
            summary = {}
        store.finish_run(run_id, status, message=message,
                         train_seconds=getattr(run, "train_seconds", None), summary=summary)
    return run_id


@dataclass
class LiveRun:
    """What a watching page needs of one run while it trains (kept in memory, also stored)."""

    label: str
    config: Any
    run_id: int | None = None
    records: list[Record] = field(default_factory=list)
    status: str = RunStatus.WAITING
    message: str = ""
    model: Any = None
    data: Any = None
    last_at: float | None = None  # time.time() when the last record arrived
    task: Task | None = None  # its place in a worker pool, when it trains in one
    cpu: list[float] = field(default_factory=list)  # the training thread's CPU s at each record

    def add(self, record: Record, cpu: float | None = None) -> None:
        """Keep `record`; `cpu` is the training thread's CPU seconds when it was made (without
        it, the record's wall clock stands in: the estimate then assumes a core of its own)."""
        self.records.append(record)
        self.cpu.append(float(record.get("elapsed") or 0.0) if cpu is None else cpu)
        self.last_at = time.time()

    def marks(self) -> list[Mark]:
        return [Mark(float(r.get("epoch") or 0.0), float(r.get("elapsed") or 0.0), c)
                for r, c in zip(self.records, self.cpu, strict=False)]

    def seconds_left(self, epochs_left: float) -> float | None:
        """`core.mlp.eta.seconds_left` of this run's records, less the time since the last."""
        since = time.time() - (self.last_at or time.time())
        return seconds_left(self.marks(), epochs_left, since)

    def share(self) -> float | None:
        """The share of a core its training thread has had (`core.mlp.eta.cpu_share`)."""
        return cpu_share(self.marks())


class RunJob:
    """Train one run, or a sweep of runs one after another, from a background thread.

    With a `pool` (core.mlp.workers), each run trains in a worker process (configs are then
    TrainConfigs) and its records stream back into `runs`; without one, `make_run(config)`
    builds a `TrainingRun` that trains in the thread itself. `stop()` ends the current run
    between two minibatches and skips the rest of the sweep. The thread never touches
    Streamlit: the page reads `runs` to draw.
    """

    def __init__(
        self, store: RunStore, configs: Sequence[tuple[str, Any]],
        make_run: Callable[[Any], Trainable] | None = None, *, sweep: str = "",
        pool: WorkerPool | None = None,
    ) -> None:
        self.store = store
        self.pool = pool
        self.make_run = make_run
        self.sweep = sweep
        self.runs = [LiveRun(label=label, config=cfg) for label, cfg in configs]
        self.token = uuid.uuid4().hex  # what a reloaded tab finds this job by (`find_job`)
        _JOBS[self.token] = self
        self.started = time.time()
        self.ended: float | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._work, name="handprop-train", daemon=True)

    def start(self) -> RunJob:
        single_blas_thread()
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self.pool is not None:
            for live in self.runs:
                if live.task is not None:
                    self.pool.stop(live.task)

    @property
    def stop_requested(self) -> bool:
        return self._stop.is_set()

    @property
    def done(self) -> bool:
        return self._thread.ident is not None and not self._thread.is_alive()

    def join(self, timeout: float | None = None) -> bool:
        self._thread.join(timeout)
        return not self._thread.is_alive()

    @property
    def run_ids(self) -> list[int]:
        return [r.run_id for r in self.runs if r.run_id is not None]

    def records(self, store: RunStore | None = None) -> dict[str, list[Record]]:
        """Each run's records so far, by label (runs without any left out).

        A record goes from the worker to the store, then over a pipe into `runs`; when the
        pipe lags (the server busy drawing), a running run's records are read from `store`,
        so what a redraw shows is never behind the store.
        """
        out = {}
        for r in self.runs:
            records = r.records
            if store is not None and r.status == RunStatus.RUNNING and r.run_id is not None:
                try:
                    if store.n_records(r.run_id) > len(records):
                        records = store.records(r.run_id)
                except Exception:  # noqa: BLE001 - the store's trouble: show what came
                    records = r.records
            if records:
                out[r.label] = records
        return out

    def _latest(self) -> LiveRun | None:
        """The newest run with records: the one the time left and the share are read from."""
        return next((r for r in reversed(self.runs) if r.records), None)

    def progress(self) -> tuple[float, float | None]:
        """(fraction of all epochs trained, estimated seconds left; None before the first record).

        A finished run counts all its epochs, a stopped or diverged one the epochs it made.
        Time left is `core.mlp.eta.seconds_left` of the latest run's records for every epoch
        still to go: its pace over its steady records, so the job's start (data loading), a
        slow first epoch and a burst of load elsewhere do not swing it.
        """
        total = sum(_epochs(r.config) for r in self.runs) or 1.0
        done = 0.0
        for r in self.runs:
            if r.status == RunStatus.FINISHED:
                done += _epochs(r.config)
            elif r.records:
                done += float(r.records[-1].get("epoch") or 0.0)
        done = min(done, total)
        if self.done:
            return done / total, 0.0
        latest = self._latest()
        return done / total, (latest.seconds_left(total - done) if latest is not None else None)

    def progress_text(self) -> str:
        """"40% of the epochs trained · 1 of 3 runs ended · about 12 s left", and when other
        jobs hold the cores, "(it has had 12% of a core: the machine is busy)"."""
        frac, left = self.progress()
        text = f"{frac:.0%} of the epochs trained"
        queued = next((r for r in self.runs if r.status == RunStatus.QUEUED), None)
        if queued is not None and queued.task is not None and self.pool is not None:
            if queued.task.state == RunStatus.QUEUED:
                text += (f" · queued, {self.pool.ahead(queued.task)} ahead: waiting for a free "
                         "worker")
            else:  # a worker has it, and is loading the data (or starting up)
                text += " · starting: its worker is loading the data"
        if len(self.runs) > 1:
            ended = sum(1 for r in self.runs if r.status in ENDED)
            text += f" · {ended} of {len(self.runs)} runs ended"
        if left is not None and not self.done:
            text += f" · about {left:.0f} s left"
            latest = self._latest()
            share = latest.share() if latest is not None else None
            if share is not None and share < SLOW_SHARE:  # say why it is slow: other jobs
                text += f" (it has had {share:.0%} of a core: the machine is busy)"
        return text

    def outcomes(self) -> list[tuple[str, str]]:
        """(kind, sentence) for each run that did not simply finish: what happened, in words,
        and what was kept. kind is "warning" (diverged), "error" (failed) or "info" (stopped)."""
        out = []
        for r in self.runs:
            n, where = len(r.records), (f"run #{r.run_id}" if r.run_id is not None
                                        else "not stored")
            if r.status == RunStatus.DIVERGED:
                out.append(("warning", f"**{r.label}** {r.message or 'diverged'}: the weights "
                            f"blew up, so training ended there. The curve up to that point is "
                            f"kept ({n} records, {where})."))
            elif r.status in (RunStatus.FAILED, RunStatus.INTERRUPTED):
                out.append(("error", f"**{r.label}** failed: {r.message}"))
            elif r.status == RunStatus.STOPPED:
                out.append(("info", f"**{r.label}** {r.message or 'stopped'}. Its {n} finished "
                            f"records are kept ({where})."))
        return out

    def _work(self) -> None:
        for live in self.runs:
            if self._stop.is_set():
                live.status = RunStatus.SKIPPED
                live.message = "not started: the sweep was stopped"
                continue
            if self.pool is not None:
                self._on_pool(live)
                continue
            live.status = RunStatus.RUNNING
            try:
                run = self.make_run(live.config)
            except Exception as exc:
                # Not even built (bad settings, data unavailable): record the failure in words.
                run_id = self.store.create_run(_settings_of(live.config), label=live.label,
                                               sweep=self.sweep)
                live.run_id, live.status = run_id, RunStatus.FAILED
                live.message = f"{type(exc).__name__}: {exc}"
                self.store.finish_run(run_id, RunStatus.FAILED, message=live.message)
                continue
            live.model, live.data = getattr(run, "model", None), getattr(run, "data", None)
            try:
                run_id = record_run(
                    self.store, run, label=live.label, sweep=self.sweep,
                    should_stop=self._stop.is_set,
                    on_start=lambda i, live=live: setattr(live, "run_id", i),
                    # In this thread: its CPU clock is the run's own.
                    on_record=lambda rec, live=live: live.add(rec, time.thread_time()),
                )
                info = self.store.get_run(run_id)
                live.status = RunStatus(info.status) if info else RunStatus.FAILED
                live.message = info.message if info else "the run's row has gone"
            except Exception as exc:  # the database itself failed (disk full, locked too long)
                live.status, live.message = RunStatus.FAILED, f"{type(exc).__name__}: {exc}"
        self.ended = time.time()
        self.store.close()

    def _on_pool(self, live: LiveRun) -> None:
        """Queue `live` in the pool and wait for its end; its records arrive as they are made."""
        from core.mlp.workers import Task

        def started(run_id: int, n_features: int) -> None:
            live.run_id, live.status = run_id, RunStatus.RUNNING
            if n_features == 2:  # a 2-D set: the page draws the boundary of a copy of the model
                live.data = live.config.load_data()
                live.model = _model_like(live.config, live.data)

        def record(rec: Record, params: list | None, cpu: float | None) -> None:
            if params is not None and live.model is not None:
                for mine, theirs in zip(live.model.params, params, strict=True):
                    mine[...] = theirs
            live.add(rec, cpu)

        def ended(run_id: int | None, status: str, message: str) -> None:
            live.run_id = run_id if run_id is not None else live.run_id
            live.status, live.message = RunStatus(status), message

        live.status = RunStatus.QUEUED
        live.task = Task(config=_settings_of(live.config), db=self.store.location,
                         label=live.label, sweep=self.sweep, on_start=started,
                         on_record=record, on_end=ended)
        self.pool.submit(live.task)
        if self._stop.is_set():  # Stop pressed while it was being queued
            self.pool.stop(live.task)
        live.task.ended.wait()


# Jobs by token, while anything (a session's state) still holds them: a tab reloaded mid-run
# starts a new session, which finds its job again through the token kept in the page's URL.
_JOBS: weakref.WeakValueDictionary[str, RunJob] = weakref.WeakValueDictionary()


def find_job(token: str | None) -> RunJob | None:
    """The job `RunJob.token` names, if it is still training or held by a session."""
    return _JOBS.get(token) if token else None


def _model_like(config: Any, data: Any) -> Any:
    """An MLP of the run's shape (its weights are copied in from the worker's records)."""
    from core.mlp.model import MLP

    sizes = (data.X_train.shape[1], *config.hidden, data.n_classes)
    return MLP(sizes, config.activation, config.init, seed=config.seed, dtype=config.dtype)


def _epochs(config: Any) -> float:
    return float(getattr(config, "epochs", None) or 1)


def _settings_of(config: Any) -> dict:
    return config.to_dict() if hasattr(config, "to_dict") else dict(config)
