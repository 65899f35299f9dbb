"""The two ways (`core.derivations.Way`) the softmax proofs are checked, one line against another.

A proof line is built by a function of a *context*, which supplies the scores s_q, the targets
t_q, the shift c, sums over the K classes and the Kronecker delta. The same function then gives

* `SymbolicK`: K a symbol, s and t `IndexedBase`s, sums `Sum(..., (m, 1, K))`, free indices
  i, j, k integer symbols. Two lines are equal if `simplify(a - b) == 0` after `.doit()`
  (derivatives, sums of deltas) and `refine` with 1 <= index <= K. SymPy's `simplify` is a
  heuristic: a nonzero answer does NOT prove the lines differ, so the verdict is then "not
  decided" (None), never a fake pass and never a false "wrong".
* `ConcreteK(K)`: K = 2, 3, ... fixed, every score a separate real symbol s_1..s_K. Substituting
  s_q = log u_q, c = log v (u, v > 0; exp is a bijection R -> (0, inf) with e^{a+b} = e^a e^b)
  turns both lines into rational functions of u, v, and `cancel(a - b) == 0` is an exact decision:
  a nonzero rational function is nonzero somewhere on u, v > 0, so a wrong line fails for sure.

A hypothesis (here only sum_k t_k = 1) is applied by substitution: t_K = 1 - t_1 - ... - t_{K-1}
for concrete K, and Sum(t_k) -> 1 for symbolic K.

`SymbolicWay` and `ConcreteWay` wrap the two contexts as `Way`s of `core.derivations`, which runs
them over a proof's lines and turns their verdicts into badges, sentences and documents.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import cached_property, lru_cache
from typing import Any, Literal

import sympy as sp
from sympy.matrices.expressions.diagonal import DiagMatrix

from core.derivations import Build, Check, Derivation, Way, meet

__all__ = ["SymbolicK", "ConcreteK", "Mask", "SymbolicWay", "ConcreteWay", "equal_symbolic",
           "equal_concrete", "as_rational", "rational_equal"]

# The cases a proof line speaks about: every index pair, or only the diagonal / off-diagonal.
Mask = Literal["all", "i=j", "i!=j"]


class SymbolicK:
    """K classes with K a positive integer symbol; scores s_q = s[q] (IndexedBase)."""

    label = "symbolic K"

    def __init__(self) -> None:
        self.K = sp.Symbol("K", integer=True, positive=True)
        self._s = sp.IndexedBase("s", real=True)
        self._t = sp.IndexedBase("t", real=True)
        self._p = sp.MatrixSymbol("p", self.K, 1)
        self.c = sp.Symbol("c", real=True)
        self.idx = {n: sp.Symbol(n, integer=True, positive=True) for n in "ijkmn"}
        self._P = sp.IndexedBase("P", positive=True)

    def s(self, q: Any) -> sp.Expr:
        return self._s[q]

    def t(self, q: Any) -> sp.Expr:
        return self._t[q]

    def sum(self, body: Callable[[Any], sp.Expr], var: str) -> sp.Expr:
        q = self.idx[var]
        return sp.Sum(body(q), (q, 1, self.K))

    def delta(self, a: Any, b: Any) -> sp.Expr:
        return sp.KroneckerDelta(a, b)

    def softmax(self, q: Any, shift: sp.Expr = sp.S.Zero) -> sp.Expr:
        """p_q(s + shift·1) = e^{s_q + shift} / sum_m e^{s_m + shift}."""
        return sp.exp(self.s(q) + shift) / self.sum(lambda m: sp.exp(self.s(m) + shift), "m")

    def diag_minus_outer(self, i: Any, j: Any) -> sp.Expr:
        """Entry (i, j) of diag(p) - p p^T from SymPy's matrix expressions, then p = softmax(s)."""
        P = self._p
        entry = (DiagMatrix(P) - P * P.T)[i - 1, j - 1]
        return entry.subs({P[i - 1, 0]: self.softmax(i), P[j - 1, 0]: self.softmax(j)})

    def dL_dp(self, k: Any) -> sp.Expr:
        """dL/dp_k for L = -sum_n t_n log p_n: SymPy differentiates in free p, then p = softmax."""
        P = self._P
        loss = -self.sum(lambda n: self.t(n) * sp.log(P[n]), "n")
        # The sum of δ_kn over n is Piecewise((…, k <= K), (0, True)): k is a class, k <= K.
        grad = sp.refine(sp.diff(loss, P[k]).doit(), sp.Q.le(k, self.K))
        return grad.replace(lambda e: isinstance(e, sp.Indexed) and e.base == P,
                            lambda e: self.softmax(e.indices[0]))

    def total_t(self) -> sp.Expr:
        return self.sum(self.t, "k")


class ConcreteK:
    """A fixed number of classes K with fully symbolic scores s_1..s_K and targets t_1..t_K."""

    def __init__(self, K: int) -> None:
        self.K = K
        self.label = f"K = {K}"
        self._s = sp.symbols(f"s1:{K + 1}", real=True)
        self._t = sp.symbols(f"t1:{K + 1}", real=True)
        self.c = sp.Symbol("c", real=True)
        self.u = sp.symbols(f"u1:{K + 1}", positive=True)
        self.v = sp.Symbol("v", positive=True)

    def s(self, q: int) -> sp.Expr:
        return self._s[q - 1]

    def t(self, q: int) -> sp.Expr:
        return self._t[q - 1]

    def sum(self, body: Callable[[int], sp.Expr], var: str) -> sp.Expr:
        return sp.Add(*(body(q) for q in range(1, self.K + 1)))

    def delta(self, a: int, b: int) -> sp.Expr:
        return sp.KroneckerDelta(a, b)

    def softmax(self, q: int, shift: sp.Expr = sp.S.Zero) -> sp.Expr:
        return sp.exp(self.s(q) + shift) / self.sum(lambda m: sp.exp(self.s(m) + shift), "m")

    @cached_property
    def _diag_minus_outer(self) -> sp.Matrix:
        p = sp.Matrix([self.softmax(q) for q in range(1, self.K + 1)])
        return sp.diag(*p) - p * p.T

    def diag_minus_outer(self, i: int, j: int) -> sp.Expr:
        return self._diag_minus_outer[i - 1, j - 1]

    def dL_dp(self, k: int) -> sp.Expr:
        P = sp.symbols(f"P1:{self.K + 1}", positive=True)
        grad = sp.diff(-sp.Add(*(t * sp.log(p) for t, p in zip(self._t, P, strict=True))), P[k - 1])
        return grad.subs({p: self.softmax(q) for q, p in enumerate(P, start=1)})

    def total_t(self) -> sp.Expr:
        return self.sum(self.t, "k")

    @cached_property
    def exp_to_u(self) -> dict[sp.Symbol, sp.Expr]:
        subs: dict[sp.Symbol, sp.Expr] = {
            s: sp.log(u) for s, u in zip(self._s, self.u, strict=True)}
        subs[self.c] = sp.log(self.v)
        return subs

    @cached_property
    def targets_sum_to_one(self) -> dict[sp.Symbol, sp.Expr]:
        return {self._t[-1]: 1 - sp.Add(*self._t[:-1])}

    def index_tuples(self, arity: int, mask: Mask) -> list[tuple[int, ...]]:
        """Every index tuple in 1..K the line claims something about."""
        rng = range(1, self.K + 1)
        if arity == 1:
            return [(q,) for q in rng]
        pairs = [(a, b) for a in rng for b in rng]
        if mask == "i=j":
            return [(a, b) for a, b in pairs if a == b]
        if mask == "i!=j":
            return [(a, b) for a, b in pairs if a != b]
        return pairs


def _canonical_deltas(expr: sp.Expr) -> sp.Expr:
    # δ(a, b) = δ(a - b, 0): makes δ(i-1, j-1) from 0-based matrix entries match δ(i, j).
    return expr.replace(
        lambda e: isinstance(e, sp.KroneckerDelta) and e.args[1] != 0,
        lambda e: sp.KroneckerDelta(sp.expand(e.args[0] - e.args[1]), 0),
    )


def _restrict_symbolic(expr: sp.Expr, ctx: SymbolicK, mask: Mask) -> sp.Expr:
    i, j = ctx.idx["i"], ctx.idx["j"]
    if mask == "i=j":
        return expr.subs(j, i)
    if mask == "i!=j":
        return expr.replace(
            lambda e: isinstance(e, sp.KroneckerDelta)
            and sp.expand(e.args[0] - e.args[1]) in (i - j, j - i),
            lambda e: sp.S.Zero,
        )
    return expr


def _evaluate(expr: sp.Expr, ctx: SymbolicK, free: str) -> sp.Expr:
    """`.doit()` until nothing changes: a derivative of a Sum yields a Sum of deltas, whose doit
    yields Piecewise((…, j <= K), (0, True)), which `refine` settles since indices are in 1..K."""
    in_range = sp.And(*(sp.Q.le(ctx.idx[q], ctx.K) for q in free))
    for _ in range(4):
        new = expr.doit()
        if new.has(sp.Piecewise):
            new = sp.refine(new, in_range)
        if new == expr:
            break
        expr = new
    return expr


def equal_symbolic(a: sp.Expr, b: sp.Expr, ctx: SymbolicK, free: str, mask: str = "all",
                   hypothesis: bool = False) -> tuple[bool | None, str]:
    """Is a = b for every K (every index in 1..K)? (True, or None if SymPy cannot tell; how)."""
    diff = _evaluate(a - b, ctx, free)
    diff = _restrict_symbolic(_canonical_deltas(diff), ctx, mask)
    if sp.simplify(diff) == 0:
        return True, "simplify(a − b) = 0, sums kept as Sum(…, 1..K)"
    if hypothesis and sp.simplify(diff.subs(ctx.total_t(), 1)) == 0:
        return True, "simplify(a − b) = 0, sums kept as Sum(…, 1..K), using $\\sum_k t_k = 1$"
    return None, ("stock SymPy's simplify does not reduce a − b to 0 for symbolic K: not decided "
                  "(see the concrete-K checks)")


def as_rational(expr: sp.Expr, ctx: ConcreteK, hypothesis: bool = False) -> sp.Expr:
    """expr with s_q = log u_q and c = log v: a rational function of u, v (if it has no log)."""
    expr = sp.expand_power_exp(expr.doit())
    if hypothesis:
        expr = expr.subs(ctx.targets_sum_to_one)
    return expr.subs(ctx.exp_to_u)


def rational_equal(a: sp.Expr, b: sp.Expr) -> bool:
    """a = b for rational functions: cancel(a - b) == 0, an exact decision."""
    diff = a - b
    if diff.has(sp.exp, sp.log, sp.Derivative):
        # Not rational after substitution: fall back to simplify, which is sound when it says 0;
        # a nonzero reply counts as a failed check.
        return sp.simplify(diff) == 0
    return sp.cancel(sp.together(diff)) == 0


def equal_concrete(a: sp.Expr, b: sp.Expr, ctx: ConcreteK, hypothesis: bool = False) -> bool:
    """Exact: a = b as functions of the symbolic scores (rational functions in u_q = e^{s_q})."""
    return rational_equal(as_rational(a, ctx, hypothesis), as_rational(b, ctx, hypothesis))


class SymbolicWay(Way):
    """The symbolic-K check of a line: passes, or is "not decided" (it never proves a line
    wrong), so a line is verified without it as long as it does not fail."""

    label = "symbolic K"

    def __init__(self) -> None:
        self.ctx = SymbolicK()

    def _build(self, d: Derivation, build: Build) -> sp.Expr:
        return build(self.ctx, *(self.ctx.idx[n] for n in d.free))

    def compare(self, d: Derivation, build: Build, cases: str,
                others: Sequence[tuple[Build, str]], hypothesis: bool) -> Check:
        mine = self._build(d, build)
        passed, detail = None, "not attempted"
        for other, other_cases in others:
            passed, detail = equal_symbolic(mine, self._build(d, other), self.ctx, d.free,
                                            meet(cases, other_cases), hypothesis)
            if passed is not True:
                break
        badge = {True: "✓ symbolic K", None: "symbolic K: not decided by stock SymPy",
                 False: "✗ symbolic K"}[passed]
        sentence = {True: "symbolic K: yes", None: "symbolic K: not decided by stock SymPy",
                    False: "symbolic K: no"}[passed]
        return Check(self.label, passed, detail, badge, sentence, required=False)

    def twin_latex(self, d: Derivation, build: Build) -> str:
        return sp.latex(self._build(d, build))


@lru_cache(maxsize=16)
def _concrete(k: int) -> ConcreteK:
    return ConcreteK(k)  # shared, so its cached matrices are built once per K


class ConcreteWay(Way):
    """The exact check of a line for every K in `ks`, every index tuple, fully symbolic scores."""

    label = "concrete K"

    def __init__(self, ks: Sequence[int]) -> None:
        self.ks = tuple(ks)
        self._memo: dict[tuple, sp.Expr] = {}

    def _rational(self, build: Build, ctx: ConcreteK, idx: tuple[int, ...],
                  hypothesis: bool) -> sp.Expr:
        # Each line is compared twice (with the line before and the line after): convert once.
        key = (build, ctx.K, idx, hypothesis)
        if key not in self._memo:
            self._memo[key] = as_rational(build(ctx, *idx), ctx, hypothesis)
        return self._memo[key]

    def compare(self, d: Derivation, build: Build, cases: str,
                others: Sequence[tuple[Build, str]], hypothesis: bool) -> Check:
        failed = []
        for k in self.ks:
            ctx = _concrete(k)
            if not all(rational_equal(self._rational(build, ctx, idx, hypothesis),
                                      self._rational(other, ctx, idx, hypothesis))
                       for other, other_cases in others
                       for idx in ctx.index_tuples(len(d.free), meet(cases, other_cases))):
                failed.append(k)
        span = f"K = {self.ks[0]}…{self.ks[-1]}"
        if failed:
            ks = ", ".join(map(str, failed))
            return Check(self.label, False, f"fails for K = {ks}", f"✗ fails for K = {ks}",
                         f"concrete K: fails for K = {ks}")
        # Markdown math: the page shows these details as they are.
        how = "cancel(a − b) = 0 in $u_q = e^{s_q}$" + (", using $\\sum_k t_k = 1$"
                                                        if hypothesis else "")
        return Check(self.label, True, f"{how}, every index, {span}", f"✓ {span}, exact",
                     f"{span.replace('…', '..')}: yes")

    def fingerprint(self) -> str:
        return f"{super().fingerprint()}:ks={self.ks}"
