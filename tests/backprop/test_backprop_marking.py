"""Check my work: typed values against the machine's, to 4 significant digits."""

from __future__ import annotations

import pytest

from core.backprop import marking as checkwork


@pytest.mark.parametrize("typed,true,right", [
    ("0.5225", 0.5224848247918001, True),  # rounded to 4 significant digits
    ("0.52248", 0.5224848247918001, True),  # more digits, within half a unit of the 4th
    ("0.5224", 0.5224848247918001, False),  # truncated, off by 0.85 units
    ("0.5226", 0.5224848247918001, False),
    ("-0.002428", -0.0024283954137642593, True),
    ("-2.428e-3", -0.0024283954137642593, True),
    ("0.002428", -0.0024283954137642593, False),  # sign matters
    ("0", 0.0, True),
    ("0.0001", 0.0, False),
])
def test_agrees_to_four_significant_digits(typed: str, true: float, right: bool) -> None:
    assert checkwork.agrees(checkwork.parse_answer(typed), true) is right


@pytest.mark.parametrize("typed", ["abc", "1/2", "__import__('os').system('true')", "nan",
                                   "inf", "0.5.2", "e"])
def test_text_that_is_not_a_number_gets_a_message(typed: str) -> None:
    with pytest.raises(ValueError, match="not a|infinite"):
        checkwork.parse_answer(typed)


def test_mark_all_names_the_first_wrong_step(homework_trace) -> None:
    steps = homework_trace.steps
    answers = {"z1^(1)": "0.09", "z2^(1)": "0.13", "a1^(1)": "0.5225", "L": "oops",
               "ŷ1": "0.1"}
    marks, first_wrong = checkwork.mark_all(steps, answers)
    by_name = {m.name: m for m in marks}
    assert by_name["z1^(1)"].right is True and by_name["a1^(1)"].right is True
    assert by_name["z2^(1)"].right is False and by_name["ŷ1"].right is False
    assert by_name["L"].right is None and "not a number" in by_name["L"].message
    assert steps[first_wrong].name == "z2^(1)"
