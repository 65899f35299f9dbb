"""Check my work: the student's number for a step against the machine's, to 4 significant digits.

A typed value is right when it rounds to the same 4 significant digits as the true value, or lies
within half a unit of the 4th significant digit of it (so 0.5225 and 0.52248 both match
0.5224848…). Text is parsed with `float()` only: never eval or sympify what a student types.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from core.numbers import parse_number

SIG_DIGITS = 4


def parse_answer(text: str) -> float:
    """The student's number (core.numbers: float() only); NumberError says what is wrong."""
    return parse_number(text, "your answer")


def round_sig(v: float, digits: int = SIG_DIGITS) -> float:
    if v == 0 or not math.isfinite(v):
        return v
    return round(v, digits - 1 - math.floor(math.log10(abs(v))))


def agrees(student: float, true: float, digits: int = SIG_DIGITS) -> bool:
    """Equal to `digits` significant digits (see the module docstring)."""
    if true == 0:
        return abs(student) < 1e-12
    if round_sig(student, digits) == round_sig(true, digits):
        return True
    half_unit = 0.5 * 10 ** (math.floor(math.log10(abs(true))) - digits + 1)
    return abs(student - true) <= half_unit * (1 + 1e-12)


@dataclass(frozen=True)
class Mark:
    name: str
    typed: str
    right: bool | None  # None: nothing typed, or not a number
    message: str = ""


def mark_all(steps, answers: dict[str, str]) -> tuple[list[Mark], int | None]:
    """Mark every answered step; also return the index of the first wrong one (None if none)."""
    marks, first_wrong = [], None
    for idx, step in enumerate(steps):
        typed = answers.get(step.name, "")
        if not typed.strip():
            marks.append(Mark(step.name, typed, None))
            continue
        try:
            ok = agrees(parse_answer(typed), step.value)
            marks.append(Mark(step.name, typed, ok))
        except ValueError as err:
            marks.append(Mark(step.name, typed, None, str(err)))
            continue
        if not ok and first_wrong is None:
            first_wrong = idx
    return marks, first_wrong
