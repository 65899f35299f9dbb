"""Typical wrong lines a student writes in the three softmax proofs, for "can the checker be
fooled?": each replaces one correct line, and the same SymPy checks must reject it.

Every mistake is a fixed, hand-written (LaTeX, SymPy builder) pair: no user text is ever parsed.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import sympy as sp

from core.derivations import Build, LineResult, checked_line, falsify, remembered_line
from core.softmax.proofs import PROOFS, ways

__all__ = ["Mistake", "MISTAKES", "check_mistake", "mistake_ready"]


@dataclass(frozen=True)
class Mistake:
    proof: str   # key in PROOFS
    line: int    # 1-based line it replaces
    label: str
    latex: str
    build: Build


def _S(x) -> sp.Expr:
    return x.sum(lambda m: sp.exp(x.s(m)), "m")


_SUM_M = "S"  # as in the Jacobian's lines: S is the sum of the exponentials
_SUM_K = r"\sum_{k=1}^{K}"

MISTAKES: tuple[Mistake, ...] = (
    Mistake("shift", 3, "forgot e^c in the denominator",
            r"= \frac{e^{c}\,e^{s_k}}{\sum_{i=1}^{K} e^{s_i}}",
            lambda x, k: sp.exp(x.c) * sp.exp(x.s(k)) / _S(x)),
    Mistake("shift", 4, "cancelled e^c in the denominator only",
            r"= \frac{e^{s_k + c}}{\sum_{i=1}^{K} e^{s_i}}",
            lambda x, k: sp.exp(x.s(k) + x.c) / _S(x)),
    Mistake("jacobian", 2, "quotient rule with the sign flipped",
            r"= \frac{e^{s_i}\,\dfrac{\partial " + _SUM_M + r"}{\partial s_j}"
            + r" - \dfrac{\partial e^{s_i}}{\partial s_j}\," + _SUM_M + "}{" + _SUM_M + "^2}",
            lambda x, i, j: (sp.exp(x.s(i)) * sp.Derivative(_S(x), x.s(j))
                             - sp.Derivative(sp.exp(x.s(i)), x.s(j)) * _S(x)) / _S(x) ** 2),
    Mistake("jacobian", 6, "p_i(1 + p_i) on the diagonal",
            r"\text{case } i = j:\quad \frac{\partial p_i}{\partial s_i} = p_i\,(1 + p_i)",
            lambda x, i, j: x.softmax(i) * (1 + x.softmax(i))),
    Mistake("jacobian", 7, "+p_i p_j off the diagonal",
            r"\text{case } i \neq j:\quad \frac{\partial p_i}{\partial s_j} = p_i\,p_j",
            lambda x, i, j: x.softmax(i) * x.softmax(j)),
    Mistake("jacobian", 9, "diag(p) + p p^T",
            r"J = \operatorname{diag}(\mathbf{p}) + \mathbf{p}\,\mathbf{p}^{\top}",
            lambda x, i, j: x.diag_minus_outer(i, j) + 2 * x.softmax(i) * x.softmax(j)),
    Mistake("cross_entropy", 2, "dL/dp_k = +t_k/p_k (lost the minus)",
            r"= " + _SUM_K + r" \frac{t_k}{p_k}\,\frac{\partial p_k}{\partial s_j}",
            lambda x, j: x.sum(lambda k: x.t(k) / x.softmax(k)
                               * sp.Derivative(x.softmax(k), x.s(j)), "k")),
    Mistake("cross_entropy", 4, "sign slip inside the sum",
            r"= -" + _SUM_K + r" t_k\,(\delta_{kj} + p_j)",
            lambda x, j: -x.sum(lambda k: x.t(k) * (x.delta(k, j) + x.softmax(j)), "k")),
    Mistake("cross_entropy", 7, "p + t instead of p - t",
            r"= p_j + t_j",
            lambda x, j: x.softmax(j) + x.t(j)),
)


@cache
def _wrong(index: int) -> tuple:
    m = MISTAKES[index]
    return falsify(PROOFS[m.proof], m.line, m.build, m.latex), m.line


def check_mistake(index: int) -> LineResult:
    """The checks of proof line `line` with the mistake in its place (remembered in the process
    and on disk like the proofs: deterministic)."""
    proof, line = _wrong(index)
    return checked_line(proof, line, ways())


def mistake_ready(index: int) -> LineResult | None:
    """`check_mistake(index)` if it is already known, else None at once."""
    proof, line = _wrong(index)
    return remembered_line(proof, line, ways())
