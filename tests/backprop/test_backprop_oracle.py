"""core.backprop.oracle through `three_checks`: backprop, SymPy's diff and finite differences agree;
a ReLU kink and a shape too big for SymPy are reported, never hidden."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from core.backprop import problems
from core.backprop.oracle import sympy_cost, sympy_feasible
from core.backprop.tracer import three_checks, trace_step

ACTS = ("sigmoid", "tanh", "relu")
LOSSES = ("half_squared_error", "mean_squared_error", "cross_entropy")
HW = problems.homework()


def homework_with(activation: str, loss: str):
    return trace_step(HW.W, HW.b, HW.x, HW.y, 0.1, activation, loss)


def test_three_checks_agree_on_homework_for_every_pair() -> None:
    for act, loss in itertools.product(ACTS, LOSSES):
        checks = three_checks(homework_with(act, loss))
        assert len(checks) == 14
        assert all(c.agree and c.sympy is not None for c in checks), (act, loss)


def test_relu_kink_is_reported_as_a_disagreement_not_hidden() -> None:
    # x = 1, w = 1, b = -1: the hidden ReLU sees z = 0 exactly, where ReLU'(0) is taken as 0.
    t = trace_step([[[1.0]], [[2.0]]], [[-1.0], [0.5]], [1.0], [0.3], 0.1, "relu")
    check = three_checks(t)[0]
    assert check.traced == 0.0 and check.sympy == 0.0
    assert check.finite_difference != pytest.approx(0.0, abs=1e-3)  # averages both sides
    assert not check.agree and "kink" in check.note


def test_big_shape_skips_sympy_visibly_but_still_checks(random_problem) -> None:
    rng = np.random.default_rng(3)
    shape = (6, 6, 6, 6, 6)
    W, b, x, y = random_problem(rng, shape, "cross_entropy")
    checks = three_checks(trace_step(W, b, x, y, 0.1, "tanh", "cross_entropy"))
    assert all(c.sympy is None for c in checks) and all(c.agree for c in checks)


def test_sympy_cost_grows_with_paths_and_gates_the_oracle() -> None:
    # 3-2-2: w layer 1: 3·2 weights × 2 downstream × 2 outputs × 2 layers = 48; layer 2: 2·2·1·2·1
    # = 8; total 56, well under the 1200 that SymPy differentiates in a few seconds.
    assert sympy_cost((3, 2, 2), "half_squared_error") == 56
    assert sympy_cost((3, 2, 2), "cross_entropy") == 3 * 56
    assert sympy_feasible((3, 2, 2), "cross_entropy")
    assert not sympy_feasible((6, 6, 6, 6, 6), "half_squared_error")


def test_checks_need_not_wait_for_a_new_shapes_sympy_gradient(random_problem) -> None:
    from core.backprop.oracle import sympy_ready

    shape, act, loss = (1, 4, 3, 2), "tanh", "mean_squared_error"  # used by no other test
    assert sympy_feasible(shape, loss) and not sympy_ready(shape, act, loss)
    W, b, x, y = random_problem(np.random.default_rng(5), shape, loss)
    t = trace_step(W, b, x, y, 0.1, act, loss)
    quick = three_checks(t, wait=False)
    assert all(c.pending and c.sympy is None and c.agree for c in quick)  # backprop vs FD
    full = three_checks(t)  # builds it
    assert sympy_ready(shape, act, loss) and all(not c.pending and c.agree for c in full)
    assert all(not c.pending for c in three_checks(t, wait=False))  # now instant
