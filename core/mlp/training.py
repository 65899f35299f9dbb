"""The training loop: configuration, shuffled minibatches, records, divergence and stopping.

A `TrainingRun` owns one model, one optimiser and one data set. `run()` is a generator that
yields a record (a JSON-safe dict) after every epoch and, when asked, every `eval_every` steps,
so a page can draw curves while training goes on and a script can print them.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, fields

import numpy as np

from core.mlp.activations import ACTIVATIONS
from core.mlp.datasets import DATASETS, PREPROCESS, Dataset, load_dataset
from core.mlp.initializers import INITS
from core.mlp.model import MLP
from core.mlp.optimizers import OPTIMIZERS, make_optimizer
from core.mlp.records import Record
from core.mlp.schedules import SCHEDULES, learning_rate
from core.mlp.status import RunStatus

# A mean cross-entropy above this means the true class gets probability below e^−1000: the
# run has blown up even if float arithmetic has not reached inf yet.
DIVERGED_LOSS = 1e3
# Train loss/accuracy in a record are measured on at most this many training samples.
EVAL_TRAIN_MAX = 10_000
MAX_WIDTH = 4096
MAX_HIDDEN_LAYERS = 20


def _is_int(v: object) -> bool:
    return isinstance(v, int | np.integer) and not isinstance(v, bool)


def _is_real(v: object) -> bool:
    return isinstance(v, int | float | np.integer | np.floating) and not isinstance(v, bool) \
        and math.isfinite(float(v))


@dataclass(frozen=True)
class TrainConfig:
    """Everything that defines a training run; `validate()` explains what is wrong."""

    dataset: str = "digits"
    hidden: tuple[int, ...] = (64,)
    activation: str = "sigmoid"
    init: str = "fan_in"
    optimizer: str = "sgd"
    lr: float = 0.1
    momentum: float = 0.9
    beta1: float = 0.9
    beta2: float = 0.999
    eps: float = 1e-8
    l2: float = 0.0
    schedule: str = "constant"
    decay_k: float = 0.0
    step_every: int = 10
    step_factor: float = 0.5
    batch_size: int = 32
    epochs: int = 20
    seed: int = 0
    eval_every: int = 0
    early_stopping: int = 0
    preprocess: str = "scale"
    val_fraction: float = 0.1
    max_train: int | None = None
    dtype: str = "float32"
    data_dir: str | None = None

    def validate(self) -> TrainConfig:
        """Raise ValueError naming the first bad field in plain words; return self if fine."""
        def choice(field: str, value: str, options) -> None:
            if value not in options:
                raise ValueError(f"{field} must be one of {', '.join(options)}, got {value!r}")

        def integer(field: str, value, low: int, high: int | None = None) -> None:
            if not _is_int(value) or value < low or (high is not None and value > high):
                what = "a positive integer" if low == 1 else f"an integer ≥ {low}"
                if high is not None:
                    what = f"an integer from {low} to {high}"
                raise ValueError(f"{field} must be {what}, got {value!r}")

        def real(field: str, value, low: float, high: float | None = None,
                 low_open: bool = False, high_open: bool = False) -> None:
            ok = _is_real(value)
            if ok:
                v = float(value)
                ok = (v > low if low_open else v >= low) and (
                    high is None or (v < high if high_open else v <= high))
            if not ok:
                lo, hi = ("(" if low_open else "["), (")" if high_open else "]")
                span = f"{lo}{low:g}, {high:g}{hi}" if high is not None else f"{lo}{low:g}, ∞)"
                raise ValueError(f"{field} must be a finite number in {span}, got {value!r}")

        choice("dataset", self.dataset, DATASETS)
        if not isinstance(self.hidden, tuple | list) or len(self.hidden) > MAX_HIDDEN_LAYERS \
                or not all(_is_int(h) and 1 <= h <= MAX_WIDTH for h in self.hidden):
            raise ValueError(
                f"hidden layer sizes must be up to {MAX_HIDDEN_LAYERS} integers from 1 to "
                f"{MAX_WIDTH}, got {self.hidden!r}")
        choice("activation", self.activation, ACTIVATIONS)
        choice("init", self.init, INITS)
        choice("optimizer", self.optimizer, OPTIMIZERS)
        real("learning rate", self.lr, 0.0, low_open=True)
        real("momentum", self.momentum, 0.0, 1.0, high_open=True)
        real("beta1", self.beta1, 0.0, 1.0, high_open=True)
        real("beta2", self.beta2, 0.0, 1.0, high_open=True)
        real("eps", self.eps, 0.0, low_open=True)
        real("L2 strength", self.l2, 0.0)
        choice("schedule", self.schedule, SCHEDULES)
        real("decay k", self.decay_k, 0.0)
        integer("step every (epochs)", self.step_every, 1)
        real("step factor", self.step_factor, 0.0, 1.0, low_open=True)
        integer("batch size", self.batch_size, 1)
        integer("epochs", self.epochs, 1, 100_000)
        integer("seed", self.seed, 0, 2**32 - 1)
        integer("eval every (steps)", self.eval_every, 0)
        integer("early stopping patience", self.early_stopping, 0)
        choice("preprocess", self.preprocess, PREPROCESS)
        real("validation fraction", self.val_fraction, 0.0, 0.9)
        if self.early_stopping and self.val_fraction <= 0:
            raise ValueError("early stopping needs a validation set: set validation fraction > 0")
        if self.max_train is not None:
            integer("max train", self.max_train, 1)
        choice("dtype", self.dtype, ("float32", "float64"))
        if self.data_dir is not None and not isinstance(self.data_dir, str):
            raise ValueError(f"data dir must be a path string, got {self.data_dir!r}")
        return self

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


def _json_float(x: float | None) -> float | None:
    """Plain float, or None for NaN/inf, which JSON cannot carry."""
    if x is None:
        return None
    x = float(x)
    return x if math.isfinite(x) else None


class TrainingRun:
    """One training run: data, model, optimiser, the records made so far and the status."""

    def __init__(self, config: TrainConfig, data: Dataset | None = None) -> None:
        self.config = config.validate()
        c = config
        if data is None:
            data = load_dataset(c.dataset, seed=c.seed, preprocess=c.preprocess,
                                val_fraction=c.val_fraction, data_dir=c.data_dir,
                                max_train=c.max_train, dtype=c.dtype)
        self.data = data
        sizes = (data.X_train.shape[1], *c.hidden, data.n_classes)
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
        self._Xs = np.empty_like(self._X)  # the training set in this epoch's shuffled order
        self._Ys = np.empty_like(self._Y)
        self._grads = [np.empty_like(p) for p in self.model.params]
        self._w0 = [float(np.mean(np.abs(W))) for W in self.model.weights]
        self._rng = np.random.default_rng([c.seed, 1])  # shuffling, independent of the init
        self._batch = 0  # next minibatch index within the current epoch
        self._epoch = 0  # epochs started
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

    def _make_record(self, start: float) -> Record:
        m, d = self.model, self.data
        train_loss, train_acc = m.evaluate(self._X_eval, self._y_eval)
        val_loss, val_acc = m.evaluate(d.X_val, d.y_val) if len(d.y_val) else (None, None)
        _, test_acc = m.evaluate(d.X_test, d.y_test)
        mean_abs = [float(np.mean(np.abs(W))) for W in m.weights]
        ratio = []
        for i, W in enumerate(m.weights):
            norm_w = float(np.linalg.norm(W))
            norm_d = float(np.linalg.norm(self.optimizer.delta[2 * i]))
            ratio.append(_json_float(norm_d / norm_w) if norm_w > 0 and self.step else None)
        return {
            "step": self.step,
            "epoch": self.step / self.steps_per_epoch,
            "lr": _json_float(self._last_lr),
            "train_loss": _json_float(train_loss),
            "train_acc": _json_float(train_acc),
            "val_loss": _json_float(val_loss),
            "val_acc": _json_float(val_acc),
            "test_acc": _json_float(test_acc),
            "l2_loss": _json_float(m.l2_penalty(self.config.l2)),
            "mean_abs_w": [_json_float(a) for a in mean_abs],
            "mean_abs_w_rel": [_json_float(a / a0) if a0 > 0 else None
                               for a, a0 in zip(mean_abs, self._w0, strict=True)],
            "update_ratio": ratio,
            "elapsed": self.elapsed + (time.perf_counter() - start),
        }

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
        B, n = c.batch_size, self.n_train
        every = c.eval_every
        while self._epoch < c.epochs or self._batch > 0:
            if self._batch == 0:
                self._epoch += 1
                perm = self._rng.permutation(n)
                np.take(self._X, perm, axis=0, out=self._Xs)
                np.take(self._Y, perm, axis=0, out=self._Ys)
            t0 = time.perf_counter()
            for b in range(self._batch, self.steps_per_epoch):
                if should_stop is not None and should_stop():
                    self._batch = b
                    self.train_seconds += time.perf_counter() - t0
                    self.status = RunStatus.STOPPED
                    self.message = f"stopped at epoch {self._epoch}, step {self.step}"
                    return
                lr = self._lr_at(self.step)
                lo = b * B
                loss, _ = m.loss_and_grads(self._Xs[lo:lo + B], self._Ys[lo:lo + B], c.l2,
                                           out=grads, scale=opt.grad_scale(lr))
                if not math.isfinite(loss) or loss > DIVERGED_LOSS:
                    self.train_seconds += time.perf_counter() - t0
                    self._diverge(f"loss became {loss:.3g}" if math.isfinite(loss)
                                  else f"loss became {loss}")
                    return
                opt.apply(params, grads, lr)
                self.step += 1
                self._last_lr = lr
                if every and self.step % every == 0 and b + 1 < self.steps_per_epoch:
                    self.train_seconds += time.perf_counter() - t0
                    if not (yield from self._emit(start)):
                        return
                    t0 = time.perf_counter()
            self.train_seconds += time.perf_counter() - t0
            self._batch = 0
            if not (yield from self._emit(start)):
                return
            if self._early_stop():
                return
        self.status = RunStatus.FINISHED
        self.message = f"finished {c.epochs} epochs ({self.step} steps)"

    def _emit(self, start: float) -> Iterator[Record]:
        """Make, store and yield a record; False (and status diverged) if the model blew up."""
        record = self._make_record(start)
        if record["train_loss"] is None or record["train_loss"] > DIVERGED_LOSS \
                or not all(np.isfinite(p).all() for p in self.model.params):
            self._diverge("the weights or the loss are no longer finite numbers")
            return False
        self.records.append(record)
        yield record
        return True

    def _early_stop(self) -> bool:
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
            self.message = (f"stopped early at epoch {self._epoch}: validation loss has not "
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
