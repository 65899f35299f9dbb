"""The Train page's form as plain data: one dict of what every box holds, read with the table.

A form is a dict {setting name: text or choice} holding every setting of `core.mlp.settings`
(the ones without a box too, so a preset's or a loaded file's `eval_every` is kept) plus the
sweep: `SWEEP_KEY` (a setting name or "none") and `SWEEP_VALUES` (its values as typed). It is the
page's own session state, so nothing a widget forgets can change it. The same dict goes into a
link (`to_query` / `from_query`) and a settings file (`settings_json` / `form_from_json`); every
value coming back is checked by the same table as the form, and a bad one gives a message and
its default.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from core.mlp.datasets import cache_dir
from core.mlp.settings import SETTINGS, SWEEPABLE, check, parse_settings, parse_sweep, text_of
from core.numbers import code

__all__ = ["SWEEP_KEY", "SWEEP_VALUES", "default_form", "shown", "form_settings", "fill_form",
           "form_sweep", "to_query", "from_query", "settings_json", "form_from_json",
           "MAX_QUERY", "MAX_JSON"]

SWEEP_KEY, SWEEP_VALUES = "sweep_key", "sweep_values"
MAX_QUERY = 2_000  # characters of a link's parameters; longer links are not read at all
MAX_VALUE = 200  # characters of one parameter
MAX_JSON = 64_000  # bytes of a settings file
# Never from a link or a file: a path there would read the server's files. An uploaded CSV file
# goes into a link by its SHA-256 only (`uploads`), found again in the uploads folder.
NOT_SHARED = ("data_dir",)
UPLOAD = re.compile(r"[0-9a-f]{64}")


def uploads() -> Path:
    """Where uploaded CSV files are kept, each as <sha256>.csv (core.mlp.csvdata.store_upload)."""
    return cache_dir() / "uploads"


def default_form() -> dict[str, Any]:
    """Every setting at its default, as the boxes show it; no sweep."""
    form: dict[str, Any] = {}
    for name, s in SETTINGS.items():
        form[name] = s.default if s.kind == "choice" else text_of(name, s.default)
    form[SWEEP_KEY] = "none"
    form[SWEEP_VALUES] = SETTINGS["lr"].sweep
    return form


def shown(form: Mapping[str, Any], name: str) -> bool:
    """Whether this setting counts for the chosen optimiser and schedule (the form hides the
    others, and their values are not used)."""
    optimizer, schedule = form.get("optimizer"), form.get("schedule")
    if name == "momentum":
        return optimizer in ("momentum", "nesterov")
    if name in ("beta1", "beta2", "eps"):
        return optimizer == "adam"
    if name == "decay_k":
        return schedule in ("exponential", "inverse_time")
    if name in ("step_every", "step_factor"):
        return schedule == "step"
    return True


def form_settings(form: Mapping[str, Any]) -> tuple[dict, list[str]]:
    """(TrainConfig keyword arguments, problems as Markdown) from a form; hidden settings keep
    TrainConfig's defaults."""
    return parse_settings({n: form.get(n, "") for n in SETTINGS if shown(form, n)})


def form_sweep(form: Mapping[str, Any], settings: Mapping[str, Any]) -> tuple[list, list[str]]:
    """The runs of the form's sweep ([(label, settings)], problems); one run without a sweep."""
    from core.mlp.describe import describe

    key = form.get(SWEEP_KEY, "none")
    if key == "none":
        return [(describe(settings), dict(settings))], []
    return parse_sweep(key, form.get(SWEEP_VALUES, ""), settings)


def fill_form(settings: Mapping[str, Any]) -> dict[str, Any]:
    """A new form showing these TrainConfig keyword arguments (a preset's run, a loaded file);
    settings not given are at their defaults, and there is no sweep."""
    form = default_form()
    for name, value in settings.items():
        s = SETTINGS.get(name)
        if s is not None:
            form[name] = value if s.kind == "choice" else text_of(name, value)
    return form


# ----------------------------------------------------------------------------- links

def to_query(form: Mapping[str, Any]) -> dict[str, str]:
    """The form as a link's query parameters: only what differs from the defaults."""
    defaults = default_form()
    out = {}
    for name, value in form.items():
        if name in NOT_SHARED or name not in defaults:
            continue
        if name in SETTINGS and not shown(form, name):
            continue
        if name == SWEEP_VALUES and form.get(SWEEP_KEY, "none") == "none":
            continue
        if name == "csv" and value:
            value = Path(str(value)).stem  # the upload's SHA-256, never a path
        if str(value) != str(defaults[name]):
            out[name] = str(value)
    return out


def _read_value(name: str, value: str) -> Any:
    """One shared value checked by the table; the form's text for it."""
    if name == SWEEP_KEY:
        if value != "none" and value not in SWEEPABLE:
            raise ValueError(f"cannot sweep {code(value)}")
        return value
    if name == SWEEP_VALUES:
        return value
    if name == "csv":
        path = uploads() / f"{value}.csv"
        if not UPLOAD.fullmatch(value):
            raise ValueError(f"{code(value)} does not name an uploaded CSV file")
        if not path.is_file():
            raise ValueError("the CSV file of this link is not on this server: upload it again")
        return str(path)
    s = SETTINGS[name]
    parsed = check(name, value)
    return parsed if s.kind == "choice" else text_of(name, parsed)


def from_query(params: Mapping[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """A form from a link's query parameters, and what was wrong with them (Markdown, what was
    in the link quoted as code). Unknown, bad or oversized parameters give their defaults."""
    form = default_form()
    items = [(str(k), str(v)) for k, v in params.items()]
    if sum(len(k) + len(v) + 2 for k, v in items) > MAX_QUERY:
        return form, [f"The settings in the link are longer than {MAX_QUERY:,} characters, so none "
                      "of them were read: the form shows the defaults."]
    problems = []
    for name, value in items:
        if name not in form or name in NOT_SHARED:
            problems.append(f"{code(name)} is not a setting of this page")
            continue
        if len(value) > MAX_VALUE:
            problems.append(f"{code(name)} is longer than {MAX_VALUE} characters")
            continue
        try:
            form[name] = _read_value(name, value)
        except ValueError as exc:
            problems.append(getattr(exc, "markdown", str(exc)))
    if problems:
        problems = ["Some settings in the link were not used (their defaults are shown): "
                    + "; ".join(problems) + "."]
    return form, problems


# ----------------------------------------------------------------------------- settings files

def settings_json(settings: Mapping[str, Any]) -> str:
    """A run's settings (TrainConfig.to_dict()) as the JSON file the form loads back."""
    shared = {k: v for k, v in settings.items()
              if k not in (*NOT_SHARED, "csv") and k in SETTINGS}
    return json.dumps({"handprop_train_settings": 1, "settings": shared}, indent=2) + "\n"


def form_from_json(text: str | bytes) -> tuple[dict[str, Any] | None, list[str]]:
    """A form from a settings file (or pasted JSON); None and the problems when it cannot be
    used. Accepts the file `settings_json` writes or a bare {setting: value} object."""
    if isinstance(text, bytes):
        if len(text) > MAX_JSON:
            return None, [f"The settings file is larger than {MAX_JSON:,} bytes."]
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError:
            return None, ["The settings file is not UTF-8 text."]
    if len(text) > MAX_JSON:
        return None, [f"The settings are longer than {MAX_JSON:,} characters."]
    try:
        data = json.loads(text)
    except (json.JSONDecodeError, RecursionError) as exc:
        return None, [f"These settings are not JSON ({code(exc)})."]
    if isinstance(data, dict) and isinstance(data.get("settings"), dict):
        data = data["settings"]
    if not isinstance(data, dict):
        return None, ["The settings must be a JSON object like {\"lr\": 0.1, \"hidden\": [64]}."]
    form, problems = default_form(), []
    for name, value in data.items():
        if name in (*NOT_SHARED, "csv"):
            continue
        if name not in SETTINGS:
            problems.append(f"{code(name)} is not a training setting")
            continue
        try:
            parsed = check(name, value)
        except ValueError as exc:
            problems.append(getattr(exc, "markdown", str(exc)))
            continue
        form[name] = parsed if SETTINGS[name].kind == "choice" else text_of(name, parsed)
    if problems:
        return None, ["These settings cannot be loaded: " + "; ".join(problems) + "."]
    return form, []
