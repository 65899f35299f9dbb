"""Optimisers that update a list of parameter arrays in place from gradients aligned with it.

Two ways in, one update rule:

* `step(params, grads, lr)` takes the plain gradients g = ∂ℒ/∂θ (the textbook form; tests and
  scripts use it).
* `apply(params, scaled, lr)` takes the gradients already multiplied by `grad_scale(lr)`. For the
  first-order methods that factor is −η, and `MLP.loss_and_grads(..., scale=−η)` produces −η·g
  for free (it scales δ at the output, a (batch, K) array), so SGD is then a single `θ += Δθ`.
  On a 784-700-700-700-10 net that saves one full pass over every weight per step.

After either call `delta[i]` holds the applied change Δθ_i, so the trainer can report ‖ΔW‖/‖W‖
without recomputing anything. For SGD it is the gradient buffer itself (Δθ = −η g), valid until
that buffer is next written. Gradient arrays may be used as scratch and are clobbered.
"""

from __future__ import annotations

import abc
from collections.abc import Sequence

import numpy as np

# name -> label, the choices of the form and the command line (each class states its rule)
OPTIMIZERS: dict[str, str] = {
    "sgd": "SGD",
    "momentum": "SGD + momentum",
    "nesterov": "Nesterov momentum",
    "adam": "Adam",
}
# Arrays of the parameters' size each optimiser keeps besides the parameters and gradients
# (Δθ, and the velocity or the two moments): what `core.mlp.budget` counts.
STATE_ARRAYS: dict[str, int] = {"sgd": 1, "momentum": 1, "nesterov": 2, "adam": 3}


class Optimizer(abc.ABC):
    """Base class: `_update(i, s, lr)` turns the scaled gradient s of parameter i into Δθ_i."""

    def __init__(self, params: Sequence[np.ndarray]) -> None:
        self.delta: list[np.ndarray] = [np.zeros_like(p) for p in params]
        self.t = 0  # number of steps taken

    def grad_scale(self, lr: float) -> float:
        """The factor `apply` wants the gradients multiplied by (first-order methods: −η)."""
        return -lr

    def step(self, params: Sequence[np.ndarray], grads: Sequence[np.ndarray], lr: float) -> None:
        """One update from the plain gradients g = ∂ℒ/∂θ, learning rate lr."""
        s = self.grad_scale(lr)
        if s != 1.0:
            for g in grads:
                g *= s
        self.apply(params, grads, lr)

    def apply(self, params: Sequence[np.ndarray], scaled: Sequence[np.ndarray], lr: float) -> None:
        """One update from gradients already multiplied by `grad_scale(lr)`."""
        self.t += 1
        for i, (p, s) in enumerate(zip(params, scaled, strict=True)):
            p += self._update(i, s, lr)

    @abc.abstractmethod
    def _update(self, i: int, s: np.ndarray, lr: float) -> np.ndarray:
        """Δθ_i from the scaled gradient s of parameter i (may clobber s)."""


class SGD(Optimizer):
    """Δθ = −η g: the scaled gradient is the step itself."""

    def _update(self, i: int, s: np.ndarray, lr: float) -> np.ndarray:
        self.delta[i] = s  # no copy: the gradient buffer already holds −η g
        return s


class Momentum(Optimizer):
    """Classic (Polyak) momentum: v ← μ v − η g,  Δθ = v."""

    def __init__(self, params: Sequence[np.ndarray], momentum: float = 0.9) -> None:
        super().__init__(params)
        self.mu = float(momentum)

    def _update(self, i: int, s: np.ndarray, lr: float) -> np.ndarray:
        v = self.delta[i]  # the velocity is exactly the applied step
        v *= self.mu
        v += s
        return v


class Nesterov(Optimizer):
    """Nesterov momentum in the form used by Sutskever et al. (2013) and most libraries:

    v ← μ v − η g,  Δθ = μ v − η g   (g is the gradient at the current θ).
    """

    def __init__(self, params: Sequence[np.ndarray], momentum: float = 0.9) -> None:
        super().__init__(params)
        self.mu = float(momentum)
        self.v = [np.zeros_like(p) for p in params]

    def _update(self, i: int, s: np.ndarray, lr: float) -> np.ndarray:
        v, d = self.v[i], self.delta[i]
        v *= self.mu
        v += s
        np.multiply(v, self.mu, out=d)
        d += s
        return d


class Adam(Optimizer):
    """Adam (Kingma & Ba 2015), on the plain gradient g (its update is not linear in g):

    m ← β₁m + (1−β₁)g,  v ← β₂v + (1−β₂)g²,  m̂ = m/(1−β₁ᵗ),  v̂ = v/(1−β₂ᵗ),
    Δθ = −η m̂ / (√v̂ + ε).
    """

    def __init__(
        self,
        params: Sequence[np.ndarray],
        beta1: float = 0.9,
        beta2: float = 0.999,
        eps: float = 1e-8,
    ) -> None:
        super().__init__(params)
        self.beta1, self.beta2, self.eps = float(beta1), float(beta2), float(eps)
        self.m = [np.zeros_like(p) for p in params]
        self.v = [np.zeros_like(p) for p in params]

    def grad_scale(self, lr: float) -> float:
        return 1.0

    def apply(self, params: Sequence[np.ndarray], scaled: Sequence[np.ndarray], lr: float) -> None:
        # Bias corrections depend on t only, so compute them once per step, not per array.
        self._c1 = 1.0 - self.beta1 ** (self.t + 1)
        self._c2 = 1.0 - self.beta2 ** (self.t + 1)
        super().apply(params, scaled, lr)

    def _update(self, i: int, g: np.ndarray, lr: float) -> np.ndarray:
        m, v, d = self.m[i], self.v[i], self.delta[i]
        m *= self.beta1
        np.multiply(g, 1.0 - self.beta1, out=d)  # d is free scratch until the end
        m += d
        np.multiply(g, g, out=g)
        v *= self.beta2
        g *= 1.0 - self.beta2
        v += g
        # d = −η (m/c1) / (√(v/c2) + ε), all in place in d.
        np.multiply(v, 1.0 / self._c2, out=d)
        np.sqrt(d, out=d)
        d += self.eps
        np.divide(m, d, out=d)
        d *= -lr / self._c1
        return d


def make_optimizer(
    name: str,
    params: Sequence[np.ndarray],
    momentum: float = 0.9,
    beta1: float = 0.9,
    beta2: float = 0.999,
    eps: float = 1e-8,
) -> Optimizer:
    """The optimiser called `name` (one of OPTIMIZERS) for these parameters."""
    if name == "sgd":
        return SGD(params)
    if name == "momentum":
        return Momentum(params, momentum)
    if name == "nesterov":
        return Nesterov(params, momentum)
    if name == "adam":
        return Adam(params, beta1, beta2, eps)
    raise ValueError(f"unknown optimizer {name!r}; choose one of {', '.join(OPTIMIZERS)}")
