"""Training in worker processes: a bounded pool, one BLAS thread each, sized to the cores.

Threads of one server never use more than about one core (the GIL, and a BLAS that spins); so
the Train page hands each run to a worker process of a `WorkerPool`. A worker trains with
`record_run` into the same run store as before, and streams every record back over a pipe to
the server, which hands it to the watching session. Runs wait their turn in one queue ("queued,
N ahead"); Stop sets the worker's stop flag, polled before every minibatch; a worker that dies
(killed, out of memory) has its run marked failed with the reason, and is replaced.

    parent (server)                         worker process (spawned: no threads inherited)
    submit(task) → queue → free worker  ──► ("train", config, label, sweep, store)
    task.on_record(record)              ◄── ("start", run_id, n_features) ("record", r, params, cpu)
    task.on_end(run_id, status, message) ◄── ("end", run_id, status, message)

HANDPROP_WORKERS sets the pool's size (default: the machine's cores); the workers run at a
lower CPU priority than the server (HANDPROP_WORKER_NICE, default 10), so pages stay quick while
every core trains.
"""

from __future__ import annotations

import atexit
import collections
import contextlib
import multiprocessing as mp
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from multiprocessing.connection import Connection, wait
from typing import Any

from core.mlp.status import RunStatus

__all__ = ["WorkerPool", "Task", "pool_size", "STOP_GRACE_S"]

# A run told to stop ends at its next minibatch; one that has not within this many seconds (a
# huge minibatch, a stuck loader) has its worker ended, so Stop is never left waiting.
STOP_GRACE_S = 3.0
# How much lower the workers' CPU priority is than the server's (os.nice; 0 = the same).
WORKER_NICE = int(os.environ.get("HANDPROP_WORKER_NICE", "10"))


def pool_size() -> int:
    """$HANDPROP_WORKERS, else the cores this process may use (at least 1)."""
    explicit = os.environ.get("HANDPROP_WORKERS", "").strip()
    if explicit:
        n = int(explicit)
        if n < 1:
            raise ValueError(f"HANDPROP_WORKERS must be 1 or more, got {explicit!r}")
        return n
    return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity")
               else os.cpu_count() or 1)


@dataclass(eq=False)
class Task:
    """One run for the pool: its settings (TrainConfig.to_dict()) and what to call back.

    Callbacks run in the pool's dispatcher thread: keep them short (append, set a field).
    """

    config: dict
    db: str  # the run store's path (or URL) the worker writes to
    label: str = ""
    sweep: str = ""
    on_start: Callable[[int, int], None] | None = None  # (run id, input features)
    # (record, params or None, the worker's training-thread CPU seconds when it was made)
    on_record: Callable[[dict, list | None, float | None], None] | None = None
    on_end: Callable[[int | None, str, str], None] | None = None  # (run id, status, message)
    run_id: int | None = None
    state: str = RunStatus.QUEUED
    ended: threading.Event = field(default_factory=threading.Event)
    _worker: Any = None
    _stop_at: float | None = None  # time.monotonic() when Stop was asked for


class _Worker:
    def __init__(self, ctx: Any) -> None:
        self.conn, child = ctx.Pipe()
        self.stop = ctx.Event()
        self.process = ctx.Process(target=_worker_main, args=(child, self.stop), daemon=True,
                                   name="handprop-worker")
        self.process.start()
        child.close()
        self.task: Task | None = None


class WorkerPool:
    """`size` worker processes, each training one run at a time into its task's run store."""

    def __init__(self, size: int | None = None) -> None:
        self.size = size or pool_size()
        self._ctx = mp.get_context("spawn")
        self._lock = threading.Lock()
        self._queue: collections.deque[Task] = collections.deque()
        self._workers = [_Worker(self._ctx) for _ in range(self.size)]
        self._closed = False
        self.replaced = 0  # workers that died and were replaced
        self._thread = threading.Thread(target=self._dispatch, name="handprop-pool",
                                        daemon=True)
        self._thread.start()
        atexit.register(self.shutdown)  # no worker outlives its server, however it ends

    # -- the sessions' side ----------------------------------------------------------------------
    def submit(self, task: Task) -> Task:
        with self._lock:
            if self._closed:
                raise RuntimeError("the worker pool has been shut down")
            self._queue.append(task)
        return task

    def ahead(self, task: Task) -> int:
        """How many queued runs get a worker before `task` (0 = the next one)."""
        with self._lock:
            return self._queue.index(task) if task in self._queue else 0

    def stop(self, task: Task) -> None:
        """End `task` now: a queued one never starts, a running one stops at its next
        minibatch (its records are kept)."""
        with self._lock:
            if task in self._queue:
                self._queue.remove(task)
                queued = True
            else:
                queued = False
                if task._worker is not None:
                    task._worker.stop.set()
                    task._stop_at = task._stop_at or time.monotonic()
        if queued:
            self._end(task, None, RunStatus.SKIPPED, "not started: stopped while queued")

    def shutdown(self) -> None:
        """Stop the dispatcher and end every worker (a run in progress stops as by Stop)."""
        with self._lock:
            if self._closed and not self._thread.is_alive():
                return
            self._closed = True
        self._thread.join(timeout=5)
        for w in self._workers:
            w.stop.set()
            with contextlib.suppress(OSError):
                w.conn.send(None)
            w.process.join(timeout=2)
            if w.process.is_alive():
                w.process.kill()

    # -- the dispatcher thread -------------------------------------------------------------------
    def _end(self, task: Task, run_id: int | None, status: str, message: str) -> None:
        task.state, task._worker = status, None
        if task.on_end is not None:
            task.on_end(run_id, status, message)
        task.ended.set()

    def _dispatch(self) -> None:
        while True:
            with self._lock:
                if self._closed:
                    return
                for w in self._workers:
                    if w.task is None and self._queue:
                        task = self._queue.popleft()
                        w.task, task._worker, task.state = task, w, RunStatus.RUNNING
                        w.stop.clear()
                        w.conn.send(("train", task.config, task.label, task.sweep, task.db))
                waiting = {w.conn: w for w in self._workers if w.task is not None}
                dying = {w.process.sentinel: w for w in self._workers}
            for ready in wait([*waiting, *dying], timeout=0.05):
                if ready in waiting:
                    self._receive(waiting[ready])
                elif ready in dying and not dying[ready].process.is_alive():
                    self._replace(dying[ready])
            for w in waiting.values():
                stop_at = w.task._stop_at if w.task is not None else None
                if stop_at is not None and time.monotonic() - stop_at > STOP_GRACE_S:
                    w.process.kill()  # its sentinel fires next: _replace ends the run

    def _receive(self, w: _Worker) -> None:
        try:
            while w.conn.poll():
                message = w.conn.recv()
                task = w.task
                if task is None:
                    continue
                kind = message[0]
                if kind == "start":
                    task.run_id = message[1]
                    if task.on_start is not None:
                        task.on_start(message[1], message[2])
                elif kind == "record" and task.on_record is not None:
                    task.on_record(message[1], message[2], message[3])
                elif kind == "end":
                    w.task = None
                    self._end(task, message[1], message[2], message[3])
        except (EOFError, OSError):
            pass  # the worker is dying: its sentinel reports it next

    def _replace(self, w: _Worker) -> None:
        code = w.process.exitcode
        task, w.task = w.task, None
        if task is not None and task._stop_at is not None:
            why = (f"stopped: it did not reach its next minibatch within {STOP_GRACE_S:.0f} s, "
                   "so its worker was ended; its records are kept")
            self._close_in_store(task, RunStatus.STOPPED, why)
            self._end(task, task.run_id, RunStatus.STOPPED, why)
        elif task is not None:
            why = (f"the worker process training it died (killed by signal {-code})"
                   if code is not None and code < 0 else
                   f"the worker process training it died (exit code {code})")
            self._close_in_store(task, RunStatus.FAILED, why)
            self._end(task, task.run_id, RunStatus.FAILED, why)
        with self._lock:
            i = self._workers.index(w)
            self._workers[i] = _Worker(self._ctx)
            self.replaced += 1

    def _close_in_store(self, task: Task, status: RunStatus, why: str) -> None:
        from core.mlp.runstore import RunStore

        try:
            store = RunStore(task.db)
            if task.run_id is None:
                task.run_id = store.create_run(task.config, label=task.label, sweep=task.sweep)
            store.finish_run(task.run_id, status, message=why)
            store.close()
        except Exception:  # noqa: BLE001 - the store's own trouble must not kill the pool
            pass


# -- the worker process ------------------------------------------------------------------------
def _worker_main(conn: Connection, stop: Any) -> None:
    """Train what the pool sends, one run at a time, until it sends None."""
    from core.mlp.jobs import limit_blas_threads

    limit_blas_threads(1)
    # Below the server in CPU priority: a click on any page (the server's script run) goes
    # first, and training takes every cycle the pages leave.
    with contextlib.suppress(OSError):
        os.nice(WORKER_NICE)
    stores: dict[str, Any] = {}
    data: dict[Any, Any] = {}
    while True:
        try:
            message = conn.recv()
        except (EOFError, OSError):
            return
        if message is None:
            return
        _, config, label, sweep, db = message
        try:
            _train_one(conn, stop, config, label, sweep, db, stores, data)
        except (BrokenPipeError, EOFError, OSError):
            return  # the server has gone: nobody is listening any more


def _train_one(conn: Connection, stop: Any, config: dict, label: str, sweep: str, db: str,
               stores: dict, data: dict) -> None:
    from core.mlp.jobs import record_run
    from core.mlp.runstore import RunStore
    from core.mlp.training import TrainConfig, TrainingRun

    run_id = None
    try:
        store = stores.get(db) or stores.setdefault(db, RunStore(db))
        cfg = TrainConfig.from_dict(config).validate()
        spec = cfg.data_spec()
        if spec not in data:
            data.clear()  # one data set cached per worker: memory stays bounded
            data[spec] = cfg.load_data()
        # Records in the training thread: the pool is one worker per core, so a helper thread
        # per run would make two sessions share the cores (bench/class_load.py: 2 sessions
        # 1.03x one session with it, the goal is >= 1.7x).
        run = TrainingRun(cfg, data[spec], beside=False)
    except Exception as exc:  # noqa: BLE001 - bad settings or data: a failed run, in words
        why = f"{type(exc).__name__}: {exc}"
        try:
            store = stores.get(db) or RunStore(db)
            run_id = store.create_run(config, label=label, sweep=sweep)
            store.finish_run(run_id, RunStatus.FAILED, message=why)
        except Exception:  # noqa: BLE001
            pass
        conn.send(("end", run_id, RunStatus.FAILED.value, why))
        return
    toy = run.data.X_train.shape[1] == 2  # the page draws the decision boundary of these

    def on_start(i: int) -> None:
        conn.send(("start", i, int(run.data.X_train.shape[1])))

    def on_record(record: dict) -> None:
        params = [p.copy() for p in run.model.params] if toy else None
        # Records are made in this (the training) thread: its CPU clock is what the run cost,
        # whatever share of a core the machine's load leaves it (core.mlp.eta).
        conn.send(("record", record, params, time.thread_time()))

    try:
        run_id = record_run(store, run, label=label, sweep=sweep, should_stop=stop.is_set,
                            on_start=on_start, on_record=on_record)
        info = store.get_run(run_id)
        status, message = (info.status, info.message) if info else (RunStatus.FAILED, "gone")
    except Exception as exc:  # noqa: BLE001 - the database failed: say so, keep the worker
        status, message = RunStatus.FAILED, f"{type(exc).__name__}: {exc}"
    conn.send(("end", run_id, str(status), message))
