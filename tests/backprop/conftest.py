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
def at(open_page):
    """The Backprop page in Show me. SymPy's gradient of the homework's shape is built in the
    background on a page's first visit; here it is built first, so the page shows what a student
    sees once it is done. (Modules that need another mode or view define their own `at`.)"""
    from core.backprop import oracle

    oracle.sympy_gradient_fn((3, 2, 2), "sigmoid", "half_squared_error")
    return open_page("pages/backprop.py")


@pytest.fixture
def latex():
    """`latex(at)`: the page's formulas as LaTeX strings."""
    return _latex_values


@pytest.fixture(scope="session")
def random_problem():
    """`random_problem(rng, shape, loss)` → (W, b, x, y)."""
    return _random_problem
