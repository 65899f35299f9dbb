"""A fully connected network as numbers (NumPy) and as one SymPy expression.

Layers are numbered like the homework: layer 0 is the input x, layer L the output ŷ.
`W[l]` has shape (n_{l+1}, n_l), so `W[l][j, i]` is the weight from unit i of layer l to unit j of
layer l+1; `b[l]` has shape (n_{l+1},). With f the activation of the hidden layers:

    z^{(l)} = W^{(l)} a^{(l-1)} + b^{(l)},     a^{(l)} = f(z^{(l)}),     a^{(0)} = x,   ŷ = a^{(L)}

The output layer uses f too, except for the cross-entropy loss where it is the softmax.
The NumPy half is what the tracer steps through; the SymPy half (built once per shape and cached)
is the independent oracle: `sympy.diff` of the whole loss, never of a hand-written chain rule.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import sympy as sp

from core.numbers import NumberError, parse_number

ACTIVATIONS = ("sigmoid", "tanh", "relu")
LOSSES = ("half_squared_error", "mean_squared_error", "cross_entropy")
MAX_ABS = 1e6  # larger entries make z overflow in a few layers; no hand problem needs them

Shape = tuple[int, ...]


# ----------------------------------------------------------------------------- validation
class EntryError(ValueError):
    """A bad entry: `name` ("weights", "biases", "x", "y", "lr"), its `index` (weights[l][j][i]
    is ("weights", (l, j, i))) and what is wrong, `complaint`. The message names the entry on its
    own ("weights[0][1][2] is NaN…"); a page can use the fields to point at the cell, and
    `markdown_complaint`, where the typed text is inline code, to show it in Markdown safely."""

    def __init__(self, name: str, index: tuple[int, ...], complaint: str,
                 markdown_complaint: str | None = None) -> None:
        self.name, self.index, self.complaint = name, index, complaint
        self.markdown_complaint = complaint if markdown_complaint is None else markdown_complaint
        super().__init__(f"{name}{''.join(f'[{i}]' for i in index)} {complaint}")


def _number(value, name: str, index: tuple[int, ...] = ()) -> float:
    """The entry as a float, read by core.numbers (float() only, never eval), or EntryError."""
    try:
        v = parse_number(value, name)
    except NumberError as err:
        raise EntryError(name, index, err.complaint, err.markdown_complaint) from None
    if abs(v) > MAX_ABS:
        raise EntryError(name, index, f"= {v:g} is too large (keep |value| ≤ {MAX_ABS:g})")
    return v


def _vector(values, name: str, index: tuple[int, ...] = (), n: int | None = None) -> np.ndarray:
    if isinstance(values, str | bytes) or not hasattr(values, "__len__"):
        raise EntryError(name, index, "must be a list of numbers")
    vals = list(values)
    if n is not None and len(vals) != n:
        raise EntryError(name, index, f"has {len(vals)} entries, expected {n}")
    if not vals:
        raise EntryError(name, index, "is empty")
    return np.array([_number(v, name, (*index, i)) for i, v in enumerate(vals)], dtype=float)


@dataclass(frozen=True)
class Problem:
    """A validated exercise: W[l] (n_{l+1}, n_l), b[l] (n_{l+1},), x (n_0,), y (n_L,)."""

    W: tuple[np.ndarray, ...]
    b: tuple[np.ndarray, ...]
    x: np.ndarray
    y: np.ndarray
    lr: float
    activation: str
    loss: str

    @property
    def shape(self) -> Shape:
        return (len(self.x), *(len(bl) for bl in self.b))


def validate(weights, biases, x, y, lr, activation: str, loss: str) -> Problem:
    """Check every entry; raise ValueError naming the first bad one ("weights[0][1][2] is nan"),
    an EntryError when it is one entry of the problem."""
    if activation not in ACTIVATIONS:
        raise ValueError(f"activation {activation!r} is not one of {', '.join(ACTIVATIONS)}")
    if loss not in LOSSES:
        raise ValueError(f"loss {loss!r} is not one of {', '.join(LOSSES)}")
    xv = _vector(x, "x")
    if isinstance(weights, str | bytes) or not hasattr(weights, "__len__") or len(weights) == 0:
        raise ValueError("weights must be a non-empty list of layers")
    if isinstance(biases, str | bytes) or not hasattr(biases, "__len__"):
        raise ValueError("biases must be a list of layers")
    if len(biases) != len(weights):
        raise ValueError(f"biases has {len(biases)} layers but weights has {len(weights)}")
    Ws, bs, n_in = [], [], len(xv)
    for ell, Wl in enumerate(weights):
        if isinstance(Wl, str | bytes) or not hasattr(Wl, "__len__") or len(Wl) == 0:
            raise EntryError("weights", (ell,), "must be a non-empty table (rows: units of "
                             f"layer {ell + 1})")
        rows = [_vector(row, "weights", (ell, j), n_in) for j, row in enumerate(Wl)]
        Ws.append(np.array(rows))
        bs.append(_vector(biases[ell], "biases", (ell,), len(rows)))
        n_in = len(rows)
    yv = _vector(y, "y", n=n_in)
    lr_v = _number(lr, "lr")
    if lr_v <= 0:
        raise EntryError("lr", (), f"= {lr_v:g} must be positive")
    return Problem(tuple(Ws), tuple(bs), xv, yv, lr_v, activation, loss)


# ----------------------------------------------------------------------------- NumPy
def act(name: str, z: np.ndarray) -> np.ndarray:
    """f(z) elementwise; the sigmoid in the form that never overflows."""
    if name == "sigmoid":
        e = np.exp(-np.abs(z))
        return np.where(z >= 0, 1.0 / (1.0 + e), e / (1.0 + e))
    if name == "tanh":
        return np.tanh(z)
    return np.where(z > 0, z, 0.0)


def act_prime(name: str, z: np.ndarray, a: np.ndarray) -> np.ndarray:
    """f'(z), written with a = f(z) as on paper. ReLU'(0) is taken as 0 (as SymPy's Piecewise)."""
    if name == "sigmoid":
        return a * (1.0 - a)
    if name == "tanh":
        return 1.0 - a**2
    return (z > 0).astype(float)


def softmax(z: np.ndarray) -> np.ndarray:
    e = np.exp(z - z.max())  # shift by max: same p, no overflow
    return e / e.sum()


def forward(W, b, x, activation: str, loss: str) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Pre-activations z^{(1..L)} and activations a^{(0..L)} (a^{(0)} = x)."""
    zs, acts = [], [np.asarray(x, dtype=float)]
    for ell, (Wl, bl) in enumerate(zip(W, b, strict=True)):
        z = Wl @ acts[-1] + bl
        last = ell == len(W) - 1
        acts.append(softmax(z) if last and loss == "cross_entropy" else act(activation, z))
        zs.append(z)
    return zs, acts


def loss_value(loss: str, y: np.ndarray, yhat: np.ndarray) -> float:
    if loss == "half_squared_error":
        return float(0.5 * np.sum((y - yhat) ** 2))
    if loss == "mean_squared_error":
        return float(np.mean((y - yhat) ** 2))
    with np.errstate(divide="ignore"):
        return float(-np.sum(y * np.log(yhat)))


def loss_of(p: Problem, W=None, b=None) -> float:
    """L as a plain function of the parameters (for finite differences)."""
    _, acts = forward(p.W if W is None else W, p.b if b is None else b, p.x, p.activation, p.loss)
    return loss_value(p.loss, p.y, acts[-1])


def finite_difference(p: Problem, h: float = 1e-3) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Central differences, Richardson-extrapolated: D = (4 D(h/2) − D(h)) / 3, error O(h⁴).

    Plain central differences at h≈1e-6 lose ~1e-10 to rounding; this keeps both the rounding
    (~1e-13·|L|) and the truncation error well under the 1e-9 the page promises.
    """

    def central(params: list[np.ndarray], idx: tuple[int, ...], is_w: bool, step: float) -> float:
        def at(delta: float) -> float:
            moved = [q.copy() for q in params]
            moved[idx[0]][idx[1:]] += delta
            return loss_of(p, W=moved, b=None) if is_w else loss_of(p, W=None, b=moved)

        return (at(step) - at(-step)) / (2 * step)

    def grad(params: list[np.ndarray], is_w: bool) -> list[np.ndarray]:
        out = []
        for ell, q in enumerate(params):
            g = np.zeros_like(q)
            for rest in np.ndindex(q.shape):
                idx = (ell, *rest)
                d1, d2 = central(params, idx, is_w, h), central(params, idx, is_w, h / 2)
                g[rest] = (4 * d2 - d1) / 3
            out.append(g)
        return out

    return grad(list(p.W), True), grad(list(p.b), False)


# ----------------------------------------------------------------------------- SymPy
def sym_act(name: str, z: sp.Expr) -> sp.Expr:
    """f(z) as SymPy: ReLU as a Piecewise so that d/dz at 0 is 0, matching `act_prime`."""
    if name == "sigmoid":
        return 1 / (1 + sp.exp(-z))
    if name == "tanh":
        return sp.tanh(z)
    return sp.Piecewise((z, z > 0), (0, True))


@dataclass(frozen=True)
class Symbols:
    """The symbols of one shape, each with its LaTeX name (1-based indices, as on paper)."""

    x: tuple[sp.Symbol, ...]
    y: tuple[sp.Symbol, ...]
    W: tuple[tuple[tuple[sp.Symbol, ...], ...], ...]
    b: tuple[tuple[sp.Symbol, ...], ...]
    tex: dict

    def params(self) -> list[sp.Symbol]:
        """All weights then all biases, layer by layer, row-major (the order of `flat`)."""
        ws = [s for Wl in self.W for row in Wl for s in row]
        return ws + [s for bl in self.b for s in bl]


@lru_cache(maxsize=64)
def symbols(shape: Shape) -> Symbols:
    tex: dict = {}

    def sym(name: str, latex: str) -> sp.Symbol:
        s = sp.Symbol(name, real=True)
        tex[s] = latex
        return s

    x = tuple(sym(f"x{i}", f"x_{{{i + 1}}}") for i in range(shape[0]))
    y = tuple(sym(f"y{k}", f"y_{{{k + 1}}}") for k in range(shape[-1]))
    W = tuple(
        tuple(tuple(sym(f"w{ell}_{j}_{i}", f"w^{{({ell + 1})}}_{{{j + 1}{i + 1}}}")
                    for i in range(shape[ell])) for j in range(shape[ell + 1]))
        for ell in range(len(shape) - 1))
    b = tuple(tuple(sym(f"b{ell}_{j}", f"b^{{({ell + 1})}}_{{{j + 1}}}")
                    for j in range(shape[ell + 1])) for ell in range(len(shape) - 1))
    return Symbols(x, y, W, b, tex)


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


@lru_cache(maxsize=32)
def sympy_gradient_fn(shape: Shape, activation: str, loss: str):
    """Compiled ∇L from `sympy.diff` of the whole loss, built once per (shape, f, loss).

    Returns g(params, x, y) -> flat gradient, params in `Symbols.params()` order.
    """
    s = symbols(shape)
    L = sym_loss(shape, activation, loss)
    params = s.params()
    grads = [sp.diff(L, q) for q in params]
    # Plain-float `math` code: the inputs are scalars, and NumPy's select() rejects Python bools.
    return sp.lambdify([params, list(s.x), list(s.y)], grads, modules="math", cse=True)


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
