"""Helpers shared by the Backprop tests (the app-wide fixtures are in tests/conftest.py)."""

from __future__ import annotations

import numpy as np
import pytest


def _latex_values(app) -> list[str]:
    """Every st.latex of an AppTest run, without its $$ fences."""
    return [el.value.strip().removeprefix("$$").removesuffix("$$").strip() for el in app.latex]


def _random_problem(rng: np.random.Generator, shape, loss: str):
    """Weights, biases and x in [−1, 1]; y a distribution for cross-entropy, else in [0, 1]."""
    W = [rng.uniform(-1, 1, (shape[k + 1], shape[k])) for k in range(len(shape) - 1)]
    b = [rng.uniform(-1, 1, shape[k + 1]) for k in range(len(shape) - 1)]
    x = rng.uniform(-1, 1, shape[0])
    y = rng.dirichlet(np.ones(shape[-1])) if loss == "cross_entropy" else rng.uniform(0, 1,
                                                                                      shape[-1])
    return W, b, x, y


@pytest.fixture
def latex():
    """`latex(at)`: the page's formulas as LaTeX strings."""
    return _latex_values


@pytest.fixture(scope="session")
def random_problem():
    """`random_problem(rng, shape, loss)` → (W, b, x, y)."""
    return _random_problem
