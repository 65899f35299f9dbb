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


def fresh(shape: tuple[int, ...], seed: int | None, loss: str,
          keep: Params | None = None) -> Params:
    """The homework problem for its shape without a seed; otherwise a seeded practice problem.

    With `keep` (the problem on screen), its x and y stay whenever they still fit the new shape:
    adding a hidden unit should not also change the data the student is working on.
    """
    if seed is None and tuple(shape) == DEFAULT_SHAPE:
        return homework()
    p = practice(tuple(shape), 0 if seed is None else seed, loss)
    if keep is not None and len(keep.x) == shape[0]:
        p.x = list(keep.x)
    if keep is not None and len(keep.y) == shape[-1]:
        p.y = list(keep.y)
    return p


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
