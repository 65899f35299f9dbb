"""Check my work: a student's typed values marked so that one slip is marked once.

`mark_all(trace, answers)` judges every step twice:

* against the machine's value (verdict "right"), and
* against the value the step's own formula gives from the student's *own* earlier numbers, where
  they typed them (the machine's where not): "follows" — worked correctly from a slipped number.

Anything else is "wrong"; an empty box is "blank"; text that is not a number (HTML, words, "1/2")
is "unreadable", with a message. Text is read by core.numbers.parse_number only: never eval or
sympify.

The tolerance. A student works with 4 significant digits on paper, so every computed number a
step uses (z, a, ŷ, L, δ, a gradient; not the given x, y, w, b, η) may carry a rounding error of
half a unit in its 4th significant digit, h(v) = ½·10^(⌊log₁₀|v|⌋ − 3). The step's answer A is
accepted against an expected value E = f(inputs) when

    |A − E| ≤ Σ_i |f(v + h_i e_i) − f(v − h_i e_i)| / 2  +  h(E)      (or A and E round alike)

that is, the inputs' rounding propagated through the step's formula (a central difference over
each input, which also handles a ReLU kink), plus the step's own rounding to 4 digits. Example: a
= 0.5225 and 0.5300 carried give z⁽²⁾₁ = 0.5·0.5225 − 0.3·0.5300 + 0.1 = 0.20225; the inputs'
rounding adds 0.5·5e-5 + 0.3·5e-5 = 4e-5 to h = 5e-5, so 0.2022 is accepted; a slip of a
single unit in the 3rd digit (0.2032) is not.

An update w⁺ = w − η ∂L/∂w is judged by the change it makes: w − w⁺ must agree with η·∂L/∂w to
4 significant digits (with the same rule, the gradient's rounding propagated), the machine's
gradient for "right", the student's own for "follows". So new w11 = 0.2002 for a change of
−0.0002428 is wrong: only one digit of the change is there.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import lru_cache, partial

import sympy as sp
from sympy.printing.pycode import PythonCodePrinter

from core.backprop.formulas import StepTemplate, step_expressions, step_templates
from core.backprop.tracer import Trace, fill
from core.numbers import NumberError, code, parse_number, tex_number

SIG_DIGITS = 4
VERDICTS = ("right", "follows", "wrong", "blank", "unreadable")
ROUNDED = ("z", "a", "d", "gw", "gb", "L")  # computed values a student rounds on the way
UPDATES = ("new_w", "new_b")


@dataclass(frozen=True)
class Mark:
    """The verdict on one step. `expected` is the step's value carried forward from the student's
    own numbers (the machine's value when none of its inputs were typed); `message` is Markdown
    with anything typed as inline code; `substituted` is LaTeX: the formula with the student's
    numbers and the value they give (set for a wrong step)."""

    name: str
    verdict: str
    expected: float
    typed: str = ""
    value: float | None = None  # the typed number, when readable
    machine: float = math.nan
    message: str = ""
    substituted: str = ""


@dataclass(frozen=True)
class Marking:
    marks: list[Mark]
    first_wrong: int | None  # index of the first "wrong" step, or None

    def count(self, *verdicts: str) -> int:
        return sum(m.verdict in verdicts for m in self.marks)


def half_unit(v: float, digits: int = SIG_DIGITS) -> float:
    """Half a unit in the `digits`-th significant digit of v (0 for 0): the rounding error."""
    if v == 0 or not math.isfinite(v):
        return 0.0
    return 0.5 * 10 ** (math.floor(math.log10(abs(v))) - digits + 1)


def round_sig(v: float, digits: int = SIG_DIGITS) -> float:
    if v == 0 or not math.isfinite(v):
        return v
    return round(v, digits - 1 - math.floor(math.log10(abs(v))))


def agrees(answer: float, expected: float, slack: float = 0.0) -> bool:
    """Equal to 4 significant digits, widened by `slack` (the inputs' propagated rounding)."""
    if not (math.isfinite(answer) and math.isfinite(expected)):
        return False
    if expected != 0 and round_sig(answer) == round_sig(expected):
        return True
    tol = (half_unit(expected) + slack) * (1 + 1e-9) + 1e-15 * max(1.0, abs(expected))
    return abs(answer - expected) <= tol


class _Printer(PythonCodePrinter):
    """Python for a step's right-hand side, its symbols (named by value keys, "w|0|1|2") printed
    as the arguments a0, a1, … of the function."""

    def __init__(self, args: dict[sp.Symbol, str]) -> None:
        super().__init__({"fully_qualified_modules": False, "inline": True,
                          "allow_unknown_functions": True})
        self.args = args

    def _print_Symbol(self, expr: sp.Symbol) -> str:  # noqa: N802 - SymPy's printer protocol
        return self.args[expr]


@lru_cache(maxsize=64)
def _functions(shape: tuple[int, ...], activation: str, loss: str
               ) -> tuple[Callable[..., float], ...]:
    """Each step's right-hand side as a plain-float function of its `_inputs` (math module).

    Printed and compiled together, once per shape, and only once a step needs evaluating (a
    typed answer): `sympy.lambdify` took ~6 ms a formula, most of it building a namespace and
    compiling each on its own, which a new shape paid on the way to the page (17 formulas of a
    3-3-2 net, ~220 ms); printing is ~0.3 ms a formula. The expressions are built again here
    (core.backprop.formulas keeps the printed templates, not SymPy objects)."""
    lines = []
    templates = step_templates(shape, activation, loss)
    for n, (t, rhs) in enumerate(zip(templates, step_expressions(shape, activation, loss),
                                     strict=True)):
        by_key = {s.name: s for s in rhs.free_symbols}
        names = {by_key[k]: f"a{i}" for i, k in enumerate(t.inputs)}
        lines.append(f"def f{n}({', '.join(names.values())}):\n"
                     f"    return {_Printer(names).doprint(rhs)}\n")
    namespace = dict(vars(math))
    exec(compile("".join(lines), f"<step formulas {shape}>", "exec"), namespace)  # noqa: S102
    return tuple(namespace[f"f{n}"] for n in range(len(lines)))


def _evaluate(fn: Callable[..., float], args: list[float]) -> float:
    try:
        return float(fn(*args))
    except (OverflowError, ValueError, ZeroDivisionError, TypeError):
        return math.nan  # e.g. log of a non-positive ŷ the student typed, exp overflowing


class _Step:
    """One template with its formula, evaluated at the machine's or the student's numbers."""

    def __init__(self, t: StepTemplate, functions: Callable[[], tuple[Callable, ...]],
                 index: int) -> None:
        self.t = t
        self.keys = t.inputs
        self._functions, self._index = functions, index
        self.update = t.kind in UPDATES
        self.param = t.key.replace("nw", "w", 1).replace("nb", "b", 1) if self.update else ""

    def fn(self, *args: float) -> float:
        return self._functions()[self._index](*args)

    def value(self, vals: Mapping[str, float]) -> float:
        return _evaluate(self.fn, [vals[k] for k in self.keys])

    def judged(self, vals: Mapping[str, float], result: float) -> float:
        """What is compared: the value itself, or for an update the change w − w⁺."""
        return vals[self.param] - result if self.update else result

    def slack(self, vals: Mapping[str, float]) -> float:
        """The inputs' 4-digit rounding, propagated through the formula (see the docstring)."""
        base = [vals[k] for k in self.keys]
        total = 0.0
        for i, key in enumerate(self.keys):
            h = half_unit(base[i]) if key.split("|")[0] in ROUNDED else 0.0
            if h == 0.0:
                continue
            up, down = list(base), list(base)
            up[i] += h
            down[i] -= h
            spread = abs(self.judged(vals, _evaluate(self.fn, up))
                         - self.judged(vals, _evaluate(self.fn, down))) / 2
            total += spread if math.isfinite(spread) else math.inf
        return total


def machine_values(trace: Trace) -> dict[str, float]:
    """Every value by key (core.backprop.names): the problem's entries and every step's value."""
    p = trace.problem
    vals: dict[str, float] = {"lr": p.lr}
    vals.update({f"x|{i}": float(v) for i, v in enumerate(p.x)})
    vals.update({f"y|{k}": float(v) for k, v in enumerate(p.y)})
    for ell, (W, b) in enumerate(zip(p.W, p.b, strict=True)):
        for j in range(W.shape[0]):
            vals[f"b|{ell}|{j}"] = float(b[j])
            for i in range(W.shape[1]):
                vals[f"w|{ell}|{j}|{i}"] = float(W[j, i])
    templates = step_templates(p.shape, p.activation, p.loss)
    vals.update({t.key: s.value for t, s in zip(templates, trace.steps, strict=True)})
    return vals


def read_answer(typed: object) -> tuple[str, float | None, str]:
    """(text, number or None, message): blank gives ("", None, ""), unreadable a message."""
    if typed is None or (isinstance(typed, str) and not typed.strip()):
        return "", None, ""
    text = typed if isinstance(typed, str) else repr(typed)
    try:
        return text, float(parse_number(typed, "your answer")), ""
    except NumberError as err:
        return text, None, err.markdown


def _wrong_message(step: _Step, typed: str, answer: float, expected: float, own: dict) -> str:
    if not math.isfinite(expected):
        return (f"You typed {code(typed)}; with your earlier numbers this formula has no value "
                "(an overflow or the log of a number ≤ 0), and it is not the machine's either.")
    if step.update:
        change, want = own[step.param] - answer, step.judged(own, expected)
        return (f"You typed {code(typed)}: that changes the parameter by w − w⁺ = {change:.6g}, "
                f"but η·∂L/∂w = {want:.6g} with your numbers. The change must agree to 4 "
                f"significant digits, so keep enough digits in w⁺ (here {expected:.8g}).")
    return (f"You typed {code(typed)}, but the formula with your own numbers gives "
            f"{expected:.6g}; compare each number put into it.")


def mark_all(trace: Trace, answers: Mapping[str, object]) -> Marking:
    """Mark every step of `trace.steps` in order from `answers` (step name → typed text)."""
    p = trace.problem
    templates = step_templates(p.shape, p.activation, p.loss)
    functions = partial(_functions, p.shape, p.activation, p.loss)
    machine = machine_values(trace)
    own = dict(machine)  # the student's numbers where readable, the machine's elsewhere
    marks: list[Mark] = []
    first_wrong = None
    for idx, (t, s) in enumerate(zip(templates, trace.steps, strict=True)):
        text, answer, problem = read_answer(answers.get(s.name))
        step = _Step(t, functions, idx)
        typed_inputs = any(own[k] != machine[k] for k in step.keys)
        expected = step.value(own) if typed_inputs else s.value
        if answer is None:
            verdict = "unreadable" if problem else "blank"
            marks.append(Mark(s.name, verdict, expected, text, None, s.value, problem))
            continue
        own[t.key] = answer
        if agrees(step.judged(machine, answer), step.judged(machine, s.value),
                  step.slack(machine)):
            verdict, message, sub = "right", "", ""
        elif typed_inputs and agrees(step.judged(own, answer), step.judged(own, expected),
                                     step.slack(own)):
            verdict, message, sub = "follows", "Follows from your own earlier numbers.", ""
        else:
            verdict = "wrong"
            message = _wrong_message(step, text, answer, expected, own)
            sub = f"{fill(t.template, own)} = {tex_number(expected)}"
            if first_wrong is None:
                first_wrong = idx
        marks.append(Mark(s.name, verdict, expected, text, answer, s.value, message, sub))
    return Marking(marks, first_wrong)
