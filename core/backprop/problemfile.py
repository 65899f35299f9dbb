"""A whole problem as one JSON text: pasted into the page, downloaded with its trace, and back.

The form (every key but x, y, weights and biases may be left out; shape, when given, must be the
shape the tables have):

    {"shape": [2, 2, 2],
     "x": [0.05, 0.10], "y": [0.01, 0.99],
     "weights": [[[0.15, 0.20], [0.25, 0.30]], [[0.40, 0.45], [0.50, 0.55]]],
     "biases": [[0.35, 0.35], [0.60, 0.60]],
     "lr": 0.5, "activation": "sigmoid", "loss": "half_squared_error"}

weights[l][j][i] connects unit i of layer l to unit j of layer l+1, as `trace_step` takes them
(Matt Mazur's w1 … w8 above: w1 = weights[0][0][0], w2 = weights[0][0][1], w5 = weights[1][0][0]).
The download (`trace_json`) is this form under "problem", with every step's name, formula, the
formula with numbers and the value under "steps" (and, in Let me try, the student's answers and
marks): pasting it back reproduces the problem. Numbers may be JSON numbers or text the one number
parser reads ("−0.5"); nothing is evaluated.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass

from core.backprop import network as net
from core.backprop.functions import ACTIVATIONS, LOSSES
from core.backprop.marking import Marking
from core.backprop.problems import Params, check_shape
from core.backprop.tracer import Trace

FORMAT = "handprop backprop problem"
MAX_CHARS = 100_000  # a 6-6-6-6-6 problem written out in full is under 10 kB

EXAMPLE = json.dumps({
    "shape": [2, 2, 2], "x": [0.05, 0.10], "y": [0.01, 0.99],
    "weights": [[[0.15, 0.20], [0.25, 0.30]], [[0.40, 0.45], [0.50, 0.55]]],
    "biases": [[0.35, 0.35], [0.60, 0.60]],
    "lr": 0.5, "activation": "sigmoid", "loss": "half_squared_error"}, indent=1)


class ProblemFileError(ValueError):
    """The text is not a problem; the message says why. `markdown` is the same with any text
    from the file as inline code, for pages whose messages are Markdown."""

    def __init__(self, message: str, markdown: str | None = None) -> None:
        super().__init__(message)
        self.markdown = message if markdown is None else markdown


@dataclass(frozen=True)
class Exercise:
    """A whole problem: the numbers (Params) and its settings."""

    params: Params
    lr: float
    activation: str
    loss: str

    @property
    def shape(self) -> tuple[int, ...]:
        return self.params.shape


def problem_dict(ex: Exercise) -> dict:
    """The documented form of the problem (see the module docstring)."""
    p = ex.params
    return {"shape": list(p.shape), "x": list(p.x), "y": list(p.y), "weights": p.W,
            "biases": p.b, "lr": ex.lr, "activation": ex.activation, "loss": ex.loss}


def exercise_of(trace: Trace) -> Exercise:
    """The problem a trace was made from, as plain floats."""
    p = trace.problem
    params = Params([W.tolist() for W in p.W], [b.tolist() for b in p.b], p.x.tolist(),
                    p.y.tolist())
    return Exercise(params, p.lr, p.activation, p.loss)


def read_problem(text: str) -> Exercise:
    """The problem in `text` (the form above, or a whole download), validated like trace_step's
    arguments; ProblemFileError with a short reason otherwise."""
    if len(text) > MAX_CHARS:
        raise ProblemFileError(f"the text is {len(text):,} characters long; a problem needs far "
                               f"fewer (at most {MAX_CHARS:,})")
    try:
        data = json.loads(text)
    except (json.JSONDecodeError, RecursionError) as err:
        where = f" (line {err.lineno}, column {err.colno})" if hasattr(err, "lineno") else ""
        raise ProblemFileError(f"this is not JSON{where}: paste the form shown below") from None
    if isinstance(data, dict) and isinstance(data.get("problem"), dict):
        data = data["problem"]  # a download pasted back
    if not isinstance(data, dict):
        raise ProblemFileError("the JSON must be an object with x, y, weights and biases")
    missing = [k for k in ("x", "y", "weights", "biases") if k not in data]
    if missing:
        raise ProblemFileError(f"the problem has no {', '.join(missing)}")
    activation = data.get("activation", "sigmoid")
    loss = data.get("loss", "half_squared_error")
    if activation not in ACTIVATIONS:
        raise ProblemFileError(f"activation must be one of {', '.join(ACTIVATIONS)}")
    if loss not in LOSSES:
        raise ProblemFileError(f"loss must be one of {', '.join(LOSSES)}")
    try:
        p = net.validate(data["weights"], data["biases"], data["x"], data["y"],
                         data.get("lr", 0.1), activation, loss)
        shape = check_shape(p.shape)
    except net.EntryError as err:
        where = str(err).removesuffix(f" {err.complaint}")
        raise ProblemFileError(str(err), f"{where} {err.markdown_complaint}") from None
    except ValueError as err:
        raise ProblemFileError(str(err)) from None
    if "shape" in data and _shape_list(data["shape"]) != list(shape):
        raise ProblemFileError("the shape given is not the one the weights make, "
                               f"{'-'.join(map(str, shape))}")
    params = Params([W.tolist() for W in p.W], [b.tolist() for b in p.b], p.x.tolist(),
                    p.y.tolist())
    return Exercise(params, p.lr, activation, loss)


def _shape_list(value) -> list | None:
    if not isinstance(value, list) or not all(isinstance(n, int) for n in value):
        return None
    return value


def trace_json(trace: Trace, origin: str = "", marking: Marking | None = None) -> str:
    """The problem and its whole trace: every step's name, formula, numbers in, and value; with a
    marking, the student's answer, verdict and carried-forward value per step."""
    steps = []
    marks = marking.marks if marking is not None else [None] * len(trace.steps)
    for s, m in zip(trace.steps, marks, strict=True):
        row = {"name": s.name, "kind": s.kind, "formula": s.symbolic,
               "substituted": s.substituted, "value": s.value}
        if m is not None:
            row.update(answer=m.typed, verdict=m.verdict, expected=m.expected)
        steps.append(row)
    doc = {"format": FORMAT, "version": 1, "origin": origin,
           "problem": problem_dict(exercise_of(trace)), "loss_value": trace.loss, "steps": steps}
    if marking is not None:
        doc["first_wrong"] = (None if marking.first_wrong is None
                              else trace.steps[marking.first_wrong].name)
    return json.dumps(doc, indent=1, ensure_ascii=False, allow_nan=True)


def steps_csv(trace: Trace, marking: Marking | None = None) -> str:
    """One row per step: number, name, kind, value (and answer, verdict, expected in Let me try)."""
    buf = io.StringIO()
    out = csv.writer(buf, lineterminator="\n")
    head = ["step", "name", "kind", "value"]
    out.writerow(head + (["answer", "verdict", "expected"] if marking is not None else []))
    for n, s in enumerate(trace.steps, start=1):
        row = [n, s.name, s.kind, repr(s.value)]
        if marking is not None:
            m = marking.marks[n - 1]
            # A leading = + - @ would make a spreadsheet run the typed text as a formula.
            unsafe = m.value is None and m.typed[:1] in ("=", "+", "-", "@")
            typed = "'" + m.typed if unsafe else m.typed
            row += [typed, m.verdict, repr(m.expected)]
        out.writerow(row)
    return buf.getvalue()
