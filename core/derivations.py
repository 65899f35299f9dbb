r"""Derivations checked line by line by SymPy: one checker for every page that proves something.

(One module of about 530 lines on purpose: a derivation, its checks, the text they show, their
memory and their export are the one contract both proving pages import; half of it is docstrings.)

A `Derivation` is a claim — its `statement` in LaTeX, with a left side `lhs` and a right side
`rhs` built by SymPy — and the `Step`s a student writes from one to the other. Each step carries
the LaTeX shown, the `rule` that justifies it and `build(ctx, *indices)`: the same line as a SymPy
expression. Each `Way` of checking (an `abc.ABC`) builds the lines in its own context and says
whether a line equals the line(s) it follows from (`Step.against`, default the line before;
line 0 is the statement's left side): passed True, False (wrong for sure) or None (not decided:
SymPy's `simplify` is a heuristic, and a nonzero answer proves nothing). The conclusion checks
the last line against the right side, so the chain really ends at the claim.

The results carry the text every page shows and every export writes: a badge per check
(`Check.markdown`, Streamlit's `:green-badge[…]` syntax, plain text otherwise), the sentence for
documents (`Check.sentence`), how it was decided (`LineResult.details`); `sections()` turns a
result into `core.export` sections. `checked()` and `checked_line()` remember results in the
process and on disk as JSON (never pickle), keyed by a `fingerprint` of everything that decides
them — the builders' code, their modules' and the ways' source, SymPy's version: the checks are
deterministic, so no student waits for them twice.

A two-line derivation, no softmax in it:

>>> import sympy as sp
>>> from types import SimpleNamespace
>>> ctx = SimpleNamespace(x=sp.Symbol("x", real=True))
>>> product = Derivation(
...     key="product", title="The derivative of x² eˣ",
...     statement=r"\frac{d}{dx}\,x^2 e^x = (x^2 + 2x)\,e^x",
...     intro="The product rule, then a common factor.",
...     lhs=lambda c: sp.diff(c.x**2 * sp.exp(c.x), c.x),
...     rhs=lambda c: (c.x**2 + 2 * c.x) * sp.exp(c.x),
...     steps=(
...         Step(r"\frac{d}{dx}\,x^2 e^x = 2x\,e^x + x^2 e^x", "product rule (fg)' = f'g + fg'",
...              lambda c: 2 * c.x * sp.exp(c.x) + c.x**2 * sp.exp(c.x)),
...         Step(r"= (x^2 + 2x)\,e^x", "factor out e^x",
...              lambda c: (c.x**2 + 2 * c.x) * sp.exp(c.x)),
...     ))
>>> result = check_derivation(product, [Simplify(ctx)])
>>> result.verified, result.lines[0].badges
(True, ':green-badge[✓ SymPy]')
>>> slip = falsify(product, 1, lambda c: 2 * c.x * sp.exp(c.x), r"= 2x\,e^x")
>>> check_line(slip, 1, [Simplify(ctx, decides=True)]).checks[0].badge
'✗ SymPy'
"""

from __future__ import annotations

import abc
import json
import re
import sys
import threading
import time
import types
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # imported where it is used: a page reading remembered results needs no SymPy
    import sympy as sp

from core.cache import cache_root, digest_of, source_of, write_json
from core.export import Line, Section

__all__ = ["Build", "Step", "Derivation", "Check", "Way", "Simplify", "LineResult",
           "DerivationResult", "check_line", "check_conclusion", "check_derivation", "checked",
           "checked_line", "remembered", "remembered_line", "fingerprint", "cache_dir",
           "result_to_json", "result_from_json", "falsify", "sections", "plain", "meet"]

Build = Callable[..., "sp.Expr"]
ALL = "all"  # the cases a line speaks about when it makes no restriction
FORMAT = 1  # of the JSON files; a different number is recomputed, never misread


@dataclass(frozen=True)
class Step:
    """One line: `latex` (display math, no `$$`), `rule` (why it follows, Markdown with $math$),
    `build(ctx, *indices)` (its SymPy twin). `against`: the line numbers it follows from (0 = the
    statement's left side; None = the line before). `cases`: which index tuples it speaks about,
    "all" or a name its ways know (e.g. "i=j"). `hypothesis`: it uses the standing assumption."""

    latex: str
    rule: str
    build: Build
    cases: str = ALL
    against: tuple[int, ...] | None = None
    hypothesis: bool = False


@dataclass(frozen=True)
class Derivation:
    """A claim `statement` (LaTeX) with sides `lhs`, `rhs` (builders like a step's) and the steps
    from one to the other. `free` names the free indices, one letter each ("ij" for ∂p_i/∂s_j);
    each builder takes one argument per letter after the context. `hypothesis` is the LaTeX of
    the standing assumption, if any."""

    key: str
    title: str
    statement: str
    intro: str
    lhs: Build
    rhs: Build
    steps: tuple[Step, ...]
    free: str = ""
    hypothesis: str = ""

    def line(self, n: int) -> tuple[Build, str]:
        """Builder and cases of line n (0 = the statement's left side)."""
        if n == 0:
            return self.lhs, ALL
        step = self.steps[n - 1]
        return step.build, step.cases


def meet(a: str, b: str) -> str:
    """The cases two compared lines both speak about (a line about "i=j" meets "all" in "i=j")."""
    return a if b == ALL else b


@dataclass(frozen=True)
class Check:
    """One way's verdict on one line. `passed`: True, False (wrong for sure), None (not decided).
    `detail`: how (Markdown with $math$); `badge`: a few words for the page; `sentence`: the
    verdict for documents; `required`: a line is verified only if this way passed (True), or else
    only if it did not fail."""

    method: str
    passed: bool | None
    detail: str
    badge: str
    sentence: str
    required: bool = True

    @property
    def colour(self) -> str:
        return {True: "green", None: "orange", False: "red"}[self.passed]

    @property
    def markdown(self) -> str:
        """The badge in Streamlit Markdown, coloured by the verdict: green, orange or red."""
        return f":{self.colour}-badge[{self.badge}]"

    @property
    def ok(self) -> bool:
        return self.passed is True if self.required else self.passed is not False


class Way(abc.ABC):
    """One way of checking lines. Its verdicts must depend only on its code and `label` (or on
    what `fingerprint` returns), so that remembered results stay right."""

    label: str = "SymPy"

    @abc.abstractmethod
    def compare(self, derivation: Derivation, build: Build, cases: str,
                others: Sequence[tuple[Build, str]], hypothesis: bool) -> Check:
        """Is the line `build` (about `cases`) equal to every line in `others`?"""

    def twin_latex(self, derivation: Derivation, build: Build) -> str:
        """SymPy's own LaTeX of the line, to set beside the hand-written one ("" if none)."""
        return ""

    def fingerprint(self) -> str:
        return f"{type(self).__module__}.{type(self).__qualname__}:{self.label}"


class Simplify(Way):
    """a = b when `simplify((a − b).doit())` is 0, the lines built in `context` at every index tuple
    `indices(cases)` gives (default: one, no indices). Sound when it says 0; otherwise "not
    decided", or wrong with `decides=True` — only where simplify is known to decide (polynomials,
    rational functions). `assume(expr)` applies the derivation's hypothesis to a line that uses it.
    """

    def __init__(self, context: Any, label: str = "SymPy", *,
                 indices: Callable[[str], Sequence[tuple]] = lambda cases: [()],
                 decides: bool = False, assume: Callable[[sp.Expr], sp.Expr] = lambda e: e,
                 required: bool = True) -> None:
        self.context, self.label, self.indices = context, label, indices
        self.decides, self.assume, self.required = decides, assume, required

    def compare(self, derivation: Derivation, build: Build, cases: str,
                others: Sequence[tuple[Build, str]], hypothesis: bool) -> Check:
        import sympy as sp

        assume = self.assume if hypothesis else (lambda e: e)
        for other, other_cases in others:
            for idx in self.indices(meet(cases, other_cases)):
                diff = (build(self.context, *idx) - other(self.context, *idx)).doit()
                if sp.simplify(assume(diff)) != 0:
                    passed = False if self.decides else None
                    return Check(self.label, passed, f"simplify(a − b) ≠ 0 at {idx or 'the line'}",
                                 ("✗ " if passed is False else "not decided: ") + self.label,
                                 f"{self.label}: {'no' if passed is False else 'not decided'}",
                                 self.required)
        return Check(self.label, True, "simplify(a − b) = 0", f"✓ {self.label}",
                     f"{self.label}: yes", self.required)

    def twin_latex(self, derivation: Derivation, build: Build) -> str:
        import sympy as sp

        return sp.latex(build(self.context, *self.indices(ALL)[0]))

    def fingerprint(self) -> str:
        return f"{super().fingerprint()}:decides={self.decides}:required={self.required}"


@dataclass(frozen=True)
class LineResult:
    """How line `number` fared (1-based; the conclusion is numbered after the last line)."""

    number: int
    latex: str
    rule: str
    against: tuple[int, ...]
    checks: tuple[Check, ...]
    twin: str  # SymPy's LaTeX of the line, beside the hand-written `latex`

    @property
    def verified(self) -> bool:
        return all(c.ok for c in self.checks)

    def check(self, method: str) -> Check:
        """The check made by the way labelled `method`."""
        return next(c for c in self.checks if c.method == method)

    @property
    def badges(self) -> str:
        return " ".join(c.markdown for c in self.checks)

    @property
    def against_words(self) -> str:
        """What the line was checked against: "the claim's left side", "line 5", "lines 6, 7"."""
        lines = [n for n in self.against if n]
        words = ["the claim's left side"] if 0 in self.against else []
        if lines:
            words.append(("line " if len(lines) == 1 else "lines ") + ", ".join(map(str, lines)))
        return " and ".join(words)

    @property
    def details(self) -> str:
        return "; ".join(c.detail for c in self.checks)

    @property
    def sentence(self) -> str:
        """The verdicts for a document: "against line 2; symbolic K: yes; K = 2..6: yes"."""
        return "; ".join([f"against {self.against_words}", *(c.sentence for c in self.checks)])


@dataclass(frozen=True)
class DerivationResult:
    derivation: Derivation
    lines: tuple[LineResult, ...]
    conclusion: LineResult  # the last line against the statement's right side
    seconds: float          # how long the checks took when they were made

    @property
    def every_line(self) -> tuple[LineResult, ...]:
        return (*self.lines, self.conclusion)

    @property
    def verified(self) -> bool:
        return all(r.verified for r in self.every_line)

    @property
    def decided(self) -> bool:
        """Every way gave a verdict on every line (no "not decided" anywhere)."""
        return all(c.passed is not None for r in self.every_line for c in r.checks)


# ---------------------------------------------------------------- checking
def _result(number: int, latex: str, rule: str, against: tuple[int, ...], d: Derivation,
            build: Build, cases: str, hypothesis: bool, ways: Sequence[Way]) -> LineResult:
    others = [d.line(m) for m in against]
    checks = tuple(w.compare(d, build, cases, others, hypothesis) for w in ways)
    twin = next((t for w in ways if (t := w.twin_latex(d, build))), "")
    return LineResult(number, latex, rule, against, checks, twin)


def check_line(d: Derivation, n: int, ways: Sequence[Way]) -> LineResult:
    """Check line n (1-based) of `d` against the line(s) it claims to follow from."""
    step = d.steps[n - 1]
    return _result(n, step.latex, step.rule, step.against or (n - 1,), d, step.build,
                   step.cases, step.hypothesis, ways)


def check_conclusion(d: Derivation, ways: Sequence[Way]) -> LineResult:
    """The last line must be the statement's right side: the chain really ends at the claim."""
    n = len(d.steps)
    return _result(n + 1, d.statement, "the last line is the right side of the claim", (n,), d,
                   d.rhs, ALL, False, ways)


def check_derivation(d: Derivation, ways: Sequence[Way]) -> DerivationResult:
    """Every line and the conclusion, computed now (nothing remembered: tests falsify lines)."""
    start = time.perf_counter()
    lines = tuple(check_line(d, n, ways) for n in range(1, len(d.steps) + 1))
    conclusion = check_conclusion(d, ways)
    return DerivationResult(d, lines, conclusion, time.perf_counter() - start)


def falsify(d: Derivation, n: int, build: Build, latex: str | None = None) -> Derivation:
    """A copy of `d` with line n's builder (and LaTeX) replaced: a slip, for tests and demos."""
    steps = list(d.steps)
    steps[n - 1] = replace(steps[n - 1], build=build, latex=latex or steps[n - 1].latex)
    return replace(d, steps=tuple(steps))


# ---------------------------------------------------------------- remembering
def cache_dir() -> Path:
    """Where checked results are kept: core.cache's folder / derivations."""
    return cache_root() / "derivations"


def _code_id(fn: Any, seen: set[int]) -> str:
    """A builder's code, stable across processes: bytecode, names, constants (nested code recursed,
    since a code object's repr holds its address) and what its closure holds."""
    if id(fn) in seen:
        return "…"
    seen.add(id(fn))
    code = getattr(fn, "__code__", None)
    if code is None:
        return f"{type(fn).__qualname__}:{fn!r}"

    def text(c: types.CodeType) -> str:
        consts = [text(x) if isinstance(x, types.CodeType)
                  else repr(sorted(map(repr, x))) if isinstance(x, frozenset) else repr(x)
                  for x in c.co_consts]
        return f"{c.co_code.hex()}|{c.co_names}|{consts}"

    cells = [_code_id(cell.cell_contents, seen) for cell in fn.__closure__ or ()]
    return f"{fn.__module__}.{fn.__qualname__}:{text(code)}:{cells}"


def fingerprint(d: Derivation, ways: Sequence[Way], *extra: object) -> str:
    """Hex digest of everything that decides `d`'s checks: its text, its builders' code, the
    source of their modules, of the ways' classes and of this module, SymPy's and Python's
    versions, and `extra`. Any change gives a new fingerprint, so a remembered result is never
    read for a derivation it was not made for."""
    import sympy as sp

    builders = [d.lhs, d.rhs, *(s.build for s in d.steps)]
    modules = {__name__, *(getattr(b, "__module__", "") for b in builders)}
    for way in ways:
        modules.update(cls.__module__ for cls in type(way).__mro__)
    seen: set[int] = set()
    parts = [f"format {FORMAT}", sp.__version__, f"{sys.version_info[:2]}", d.key, d.title,
             d.statement, d.intro, d.free, d.hypothesis,
             *(f"{s.latex}|{s.rule}|{s.cases}|{s.against}|{s.hypothesis}" for s in d.steps),
             *(_code_id(b, seen) for b in builders), *(w.fingerprint() for w in ways),
             *map(repr, extra), *(source_of(m) for m in sorted(modules))]
    return digest_of(parts)


def _line_to_json(r: LineResult) -> dict:
    return {"number": r.number, "latex": r.latex, "rule": r.rule, "against": list(r.against),
            "twin": r.twin, "checks": [vars(c) for c in r.checks]}


def _typed(data: dict, key: str, kind: type | tuple[type, ...]) -> Any:
    value = data[key]
    if not isinstance(value, kind) or isinstance(value, bool) and kind is int:
        raise ValueError(f"{key}: expected {kind}, got {type(value).__name__}")
    return value


def _line_from_json(data: Any) -> LineResult:
    if not isinstance(data, dict):
        raise ValueError("a line must be an object")
    checks = []
    for c in _typed(data, "checks", list):
        if not isinstance(c, dict) or c.get("passed", 0) not in (True, False, None):
            raise ValueError("a check must be an object with passed true, false or null")
        checks.append(Check(_typed(c, "method", str), c["passed"], _typed(c, "detail", str),
                            _typed(c, "badge", str), _typed(c, "sentence", str),
                            _typed(c, "required", bool)))
    against = tuple(_typed(data, "against", list))
    if not all(isinstance(n, int) and not isinstance(n, bool) for n in against):
        raise ValueError("against: expected line numbers")
    return LineResult(_typed(data, "number", int), _typed(data, "latex", str),
                      _typed(data, "rule", str), against, tuple(checks), _typed(data, "twin", str))


def result_to_json(result: DerivationResult) -> dict:
    return {"format": FORMAT, "key": result.derivation.key, "seconds": result.seconds,
            "lines": [_line_to_json(r) for r in result.lines],
            "conclusion": _line_to_json(result.conclusion)}


def result_from_json(d: Derivation, data: Any) -> DerivationResult:
    """The result `result_to_json` wrote for `d`; ValueError (or KeyError) for anything else."""
    if not isinstance(data, dict) or data.get("format") != FORMAT or data.get("key") != d.key:
        raise ValueError("not a result of this format and derivation")
    lines = tuple(_line_from_json(x) for x in _typed(data, "lines", list))
    if [r.latex for r in lines] != [s.latex for s in d.steps]:
        raise ValueError("the lines do not match the derivation")
    return DerivationResult(d, lines, _line_from_json(data["conclusion"]),
                            float(_typed(data, "seconds", (int, float))))


_memo: dict[str, Any] = {}
# One lock for all SymPy work: two threads asking for the same result wait for one computation,
# and SymPy's caches are never filled from two threads at once.
_lock = threading.RLock()


def _recall(fp: str, folder: Path | None, decode: Callable[[Any], Any]) -> Any | None:
    """The remembered value under `fp`, from this process or from disk; None if there is none
    (a damaged or foreign file counts as none)."""
    if fp in _memo:
        return _memo[fp]
    path = folder / f"{fp}.json" if folder is not None else None
    if path is None or not path.is_file():
        return None
    try:
        value = decode(json.loads(path.read_text(encoding="utf-8")))
    except (OSError, ValueError, KeyError, TypeError):
        return None  # computed again and written over
    # setdefault: a thread that read the file while another was writing it must still return
    # the one object every other thread gets (the writer puts it in _memo before the file).
    return _memo.setdefault(fp, value)


def _remember(fp: str, folder: Path | None, compute: Callable[[], Any],
              encode: Callable[[Any], dict], decode: Callable[[Any], Any]) -> Any:
    if (value := _recall(fp, folder, decode)) is not None:
        return value
    with _lock:
        if (value := _recall(fp, folder, decode)) is not None:
            return value  # another thread made it while this one waited
        value = compute()
        _memo[fp] = value  # before the file appears, so a reader of the file finds this object
        if folder is not None:
            write_json(folder / f"{fp}.json", encode(value))  # unwritable: checked again later
        return value


def _folder(folder: Path | None | str) -> Path | None:
    return cache_dir() if folder == "default" else (None if folder is None else Path(folder))


def _line_decoder(d: Derivation, n: int) -> Callable[[Any], LineResult]:
    def decode(data: Any) -> LineResult:
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            raise ValueError("not a line result of this format")
        r = _line_from_json(data.get("line"))
        if r.number != n or r.latex != d.steps[n - 1].latex:
            raise ValueError("the line does not match")
        return r

    return decode


def checked(d: Derivation, ways: Sequence[Way], folder: Path | None | str = "default"
            ) -> DerivationResult:
    """`check_derivation(d, ways)`, remembered in this process and as JSON in `folder`
    (default `cache_dir()`; None: in the process only), under `fingerprint(d, ways)`. Threads
    asking at once wait for one computation."""
    return _remember(fingerprint(d, ways), _folder(folder), lambda: check_derivation(d, ways),
                     result_to_json, lambda data: result_from_json(d, data))


def checked_line(d: Derivation, n: int, ways: Sequence[Way],
                 folder: Path | None | str = "default") -> LineResult:
    """`check_line(d, n, ways)`, remembered like `checked`."""
    return _remember(fingerprint(d, ways, "line", n), _folder(folder),
                     lambda: check_line(d, n, ways),
                     lambda r: {"format": FORMAT, "line": _line_to_json(r)}, _line_decoder(d, n))


def remembered(d: Derivation, ways: Sequence[Way], folder: Path | None | str = "default"
               ) -> DerivationResult | None:
    """What `checked` would return if it has been computed (here or on disk), else None at once:
    for a page that must not wait for SymPy."""
    return _recall(fingerprint(d, ways), _folder(folder), lambda data: result_from_json(d, data))


def remembered_line(d: Derivation, n: int, ways: Sequence[Way],
                    folder: Path | None | str = "default") -> LineResult | None:
    """What `checked_line` would return if it has been computed, else None at once."""
    return _recall(fingerprint(d, ways, "line", n), _folder(folder), _line_decoder(d, n))


# ---------------------------------------------------------------- export
_PLAIN_MACROS = {r"\partial": "∂", r"\delta": "δ", r"\sum": "Σ", r"\log": "log", r"\top": "T",
                 r"\cdot": "·", r"\neq": "!=", r"\le": "<=", r"\,": " ", r"\operatorname": "",
                 r"\mathbf": ""}


def plain(text: str) -> str:
    r"""Markdown with $math$ as plain text for `.tex` notes (core.export escapes their LaTeX):
    $\delta_{ij}$ -> δ_ij, $e^{a+b}$ -> e^(a+b)."""
    out = text.replace("$", "")
    for macro, uni in _PLAIN_MACROS.items():
        out = out.replace(macro, uni)
    out = re.sub(r"\^\{([^{}]{2,})\}", r"^(\1)", out)
    return out.replace("{", "").replace("}", "")


def sections(result: DerivationResult, markdown: bool = True,
             checked_by: str = "SymPy") -> list[Section]:
    """The derivation as `core.export` sections: the statement, then each line with its rule and
    its verdicts, then the conclusion. `checked_by` finishes "Every line is checked by …".
    markdown=True keeps $math$ in the notes (for Markdown); False gives plain notes for `.tex`."""
    text = (lambda x: x) if markdown else plain
    lines = [Line(r.latex, text(f"{r.rule}. Checked: {r.sentence}.")) for r in result.lines]
    lines.append(Line(r"\blacksquare", text(f"Conclusion: {result.conclusion.sentence}.")))
    d = result.derivation
    return [Section("Statement", text(d.intro), [Line(d.statement)]),
            Section("Derivation", text("Every line is checked against the line before it (or "
                                       f"the lines named) by {checked_by}."), lines)]
