"""Three softmax proofs, each an ordered list of lines, every line checked by SymPy.

Each proof is a `core.derivations.Derivation`: a statement (its left side built by SymPy itself,
e.g. SymPy's own derivative of the softmax) and `Step`s, each with the LaTeX a student would
write, the rule that justifies it, and `build(ctx, *indices)`: the same line as a SymPy
expression for a context (symbolic K or a concrete K, see `core.softmax.proofcheck`). A step is
checked against the line(s) in `against` (0 = the statement's left side; default the line
before), on the index pairs both lines speak about (`cases`: all pairs, only i = j, or only
i != j). `verify(key)` checks a proof once (remembered on disk, see `core.derivations.checked`)
and returns the `DerivationResult` the page and the exports read.

The LaTeX is written by hand next to its SymPy twin; `LineResult.twin` shows the twin, so a reader
can compare what is displayed with what was checked.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import sympy as sp

from core.derivations import (
    Derivation,
    DerivationResult,
    LineResult,
    Step,
    Way,
    check_derivation,
    check_line,
    checked,
    remembered,
)
from core.derivations import sections as derivation_sections
from core.export import Section
from core.softmax.proofcheck import ConcreteWay, SymbolicWay

__all__ = ["PROOFS", "KS", "ways", "check_proof", "check_step", "verify", "verify_all", "ready",
           "sections"]

KS: tuple[int, ...] = (2, 3, 4, 5, 6)
CHECKED_BY = (f"SymPy, for a symbolic number of classes K and for every K = {KS[0]}..{KS[-1]} "
              "with fully symbolic scores")


# ---------------------------------------------------------------- 1. shift invariance
_SUM_I = r"\sum_{i=1}^{K}"


SHIFT = Derivation(
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
# The lines write S for the sum of the exponentials (their SymPy twins spell it out, `_S`): the
# quotient rule reads more easily, and each line is a third of the math to typeset.
_SUM_M = "S"


def _S(x) -> sp.Expr:
    return x.sum(lambda m: sp.exp(x.s(m)), "m")


JACOBIAN = Derivation(
    key="jacobian",
    title="The Jacobian of softmax",
    statement=r"\frac{\partial p_i}{\partial s_j} = p_i\,(\delta_{ij} - p_j),"
              r"\qquad J = \operatorname{diag}(\mathbf{p}) - \mathbf{p}\,\mathbf{p}^{\top}",
    intro=r"$\delta_{ij}$ is 1 when $i = j$ and 0 otherwise (the Kronecker delta), and "
          r"$S = \sum_{m=1}^{K} e^{s_m}$, so that $p_i = e^{s_i}/S$. The left side is SymPy's own "
          "derivative of the softmax.",
    free="ij",
    lhs=lambda x, i, j: sp.diff(x.softmax(i), x.s(j)),
    rhs=lambda x, i, j: x.softmax(i) * (x.delta(i, j) - x.softmax(j)),
    steps=(
        Step(r"\frac{\partial p_i}{\partial s_j} = \frac{\partial}{\partial s_j}\,"
             r"\frac{e^{s_i}}{" + _SUM_M + "}",
             "definition of $p_i$, with $S$ the sum of the exponentials",
             lambda x, i, j: sp.Derivative(sp.exp(x.s(i)) / _S(x), x.s(j))),
        Step(r"= \frac{\dfrac{\partial e^{s_i}}{\partial s_j}\," + _SUM_M
             + r" - e^{s_i}\,\dfrac{\partial " + _SUM_M + r"}{\partial s_j}}{" + _SUM_M + "^2}",
             "quotient rule $(f/g)' = (f'g - fg')/g^2$",
             lambda x, i, j: (sp.Derivative(sp.exp(x.s(i)), x.s(j)) * _S(x)
                              - sp.exp(x.s(i)) * sp.Derivative(_S(x), x.s(j))) / _S(x) ** 2),
        Step(r"= \frac{\delta_{ij}\,e^{s_i}\," + _SUM_M + r" - e^{s_i}\,e^{s_j}}{" + _SUM_M
             + "^2}",
             r"$\partial e^{s_i}/\partial s_j = \delta_{ij}\,e^{s_i}$; only the term $m = j$ "
             r"of $S$ depends on $s_j$, so $\partial S/\partial s_j = e^{s_j}$",
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
             lambda x, i, j: x.softmax(i) * (1 - x.softmax(i)), cases="i=j", against=(5,)),
        Step(r"\text{case } i \neq j:\quad \frac{\partial p_i}{\partial s_j} = -\,p_i\,p_j",
             r"$\delta_{ij} = 0$ for $i \neq j$",
             lambda x, i, j: -x.softmax(i) * x.softmax(j), cases="i!=j", against=(5,)),
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


CROSS_ENTROPY = Derivation(
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

PROOFS: dict[str, Derivation] = {p.key: p for p in (SHIFT, JACOBIAN, CROSS_ENTROPY)}


# ---------------------------------------------------------------- checking
def ways(ks: Sequence[int] = KS, symbolic: bool = True) -> tuple[Way, ...]:
    """The ways every softmax line is checked: symbolic K (unless symbolic=False, a quick
    concrete-only check for tests), then exactly for each K in `ks`."""
    return ((SymbolicWay(),) if symbolic else ()) + (ConcreteWay(ks),)


def check_step(proof: Derivation, n: int, ks: Sequence[int] = KS,
               symbolic: bool = True) -> LineResult:
    """Check line n (1-based) of `proof` against the line(s) it claims to follow from, now."""
    return check_line(proof, n, ways(ks, symbolic))


def check_proof(proof: Derivation, ks: Sequence[int] = KS) -> DerivationResult:
    """Every line and the conclusion, now; not remembered (tests pass falsified proofs here)."""
    return check_derivation(proof, ways(ks))


def verify(key: str) -> DerivationResult:
    """The checked proof `key` ("shift", "jacobian", "cross_entropy"), remembered in the process
    and on disk once SymPy has checked this very proof, else checked now (about 2 s each)."""
    return checked(PROOFS[key], ways())


def ready(key: str) -> DerivationResult | None:
    """`verify(key)` if it is already known (in the process or on disk), else None at once."""
    return remembered(PROOFS[key], ways())


def verify_all() -> tuple[DerivationResult, ...]:
    return tuple(verify(key) for key in PROOFS)


def sections(result: DerivationResult, markdown: bool = True) -> list[Section]:
    """The proof as `core.export` sections (see `core.derivations.sections`)."""
    return derivation_sections(result, markdown, CHECKED_BY)
