"""The Train page's form, read and checked: raw widget values in, `TrainConfig` settings out.

Every problem comes back as a sentence naming the setting ("hidden layers: '' between two commas
is not a layer size"), never as a traceback. Numbers typed as text are read with `float()`/`int()`
only (never evaluated), and NaN, infinities and absurd magnitudes are refused with the range that
makes sense.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from core.numbers import NumberError, parse_number

__all__ = [
    "ACTIVATIONS", "INITS", "OPTIMIZERS", "SCHEDULES", "SWEEPABLE", "MAX_SWEEP",
    "parse_hidden", "parse_number", "parse_settings", "parse_sweep", "sweep_label", "FORM_FIELDS",
    "form_values", "describe", "formula_tex", "SWEEP_EXAMPLES", "describe_data",
    "blank_k",
]

ACTIVATIONS = {
    "sigmoid": "sigmoid  1/(1+e^−z)",
    "improved_sigmoid": "improved sigmoid  1.7159·tanh(2z/3)",
    "tanh": "tanh",
    "relu": "ReLU  max(0, z)",
}
INITS = {
    "uniform": "uniform U(−1, 1)",
    "fan_in": "fan-in  N(0, 1/fan_in)",
    "he": "He  N(0, 2/fan_in)",
    "glorot": "Glorot  U(±√(6/(fan_in+fan_out)))",
}
OPTIMIZERS = {
    "sgd": "SGD",
    "momentum": "SGD + momentum",
    "nesterov": "Nesterov momentum",
    "adam": "Adam",
}
SCHEDULES = {
    "constant": "constant η",
    "exponential": "exponential  η·e^(−k t)",
    "step": "step  η·factor^⌊epoch/every⌋",
    "inverse_time": "inverse time  η/(1 + k t)",
}
MAX_HIDDEN_LAYERS = 20
MAX_UNITS = 4096
MAX_SWEEP = 6

# (low, high, low is allowed, what the number is)
_FLOAT_RANGES: dict[str, tuple[float, float, bool, str]] = {
    "lr": (0.0, 100.0, False, "learning rate η"),
    "l2": (0.0, 10.0, True, "L2 λ"),
    "momentum": (0.0, 0.999, True, "momentum μ"),
    "beta1": (0.0, 0.999, True, "Adam β₁"),
    "beta2": (0.0, 0.99999, True, "Adam β₂"),
    "decay_k": (0.0, 10.0, True, "decay k"),
    "step_factor": (0.0, 1.0, False, "step factor"),
}
_INT_RANGES: dict[str, tuple[int, int, str]] = {
    "batch_size": (1, 100_000, "batch size"),
    "epochs": (1, 1000, "epochs"),
    "seed": (0, 2**31 - 1, "seed"),
    "step_every": (1, 1000, "step every (epochs)"),
    "max_train": (0, 10_000_000, "training examples (0 = all)"),
}
_CHOICES = {"activation": ACTIVATIONS, "init": INITS, "optimizer": OPTIMIZERS,
            "schedule": SCHEDULES}


def parse_hidden(text: Any) -> tuple[int, ...]:
    """"64" -> (64,), "64, 64" -> (64, 64), "" or "none" -> () (softmax regression).

    Raises ValueError with a sentence a student can act on.
    """
    raw = "" if text is None else str(text).strip()
    if raw.lower() in ("", "none", "0", "-"):
        return ()
    pieces = re.split(r"[,;\s]+", raw) if not re.search(r",\s*,", raw) else raw.split(",")
    sizes = []
    for piece in pieces:
        p = piece.strip()
        if p == "":
            raise ValueError(
                f"hidden layers: there is an empty entry between two commas in {raw!r}; "
                "write the sizes like 64 or 64, 64"
            )
        if not re.fullmatch(r"\d+", p):
            raise ValueError(
                f"hidden layers: {p!r} is not a whole number of units; "
                "write the sizes like 64 or 64, 64"
            )
        n = int(p)
        if not 1 <= n <= MAX_UNITS:
            raise ValueError(f"hidden layers: a layer needs 1 to {MAX_UNITS} units, got {n}")
        sizes.append(n)
    if len(sizes) > MAX_HIDDEN_LAYERS:
        raise ValueError(
            f"hidden layers: at most {MAX_HIDDEN_LAYERS} hidden layers, got {len(sizes)}"
        )
    return tuple(sizes)


def _check_float(key: str, value: Any) -> float:
    low, high, low_ok, what = _FLOAT_RANGES[key]
    x = float(parse_number(value, what))
    if x < low or (x == low and not low_ok):
        bound = f"at least {low:g}" if low_ok else f"greater than {low:g}"
        raise ValueError(f"{what} must be {bound}, got {x:g}")
    if x > high:
        raise ValueError(f"{what} must be at most {high:g}, got {x:g}")
    return x


def _check_int(key: str, value: Any) -> int:
    low, high, what = _INT_RANGES[key]
    n = int(parse_number(value, what, integer=True))
    if not low <= n <= high:
        kind = "a positive integer" if low == 1 else f"an integer from {low} to {high:,}"
        if n > high:
            kind = f"at most {high:,}"
        raise ValueError(f"{what} must be {kind}, got {n}")
    return n


def parse_settings(raw: Mapping[str, Any]) -> tuple[dict, list[str]]:
    """Check every field of the form; returns (TrainConfig keyword arguments, problems).

    Fields missing from `raw` keep TrainConfig's defaults. All problems are collected, so the
    student sees them together.
    """
    settings: dict[str, Any] = {}
    errors: list[str] = []
    for key, value in raw.items():
        try:
            if key == "hidden":
                settings[key] = parse_hidden(value)
            elif key in _FLOAT_RANGES:
                settings[key] = _check_float(key, value)
            elif key in _INT_RANGES:
                settings[key] = _check_int(key, value)
            elif key in _CHOICES:
                if value not in _CHOICES[key]:
                    raise ValueError(f"{key} must be one of {', '.join(_CHOICES[key])}, "
                                     f"got {value!r}")
                settings[key] = value
            else:
                settings[key] = value
        except NumberError as exc:
            errors.append(exc.markdown)  # the page shows errors as Markdown: typed text as code
        except ValueError as exc:
            errors.append(str(exc))
    if settings.get("max_train") == 0:
        settings["max_train"] = None
    return settings, errors


SWEEPABLE = {
    "lr": "learning rate η",
    "hidden": "hidden layers",
    "optimizer": "optimiser",
    "activation": "activation",
    "init": "initialisation",
    "batch_size": "batch size",
    "l2": "L2 λ",
    "schedule": "lr schedule",
    "seed": "seed",
}


# What the values box shows when a setting is chosen for a sweep: the seeds' comparisons.
SWEEP_EXAMPLES = {
    "lr": "0.2, 1, 5",
    "hidden": "32; 64; 128",
    "optimizer": "sgd, momentum, adam",
    "activation": "sigmoid, improved_sigmoid, relu",
    "init": "uniform, fan_in, he",
    "batch_size": "16, 32, 128",
    "l2": "0, 0.0001, 0.001",
    "schedule": "constant, exponential",
    "seed": "0, 1, 2",
}


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

    Returns ([(legend label, full settings)], problems); each value is checked like the form.
    """
    if key not in SWEEPABLE:
        return [], [f"cannot sweep {key!r}; choose one of {', '.join(SWEEPABLE)}"]
    raw = "" if text is None else str(text).strip()
    separator = ";" if key == "hidden" else r"[;,]"
    pieces = [p.strip() for p in re.split(separator, raw) if p.strip()]
    if len(pieces) < 2:
        return [], [f"sweep of {SWEEPABLE[key]}: give at least two values separated by "
                    f"{'semicolons' if key == 'hidden' else 'commas'}, e.g. "
                    f"{'32; 64; 128' if key == 'hidden' else '0.2, 1, 5'}"]
    if len(pieces) > MAX_SWEEP:
        return [], [f"sweep of {SWEEPABLE[key]}: at most {MAX_SWEEP} values, got {len(pieces)}"]
    out, errors = [], []
    for piece in pieces:
        parsed, errs = parse_settings({key: piece})
        if errs:
            errors += [f"sweep: {e}" for e in errs]
            continue
        value = parsed[key]
        settings = {**base, key: value}
        if key == "schedule" and value in ("exponential", "inverse_time"):
            # A decay needs its k; the form hides k while the schedule is constant.
            settings.setdefault("decay_k", float(FORM_FIELDS["f_decay_k"][1]))
        out.append((sweep_label(key, value), settings))
    return out, errors


# Widget key -> (TrainConfig field, default shown in the form). Text boxes hold text so that
# "1e-3" can be typed; number boxes hold integers.
FORM_FIELDS: dict[str, tuple[str, Any]] = {
    "f_dataset": ("dataset", "digits"),
    "f_hidden": ("hidden", "64"),
    "f_activation": ("activation", "sigmoid"),
    "f_init": ("init", "fan_in"),
    "f_preprocess": ("preprocess", "scale"),
    "f_optimizer": ("optimizer", "sgd"),
    "f_lr": ("lr", "0.1"),
    "f_momentum": ("momentum", "0.9"),
    "f_beta1": ("beta1", "0.9"),
    "f_beta2": ("beta2", "0.999"),
    "f_l2": ("l2", "0"),
    "f_schedule": ("schedule", "constant"),
    "f_decay_k": ("decay_k", "0.0001"),
    "f_step_every": ("step_every", 10),
    "f_step_factor": ("step_factor", "0.5"),
    "f_batch_size": ("batch_size", 32),
    "f_epochs": ("epochs", 20),
    "f_seed": ("seed", 0),
    "f_max_train": ("max_train", 0),
}
FORM_EXTRA = {"f_sweep_key": "none", "f_sweep_values": "0.2, 1, 5"}


def _shown(state: Mapping[str, Any], field_name: str) -> bool:
    """Whether the form shows this field for the chosen optimiser and schedule."""
    optimizer, schedule = state.get("f_optimizer"), state.get("f_schedule")
    if field_name == "momentum":
        return optimizer in ("momentum", "nesterov")
    if field_name in ("beta1", "beta2"):
        return optimizer == "adam"
    if field_name == "decay_k":
        return schedule in ("exponential", "inverse_time")
    if field_name in ("step_every", "step_factor"):
        return schedule == "step"
    return True


def form_values(state: Any, fill: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Read the form's widget state as raw TrainConfig fields (for `parse_settings`).

    Missing widget keys get their defaults first; `fill` (TrainConfig keyword arguments, e.g. a
    preset's) overwrites them, written the way a student would type them.
    """
    if fill is not None:
        by_field = {f: key for key, (f, _) in FORM_FIELDS.items()}
        for name, value in fill.items():
            key = by_field.get(name)
            if key is None:
                continue
            if name == "hidden":
                value = ", ".join(str(h) for h in value)
            elif name == "max_train":
                value = int(value or 0)
            elif isinstance(value, float):
                value = f"{value:g}"
            state[key] = value
    for key, (_, default) in {**FORM_FIELDS, **{k: (k, v) for k, v in FORM_EXTRA.items()}}.items():
        if key not in state:
            state[key] = default
    return {f: state[key] for key, (f, _) in FORM_FIELDS.items() if _shown(state, f)}


def describe(settings: Mapping[str, Any]) -> str:
    """A short name for a run: "64-64 sigmoid · sgd η = 0.1 · digits"."""
    hidden = settings.get("hidden", (64,))
    arch = "-".join(str(h) for h in hidden) if hidden else "no hidden layer"
    parts = [f"{arch} {settings.get('activation', 'sigmoid')}",
             f"{settings.get('optimizer', 'sgd')} η = {settings.get('lr', 0.1):g}"]
    if settings.get("l2"):
        parts.append(f"λ = {settings['l2']:g}")
    if settings.get("schedule", "constant") != "constant":
        parts.append(f"{settings['schedule']} decay")
    parts.append(str(settings.get("dataset", "digits")))
    return " · ".join(parts)


def formula_tex(formula: str) -> str:
    r"""`core.mlp.model.param_formula`'s "784·64 + 64 + 64·10 + 10 = 50,890" as LaTeX that fits a
    third of the page: one layer's weights d_{l-1}·d_l plus biases d_l per line, m equal
    layers in a row as m·(d·d + d), the total on a line of its own.

        N &= 784 \cdot 64 + 64 \\ &\quad + 64 \cdot 10 + 10 \\ &= 50{,}890

    A 10-hidden-layer net of 64 units takes four lines, not a sum of 22 terms that the column
    would cut off.
    """
    total_sum, total = formula.rsplit(" = ", 1)
    terms = total_sum.split(" + ")
    groups: list[list] = []  # [weights term, bias term, how many equal layers in a row]
    for weights, bias in zip(terms[::2], terms[1::2], strict=True):
        if groups and groups[-1][:2] == [weights, bias]:
            groups[-1][2] += 1
        else:
            groups.append([weights, bias, 1])
    lines = []
    for weights, bias, m in groups:
        layer = weights.replace("·", r" \cdot ") + f" + {bias}"
        lines.append(layer if m == 1 else rf"{m} \cdot ({layer})")
    body = r" \\ &\quad + ".join(lines)
    total = total.replace(",", "{,}")
    return rf"\begin{{aligned}} N &= {body} \\ &= {total} \end{{aligned}}"


def describe_data(data: Any) -> str:
    """A `core.mlp.datasets.Dataset` in Markdown: source, split sizes, input, and the training set's
    mean μ and standard deviation σ before normalisation, over pixels for images (image_shape
    h×w or h×w×c) and over features for the 2-D toy sets (image_shape (2,))."""
    image = len(data.image_shape) >= 2
    shape = "×".join(str(s) for s in data.image_shape)
    what = "pixel" if image else "feature"
    normalised = "scaling to [0, 1]" if data.preprocess == "scale" else "(x − μ)/σ"
    return (
        f"**{data.name}** — {data.source}  \n"
        f"train / validation / test: {len(data.y_train):,} / {len(data.y_val):,} / "
        f"{len(data.y_test):,} · input "
        + (f"{shape} = {data.n_features} features" if image else f"{data.n_features} features")
        + f" · {data.n_classes} classes  \n"
        f"{what} mean $\\mu$ = {data.mean:.2f}, standard deviation $\\sigma$ = {data.std:.2f} "
        f"(training set, before normalisation) · normalised by {normalised}"
    )


def blank_k(table: Any) -> Any:
    """`core.mlp.runstore.runs_table` with the decay k as text, blank where the schedule has no k
    (pandas would show its None as "None")."""
    return table.assign(k=[f"{k:g}" if isinstance(k, int | float) and k == k else ""
                           for k in table["k"]])
