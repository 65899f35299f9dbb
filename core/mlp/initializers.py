"""Weight initialisations for a layer with fan_in inputs and fan_out outputs; biases start at 0.

W has shape (fan_in, fan_out) so that a layer computes Z = A·W + b on a batch A of shape
(n, fan_in).
"""

from __future__ import annotations

import numpy as np

# name -> label (the distribution), the choices of the form and the command line
INITS: dict[str, str] = {
    "uniform": "uniform U(−1, 1)",
    "fan_in": "fan-in  N(0, 1/fan_in)",
    "he": "He  N(0, 2/fan_in)",
    "glorot": "Glorot  U(±√(6/(fan_in+fan_out)))",
}


def make_weights(
    name: str, fan_in: int, fan_out: int, rng: np.random.Generator
) -> np.ndarray:
    """A float64 (fan_in, fan_out) weight matrix drawn from the named distribution."""
    shape = (fan_in, fan_out)
    if name == "uniform":
        return rng.uniform(-1.0, 1.0, size=shape)
    if name == "fan_in":
        return rng.normal(0.0, np.sqrt(1.0 / fan_in), size=shape)
    if name == "he":
        return rng.normal(0.0, np.sqrt(2.0 / fan_in), size=shape)
    if name == "glorot":
        limit = np.sqrt(6.0 / (fan_in + fan_out))
        return rng.uniform(-limit, limit, size=shape)
    raise ValueError(f"unknown initialisation {name!r}; choose one of {', '.join(INITS)}")
