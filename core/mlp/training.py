"""The training loop: configuration, shuffled minibatches, records, divergence and stopping.

A `TrainingRun` owns one model, one optimiser and one data set. `run()` is a generator that
yields a record (a JSON-safe dict) after every epoch and, when asked, every `eval_every` steps,
so a page can draw curves while training goes on and a script can print them.

A record is measured on a copy of the parameters taken at its step, on a helper thread, while
the next minibatches train on this one (BLAS and NumPy's ufuncs release the GIL, so with a
second core the evaluation costs the loop almost nothing). It is yielded as soon as it is ready,
before any later one, and what it decides (divergence, early stopping) ends the run exactly
where the old synchronous loop would have: at its step, with its parameters.

(Over 300 lines because TrainConfig and the loop that reads every one of its fields belong
together; the ranges themselves are in core.mlp.settings.)
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, fields

import numpy as np

from core.mlp.budget import check_memory
from core.mlp.datasets import Dataset, DataSpec
from core.mlp.model import MLP
from core.mlp.optimizers import make_optimizer
from core.mlp.records import Record
from core.mlp.schedules import learning_rate
from core.mlp.settings import SETTINGS, check
from core.mlp.status import RunStatus
from core.numbers import code

# A mean cross-entropy above this means the true class gets probability below e^−1000: the
# run has blown up even if float arithmetic has not reached inf yet.
DIVERGED_LOSS = 1e3
# Train loss/accuracy in a record are measured on at most this many training samples.
EVAL_TRAIN_MAX = 10_000


def _typed(kind: str, value: object) -> bool:
    """Whether a config value has its setting's Python type (text is read by the form, not
    here: a TrainConfig holds numbers)."""
    if kind == "int":
        return isinstance(value, int | np.integer) and not isinstance(value, bool)
    if kind == "float":
        return isinstance(value, int | float | np.integer | np.floating) \
            and not isinstance(value, bool)
    if kind == "hidden":
        return isinstance(value, tuple | list)
    return True


@dataclass(frozen=True)
class TrainConfig:
    """Everything that defines a training run; `validate()` explains what is wrong. The
    defaults, ranges and words of every field are those of `core.mlp.settings.SETTINGS`."""

    dataset: str = SETTINGS["dataset"].default
    hidden: tuple[int, ...] = SETTINGS["hidden"].default
    activation: str = SETTINGS["activation"].default
    init: str = SETTINGS["init"].default
    optimizer: str = SETTINGS["optimizer"].default
    lr: float = SETTINGS["lr"].default
    momentum: float = SETTINGS["momentum"].default
    beta1: float = SETTINGS["beta1"].default
    beta2: float = SETTINGS["beta2"].default
    eps: float = SETTINGS["eps"].default
    l2: float = SETTINGS["l2"].default
    schedule: str = SETTINGS["schedule"].default
    decay_k: float = SETTINGS["decay_k"].default
    step_every: int = SETTINGS["step_every"].default
    step_factor: float = SETTINGS["step_factor"].default
    batch_size: int = SETTINGS["batch_size"].default
    epochs: int = SETTINGS["epochs"].default
    seed: int = SETTINGS["seed"].default
    eval_every: int = SETTINGS["eval_every"].default
    early_stopping: int = SETTINGS["early_stopping"].default
    preprocess: str = SETTINGS["preprocess"].default
    val_fraction: float = SETTINGS["val_fraction"].default
    max_train: int | None = SETTINGS["max_train"].default
    dtype: str = SETTINGS["dtype"].default
    data_dir: str | None = SETTINGS["data_dir"].default
    csv: str | None = SETTINGS["csv"].default
    label: str | None = SETTINGS["label"].default

    def validate(self) -> TrainConfig:
        """Raise ValueError naming the first bad field in plain words; return self if fine."""
        for f in fields(self):
            setting, value = SETTINGS[f.name], getattr(self, f.name)
            if value is None and setting.default is None:
                continue
            if not _typed(setting.kind, value):
                raise ValueError(f"{setting.label} must be {setting.span()}, got "
                                 f"{code(repr(value))}")
            checked = check(f.name, value)
            if setting.none_is is not None and checked is None:
                raise ValueError(f"{setting.label} must be {setting.span()} (or None for all), "
                                 f"got {code(repr(value))}")
        if self.dataset == "csv" and (self.csv is None or self.label is None):
            raise ValueError("the csv data set needs a CSV file and the name of its label "
                             "column (on the command line: --csv PATH --label COLUMN)")
        if self.early_stopping and self.val_fraction <= 0:
            raise ValueError("early stopping needs a validation set: set validation fraction > 0")
        return self

    def data_spec(self) -> DataSpec:
        """What to load: the data set and the settings that shape its splits."""
        return DataSpec(self.dataset, seed=self.seed, preprocess=self.preprocess,
                        val_fraction=self.val_fraction, max_train=self.max_train,
                        dtype=self.dtype, data_dir=self.data_dir,
                        csv=self.csv if self.dataset == "csv" else None,
                        label=self.label if self.dataset == "csv" else None)

    def load_data(self, **kwargs) -> Dataset:
        """The data set of this run (`DataSpec.load`'s download and progress arguments)."""
        return self.data_spec().load(**kwargs)

    def to_dict(self) -> dict:
        """A JSON-safe dict; `from_dict` turns it back into an equal config."""
        d = asdict(self)
        d["hidden"] = [int(h) for h in self.hidden]
        return d

    @classmethod
    def from_dict(cls, d: dict) -> TrainConfig:
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(d) - known)
        if unknown:
            raise ValueError(f"unknown training setting(s): {', '.join(unknown)}")
        d = dict(d)
        if "hidden" in d and isinstance(d["hidden"], list | tuple):
            d["hidden"] = tuple(d["hidden"])
        return cls(**d)


class _Pending:
    """A record being measured on a helper thread; `state` is the run's position when its
    snapshot was taken, to go back to if the record ends the run."""

    def __init__(self, measure: Callable[[], Record], state: tuple, beside: bool = True) -> None:
        self.state = state
        self.done = False  # set by the helper thread last: a flag, cheap to poll every step
        self._record: Record | None = None
        self._error: BaseException | None = None
        self._thread: threading.Thread | None = None
        if not beside:  # measured here and now: the same record, the old synchronous way
            self._work(measure)
            return
        self._thread = threading.Thread(target=self._work, args=(measure,), name="record",
                                        daemon=True)
        self._thread.start()

    def _work(self, measure: Callable[[], Record]) -> None:
        try:
            with np.errstate(all="ignore"):  # as in the training loop: overflow is divergence
                self._record = measure()
        except BaseException as exc:  # handed to the training thread by result()
            self._error = exc
        finally:
            self.done = True

    def result(self) -> Record:
        if self._thread is not None:
            self._thread.join()
        if self._error is not None:
            raise self._error
        assert self._record is not None
        return self._record


def _json_float(x: float | None) -> float | None:
    """Plain float, or None for NaN/inf, which JSON cannot carry."""
    if x is None:
        return None
    x = float(x)
    return x if math.isfinite(x) else None


class TrainingRun:
    """One training run: data, model, optimiser, the records made so far and the status."""

    def __init__(self, config: TrainConfig, data: Dataset | None = None,
                 budget_mb: int | None = None, beside: bool = True) -> None:
        """`beside`: measure records on a helper thread while training goes on (the command
        line: one run owns the machine), or in the training thread (the page's worker pool has
        one worker per core already: a second busy thread each would make sessions share
        cores). The records are the same either way."""
        self.config = config.validate()
        self._beside = beside
        c = config
        self.data = data = c.load_data() if data is None else data
        sizes = (data.X_train.shape[1], *c.hidden, data.n_classes)
        # Refused before anything is allocated; budget_mb: see core.mlp.budget.
        check_memory(sizes, c.optimizer, c.batch_size, c.dtype, budget_mb)
        self.model = MLP(sizes, c.activation, c.init, seed=c.seed, dtype=c.dtype)
        self.optimizer = make_optimizer(c.optimizer, self.model.params, c.momentum, c.beta1,
                                        c.beta2, c.eps)
        self.records: list[Record] = []
        self.status = RunStatus.READY
        self.message = ""
        self.train_seconds = 0.0
        self.elapsed = 0.0
        self.step = 0
        self.n_train = len(data.y_train)
        self.steps_per_epoch = math.ceil(self.n_train / c.batch_size)
        dt = self.model.dtype
        self._X = np.ascontiguousarray(data.X_train, dtype=dt)
        self._Y = np.eye(data.n_classes, dtype=dt)[data.y_train]
        self._perm = np.arange(self.n_train)  # this epoch's shuffled order
        # One minibatch gathered from it at a time: a batch fresh in the cache for its GEMMs,
        # instead of the whole training set copied once per epoch.
        B = min(c.batch_size, self.n_train)
        self._xb = np.empty((B, self._X.shape[1]), dt)
        self._yb = np.empty((B, self._Y.shape[1]), dt)
        self._grads = [np.empty_like(p) for p in self.model.params]
        self._snap: MLP | None = None  # the parameters a pending record is measured on
        self._pending: _Pending | None = None
        self._owed = False  # a record due at this step but not started yet
        self._w0 = [float(np.mean(np.abs(W))) for W in self.model.weights]
        self._rng = np.random.default_rng([c.seed, 1])  # shuffling, independent of the init
        self._batch = 0  # next minibatch index within the current epoch
        self._epoch = 0  # epochs started
        # Whether epoch `_epoch` has begun (its shuffle drawn) and not ended: a stop before its
        # first minibatch leaves `_batch` at 0, which alone would read as "start a new epoch".
        self._in_epoch = False
        self._best_val = math.inf
        self._since_best = 0
        self._last_lr = c.lr
        n_eval = min(self.n_train, EVAL_TRAIN_MAX)
        self._X_eval, self._y_eval = self._X[:n_eval], data.y_train[:n_eval]

    # ------------------------------------------------------------ records

    def _lr_at(self, step: int) -> float:
        c = self.config
        return learning_rate(c.schedule, c.lr, step, self.steps_per_epoch, c.decay_k,
                             c.step_every, c.step_factor)

    def _measure(self, snap: MLP, step: int, lr: float, ratio: list, start: float) -> Record:
        """The record of the parameters in `snap` (run on the helper thread)."""
        d = self.data
        train_loss, train_acc = snap.evaluate(self._X_eval, self._y_eval)
        val_loss, val_acc = snap.evaluate(d.X_val, d.y_val) if len(d.y_val) else (None, None)
        _, test_acc = snap.evaluate(d.X_test, d.y_test)
        mean_abs = [float(np.mean(np.abs(W))) for W in snap.weights]
        return {
            "step": step,
            "epoch": step / self.steps_per_epoch,
            "lr": _json_float(lr),
            "train_loss": _json_float(train_loss),
            "train_acc": _json_float(train_acc),
            "val_loss": _json_float(val_loss),
            "val_acc": _json_float(val_acc),
            "test_acc": _json_float(test_acc),
            "l2_loss": _json_float(snap.l2_penalty(self.config.l2)),
            "mean_abs_w": [_json_float(a) for a in mean_abs],
            "mean_abs_w_rel": [_json_float(a / a0) if a0 > 0 else None
                               for a, a0 in zip(mean_abs, self._w0, strict=True)],
            "update_ratio": ratio,
            "elapsed": self.elapsed + (time.perf_counter() - start),
        }

    def _record(self, start: float) -> Iterator[Record]:
        """Start measuring a record of the parameters as they are now, after yielding the one
        still pending; False (and the run ended) if either shows the model blew up."""
        # Owed until it is started: a consumer that stops reading while the pending one is
        # yielded gets this one first when it resumes.
        self._owed = True
        if not (yield from self._deliver()):
            return False
        self._owed = False
        m = self.model
        if not all(np.isfinite(p).all() for p in m.params):
            self._diverge("the weights or the loss are no longer finite numbers")
            return False
        # ‖ΔW‖/‖W‖ now: the optimiser's Δθ buffers are overwritten by the next step.
        ratio = []
        for i, W in enumerate(m.weights):
            norm_w = float(np.linalg.norm(W))
            norm_d = float(np.linalg.norm(self.optimizer.delta[2 * i]))
            ratio.append(_json_float(norm_d / norm_w) if norm_w > 0 and self.step else None)
        self._snap = snap = m.snapshot(self._snap)
        state = (self.step, self._epoch, self._batch, self.train_seconds, self._last_lr,
                 self._in_epoch)
        self._pending = _Pending(
            lambda: self._measure(snap, state[0], state[4], ratio, start), state, self._beside)
        return True

    def _deliver(self) -> Iterator[Record]:
        """Wait for the pending record, keep and yield it; False (and the run ended where that
        record was made) if it diverged or stops the run early."""
        pending, self._pending = self._pending, None
        if pending is None:
            return True
        record = pending.result()
        if record["train_loss"] is None or record["train_loss"] > DIVERGED_LOSS:
            self._go_back(pending.state)
            self._diverge("the weights or the loss are no longer finite numbers")
            return False
        self.records.append(record)
        yield record
        at_epoch_end = not pending.state[5]  # patience counts epochs, not eval_every records
        if at_epoch_end and self._early_stop(epoch=pending.state[1]):
            self._go_back(pending.state)
            return False
        return True

    def _go_back(self, state: tuple) -> None:
        """End the run at a pending record's step: its position and parameters (the steps
        trained since are undone; the run cannot be resumed after what it decided)."""
        (self.step, self._epoch, self._batch, self.train_seconds, self._last_lr,
         self._in_epoch) = state
        assert self._snap is not None
        self._snap.snapshot(self.model)

    def _diverge(self, why: str) -> None:
        self.status = RunStatus.DIVERGED
        self.message = f"diverged at epoch {self._epoch}: {why}"

    # ------------------------------------------------------------ the loop

    def run(self, should_stop: Callable[[], bool] | None = None) -> Iterator[Record]:
        """Train until the configured epochs are done; yield each record as it is made.

        should_stop is polled before every minibatch; when it returns True the run stops at
        once with status "stopped" and can be resumed by calling run() again.
        """
        if self.status not in (RunStatus.READY, RunStatus.STOPPED):
            return
        self.status, self.message = RunStatus.RUNNING, ""
        start = time.perf_counter()
        try:
            with np.errstate(all="ignore"):  # overflow is handled as divergence, not warnings
                yield from self._loop(should_stop, start)
        finally:
            self.elapsed += time.perf_counter() - start
            if self.status == RunStatus.RUNNING:  # the consumer closed the generator early
                self.status, self.message = RunStatus.STOPPED, "stopped by the caller"

    def _loop(self, should_stop: Callable[[], bool] | None, start: float) -> Iterator[Record]:
        c, m, opt = self.config, self.model, self.optimizer
        params, grads = m.params, self._grads
        X, Y, xb, yb = self._X, self._Y, self._xb, self._yb
        B, n = c.batch_size, self.n_train
        every = c.eval_every
        if self._owed and not (yield from self._record(start)):
            return
        while self._epoch < c.epochs or self._in_epoch:
            if not self._in_epoch:
                self._epoch += 1
                self._perm = self._rng.permutation(n)
                self._in_epoch = True
            perm = self._perm
            t0 = time.perf_counter()
            for b in range(self._batch, self.steps_per_epoch):
                if self._pending is not None and self._pending.done:
                    self.train_seconds += time.perf_counter() - t0
                    self._batch = b
                    if not (yield from self._deliver()):
                        return
                    t0 = time.perf_counter()
                if should_stop is not None and should_stop():
                    self._batch = b
                    self.train_seconds += time.perf_counter() - t0
                    if not (yield from self._deliver()):
                        return
                    self.status = RunStatus.STOPPED
                    self.message = f"stopped at epoch {self._epoch}, step {self.step}"
                    return
                lr = self._lr_at(self.step)
                rows = perm[b * B:(b + 1) * B]
                k = len(rows)
                # mode="clip": the indices are valid, and it saves take() a buffered copy
                X.take(rows, axis=0, out=xb[:k], mode="clip")
                Y.take(rows, axis=0, out=yb[:k], mode="clip")
                loss, _ = m.loss_and_grads(xb[:k], yb[:k], c.l2, out=grads,
                                           scale=opt.grad_scale(lr))
                if not math.isfinite(loss) or loss > DIVERGED_LOSS:
                    self.train_seconds += time.perf_counter() - t0
                    self._batch = b
                    # A pending record comes first: it may already have ended the run.
                    if not (yield from self._deliver()):
                        return
                    self._diverge(f"loss became {loss:.3g}" if math.isfinite(loss)
                                  else f"loss became {loss}")
                    return
                opt.apply(params, grads, lr)
                self.step += 1
                self._last_lr = lr
                if every and self.step % every == 0 and b + 1 < self.steps_per_epoch:
                    self.train_seconds += time.perf_counter() - t0
                    self._batch = b + 1
                    if not (yield from self._record(start)):
                        return
                    t0 = time.perf_counter()
            self.train_seconds += time.perf_counter() - t0
            self._batch, self._in_epoch = 0, False
            if not (yield from self._record(start)):
                return
        if not (yield from self._deliver()):
            return
        self.status = RunStatus.FINISHED
        self.message = f"finished {c.epochs} epochs ({self.step} steps)"

    def _early_stop(self, epoch: int) -> bool:
        patience = self.config.early_stopping
        val_loss = self.records[-1]["val_loss"] if self.records else None
        if not patience or val_loss is None:
            return False
        if val_loss < self._best_val:
            self._best_val, self._since_best = val_loss, 0
            return False
        self._since_best += 1
        if self._since_best >= patience:
            self.status = RunStatus.EARLY_STOPPED
            self.message = (f"stopped early at epoch {epoch}: validation loss has not "
                            f"improved on {self._best_val:.4f} for {patience} evaluations")
            return True
        return False

    def summary(self) -> dict:
        """Final and best accuracies, sizes, time and status of the run so far."""
        r = self.records

        def best(key: str) -> float | None:
            values = [x[key] for x in r if x[key] is not None]
            return max(values) if values else None

        return {
            "status": self.status,
            "message": self.message,
            "final_test_acc": r[-1]["test_acc"] if r else None,
            "best_test_acc": best("test_acc"),
            "final_val_acc": r[-1]["val_acc"] if r else None,
            "best_val_acc": best("val_acc"),
            "final_train_acc": r[-1]["train_acc"] if r else None,
            "n_train": self.n_train,
            "n_val": len(self.data.y_val),
            "n_test": len(self.data.y_test),
            "n_params": self.model.n_params,
            "layer_sizes": list(self.model.layer_sizes),
            "steps": self.step,
            "epochs_done": self.step // self.steps_per_epoch,
            "train_seconds": self.train_seconds,
            "elapsed": self.elapsed,
        }
