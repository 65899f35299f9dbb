"""∂L/∂w11 of the first layer in full: the chain rule summed over every path to the outputs.

w11 = w^{(1)}_{11} feeds only z^{(1)}_1, but z^{(1)}_1 reaches the loss through every unit of every
later layer. With a path 1 = u_1 → u_2 → … → u_L = k through one unit per layer,

    ∂L/∂w11 = Σ_paths ∂L/∂ŷ_k · ∂ŷ_k/∂z^{(L)}_k · Π_{m<L} ∂z^{(m+1)}_{u_{m+1}}/∂a^{(m)}_{u_m}
                                 · ∂a^{(m)}_{u_m}/∂z^{(m)}_{u_m} · ∂z^{(1)}_1/∂w^{(1)}_{11}

with ∂z^{(m+1)}_v/∂a^{(m)}_u = w^{(m+1)}_{vu} and ∂z^{(1)}_1/∂w11 = x_1. For softmax + cross-entropy
the first two factors are one, ∂L/∂z^{(L)}_k = p_k Σ_m y_m − y_k (the softmax mixes all outputs).
The sum is a SymPy expression of named factor symbols, printed once per shape and remembered on
disk (core.backprop.shapecache); every factor is evaluated.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import sympy as sp

from core.backprop import network as net
from core.backprop import shapecache
from core.backprop.functions import ACTIVATIONS, LOSSES
from core.backprop.names import unit_tex
from core.numbers import paren, tex_number

MAX_PRINTED_PATHS = 8  # beyond this the printed sum is a wall of symbols; the table still lists all


@dataclass(frozen=True)
class Factor:
    symbol: str  # LaTeX, e.g. \frac{\partial \hat{y}_{1}}{\partial z^{(2)}_{1}}
    equals: str  # LaTeX of what it is on paper, e.g. \hat{y}_{1}(1 - \hat{y}_{1})
    value: float


@dataclass(frozen=True)
class Path:
    units: tuple[int, ...]  # 0-based unit in layers 1..L
    factors: tuple[Factor, ...]

    @property
    def value(self) -> float:
        return float(np.prod([f.value for f in self.factors]))


@dataclass(frozen=True)
class ChainRule:
    expression: str  # LaTeX: ∂L/∂w11 = sum over paths of products of factors
    paths: tuple[Path, ...]
    total: float  # Σ of path values
    traced: float  # the tracer's δ^{(1)}_1 x_1, for comparison
    update_symbolic: str
    update_substituted: str
    new_value: float


def _frac(top: str, bottom: str) -> str:
    return rf"\frac{{\partial {top}}}{{\partial {bottom}}}"


@lru_cache(maxsize=32)
def w11_structure(shape: net.Shape, activation: str, loss: str) -> tuple[tuple, str]:
    """Paths as tuples of (factor symbol, equals, value-recipe), and the printed SymPy sum."""
    n = len(shape) - 1
    f, out = ACTIVATIONS[activation], LOSSES[loss]

    def _a(ell: int, u: int) -> str:
        return unit_tex("a", ell, u, n)

    def _z(ell: int, u: int) -> str:
        return unit_tex("z", ell, u, n)

    paths = []
    for rest in itertools.product(*(range(s) for s in shape[2:])):
        units = (0, *rest)
        k = units[-1]
        factors = []
        if out.softmax_output:
            factors.append((_frac("L", _z(n, k)), out.grad_tex(k, shape[-1]), ("grad", k)))
        else:
            factors.append((_frac("L", _a(n, k)), out.grad_tex(k, shape[-1]), ("grad", k)))
            factors.append((_frac(_a(n, k), _z(n, k)), f.derivative_tex(_a(n, k), _z(n, k)),
                            ("fp", n - 1, k)))
        for m in range(n - 1, 0, -1):  # m = layer of the lower unit, 1-based
            lo, hi = units[m - 1], units[m]
            w = f"w^{{({m + 1})}}_{{{hi + 1}{lo + 1}}}"
            factors.append((_frac(_z(m + 1, hi), _a(m, lo)), w, ("w", m, hi, lo)))
            factors.append((_frac(_a(m, lo), _z(m, lo)), f.derivative_tex(_a(m, lo), _z(m, lo)),
                            ("fp", m - 1, lo)))
        factors.append((_frac(_z(1, 0), "w^{(1)}_{11}"), "x_{1}", ("x", 0)))
        paths.append((units, tuple(factors)))

    lhs = _frac("L", "w^{(1)}_{11}")
    if len(paths) > MAX_PRINTED_PATHS:
        rhs = (r"\sum_{\text{paths } 1 \to u_2 \to \cdots \to k}"
               r"\frac{\partial L}{\partial z^{(L)}_k}\cdots"
               r"\frac{\partial z^{(1)}_{1}}{\partial w^{(1)}_{11}}"
               rf"\quad\text{{({len(paths)} paths)}}")
        return tuple(paths), f"{lhs} = {rhs}"
    # SymPy's printing is the slow part (a few ms a path): remembered on disk per shape.
    expression = shapecache.remembered(
        "chain", (shape, activation, loss), lambda: _printed_sum(lhs, paths), lambda tex: tex,
        _text)
    return tuple(paths), expression


def _text(value: object) -> str:
    if not isinstance(value, str):
        raise ValueError("not a printed sum")
    return value


def _printed_sum(lhs: str, paths: list[tuple]) -> str:
    """∂L/∂w11 = the sum over paths of the product of their factors, printed by SymPy."""
    names: dict[sp.Symbol, str] = {}
    terms = []
    for _, factors in paths:
        syms = []
        for tex, _, _ in factors:
            s = sp.Symbol(tex)
            names[s] = tex
            syms.append(s)
        terms.append(sp.latex(sp.Mul(*syms, evaluate=False), order="none", symbol_names=names,
                              mul_symbol="dot"))
    # One path per line: a single line of two or more products of five fractions runs off a page.
    rows = [f"{lhs} &= {terms[0]}"] + [rf"&\quad + {term}" for term in terms[1:]]
    return r"\begin{aligned}" + r" \\ ".join(rows) + r"\end{aligned}"


def w11_chain_rule(p: net.Problem, zs, acts, traced_grad: float, new_w11: float) -> ChainRule:
    """Evaluate every factor of every path from w^{(1)}_{11} to the loss."""
    paths_spec, expression = w11_structure(p.shape, p.activation, p.loss)
    prime = ACTIVATIONS[p.activation].prime
    fp = [prime(z, a) for z, a in zip(zs, acts[1:], strict=True)]
    grad = LOSSES[p.loss].grad(p.y, acts[-1])

    def value(recipe: tuple) -> float:
        kind, *ix = recipe
        if kind == "grad":
            return float(grad[ix[0]])
        if kind == "fp":
            return float(fp[ix[0]][ix[1]])
        if kind == "w":
            return float(p.W[ix[0]][ix[1], ix[2]])
        return float(p.x[ix[0]])

    paths = tuple(Path(units, tuple(Factor(tex, eq, value(r)) for tex, eq, r in factors))
                  for units, factors in paths_spec)
    total = float(sum(path.value for path in paths))
    grad_tex = r"\frac{\partial L}{\partial w^{(1)}_{11}}"
    w = float(p.W[0][0, 0])
    sub = (rf"w^{{(1)\,\mathrm{{new}}}}_{{11}} = {tex_number(w)} - {tex_number(p.lr)} \cdot "
           rf"{paren(tex_number(traced_grad))}")
    return ChainRule(
        expression=expression, paths=paths, total=total, traced=float(traced_grad),
        update_symbolic=(rf"w^{{(1)\,\mathrm{{new}}}}_{{11}} = w^{{(1)}}_{{11}} - \eta \cdot "
                         f"{grad_tex}"),
        update_substituted=sub, new_value=float(new_w11))
