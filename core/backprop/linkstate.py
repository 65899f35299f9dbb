"""The Backprop page's state in its URL, so that a copied link reopens exactly the same problem.

    ?shape=3-2-2&x=0.5,0.1,0.3&y=0.9,0.1&W=0.2,0.4,-0.5;0.3,-0.1,0.6|0.5,-0.3;0.2,0.7
     &b=0.1,-0.2|0.1,-0.1&lr=0.1&act=sigmoid&loss=half_squared_error&mode=try&step=3
     &from=practice&seed=42&id=s12&salt=cs101&work=<token>

W lists the weight layers separated by "|", each layer's rows (receiving units) by ";", entries by
","; b the same without rows. Numbers are written as Python's shortest round-trip decimal, so the
link gives back the very same floats. `from`/`seed`/`id`/`salt` say where the numbers came from
(the page checks the claim against the numbers before it believes it); `work` names the student's
saved answers (core.backprop.workstore) and is left out of the link the page offers to share.

Reading is strict and safe: numbers go through core.numbers.parse_number (float() only) and
the problem through trace_step's validation; a value over MAX_CHARS, an unknown mode, a malformed
table or a shape outside the page's limits gives a short message naming the parameter (never
quoting it) and the defaults. Nothing from the URL is evaluated or rendered.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from core.backprop import network as net
from core.backprop.functions import ACTIVATIONS, LOSSES
from core.backprop.problemfile import Exercise
from core.backprop.problems import Params, check_shape
from core.numbers import NumberError, parse_number

MAX_CHARS = 4000  # per parameter: a 6-6-6-6-6 net's W with 17-digit numbers fits
MODES = ("show", "try")
ORIGINS = ("homework", "practice", "student", "own")
PROBLEM_KEYS = ("shape", "x", "y", "W", "b", "lr", "act", "loss")
TOKEN = re.compile(r"[A-Za-z0-9_-]{16,64}")


@dataclass
class LinkState:
    """What a URL asks for; `exercise` is None when it names no (valid) problem."""

    exercise: Exercise | None = None
    mode: str = "show"
    step: int = 0  # 0-based
    origin: str = "homework"
    seed: int | None = None
    student: str = ""
    salt: str = ""
    work: str = ""
    messages: list[str] = field(default_factory=list)


def _num(v: float) -> str:
    return repr(float(v))


def to_query(ex: Exercise, mode: str, step: int, origin: str = "own", seed: int | None = None,
             student: str = "", salt: str = "", work: str = "") -> dict[str, str]:
    """The URL query of a page state (the inverse of `from_query`); empty parts are left out."""
    p = ex.params
    q = {"shape": "-".join(map(str, p.shape)),
         "x": ",".join(map(_num, p.x)), "y": ",".join(map(_num, p.y)),
         "W": "|".join(";".join(",".join(map(_num, row)) for row in W) for W in p.W),
         "b": "|".join(",".join(map(_num, b)) for b in p.b),
         "lr": _num(ex.lr), "act": ex.activation, "loss": ex.loss, "mode": mode,
         "step": str(step + 1), "from": origin}
    extra = {"seed": "" if seed is None else str(seed), "id": student, "salt": salt, "work": work}
    q.update({k: v for k, v in extra.items() if v})
    return q


class _Bad(ValueError):
    pass


def _numbers(text: str, what: str) -> list[float]:
    try:
        return [parse_number(t, what) for t in text.split(",")]
    except NumberError:
        raise _Bad(f"{what} holds something that is not a number") from None


def _problem(q: Mapping[str, str]) -> Exercise:
    missing = [k for k in PROBLEM_KEYS if k not in q]
    if missing:
        raise _Bad(f"the link's problem is missing {', '.join(missing)}")
    try:
        shape = check_shape(tuple(int(n) for n in q["shape"].split("-")))
    except ValueError as err:
        raise _Bad(f"shape is not a network the page draws ({err})") from None
    if q["act"] not in ACTIVATIONS or q["loss"] not in LOSSES:
        raise _Bad("act or loss is not one the page knows")
    W = [[_numbers(row, "W") for row in layer.split(";")] for layer in q["W"].split("|")]
    b = [_numbers(layer, "b") for layer in q["b"].split("|")]
    x, y = _numbers(q["x"], "x"), _numbers(q["y"], "y")
    lr = _numbers(q["lr"], "lr")
    if len(lr) != 1:
        raise _Bad("lr must be one number")
    try:
        p = net.validate(W, b, x, y, lr[0], q["act"], q["loss"])
    except ValueError as err:
        raise _Bad(f"the link's numbers do not make a problem ({err})") from None
    if p.shape != shape:
        raise _Bad("shape does not match the weights")
    params = Params([w.tolist() for w in p.W], [v.tolist() for v in p.b], p.x.tolist(),
                    p.y.tolist())
    return Exercise(params, p.lr, q["act"], q["loss"])


def _text(value: str, what: str, limit: int, messages: list[str]) -> str:
    value = value.strip()
    if len(value) > limit or not value.isprintable():
        messages.append(f"{what} in the link is not a usable {what}; it is ignored")
        return ""
    return value


def from_query(query: Mapping[str, object]) -> LinkState:
    """Read a URL query (st.query_params.to_dict()); see the module docstring."""
    state = LinkState()
    q: dict[str, str] = {}
    for key, value in query.items():
        if isinstance(value, list):  # a repeated parameter: the last one, as Streamlit does
            value = value[-1] if value else ""
        value = str(value)
        if len(value) > MAX_CHARS:
            state.messages.append(f"{key} in the link is too long ({len(value):,} characters); "
                                  "it is ignored")
            continue
        q[str(key)] = value
    if any(k in q for k in PROBLEM_KEYS):
        try:
            state.exercise = _problem(q)
        except _Bad as err:
            state.messages.append(f"{err}: showing the homework problem instead")
    mode = q.get("mode", "show")
    if mode in MODES:
        state.mode = mode
    else:
        state.messages.append("mode in the link is neither show nor try; showing Show me")
    if "step" in q:
        try:
            state.step = max(0, int(parse_number(q["step"], "step", integer=True)) - 1)
        except NumberError:
            state.messages.append("step in the link is not a whole number; starting at step 1")
    origin = q.get("from", "own" if state.exercise else "homework")
    state.origin = origin if origin in ORIGINS else "own"
    if q.get("seed"):
        try:
            seed = int(parse_number(q["seed"], "seed", integer=True))
            state.seed = seed if 0 <= seed < 2**32 else None
        except NumberError:
            state.seed = None
        if state.seed is None:
            state.messages.append("seed in the link is not a seed; it is ignored")
    state.student = _text(q.get("id", ""), "id", 64, state.messages)
    state.salt = _text(q.get("salt", ""), "salt", 64, state.messages)
    work = q.get("work", "")
    state.work = work if TOKEN.fullmatch(work) else ""
    return state
