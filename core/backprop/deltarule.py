r"""The δ rule derived line by line as a student writes it, each line checked by SymPy against the
line before (core.derivations, the checker the Softmax proofs use).

    δ^{(l)}_j = ∂L/∂z^{(l)}_j = f'(z^{(l)}_j) Σ_k w^{(l+1)}_{kj} δ^{(l+1)}_k,
    ∂L/∂w^{(l)}_{ji} = δ^{(l)}_j a^{(l-1)}_i

The SymPy twin of each line keeps L and f as undefined functions, so nothing about the loss or
the activation is assumed: z^{(l)}_j reaches L only through the K pre-activations of layer l+1,
z^{(l+1)}_k = w^{(l+1)}_{kj} f(z^{(l)}_j) + c_k, where c_k holds the terms that do not depend on
z^{(l)}_j. The checks are made for K = 3 units in layer l+1 (every path of the sum written out);
the argument is the same for any K.
"""

from __future__ import annotations

from types import SimpleNamespace

import sympy as sp

from core.derivations import Derivation, Simplify, Step

K = 3  # units of layer l+1 in the checked twin


def _context() -> SimpleNamespace:
    z, w, a, c1 = sp.symbols("z w a c", real=True)
    return SimpleNamespace(
        z=z, w=sp.symbols(f"w1:{K + 1}", real=True), c=sp.symbols(f"c1:{K + 1}", real=True),
        u=sp.symbols(f"u1:{K + 1}", real=True), f=sp.Function("f"), L=sp.Function("L"),
        wji=w, a=a, rest=c1, v=sp.Symbol("v", real=True), G=sp.Function("G"))


CTX = _context()


def _next_z(c) -> list[sp.Expr]:
    """z^{(l+1)}_k as functions of z = z^{(l)}_j."""
    return [c.w[k] * c.f(c.z) + c.c[k] for k in range(K)]


def _dL_dnext(c) -> list[sp.Expr]:
    """∂L/∂z^{(l+1)}_k, evaluated where the network is: δ^{(l+1)}_k."""
    zs = _next_z(c)
    return [sp.Subs(sp.Derivative(c.L(*c.u), c.u[k]), c.u, zs) for k in range(K)]


def _fprime(c) -> sp.Expr:
    return sp.Derivative(c.f(c.z), c.z)


def _paths(c) -> sp.Expr:
    return sum(d * sp.diff(zk, c.z) for d, zk in zip(_dL_dnext(c), _next_z(c), strict=True))


def _terms(c) -> sp.Expr:
    return sum(d * c.w[k] * _fprime(c) for k, d in enumerate(_dL_dnext(c)))


def _factored(c) -> sp.Expr:
    return _fprime(c) * sum(c.w[k] * d for k, d in enumerate(_dL_dnext(c)))


DELTA = Derivation(
    key="delta_rule", title="The δ rule: δ_j = f'(z_j) Σ_k w_kj δ_k",
    statement=(r"\delta^{(l)}_j = \frac{\partial L}{\partial z^{(l)}_j} = f'\big(z^{(l)}_j\big)"
               r"\sum_k w^{(l+1)}_{kj}\,\delta^{(l+1)}_k"),
    intro=(r"The error of a hidden unit is its activation's slope times the errors of the units "
           r"it feeds, each weighted by the connecting weight. $z^{(l)}_j$ reaches $L$ only "
           r"through the pre-activations $z^{(l+1)}_k$ of the next layer."),
    lhs=lambda c: sp.diff(c.L(*_next_z(c)), c.z),
    rhs=_factored,
    steps=(
        Step(r"\frac{\partial L}{\partial z^{(l)}_j} = \sum_k \frac{\partial L}{\partial "
             r"z^{(l+1)}_k}\,\frac{\partial z^{(l+1)}_k}{\partial z^{(l)}_j}",
             r"chain rule summed over the paths through layer $l+1$: $L$ depends on "
             r"$z^{(l)}_j$ only through $z^{(l+1)}_1, \dots, z^{(l+1)}_K$", _paths),
        Step(r"= \sum_k \frac{\partial L}{\partial z^{(l+1)}_k}\, w^{(l+1)}_{kj}\, "
             r"f'\big(z^{(l)}_j\big)",
             r"$z^{(l+1)}_k = \sum_i w^{(l+1)}_{ki} f\big(z^{(l)}_i\big) + b^{(l+1)}_k$: only "
             r"the term $i = j$ depends on $z^{(l)}_j$, and its derivative is "
             r"$w^{(l+1)}_{kj} f'\big(z^{(l)}_j\big)$", _terms),
        Step(r"= \sum_k \delta^{(l+1)}_k\, w^{(l+1)}_{kj}\, f'\big(z^{(l)}_j\big)",
             r"the name $\delta^{(l+1)}_k = \partial L / \partial z^{(l+1)}_k$", _terms),
        Step(r"= f'\big(z^{(l)}_j\big) \sum_k w^{(l+1)}_{kj}\, \delta^{(l+1)}_k",
             r"$f'\big(z^{(l)}_j\big)$ does not depend on $k$: factor it out of the sum",
             _factored),
    ))


def _z_of_w(c) -> sp.Expr:
    """z^{(l)}_j as a function of w = w^{(l)}_{ji}: w a_i + the terms without w."""
    return c.wji * c.a + c.rest


def _dL_dz(c) -> sp.Expr:
    return sp.Subs(sp.Derivative(c.G(c.v), c.v), c.v, _z_of_w(c))


GRADIENT = Derivation(
    key="weight_gradient", title="The gradient of a weight: ∂L/∂w_ji = δ_j a_i",
    statement=r"\frac{\partial L}{\partial w^{(l)}_{ji}} = \delta^{(l)}_j\, a^{(l-1)}_i",
    intro=(r"A weight's gradient is the error of the unit it feeds times the activation it "
           r"carries. $w^{(l)}_{ji}$ reaches $L$ only through $z^{(l)}_j$."),
    lhs=lambda c: sp.diff(c.G(_z_of_w(c)), c.wji),
    rhs=lambda c: _dL_dz(c) * c.a,
    steps=(
        Step(r"\frac{\partial L}{\partial w^{(l)}_{ji}} = \frac{\partial L}{\partial z^{(l)}_j}"
             r"\,\frac{\partial z^{(l)}_j}{\partial w^{(l)}_{ji}}",
             r"chain rule: $L$ depends on $w^{(l)}_{ji}$ only through $z^{(l)}_j$",
             lambda c: _dL_dz(c) * sp.diff(_z_of_w(c), c.wji)),
        Step(r"= \frac{\partial L}{\partial z^{(l)}_j}\, a^{(l-1)}_i",
             r"$z^{(l)}_j = \sum_m w^{(l)}_{jm} a^{(l-1)}_m + b^{(l)}_j$ is linear in "
             r"$w^{(l)}_{ji}$ with slope $a^{(l-1)}_i$", lambda c: _dL_dz(c) * c.a),
        Step(r"= \delta^{(l)}_j\, a^{(l-1)}_i",
             r"the name $\delta^{(l)}_j = \partial L / \partial z^{(l)}_j$",
             lambda c: _dL_dz(c) * c.a),
    ))

DERIVATIONS = (DELTA, GRADIENT)
WAYS = (Simplify(CTX, label=f"SymPy, K = {K}"),)
CHECKED_BY = (f"SymPy: simplify(line − line before) = 0, with L and f undefined functions and "
              f"K = {K} units in layer l+1")
