"""Every training setting declared once: its range, default, label, help text and kind.

`SETTINGS` is the one table that `TrainConfig.validate`, the Train page's form, its sweep list,
its links and settings files, and the command line's argparse are all built from, so they can no
longer disagree. `check(name, value)` reads one value: a number or choice as it is, or text as a
person typed it (read with `core.numbers.parse_number`, never evaluated). Every refusal is a
sentence naming the setting, with what was typed quoted as Markdown inline code (`code()`), so a
page may show it as Markdown and a terminal prints it plainly.

    check("lr", "1e-3") == 0.001       check("hidden", "64, 64") == (64, 64)
    check("momentum", "0.9999999")  raises  "Momentum μ must be at most 0.999, got `0.9999999`"

(Just over 300 lines: the table is kept in one piece, so every setting reads in one place.)
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from numbers import Integral
from typing import Any

from core.mlp.activations import ACTIVATIONS
from core.mlp.datasets import DATASETS, PREPROCESS
from core.mlp.initializers import INITS
from core.mlp.optimizers import OPTIMIZERS
from core.mlp.schedules import SCHEDULES
from core.numbers import NumberError, code, parse_number

__all__ = ["Setting", "SETTINGS", "SWEEPABLE", "MAX_SWEEP", "MAX_HIDDEN_LAYERS", "MAX_UNITS",
           "check", "parse_hidden", "parse_settings", "parse_sweep", "sweep_label", "text_of"]

MAX_HIDDEN_LAYERS = 20
MAX_UNITS = 4096
MAX_SWEEP = 6
MAX_TEXT = 200


@dataclass(frozen=True)
class Setting:
    """One training setting. kind: "choice" (one of `choices`, name -> label), "float", "int",
    "hidden" (layer sizes) or "path". Numbers lie in [low, high], an end left out when open;
    `none_is` is the number that stands for None (max_train: 0 = all). `form`: shown on the
    Train page's form; `sweep`: example values when it is the swept setting (None: not
    sweepable)."""

    name: str
    label: str
    kind: str
    default: Any
    help: str
    low: float | None = None
    high: float | None = None
    low_open: bool = False
    high_open: bool = False
    choices: Mapping[str, str] | None = None
    none_is: int | None = None
    form: bool = True
    sweep: str | None = None

    @property
    def flag(self) -> str:
        """The command-line option: --batch-size for batch_size."""
        return "--" + self.name.replace("_", "-")

    def span(self) -> str:
        """The allowed range in words, e.g. "greater than 0 and at most 100"."""
        if self.kind == "choice":
            return "one of " + ", ".join(self.choices or {})
        if self.kind == "hidden":
            return (f"up to {MAX_HIDDEN_LAYERS} layers of 1 to {MAX_UNITS:,} units; empty for "
                    "none")
        if self.kind == "path":
            return "a file or folder path"
        if self.kind == "text":
            return f"a name of at most {MAX_TEXT} characters"
        return f"{'a whole number, ' if self.kind == 'int' else ''}{self.bound(low=True)} and " \
            f"{self.bound(low=False)}"

    def bound(self, low: bool) -> str:
        """One end of the range in words: "greater than 0", "at most 10,000"."""
        if low:
            return f"greater than {_num(self.low)}" if self.low_open \
                else f"at least {_num(self.low)}"
        return f"less than {_num(self.high)}" if self.high_open else f"at most {_num(self.high)}"

    def full_help(self) -> str:
        """The help text with the range and the default, as the form and --help show it."""
        extra = f"; {self.none_is} = all" if self.none_is is not None else ""
        default = "none" if self.default is None else text_of(self.name, self.default) or "empty"
        return f"{self.help} ({self.span()}{extra}; default {default})"


def _num(x: float | None) -> str:
    """A range end: whole numbers with thousands separators, others as written."""
    assert x is not None
    return f"{int(x):,}" if float(x).is_integer() else f"{x:g}"


def _choice(name: str, label: str, choices: Mapping[str, str], default: str, help: str,
            **kw: Any) -> Setting:
    return Setting(name, label, "choice", default, help, choices=choices, **kw)


_SETTINGS: list[Setting] = [
    _choice("dataset", "Data set", DATASETS, "digits", "the data set to train on"),
    Setting("hidden", "Hidden layers", "hidden", (64,),
            "units per hidden layer, e.g. 64 or 64, 64; empty for no hidden layer (softmax "
            "regression)", sweep="32; 64; 128"),
    _choice("activation", "Activation", ACTIVATIONS, "sigmoid", "hidden-layer activation",
            sweep="sigmoid, improved_sigmoid, relu"),
    _choice("init", "Initialisation", INITS, "fan_in", "weight initialisation",
            sweep="uniform, fan_in, he"),
    _choice("preprocess", "Normalisation", dict(PREPROCESS), "scale",
            "scale pixels to [0, 1], or standardise with the training set's mean and deviation"),
    _choice("optimizer", "Optimiser", OPTIMIZERS, "sgd", "optimiser",
            sweep="sgd, momentum, adam"),
    Setting("lr", "Learning rate η", "float", 0.1, "step size", 0.0, 100.0, low_open=True,
            sweep="0.2, 1, 5"),
    Setting("momentum", "Momentum μ", "float", 0.9, "momentum and Nesterov: velocity kept per "
            "step", 0.0, 0.999),
    Setting("beta1", "Adam β₁", "float", 0.9, "Adam: decay of the mean gradient", 0.0, 0.999),
    Setting("beta2", "Adam β₂", "float", 0.999, "Adam: decay of the mean squared gradient",
            0.0, 0.99999),
    Setting("eps", "Adam ε", "float", 1e-8, "Adam: added to √v̂", 0.0, 1.0, low_open=True,
            form=False),
    Setting("l2", "L2 λ", "float", 0.0, "adds (λ/2)Σ‖W‖² to the loss", 0.0, 10.0,
            sweep="0, 0.0001, 0.001"),
    _choice("schedule", "Learning-rate schedule", SCHEDULES, "constant",
            "learning-rate decay", sweep="constant, exponential"),
    Setting("decay_k", "Decay k (per step)", "float", 1e-4,
            "k of the exponential and 1/t schedules, t in steps", 0.0, 10.0),
    Setting("step_every", "Step every (epochs)", "int", 10,
            "step schedule: multiply η by the factor every this many epochs", 1, 1000),
    Setting("step_factor", "Step factor", "float", 0.5, "step schedule: the factor γ", 0.0, 1.0,
            low_open=True),
    Setting("batch_size", "Batch size", "int", 32, "examples per minibatch", 1, 100_000,
            sweep="16, 32, 128"),
    Setting("epochs", "Epochs", "int", 20, "passes over the training set", 1, 10_000),
    Setting("seed", "Seed", "int", 0, "seed of the split, the initial weights and the "
            "shuffling", 0, 2**32 - 1, sweep="0, 1, 2"),
    Setting("eval_every", "Record every (steps)", "int", 0,
            "also record every this many steps; 0 = once per epoch", 0, 1_000_000, form=False),
    Setting("early_stopping", "Early-stopping patience", "int", 0,
            "stop after this many records without a better validation loss; 0 = off",
            0, 10_000, form=False),
    Setting("val_fraction", "Validation fraction", "float", 0.1,
            "fraction of the training data held out for validation", 0.0, 0.9, form=False),
    Setting("max_train", "Training examples", "int", None,
            "use at most this many training examples", 0, 10_000_000, none_is=0),
    _choice("dtype", "Float type", {"float32": "float32", "float64": "float64"}, "float32",
            "floating-point type", form=False),
    Setting("data_dir", "Data folder", "path", None,
            "folder with the MNIST IDX files or the CIFAR-10 archive (default: the cache)",
            form=False),
    Setting("csv", "CSV file", "path", None,
            "your own data (data set csv): a CSV file of numeric feature columns and a label "
            "column", form=False),
    Setting("label", "Label column", "text", None,
            "data set csv: the name of the column that holds the classes", form=False),
]
SETTINGS: dict[str, Setting] = {s.name: s for s in _SETTINGS}
SWEEPABLE: dict[str, str] = {s.name: s.label for s in _SETTINGS if s.sweep is not None}


def text_of(name: str, value: Any) -> str:
    """A setting's value written the way a person would type it, so that `check` reads it back
    exactly: (64, 64) -> "64, 64", 0.0001 -> "0.0001", None (max_train) -> "0"."""
    s = SETTINGS[name]
    if value is None:
        return str(s.none_is) if s.none_is is not None else ""
    if s.kind == "hidden":
        return ", ".join(str(int(h)) for h in value)
    if isinstance(value, float):
        shown = repr(value)  # the shortest text that reads back as the same float
        return shown[:-2] if shown.endswith(".0") else shown
    return str(value)


def parse_hidden(text: Any) -> tuple[int, ...]:
    """"64" -> (64,), "64, 64" or "64 64" -> (64, 64), "" or "none" -> () (softmax regression).

    Raises ValueError with a sentence a student can act on.
    """
    if isinstance(text, list | tuple):
        # Sizes that are already numbers (a TrainConfig, a settings file): each must be whole.
        if not all(isinstance(h, Integral) and not isinstance(h, bool) for h in text):
            raise ValueError(f"Hidden layers must be whole numbers of units, got {code(text)}")
        return _layer_sizes([int(h) for h in text], [str(h) for h in text])
    raw = "" if text is None else str(text).strip()
    if raw.lower() in ("", "none", "0", "-"):
        return ()
    if re.search(r",\s*,", raw) or raw.startswith(",") or raw.endswith(","):
        raise ValueError(f"Hidden layers: there is an empty entry between two commas in "
                         f"{code(raw)}; write the sizes like 64 or 64, 64")
    sizes = []
    for p in re.split(r"[,;\s]+", raw):
        if not re.fullmatch(r"\d+", p):
            raise ValueError(f"Hidden layers: {code(p)} is not a whole number of units; "
                             "write the sizes like 64 or 64, 64")
        # A long run of digits is refused before int() (which stops at 4,300 digits).
        sizes.append(int(p) if len(p) <= 6 else MAX_UNITS + 1)
    return _layer_sizes(sizes, re.split(r"[,;\s]+", raw))


def _layer_sizes(sizes: list[int], typed: list[str]) -> tuple[int, ...]:
    """Sizes checked against the table's limits; `typed` is how each was written."""
    for n, p in zip(sizes, typed, strict=True):
        if not 1 <= n <= MAX_UNITS:
            raise ValueError(f"Hidden layers: a layer needs 1 to {MAX_UNITS:,} units, got "
                             f"{code(p)}")
    if len(sizes) > MAX_HIDDEN_LAYERS:
        raise ValueError(f"Hidden layers: at most {MAX_HIDDEN_LAYERS} hidden layers, got "
                         f"{len(sizes)}")
    return tuple(sizes)


def check(name: str, value: Any) -> Any:
    """The value of setting `name`, checked against its table row; raises ValueError (or its
    NumberError) whose message quotes what was typed as inline code."""
    s = SETTINGS.get(name)
    if s is None:
        raise ValueError(f"{code(name)} is not a training setting; known: "
                         f"{', '.join(SETTINGS)}")
    if s.kind == "hidden":
        return parse_hidden(value)
    if s.kind == "choice":
        if not isinstance(value, str) or value not in (s.choices or {}):
            raise ValueError(f"{s.label} must be {s.span()}, got {code(value)}")
        return value
    if s.kind in ("path", "text"):
        if value is None or value == "":
            return None
        if not isinstance(value, str) or len(value) > MAX_TEXT:
            raise ValueError(f"{s.label} must be a {'path' if s.kind == 'path' else 'name'} of "
                             f"at most {MAX_TEXT} characters, got {code(value)}")
        return value
    if value is None and s.none_is is not None:
        return None
    typed = value if isinstance(value, str) else repr(value)
    x = parse_number(value, s.label, integer=s.kind == "int")
    assert s.low is not None and s.high is not None
    if x < s.low or (x == s.low and s.low_open) or x > s.high or (x == s.high and s.high_open):
        bound = s.bound(low=x <= s.low)
        if s.kind == "int" and s.low == 1 and x < 1:
            bound = "a positive whole number"
        raise ValueError(f"{s.label} must be {bound}, got {code(typed)}")
    if s.none_is is not None and x == s.none_is:
        return None
    return x


def parse_settings(raw: Mapping[str, Any]) -> tuple[dict, list[str]]:
    """Check every field given; returns (TrainConfig keyword arguments, problems as Markdown).

    Fields missing from `raw` keep TrainConfig's defaults. All problems are collected, so the
    student sees them together.
    """
    settings: dict[str, Any] = {}
    errors: list[str] = []
    for key, value in raw.items():
        try:
            settings[key] = check(key, value)
        except NumberError as exc:
            errors.append(exc.markdown)
        except ValueError as exc:
            errors.append(str(exc))
    return settings, errors


def sweep_label(key: str, value: Any) -> str:
    """Legend entry of one run of a sweep, e.g. "η = 0.2" or "hidden = 64-64"."""
    short = {"lr": "η", "hidden": "hidden", "l2": "λ", "batch_size": "batch"}.get(key, key)
    if key == "hidden":
        shown = "-".join(str(h) for h in value) or "none"
    elif isinstance(value, float):
        shown = f"{value:g}"
    else:
        shown = str(value)
    return f"{short} = {shown}"


def parse_sweep(key: str, text: Any, base: Mapping[str, Any]) -> tuple[list[tuple[str, dict]],
                                                                       list[str]]:
    """Values of one setting to compare: "0.2, 1, 5" (hidden layers: "32; 64; 64, 64").

    Returns ([(legend label, full settings)], problems); each value is checked like the form,
    and a value given twice is refused (two runs under one legend entry would be one curve).
    """
    if key not in SWEEPABLE:
        return [], [f"cannot sweep {code(key)}; choose one of {', '.join(SWEEPABLE)}"]
    what = SWEEPABLE[key]
    raw = "" if text is None else str(text).strip()
    separator = ";" if key == "hidden" else r"[;,]"
    pieces = [p.strip() for p in re.split(separator, raw) if p.strip()]
    if len(pieces) < 2:
        return [], [f"sweep of {what}: give at least two values separated by "
                    f"{'semicolons' if key == 'hidden' else 'commas'}, e.g. "
                    f"{SETTINGS[key].sweep}"]
    if len(pieces) > MAX_SWEEP:
        return [], [f"sweep of {what}: at most {MAX_SWEEP} values, got {len(pieces)}"]
    out, errors, seen = [], [], {}
    for piece in pieces:
        parsed, errs = parse_settings({key: piece})
        if errs:
            errors += [f"sweep: {e}" for e in errs]
            continue
        value = parsed[key]
        if value in seen:
            errors.append(f"sweep of {what}: {code(piece)} gives the same value as "
                          f"{code(seen[value])}; give each value once")
            continue
        seen[value] = piece
        settings = {**base, key: value}
        if key == "schedule" and value in ("exponential", "inverse_time"):
            # A decay needs its k; the form hides k while the schedule is constant.
            settings.setdefault("decay_k", SETTINGS["decay_k"].default)
        out.append((sweep_label(key, value), settings))
    return out, errors
