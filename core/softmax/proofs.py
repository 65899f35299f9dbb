"""Three softmax proofs, each an ordered list of lines, every line checked by SymPy.

A `Proof` is a statement (its left side built by SymPy itself, e.g. SymPy's own derivative of
the softmax) and `Step`s. Each step carries the LaTeX a student would write, the rule that
justifies it, and `build(ctx, *indices)`: the same line as a SymPy expression for a context
(symbolic K or a concrete K, see `core.softmax.proofcheck`). A step is checked against the
line(s) in `against` (0 = the statement's left side; default the line before), on the index
pairs both lines speak about (`mask`: all pairs, only i = j, or only i != j). `verify(key)` runs
every check once per process and returns a `ProofResult` the page and the exports read.

The LaTeX is written by hand next to its SymPy twin; `StepResult.sympy_latex` shows the twin, so
a reader can compare what is displayed with what was checked.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from functools import cache, lru_cache

import sympy as sp

from core.export import Line, Section
from core.softmax.proofcheck import (
    Check,
    ConcreteK,
    Mask,
    SymbolicK,
    as_rational,
    equal_symbolic,
    rational_equal,
)

__all__ = ["Step", "Proof", "StepResult", "ProofResult", "PROOFS", "KS", "check_proof",
           "check_step", "check_conclusion", "verify", "verify_all", "sections", "plain",
           "falsify"]

KS: tuple[int, ...] = (2, 3, 4, 5, 6)
Build = Callable[..., sp.Expr]


@dataclass(frozen=True)
class Step:
    """One line: `latex` (display math), `rule` (why it follows), `build` (its SymPy twin)."""

    latex: str
    rule: str
    build: Build
    mask: Mask = "all"
    against: tuple[int, ...] | None = None
    hypothesis: bool = False


@dataclass(frozen=True)
class Proof:
    key: str
    title: str
    statement: str
    intro: str
    free: str                # free index names, e.g. "ij" for dp_i/ds_j
    lhs: Build               # the statement's left side, as SymPy computes it
    rhs: Build               # the statement's right side
    steps: tuple[Step, ...]
    hypothesis: str = ""     # LaTeX of the standing assumption, if any


@dataclass(frozen=True)
class StepResult:
    """How line `number` (1-based; 0 = statement) fared: symbolic K and each concrete K."""

    number: int
    latex: str
    rule: str
    against: tuple[int, ...]
    symbolic: Check
    concrete: Check
    ks_passed: tuple[int, ...]
    sympy_latex: str

    @property
    def justification(self) -> str:
        return self.rule

    @property
    def verified(self) -> bool:
        """Exact for every K checked, and symbolic K not contradicted."""
        return bool(self.concrete.passed) and self.symbolic.passed is not False

    @property
    def badge(self) -> str:
        sym = {True: "✓ symbolic K", None: "– symbolic K not decided", False: "✗ symbolic K"}
        ks = (f"✓ K = {self.ks_passed[0]}…{self.ks_passed[-1]}" if self.concrete.passed
              else f"✗ {self.concrete.detail}")
        return f"{sym[self.symbolic.passed]} · {ks}"


@dataclass(frozen=True)
class ProofResult:
    proof: Proof
    steps: tuple[StepResult, ...]
    conclusion: StepResult   # last line against the statement's right side
    seconds: float

    @property
    def verified(self) -> bool:
        return all(r.verified for r in self.steps) and self.conclusion.verified

    @property
    def symbolic_for_all(self) -> bool:
        return all(r.symbolic.passed for r in (*self.steps, self.conclusion))


# ---------------------------------------------------------------- 1. shift invariance
_SUM_I = r"\sum_{i=1}^{K}"


SHIFT = Proof(
    key="shift",
    title="Shift invariance",
    statement=r"p_k(\mathbf{s} + c\,\mathbf{1}) = p_k(\mathbf{s})"
              r"\quad\text{for every } c \in \mathbb{R},\ k = 1,\dots,K",
    intro="Adding the same number $c$ to every score changes no probability.",
    free="k",
    lhs=lambda x, k: x.softmax(k, shift=x.c),
    rhs=lambda x, k: x.softmax(k),
    steps=(
        Step(r"p_k(\mathbf{s} + c\,\mathbf{1}) = \frac{e^{s_k + c}}{" + _SUM_I + r" e^{s_i + c}}",
             "definition of softmax, applied to the shifted scores $s_i + c$",
             lambda x, k: sp.exp(x.s(k) + x.c) / x.sum(lambda m: sp.exp(x.s(m) + x.c), "m")),
        Step(r"= \frac{e^{s_k}\,e^{c}}{" + _SUM_I + r" e^{s_i}\,e^{c}}",
             r"multiply out $e^{a+b} = e^{a}\,e^{b}$, in the numerator and in every term "
             "of the sum",
             lambda x, k: sp.exp(x.s(k)) * sp.exp(x.c)
             / x.sum(lambda m: sp.exp(x.s(m)) * sp.exp(x.c), "m")),
        Step(r"= \frac{e^{c}\,e^{s_k}}{e^{c}\," + _SUM_I + r" e^{s_i}}",
             "factor $e^{c}$ out of the sum (it does not depend on $i$)",
             lambda x, k: sp.exp(x.c) * sp.exp(x.s(k))
             / (sp.exp(x.c) * x.sum(lambda m: sp.exp(x.s(m)), "m"))),
        Step(r"= \frac{e^{s_k}}{" + _SUM_I + r" e^{s_i}}",
             "cancel $e^{c}$: allowed, since $e^{c} > 0$",
             lambda x, k: sp.exp(x.s(k)) / x.sum(lambda m: sp.exp(x.s(m)), "m")),
        Step(r"= p_k(\mathbf{s})", "definition of softmax",
             lambda x, k: x.softmax(k)),
    ),
)

# ---------------------------------------------------------------- 2. the Jacobian
_SUM_M = r"\sum_{m=1}^{K} e^{s_m}"


def _S(x) -> sp.Expr:
    return x.sum(lambda m: sp.exp(x.s(m)), "m")


JACOBIAN = Proof(
    key="jacobian",
    title="The Jacobian of softmax",
    statement=r"\frac{\partial p_i}{\partial s_j} = p_i\,(\delta_{ij} - p_j),"
              r"\qquad J = \operatorname{diag}(\mathbf{p}) - \mathbf{p}\,\mathbf{p}^{\top}",
    intro=r"$\delta_{ij}$ is 1 when $i = j$ and 0 otherwise (the Kronecker delta). The left "
          "side is SymPy's own derivative of the softmax.",
    free="ij",
    lhs=lambda x, i, j: sp.diff(x.softmax(i), x.s(j)),
    rhs=lambda x, i, j: x.softmax(i) * (x.delta(i, j) - x.softmax(j)),
    steps=(
        Step(r"\frac{\partial p_i}{\partial s_j} = \frac{\partial}{\partial s_j}\,"
             r"\frac{e^{s_i}}{" + _SUM_M + "}",
             "definition of $p_i$",
             lambda x, i, j: sp.Derivative(sp.exp(x.s(i)) / _S(x), x.s(j))),
        Step(r"= \frac{\dfrac{\partial e^{s_i}}{\partial s_j}\," + _SUM_M
             + r" \;-\; e^{s_i}\,\dfrac{\partial}{\partial s_j}" + _SUM_M
             + r"}{\big(" + _SUM_M + r"\big)^2}",
             "quotient rule $(f/g)' = (f'g - fg')/g^2$",
             lambda x, i, j: (sp.Derivative(sp.exp(x.s(i)), x.s(j)) * _S(x)
                              - sp.exp(x.s(i)) * sp.Derivative(_S(x), x.s(j))) / _S(x) ** 2),
        Step(r"= \frac{\delta_{ij}\,e^{s_i}" + _SUM_M + r" \;-\; e^{s_i}\,e^{s_j}}{\big("
             + _SUM_M + r"\big)^2}",
             r"$\partial e^{s_i}/\partial s_j = \delta_{ij}\,e^{s_i}$; only the term $m = j$ "
             "of the sum depends on $s_j$",
             lambda x, i, j: (x.delta(i, j) * sp.exp(x.s(i)) * _S(x)
                              - sp.exp(x.s(i)) * sp.exp(x.s(j))) / _S(x) ** 2),
        Step(r"= \delta_{ij}\,\frac{e^{s_i}}{" + _SUM_M + r"} - \frac{e^{s_i}}{" + _SUM_M
             + r"}\cdot\frac{e^{s_j}}{" + _SUM_M + "}",
             "split the fraction; one sum cancels in the first term",
             lambda x, i, j: x.delta(i, j) * sp.exp(x.s(i)) / _S(x)
             - sp.exp(x.s(i)) / _S(x) * sp.exp(x.s(j)) / _S(x)),
        Step(r"= \delta_{ij}\,p_i - p_i\,p_j", "definition of $p_i$ and $p_j$",
             lambda x, i, j: x.delta(i, j) * x.softmax(i) - x.softmax(i) * x.softmax(j)),
        Step(r"\text{case } i = j:\quad \frac{\partial p_i}{\partial s_i} = p_i - p_i^2"
             r" = p_i\,(1 - p_i)",
             r"$\delta_{ii} = 1$",
             lambda x, i, j: x.softmax(i) * (1 - x.softmax(i)), mask="i=j", against=(5,)),
        Step(r"\text{case } i \neq j:\quad \frac{\partial p_i}{\partial s_j} = -\,p_i\,p_j",
             r"$\delta_{ij} = 0$ for $i \neq j$",
             lambda x, i, j: -x.softmax(i) * x.softmax(j), mask="i!=j", against=(5,)),
        Step(r"\text{both cases:}\quad \frac{\partial p_i}{\partial s_j}"
             r" = p_i\,(\delta_{ij} - p_j)",
             "one formula for both cases (checked against each case on its own index pairs)",
             lambda x, i, j: x.softmax(i) * (x.delta(i, j) - x.softmax(j)), against=(6, 7)),
        Step(r"J = \Big[\frac{\partial p_i}{\partial s_j}\Big]_{i,j=1}^{K}"
             r" = \operatorname{diag}(\mathbf{p}) - \mathbf{p}\,\mathbf{p}^{\top}",
             r"matrix form: entry $(i, j)$ of $\operatorname{diag}(\mathbf{p})$ is "
             r"$\delta_{ij}\,p_i$, "
             r"of $\mathbf{p}\mathbf{p}^{\top}$ is $p_i\,p_j$",
             lambda x, i, j: x.diag_minus_outer(i, j)),
    ),
)

# ---------------------------------------------------------------- 3. softmax + cross-entropy
_SUM_K = r"\sum_{k=1}^{K}"


def _sum_k(x, body: Callable) -> sp.Expr:
    return x.sum(body, "k")


CROSS_ENTROPY = Proof(
    key="cross_entropy",
    title="Softmax + cross-entropy: the gradient is p − t",
    statement=r"L = -" + _SUM_K + r" t_k \log p_k,\quad " + _SUM_K + r" t_k = 1"
              r"\;\Longrightarrow\; \frac{\partial L}{\partial s_j} = p_j - t_j,"
              r"\quad \nabla_{\mathbf{s}} L = \mathbf{p} - \mathbf{t}",
    intro=r"$\mathbf{t}$ is any target whose entries sum to 1 (a one-hot label included). The "
          "left side is SymPy's own derivative of $L$ with respect to $s_j$.",
    free="j",
    lhs=lambda x, j: sp.diff(-_sum_k(x, lambda k: x.t(k) * sp.log(x.softmax(k))), x.s(j)),
    rhs=lambda x, j: x.softmax(j) - x.t(j),
    hypothesis=_SUM_K + r" t_k = 1",
    steps=(
        Step(r"\frac{\partial L}{\partial s_j} = " + _SUM_K
             + r" \frac{\partial L}{\partial p_k}\,\frac{\partial p_k}{\partial s_j}",
             "chain rule: $L$ depends on $s_j$ through every $p_k$",
             lambda x, j: _sum_k(x, lambda k: x.dL_dp(k)
                                 * sp.Derivative(x.softmax(k), x.s(j)))),
        Step(r"= " + _SUM_K + r" \Big(-\frac{t_k}{p_k}\Big)\,\frac{\partial p_k}{\partial s_j}",
             r"$\partial(-t_k \log p_k)/\partial p_k = -t_k/p_k$; no other term contains $p_k$",
             lambda x, j: _sum_k(x, lambda k: -x.t(k) / x.softmax(k)
                                 * sp.Derivative(x.softmax(k), x.s(j)))),
        Step(r"= " + _SUM_K + r" \Big(-\frac{t_k}{p_k}\Big)\, p_k\,(\delta_{kj} - p_j)",
             r"the Jacobian of proof 2: $\partial p_k/\partial s_j = p_k(\delta_{kj} - p_j)$",
             lambda x, j: _sum_k(x, lambda k: -x.t(k) / x.softmax(k) * x.softmax(k)
                                 * (x.delta(k, j) - x.softmax(j)))),
        Step(r"= -" + _SUM_K + r" t_k\,(\delta_{kj} - p_j)",
             "cancel $p_k$: allowed, since $p_k > 0$",
             lambda x, j: -_sum_k(x, lambda k: x.t(k) * (x.delta(k, j) - x.softmax(j)))),
        Step(r"= -" + _SUM_K + r" t_k\,\delta_{kj} + p_j " + _SUM_K + r" t_k",
             "split the sum; $p_j$ does not depend on $k$",
             lambda x, j: -_sum_k(x, lambda k: x.t(k) * x.delta(k, j))
             + x.softmax(j) * x.total_t()),
        Step(r"= -t_j + p_j " + _SUM_K + r" t_k", r"$\delta_{kj}$ keeps only the term $k = j$",
             lambda x, j: -x.t(j) + x.softmax(j) * x.total_t()),
        Step(r"= p_j - t_j",
             r"$\sum_k t_k = 1$: $\mathbf{t}$ is a probability vector (one-hot included)",
             lambda x, j: x.softmax(j) - x.t(j), hypothesis=True),
    ),
)

PROOFS: dict[str, Proof] = {p.key: p for p in (SHIFT, JACOBIAN, CROSS_ENTROPY)}


# ---------------------------------------------------------------- checking
def _line(proof: Proof, n: int) -> tuple[Build, Mask]:
    """Builder and mask of line n (0 = the statement's left side)."""
    if n == 0:
        return proof.lhs, "all"
    step = proof.steps[n - 1]
    return step.build, step.mask


def _meet(a: Mask, b: Mask) -> Mask:
    return a if b == "all" else b


@lru_cache(maxsize=16)
def _concrete(k: int) -> ConcreteK:
    return ConcreteK(k)  # shared, so its cached matrices are built once per K


def _check(proof: Proof, build: Build, mask: Mask, against: Sequence[int], hypothesis: bool,
           ks: Sequence[int], sym: SymbolicK | None, memo: dict | None = None,
           symbolic: bool = True) -> tuple[Check, Check, tuple[int, ...], str]:
    """Check one line (builder + mask) against the lines in `against`, symbolic K then each K."""
    sym = sym or SymbolicK()
    memo = {} if memo is None else memo
    free_sym = [sym.idx[n] for n in proof.free]
    mine = build(sym, *free_sym)
    verdict = Check("symbolic K", None, "not attempted")
    for n in against if symbolic else ():
        other, other_mask = _line(proof, n)
        verdict = equal_symbolic(mine, other(sym, *free_sym), sym, proof.free,
                                 _meet(mask, other_mask), hypothesis)
        if verdict.passed is not True:
            break

    def rational(b: Build, ctx: ConcreteK, idx: tuple[int, ...]) -> sp.Expr:
        # Each line is compared twice (with the line before and the line after): convert once.
        key = (b, ctx.K, idx, hypothesis)
        if key not in memo:
            memo[key] = as_rational(b(ctx, *idx), ctx, hypothesis)
        return memo[key]

    passed: list[int] = []
    failed_k: list[int] = []
    for k in ks:
        ctx = _concrete(k)
        ok = all(
            rational_equal(rational(build, ctx, idx), rational(other, ctx, idx))
            for other, other_mask in (_line(proof, n) for n in against)
            for idx in ctx.index_tuples(len(proof.free), _meet(mask, other_mask))
        )
        (passed if ok else failed_k).append(k)
    # Markdown math: the page shows these details as they are.
    how = "cancel(a − b) = 0 in $u_q = e^{s_q}$" + (", using $\\sum_k t_k = 1$" if hypothesis
                                                    else "")
    if failed_k:
        concrete = Check("concrete K", False, "fails for K = " + ", ".join(map(str, failed_k)))
    else:
        concrete = Check("concrete K", True, f"{how}, every index, K = {ks[0]}…{ks[-1]}")
    return verdict, concrete, tuple(passed), sp.latex(mine)


def check_step(proof: Proof, n: int, ks: Sequence[int] = KS, sym: SymbolicK | None = None,
               memo: dict | None = None, symbolic: bool = True) -> StepResult:
    """Check line n (1-based) of `proof` against the line(s) it claims to follow from.

    symbolic=False skips the symbolic-K check (a quick concrete-only check, for tests)."""
    step = proof.steps[n - 1]
    against = step.against or (n - 1,)
    sym_check, concrete, passed, tex = _check(proof, step.build, step.mask, against,
                                              step.hypothesis, ks, sym, memo, symbolic)
    return StepResult(n, step.latex, step.rule, against, sym_check, concrete, passed, tex)


def check_conclusion(proof: Proof, ks: Sequence[int] = KS, sym: SymbolicK | None = None,
                     memo: dict | None = None) -> StepResult:
    """The last line must be the statement's right side: the chain really ends at the claim."""
    n = len(proof.steps)
    sym_check, concrete, passed, tex = _check(proof, proof.rhs, "all", (n,), False, ks, sym, memo)
    return StepResult(n + 1, proof.statement, "the last line is the right side of the statement",
                      (n,), sym_check, concrete, passed, tex)


def check_proof(proof: Proof, ks: Sequence[int] = KS) -> ProofResult:
    """Every line and the conclusion; not cached (tests pass falsified proofs here)."""
    start = time.perf_counter()
    sym, memo = SymbolicK(), {}
    steps = tuple(check_step(proof, n, ks, sym, memo) for n in range(1, len(proof.steps) + 1))
    conclusion = check_conclusion(proof, ks, sym, memo)
    return ProofResult(proof, steps, conclusion, time.perf_counter() - start)


@cache
def verify(key: str) -> ProofResult:
    """The checked proof `key` ("shift", "jacobian", "cross_entropy"); computed once per process."""
    return check_proof(PROOFS[key])


def verify_all() -> tuple[ProofResult, ...]:
    return tuple(verify(key) for key in PROOFS)


def falsify(proof: Proof, n: int, build: Build, latex: str | None = None) -> Proof:
    """A copy of `proof` with line n replaced by a (wrong) line: for tests and the page's demo."""
    steps = list(proof.steps)
    steps[n - 1] = replace(steps[n - 1], build=build, latex=latex or steps[n - 1].latex)
    return replace(proof, steps=tuple(steps))


# ---------------------------------------------------------------- export
_PLAIN_MACROS = {r"\partial": "∂", r"\delta": "δ", r"\sum": "Σ", r"\log": "log", r"\top": "T",
                 r"\cdot": "·", r"\neq": "!=", r"\,": " ", r"\operatorname": "", r"\mathbf": ""}


def plain(text: str) -> str:
    r"""Markdown with $math$ as plain text for `.tex` notes (core.export escapes their LaTeX):
    $\delta_{ij}$ -> δ_ij, $e^{a+b}$ -> e^(a+b)."""
    out = text.replace("$", "")
    for macro, uni in _PLAIN_MACROS.items():
        out = out.replace(macro, uni)
    out = re.sub(r"\^\{([^{}]{2,})\}", r"^(\1)", out)
    return out.replace("{", "").replace("}", "")


def sections(result: ProofResult, markdown: bool = True) -> list[Section]:
    """The proof as `core.export` sections: statement, then each line with rule and checks.

    markdown=True keeps $math$ in the notes (for Markdown); False gives plain notes for `.tex`.
    """
    text = (lambda x: x) if markdown else plain
    proof = result.proof
    lines = [Line(r.latex, text(f"{r.rule}. Checked: {_checks(r)}.")) for r in result.steps]
    lines.append(Line(r"\blacksquare", f"Conclusion: {_checks(result.conclusion)}."))
    return [Section("Statement", text(proof.intro), [Line(proof.statement)]),
            Section("Derivation", "Every line is checked by SymPy against the line before it "
                    "(or the lines named), for a symbolic number of classes K and for every "
                    f"K = {KS[0]}..{KS[-1]} with fully symbolic scores.", lines)]


def _checks(r: StepResult) -> str:
    sym = {True: "symbolic K: yes", None: "symbolic K: not decided by stock SymPy",
           False: "symbolic K: no"}[r.symbolic.passed]
    ks = (f"K = {r.ks_passed[0]}..{r.ks_passed[-1]}: yes" if r.concrete.passed
          else f"concrete K: {r.concrete.detail}")
    against = ", ".join("the left side of the statement" if n == 0 else f"line {n}"
                        for n in r.against)
    return f"against {against}; {sym}; {ks}"
