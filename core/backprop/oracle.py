"""The independent checks of the tracer: SymPy's diff of the whole loss, and finite differences.

The SymPy loss is built here straight from the definitions (`sym_act`, `sym_loss`), never from
core.backprop.functions or a hand-written chain rule: its independence is the point of it. It is
built and differentiated once per (shape, activation, loss) and cached; `sympy_feasible` says
whether that takes only a few seconds. The finite difference runs its own NumPy forward pass,
one row per moved parameter set, so it does not share the tracer's.
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import sympy as sp

from core.backprop.functions import ACTIVATIONS, LOSSES, softmax
from core.backprop.network import Problem, Shape


def finite_difference(p: Problem, h: float = 1e-3) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Central differences, Richardson-extrapolated: D = (4 D(h/2) − D(h)) / 3, error O(h⁴).

    Plain central differences at h≈1e-6 lose ~1e-10 to rounding; this keeps both the rounding
    (~1e-13·|L|) and the truncation error well under the 1e-9 the page promises. The loss at
    every moved parameter set (four per parameter: ±h, ±h/2) is one stacked forward pass
    (`_stacked_losses`): a loop of single passes cost a new problem 5–17 ms.
    """
    params = [*p.W, *p.b]
    where = [(k, idx) for k, q in enumerate(params) for idx in np.ndindex(q.shape)]
    steps = np.array([h, -h, h / 2, -h / 2])
    stacked = [np.repeat(q[None], 4 * len(where), axis=0) for q in params]
    for n, (k, idx) in enumerate(where):
        stacked[k][(slice(4 * n, 4 * n + 4), *idx)] += steps
    n_layers = len(p.W)
    L = _stacked_losses(p, stacked[:n_layers], stacked[n_layers:]).reshape(-1, 4)
    d1, d2 = (L[:, 0] - L[:, 1]) / (2 * h), (L[:, 2] - L[:, 3]) / h
    flat_grad = (4 * d2 - d1) / 3
    out = [np.zeros_like(q) for q in params]
    for n, (k, idx) in enumerate(where):
        out[k][idx] = flat_grad[n]
    return out[:n_layers], out[n_layers:]


def _stacked_losses(p: Problem, Ws: list[np.ndarray], bs: list[np.ndarray]) -> np.ndarray:
    """L at P parameter sets at once: Ws[l] (P, n_{l+1}, n_l), bs[l] (P, n_{l+1}) → (P,); the
    forward pass of core.backprop.network (z = W a + b, a = f(z), the softmax under
    cross-entropy) with a row per set, the loss of core.backprop.functions per row."""
    f, loss = ACTIVATIONS[p.activation], LOSSES[p.loss]
    a = np.broadcast_to(p.x, (len(Ws[0]), len(p.x)))
    for ell, (Wl, bl) in enumerate(zip(Ws, bs, strict=True)):
        z = np.einsum("pji,pi->pj", Wl, a) + bl
        a = softmax(z) if ell == len(Ws) - 1 and loss.softmax_output else f.f(z)
    return np.array([loss.value(p.y, row) for row in a])


def sym_act(name: str, z: sp.Expr) -> sp.Expr:
    """f(z) as SymPy: ReLU as a Piecewise so that d/dz at 0 is 0, as the tracer takes it."""
    if name == "sigmoid":
        return 1 / (1 + sp.exp(-z))
    if name == "tanh":
        return sp.tanh(z)
    return sp.Piecewise((z, z > 0), (0, True))


@dataclass(frozen=True)
class Symbols:
    """The symbols of one shape: x_i, y_k, w_{l,j,i}, b_{l,j} (0-based in the names)."""

    x: tuple[sp.Symbol, ...]
    y: tuple[sp.Symbol, ...]
    W: tuple[tuple[tuple[sp.Symbol, ...], ...], ...]
    b: tuple[tuple[sp.Symbol, ...], ...]

    def params(self) -> list[sp.Symbol]:
        """All weights then all biases, layer by layer, row-major (the order of `flat`)."""
        ws = [s for Wl in self.W for row in Wl for s in row]
        return ws + [s for bl in self.b for s in bl]


@lru_cache(maxsize=64)
def symbols(shape: Shape) -> Symbols:
    def sym(name: str) -> sp.Symbol:
        return sp.Symbol(name, real=True)

    x = tuple(sym(f"x{i}") for i in range(shape[0]))
    y = tuple(sym(f"y{k}") for k in range(shape[-1]))
    W = tuple(tuple(tuple(sym(f"w{ell}_{j}_{i}") for i in range(shape[ell]))
                    for j in range(shape[ell + 1])) for ell in range(len(shape) - 1))
    b = tuple(tuple(sym(f"b{ell}_{j}") for j in range(shape[ell + 1]))
              for ell in range(len(shape) - 1))
    return Symbols(x, y, W, b)


def sym_loss(shape: Shape, activation: str, loss: str) -> sp.Expr:
    """The whole loss L(W, b; x, y) as one SymPy expression, built straight from the definition."""
    s = symbols(shape)
    a: list[sp.Expr] = list(s.x)
    for ell in range(len(shape) - 1):
        z = [sum((s.W[ell][j][i] * a[i] for i in range(len(a))), s.b[ell][j])
             for j in range(shape[ell + 1])]
        if ell == len(shape) - 2 and loss == "cross_entropy":
            den = sum(sp.exp(zk) for zk in z)
            a = [sp.exp(zk) / den for zk in z]
        else:
            a = [sym_act(activation, zj) for zj in z]
    diff = [yk - ak for yk, ak in zip(s.y, a, strict=True)]
    if loss == "half_squared_error":
        return sp.Rational(1, 2) * sum(d**2 for d in diff)
    if loss == "mean_squared_error":
        return sum(d**2 for d in diff) / len(diff)
    return -sum(yk * sp.log(ak) for yk, ak in zip(s.y, a, strict=True))


_BUILT: dict[tuple[Shape, str, str], Callable] = {}  # what sympy_gradient_fn holds ready


def sympy_ready(shape: Shape, activation: str, loss: str) -> bool:
    """Whether SymPy's gradient of this (shape, f, loss) is built: checking is then instant."""
    return (tuple(shape), activation, loss) in _BUILT


def sympy_gradient_source(shape: Shape, activation: str, loss: str) -> str:
    """Python source of ∇L from `sympy.diff` of the whole loss: `def _lambdifygenerated(params,
    x, y)` returning the flat gradient, params in `Symbols.params()` order. The slow part (the
    diff, the common subexpressions); plain text, so another process can do it (checking.py)."""
    s = symbols(shape)
    L = sym_loss(shape, activation, loss)
    params = s.params()
    grads = [sp.diff(L, q) for q in params]
    # Plain-float `math` code: the inputs are scalars, and NumPy's select() rejects Python bools.
    fn = sp.lambdify([params, list(s.x), list(s.y)], grads, modules="math", cse=True)
    return inspect.getsource(fn)


@lru_cache(maxsize=1)
def _namespace() -> dict:
    """The globals lambdify gives `math` code (math's functions, Abs, builtins …)."""
    return dict(sp.lambdify([], 0, modules="math").__globals__)


def install_gradient(shape: Shape, activation: str, loss: str, source: str) -> Callable:
    """Compile `sympy_gradient_source`'s text (ours, never a user's) and hold it ready."""
    namespace = dict(_namespace())
    exec(compile(source, f"<sympy gradient {shape} {activation} {loss}>", "exec"),  # noqa: S102
         namespace)
    fn = namespace["_lambdifygenerated"]
    _BUILT[(tuple(shape), activation, loss)] = fn
    return fn


def sympy_gradient_fn(shape: Shape, activation: str, loss: str) -> Callable:
    """Compiled ∇L from `sympy.diff` of the whole loss, built once per (shape, f, loss) (here,
    unless core.backprop.checking has installed it from its worker process).

    Returns g(params, x, y) -> flat gradient, params in `Symbols.params()` order.
    """
    key = (tuple(shape), activation, loss)
    if key not in _BUILT:
        install_gradient(*key, sympy_gradient_source(*key))
    return _BUILT[key]


def flat(W, b) -> list[float]:
    """Parameters in `Symbols.params()` order."""
    return [float(v) for Wl in W for v in np.ravel(Wl)] + [float(v) for bl in b for v in bl]


def unflat(values, shape: Shape) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Inverse of `flat`: split a flat vector into W[l] (n_{l+1}, n_l) and b[l] (n_{l+1},)."""
    vals = np.asarray(values, dtype=float)
    Ws, bs, k = [], [], 0
    for ell in range(len(shape) - 1):
        n = shape[ell + 1] * shape[ell]
        Ws.append(vals[k:k + n].reshape(shape[ell + 1], shape[ell]))
        k += n
    for ell in range(len(shape) - 1):
        bs.append(vals[k:k + shape[ell + 1]].copy())
        k += shape[ell + 1]
    return Ws, bs


def sympy_gradient(p: Problem) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """∂L/∂W and ∂L/∂b from SymPy's diff of the whole loss, evaluated at the problem's values."""
    fn = sympy_gradient_fn(p.shape, p.activation, p.loss)
    try:
        g = [float(v) for v in fn(flat(p.W, p.b), [float(v) for v in p.x],
                                   [float(v) for v in p.y])]
    except (OverflowError, ValueError, ZeroDivisionError):
        # The unshifted softmax or exp(-z) overflows where the tracer's stable forms do not;
        # NaN makes the page show a disagreement instead of hiding it.
        g = [math.nan] * len(flat(p.W, p.b))
    return unflat(g, p.shape)


def sympy_cost(shape: Shape, loss: str) -> int:
    """Rough size of ∇L as SymPy sees it: Σ over parameters of the paths from it to the loss.

    `sympy.diff` of the nested loss grows with this count (and ~3× faster for the softmax
    quotient); measured on one core: cost 1200 ≈ 2.5 s, 2300 ≈ 7 s.
    """
    cost = 0
    for ell in range(len(shape) - 1):
        downstream = math.prod(shape[ell + 2:])
        cost += shape[ell] * shape[ell + 1] * downstream * shape[-1] * (len(shape) - 1 - ell)
    return cost * (3 if loss == "cross_entropy" else 1)


def sympy_feasible(shape: Shape, loss: str) -> bool:
    """Whether SymPy's diff of the whole loss is quick enough (a few seconds, once per shape)."""
    return sympy_cost(shape, loss) <= 1200
