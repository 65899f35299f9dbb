"""Two-class 2-D toy sets for decision-boundary pictures, all inside the unit square [0, 1]².

Each generator takes n (points in total) and a NumPy Generator and returns X (n, 2) float64
and y (n,) int64 with classes as balanced as n allows.
"""

from __future__ import annotations

import numpy as np

TOYS: dict[str, str] = {
    "xor": "XOR: four blobs at the corners, opposite corners share a class",
    "circles": "two concentric rings",
    "spirals": "two interleaved spirals",
    "gaussians": "two overlapping Gaussian blobs",
}


def _labels(n: int) -> np.ndarray:
    return (np.arange(n) % 2).astype(np.int64)


def xor(n: int, rng: np.random.Generator, noise: float = 0.08) -> tuple[np.ndarray, np.ndarray]:
    corner = rng.integers(0, 2, size=(n, 2))
    X = 0.25 + 0.5 * corner + rng.normal(0.0, noise, size=(n, 2))
    y = (corner[:, 0] ^ corner[:, 1]).astype(np.int64)
    return np.clip(X, 0.0, 1.0), y


def circles(n: int, rng: np.random.Generator, noise: float = 0.03) -> tuple[np.ndarray, np.ndarray]:
    y = _labels(n)
    radius = np.where(y == 0, 0.4, 0.18) + rng.normal(0.0, noise, size=n)
    angle = rng.uniform(0.0, 2 * np.pi, size=n)
    X = 0.5 + radius[:, None] * np.column_stack([np.cos(angle), np.sin(angle)])
    return np.clip(X, 0.0, 1.0), y


def spirals(
    n: int, rng: np.random.Generator, noise: float = 0.015
) -> tuple[np.ndarray, np.ndarray]:
    y = _labels(n)
    s = np.sqrt(rng.uniform(0.0, 1.0, size=n))  # uniform density along the arc
    angle = 3 * np.pi * s + np.pi * y
    radius = 0.45 * s
    X = 0.5 + radius[:, None] * np.column_stack([np.cos(angle), np.sin(angle)])
    X += rng.normal(0.0, noise, size=(n, 2))
    return np.clip(X, 0.0, 1.0), y


def gaussians(
    n: int, rng: np.random.Generator, noise: float = 0.12
) -> tuple[np.ndarray, np.ndarray]:
    y = _labels(n)
    centre = np.where(y[:, None] == 0, [0.35, 0.35], [0.65, 0.65])
    X = centre + rng.normal(0.0, noise, size=(n, 2))
    return np.clip(X, 0.0, 1.0), y


GENERATORS = {"xor": xor, "circles": circles, "spirals": spirals, "gaussians": gaussians}


def make_toy(name: str, n: int = 600, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """n points of the toy set `name` (one of TOYS), reproducible from seed."""
    if name not in GENERATORS:
        raise ValueError(f"unknown toy data set {name!r}; choose one of {', '.join(TOYS)}")
    return GENERATORS[name](n, np.random.default_rng(seed))
