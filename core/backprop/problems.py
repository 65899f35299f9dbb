"""The homework's problem with illustrative weights, and seeded practice problems.

The homework (pen-and-paper part) fixes x = [0.5, 0.1, 0.3], y = [0.9, 0.1], η = 0.1 and the
sigmoid everywhere, but its Figure 1 with the weights is lost: the weights below are illustrative,
chosen small, distinct and of both signs so each product is easy to do by hand.
"""

from __future__ import annotations

import hashlib
import unicodedata
from dataclasses import dataclass

import numpy as np

DEFAULT_SHAPE = (3, 2, 2)
MAX_UNITS = 6  # per layer: the tables and the drawing stay readable
MAX_HIDDEN = 3  # hidden layers


@dataclass
class Params:
    """Editable numbers: W[l] (n_{l+1}, n_l), b[l] (n_{l+1},), x (n_0,), y (n_L,)."""

    W: list[list[list[float]]]
    b: list[list[float]]
    x: list[float]
    y: list[float]

    @property
    def shape(self) -> tuple[int, ...]:
        return (len(self.x), *(len(bl) for bl in self.b))


def homework() -> Params:
    """The seeds' 3-2-2 problem; weights illustrative (the original figure is lost)."""
    return Params(
        W=[[[0.2, 0.4, -0.5], [0.3, -0.1, 0.6]],
           [[0.5, -0.3], [0.2, 0.7]]],
        b=[[0.1, -0.2], [0.1, -0.1]],
        x=[0.5, 0.1, 0.3],
        y=[0.9, 0.1],
    )


def practice(shape: tuple[int, ...], seed: int, loss: str) -> Params:
    """Random weights in [−1, 1] and inputs in [0.1, 1], one decimal each (hand-friendly).

    No input is 0, or every gradient of its weights would be 0 (∂L/∂w11 = δ₁x₁). For
    cross-entropy the target is one-hot (a class label); otherwise y is in [0, 1].
    """
    rng = np.random.default_rng(seed)

    def r(lo: float, hi: float, size) -> np.ndarray:
        return np.round(rng.uniform(lo, hi, size), 1)

    W = [r(-1, 1, (shape[ell + 1], shape[ell])).tolist() for ell in range(len(shape) - 1)]
    b = [r(-1, 1, shape[ell + 1]).tolist() for ell in range(len(shape) - 1)]
    x = r(0.1, 1, shape[0]).tolist()
    if loss == "cross_entropy":
        y = np.zeros(shape[-1])
        y[rng.integers(shape[-1])] = 1.0
        y = y.tolist()
    else:
        y = r(0, 1, shape[-1]).tolist()
    return Params(W, b, x, y)


def check_shape(shape: tuple[int, ...]) -> tuple[int, ...]:
    """The shape as ints, or ValueError saying which limit it breaks (1–6 units per layer,
    0–3 hidden layers)."""
    shape = tuple(int(n) for n in shape)
    if not 2 <= len(shape) <= MAX_HIDDEN + 2:
        raise ValueError(f"a network has 0 to {MAX_HIDDEN} hidden layers, not {len(shape) - 2}")
    bad = [n for n in shape if not 1 <= n <= MAX_UNITS]
    if bad:
        raise ValueError(f"every layer has 1 to {MAX_UNITS} units, not {bad[0]}")
    return shape


def reshape(old: Params, shape: tuple[int, ...], seed: int, loss: str) -> Params:
    """The problem on screen in a new shape: every number whose place still exists is kept,
    only new cells get the numbers of practice problem `seed`.

    Places match by index: x and y entry by entry; weight layers from the input side, except that
    the output layer stays the output layer (adding a hidden layer keeps the first and the last
    layer's weights, the new middle one is practice numbers).
    """
    new = practice(tuple(shape), seed, loss)
    n_old, n_new = len(old.b), len(new.b)
    pairs = {ell: ell for ell in range(min(n_old, n_new) - 1)}
    pairs[n_new - 1] = n_old - 1
    for ell_new, ell_old in pairs.items():
        W, b = new.W[ell_new], new.b[ell_new]
        for j in range(min(len(b), len(old.b[ell_old]))):
            b[j] = old.b[ell_old][j]
            row = old.W[ell_old][j]
            for i in range(min(len(W[j]), len(row))):
                W[j][i] = row[i]
    new.x[:len(old.x)] = old.x[:len(new.x)]
    new.y[:len(old.y)] = old.y[:len(new.y)]
    return new


def student_seed(student_id: str, salt: str = "") -> int:
    """The practice-problem seed of one student: stable across machines, runs and versions.

    seed = the first 4 bytes, big-endian, of SHA-256(salt + "\\n" + id) over UTF-8, where id is
    the student id with surrounding spaces removed, Unicode-normalised (NFC) and case-folded (so
    " S12 " and "s12" are one student). The course salt keeps one class's numbers from another's.
    Raises ValueError for an empty id.
    """
    ident = unicodedata.normalize("NFC", str(student_id).strip()).casefold()
    if not ident:
        raise ValueError("the student id is empty")
    digest = hashlib.sha256(f"{salt}\n{ident}".encode()).digest()
    return int.from_bytes(digest[:4], "big")
