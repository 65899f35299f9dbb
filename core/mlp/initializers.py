"""Weight initialisations for a layer with fan_in inputs and fan_out outputs; biases start at 0.

W has shape (fan_in, fan_out) so that a layer computes Z = A·W + b on a batch A of shape
(n, fan_in).
"""

from __future__ import annotations

import numpy as np

INITS: dict[str, str] = {
    "uniform": "W ~ U(−1, 1)",
    "fan_in": "W ~ N(0, 1/fan_in)  (LeCun)",
    "he": "W ~ N(0, 2/fan_in)  (He, for ReLU)",
    "glorot": "W ~ U(−√(6/(fan_in+fan_out)), +√(6/(fan_in+fan_out)))  (Glorot/Xavier)",
}

INIT_LATEX: dict[str, str] = {
    "uniform": r"W_{ij} \sim \mathcal{U}(-1, 1)",
    "fan_in": r"W_{ij} \sim \mathcal{N}\!\left(0, \tfrac{1}{n_\text{in}}\right)",
    "he": r"W_{ij} \sim \mathcal{N}\!\left(0, \tfrac{2}{n_\text{in}}\right)",
    "glorot": r"W_{ij} \sim \mathcal{U}\!\left(-\sqrt{\tfrac{6}{n_\text{in}+n_\text{out}}},"
    r"\ \sqrt{\tfrac{6}{n_\text{in}+n_\text{out}}}\right)",
}


def init_weights(
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
