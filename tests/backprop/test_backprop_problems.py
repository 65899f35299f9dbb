"""Practice problems and student seeds: the same student always gets the same numbers."""

import hashlib

import pytest

from core.backprop.problems import practice, student_seed
from core.numbers import tex_number


def test_student_seed_is_pinned_and_documented() -> None:
    # Pinned: a change to the derivation would silently hand every student new numbers.
    assert student_seed("s12") == 2158007614
    # The documented recipe, worked here by hand: SHA-256 of salt + "\n" + case-folded id.
    digest = hashlib.sha256(b"cs101\ns12").digest()
    assert student_seed("  S12 ", salt="cs101") == int.from_bytes(digest[:4], "big")
    assert student_seed("s12", salt="cs101") != student_seed("s12")
    assert student_seed("s12") != student_seed("s13")


def test_a_student_gets_the_same_problem_every_time() -> None:
    a = practice((3, 2, 2), student_seed("ana"), "half_squared_error")
    b = practice((3, 2, 2), student_seed("ANA "), "half_squared_error")
    assert a == b


@pytest.mark.parametrize("bad", ["", "   ", "\t"])
def test_empty_student_id_is_refused(bad: str) -> None:
    with pytest.raises(ValueError, match="empty"):
        student_seed(bad)


def test_practice_inputs_are_never_zero_and_minus_zero_prints_as_zero() -> None:
    # With x1 = 0 every factor of dL/dw11 ends in 0 and the w11 update teaches nothing.
    for seed in range(200):
        assert min(practice((6, 3, 2), seed, "half_squared_error").x) >= 0.1
    assert tex_number(-0.0) == "0" and tex_number(-1e-30) == r"-1 \times 10^{-30}"


def test_reshape_keeps_every_number_that_still_fits() -> None:
    from core.backprop.problems import homework, reshape

    hw = homework()
    wider = reshape(hw, (4, 3, 2), 5, "half_squared_error")
    filler = practice((4, 3, 2), 5, "half_squared_error")
    assert wider.x == hw.x + [filler.x[3]] and wider.y == hw.y
    assert wider.W[0][0] == hw.W[0][0] + [filler.W[0][0][3]]
    assert wider.W[0][2] == filler.W[0][2] and wider.b[0] == hw.b[0] + [filler.b[0][2]]
    # Adding a hidden layer keeps the first layer and the output layer's weights.
    deeper = reshape(hw, (3, 2, 2, 2), 5, "half_squared_error")
    assert deeper.W[0] == hw.W[0] and deeper.W[2] == hw.W[1] and deeper.b[2] == hw.b[1]
    assert reshape(wider, (3, 2, 2), 5, "half_squared_error") == hw  # and back again
