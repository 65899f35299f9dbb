"""The matrix form marked entry by entry, worked by hand on the homework net with B = 2.

Example 1 is the homework's x = [0.5, 0.1, 0.3], y = [0.9, 0.1]; example 2 is x = [1, 0, 0.5],
y = [0.2, 0.8]. From trace_step of each: Δ^(1)_{11} = δ1^(1) = −0.00485679 (example 1) and
0.00831687 (example 2); L_1 = 0.1825293, L_2 = 0.0784190.
"""

from __future__ import annotations

import numpy as np
import pytest

from core.backprop import trace_step
from core.backprop.batch import trace_batch
from core.backprop.batchmarking import mark_batch
from core.backprop.problems import homework

HW = homework()
X, Y = [HW.x, [1.0, 0.0, 0.5]], [HW.y, [0.2, 0.8]]


@pytest.fixture(scope="module")
def bt():
    return trace_batch(HW.W, HW.b, X, Y, 0.1)


def verdict(marking, step: str, entry) -> str:
    return marking.marks[step][entry].verdict


def test_the_batch_gradient_is_the_mean_of_the_examples(bt) -> None:
    singles = [trace_step(HW.W, HW.b, x, y, 0.1) for x, y in zip(X, Y, strict=True)]
    for ell in range(2):
        mean = (singles[0].grad_weights[ell] + singles[1].grad_weights[ell]) / 2
        np.testing.assert_allclose(bt.grad_weights[ell], mean, rtol=1e-13, atol=1e-16)
    assert bt.loss == pytest.approx((singles[0].loss + singles[1].loss) / 2, rel=1e-14)


def test_rounded_entries_carried_into_the_gradient_are_right(bt) -> None:
    # ∂L/∂W^(1)_11 = ½(Δ_11 x_11 + Δ_21 x_21) = ½(−0.004857·0.5 + 0.008317·1)
    #             = ½(−0.0024285 + 0.008317) = 0.00294425 → "0.002944" (machine 0.0029442)
    marking = mark_batch(bt, {("Δ^(1)", (0, 0)): "-0.004857", ("Δ^(1)", (1, 0)): "0.008317",
                              ("∂L/∂W^(1)", (0, 0)): "0.002944"})
    assert verdict(marking, "Δ^(1)", (0, 0)) == "right"
    assert verdict(marking, "∂L/∂W^(1)", (0, 0)) == "right" and marking.first_wrong is None


def test_a_slip_in_one_example_is_marked_once(bt) -> None:
    # Δ_21 slipped to 0.008: ½(−0.0024285 + 0.008) = 0.00278575 → "0.002786" follows;
    # W⁺_11 = 0.2 − 0.1·0.002786 = 0.1997214 follows from that gradient; "0.1997" (a change of
    # 0.0003, one digit of 0.0002786) is wrong.
    answers = {("Δ^(1)", (0, 0)): "-0.004857", ("Δ^(1)", (1, 0)): "0.008",
               ("∂L/∂W^(1)", (0, 0)): "0.002786", ("new W^(1)", (0, 0)): "0.1997214"}
    marking = mark_batch(bt, answers)
    assert [verdict(marking, *k) for k in answers] == ["right", "wrong", "follows", "follows"]
    assert marking.first_wrong == ("Δ^(1)", (1, 0))
    short = mark_batch(bt, {**answers, ("new W^(1)", (0, 0)): "0.1997"})
    assert verdict(short, "new W^(1)", (0, 0)) == "wrong"


def test_forward_entries_carry_forward_within_their_example(bt) -> None:
    # Example 2: z1^(1) = 1·0.2 + 0·0.4 + 0.5·(−0.5) + 0.1 = 0.05; a slip 0.55 then
    # a = σ(0.55) = 0.634136 → "0.6341" follows in row 2 of A^(1).
    marking = mark_batch(bt, {("Z^(1)", (1, 0)): "0.55", ("A^(1)", (1, 0)): "0.6341",
                              ("Z^(1)", (0, 0)): "0.09"})
    assert verdict(marking, "Z^(1)", (0, 0)) == "right"
    assert verdict(marking, "Z^(1)", (1, 0)) == "wrong"
    assert verdict(marking, "A^(1)", (1, 0)) == "follows"


def test_the_batch_loss_is_the_mean_and_text_is_unreadable(bt) -> None:
    # L = ½(0.1825293 + 0.0784190) = 0.1304742 → "0.1305"
    marking = mark_batch(bt, {("L", ()): "0.1305", ("∂L/∂b^(1)", (0,)): "<b>1</b>"})
    assert verdict(marking, "L", ()) == "right"
    assert verdict(marking, "∂L/∂b^(1)", (0,)) == "unreadable"
    assert marking.count("blank") == sum(int(np.prod(s.shape)) for s in bt.steps) - 2
