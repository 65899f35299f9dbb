"""Numbers in and out: the one parser for everything a person types, and numbers for LaTeX.

Every box and table cell of every page reads its text with `parse_number`: `float()` only, never
`eval` or `sympify`, so "__import__('os')" or "2+3" is simply not a number. It accepts what the
app itself prints (the Unicode minus "−1.5", a thin or ordinary space inside "1 000"), and refuses
with a sentence a student can act on: empty, not a number (a decimal comma gets its own hint),
NaN, infinite (1e309 overflows to inf), not whole where a whole number is asked for. The message
begins with `what` the number is, and the rest is kept apart as `NumberError.complaint`, so a
page can put the name of a table cell in front of it instead. What was typed is quoted back in
the message; `NumberError.markdown` has it as inline code instead, for pages whose messages are
Markdown (typed text must never be rendered: an image link would be fetched).

    tex_number(0.000123) == r"0.000123"      tex_number(1.5e-7) == r"1.5 \\times 10^{-7}"
    paren("-0.5") == r"\\left(-0.5\\right)"    (a negative factor in a product gets brackets)
"""

from __future__ import annotations

import math
from numbers import Real

__all__ = ["NumberError", "code", "parse_number", "quote", "tex_number", "paren"]

MINUS_SIGNS = "−‒–"  # U+2212 as the app prints it; figure and en dashes pasted from documents
SPACES = " \u00a0\u2009\u202f"  # ordinary, no-break, thin, narrow no-break
SHOWN = 24  # characters of a bad entry quoted back: enough to recognise it, never a wall


class NumberError(ValueError):
    """Typed text that is not a usable number. `str()` is f"{what} {complaint}".

    `complaint` may hold "{typed}", filled with the typed text in quotes (plain) or as inline code
    (`markdown`)."""

    def __init__(self, what: str, complaint: str, typed: str = "") -> None:
        self.what, self.typed = what, typed
        self.complaint = complaint.format(typed=repr(typed))
        self.markdown_complaint = complaint.format(typed=code(typed))
        super().__init__(f"{what} {self.complaint}".strip())

    @property
    def markdown(self) -> str:
        return f"{self.what} {self.markdown_complaint}".strip()


def quote(text: object) -> str:
    """What the person typed, trimmed and shortened, for a message."""
    s = str(text).strip()
    return s if len(s) <= SHOWN else s[:SHOWN - 1] + "…"


def code(text: object) -> str:
    """Text as Markdown inline code: shown as typed, never rendered (backticks cannot close it)."""
    return "`" + quote(text).replace("`", "ˋ") + "`"


def parse_number(value: object, what: str = "the value", *, integer: bool = False) -> float:
    """A finite float (or int, with `integer=True`) from a widget value or typed text.

    Raises NumberError naming `what`. Numbers that are already numbers (not bools) pass through
    the same finiteness and wholeness checks as text.
    """
    if isinstance(value, bool):
        raise NumberError(what, "must be a number, not {typed}", str(value))
    if value is None:
        raise NumberError(what, "is empty: type a number")
    if isinstance(value, Real):
        x = float(value)
        typed = repr(value)
    else:
        typed = quote(value)
        text = str(value).strip()
        for sign in MINUS_SIGNS:
            text = text.replace(sign, "-")
        for space in SPACES:
            text = text.replace(space, "")
        if text == "":
            raise NumberError(what, "is empty: type a number")
        try:
            x = float(text)
        except ValueError:
            hint = ("use a point for decimals, e.g. 1.5, not 1,5" if "," in text
                    else "type digits like 0.5, -2 or 1.2e-3")
            raise NumberError(what, "is not a number ({typed}): " + hint, typed) from None
    if math.isnan(x):
        raise NumberError(what, "is NaN (not a number): type a number", typed)
    if math.isinf(x):
        raise NumberError(what, "is infinite ({typed}): numbers past ±1.8e308 overflow", typed)
    if integer:
        if x != math.floor(x):
            raise NumberError(what, "must be a whole number, got {typed}", typed)
        return int(x)
    return x


def tex_number(v: float, digits: int = 6) -> str:
    """A number for a LaTeX formula: `digits` significant digits, ×10^k instead of e-notation."""
    s = f"{float(v) + 0.0:.{digits}g}"  # + 0.0 turns −0 (e.g. δ·x with x = 0) into 0
    if "e" in s:
        mant, exp = s.split("e")
        s = rf"{mant} \times 10^{{{int(exp)}}}"
    return s


def paren(tex: str) -> str:
    """Brackets around a negative number so that "a · −b" prints as "a · (−b)"."""
    return rf"\left({tex}\right)" if tex.startswith("-") else tex
