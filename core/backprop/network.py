"""The problem (validated entries) and the network as numbers (NumPy) that the tracer steps through.

Layers are numbered like the homework: layer 0 is the input x, layer L the output ŷ.
`W[l]` has shape (n_{l+1}, n_l), so `W[l][j, i]` is the weight from unit i of layer l to unit j of
layer l+1; `b[l]` has shape (n_{l+1},). With f the activation of the hidden layers:

    z^{(l)} = W^{(l)} a^{(l-1)} + b^{(l)},     a^{(l)} = f(z^{(l)}),     a^{(0)} = x,   ŷ = a^{(L)}

The output layer uses f too, except for the cross-entropy loss where it is the softmax. f, f' and
the losses come from core.backprop.functions; the independent checks are in core.backprop.oracle.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from core.backprop.functions import ACTIVATIONS, LOSSES, softmax
from core.numbers import NumberError, parse_number

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
def forward(W, b, x, activation: str, loss: str) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Pre-activations z^{(1..L)} and activations a^{(0..L)} (a^{(0)} = x)."""
    f, softmax_output = ACTIVATIONS[activation].f, LOSSES[loss].softmax_output
    zs, acts = [], [np.asarray(x, dtype=float)]
    for ell, (Wl, bl) in enumerate(zip(W, b, strict=True)):
        z = Wl @ acts[-1] + bl
        last = ell == len(W) - 1
        acts.append(softmax(z) if last and softmax_output else f(z))
        zs.append(z)
    return zs, acts
