"""Hidden-layer activations f(z) and their derivatives written in terms of the output a = f(z).

Backprop only needs f'(z) at the points already visited in the forward pass, and for every
activation here f'(z) is a cheap function of a = f(z), so the forward pass keeps a and never z.
All functions work in place on an (n, h) array so the training loop allocates nothing.
"""

from __future__ import annotations

import abc
from typing import ClassVar

import numpy as np

LECUN_A = 1.7159
LECUN_B = 2.0 / 3.0


class Activation(abc.ABC):
    """One activation, declared once: f applied in place, δ ← δ ⊙ f'(z) from a = f(z) (also in
    place), and how the Train page and the command line name it (`label`, with its formula)."""

    label: ClassVar[str]

    @abc.abstractmethod
    def forward(self, z: np.ndarray) -> np.ndarray:
        """Overwrite z (n, h) with f(z) and return it."""

    @abc.abstractmethod
    def backward(self, a: np.ndarray, delta: np.ndarray, tmp: np.ndarray) -> np.ndarray:
        """Overwrite delta (n, h) with delta ⊙ f'(z), given a = f(z); tmp is scratch space."""


class Sigmoid(Activation):
    """σ(z) = 1/(1+e^(−z)),  σ'(z) = a(1 − a)."""

    label = "sigmoid  1/(1+e^−z)"

    def forward(self, z: np.ndarray) -> np.ndarray:
        # Overflow of e^(−z) for z ≪ 0 gives inf and then exactly 0, which is the right limit.
        np.negative(z, out=z)
        np.exp(z, out=z)
        z += 1.0
        return np.reciprocal(z, out=z)

    def backward(self, a: np.ndarray, delta: np.ndarray, tmp: np.ndarray) -> np.ndarray:
        np.subtract(1.0, a, out=tmp)
        tmp *= a
        delta *= tmp
        return delta


class Tanh(Activation):
    """tanh(z),  tanh'(z) = 1 − a²."""

    label = "tanh"

    def forward(self, z: np.ndarray) -> np.ndarray:
        return np.tanh(z, out=z)

    def backward(self, a: np.ndarray, delta: np.ndarray, tmp: np.ndarray) -> np.ndarray:
        np.multiply(a, a, out=tmp)
        np.subtract(1.0, tmp, out=tmp)
        delta *= tmp
        return delta


class ImprovedSigmoid(Activation):
    """f(z) = A·tanh(Bz) with A = 1.7159, B = 2/3;  f'(z) = A·B·(1 − (a/A)²) = B·(A − a²/A)."""

    label = "improved sigmoid  1.7159·tanh(2z/3)"

    def forward(self, z: np.ndarray) -> np.ndarray:
        z *= LECUN_B
        np.tanh(z, out=z)
        z *= LECUN_A
        return z

    def backward(self, a: np.ndarray, delta: np.ndarray, tmp: np.ndarray) -> np.ndarray:
        np.multiply(a, a, out=tmp)
        tmp *= -LECUN_B / LECUN_A
        tmp += LECUN_A * LECUN_B
        delta *= tmp
        return delta


class ReLU(Activation):
    """max(0, z),  ReLU'(z) = 1[z > 0] = 1[a > 0]."""

    label = "ReLU  max(0, z)"

    def forward(self, z: np.ndarray) -> np.ndarray:
        return np.maximum(z, 0.0, out=z)

    def backward(self, a: np.ndarray, delta: np.ndarray, tmp: np.ndarray) -> np.ndarray:
        # delta ← delta · 1[a > 0] without a boolean temporary: multiply by the 0/1 mask.
        np.greater(a, 0.0, out=tmp)
        delta *= tmp
        return delta


CLASSES: dict[str, type[Activation]] = {
    "sigmoid": Sigmoid,
    "improved_sigmoid": ImprovedSigmoid,
    "tanh": Tanh,
    "relu": ReLU,
}
# name -> label, the choices of the form and the command line
ACTIVATIONS: dict[str, str] = {name: cls.label for name, cls in CLASSES.items()}


def make_activation(name: str) -> Activation:
    """The activation called `name` (one of ACTIVATIONS)."""
    try:
        return CLASSES[name]()
    except KeyError:
        raise ValueError(
            f"unknown activation {name!r}; choose one of {', '.join(ACTIVATIONS)}"
        ) from None
