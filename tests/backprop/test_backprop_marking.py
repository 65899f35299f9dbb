"""mark_all: marks that carry forward, worked by hand on the homework net and on Matt Mazur's
published 2-2-2 example ("A Step by Step Backpropagation Example", 2015)."""

from __future__ import annotations

import pytest

from core.backprop import mark_all, trace_step
from core.backprop.marking import agrees, half_unit
from core.numbers import code

# Mazur: x = [0.05, 0.10], y = [0.01, 0.99], w1..w4 = layer 1 (w1 = w11^(1), w2 = w12^(1),
# w3 = w21^(1), w4 = w22^(1)), w5..w8 = layer 2, b1 = 0.35, b2 = 0.60, η = 0.5, sigmoid, ½Σ(y−ŷ)².
MAZUR = dict(weights=[[[0.15, 0.20], [0.25, 0.30]], [[0.40, 0.45], [0.50, 0.55]]],
             biases=[[0.35, 0.35], [0.60, 0.60]], x=[0.05, 0.10], y=[0.01, 0.99], lr=0.5)


@pytest.fixture(scope="module")
def mazur():
    return trace_step(**MAZUR)


def verdicts(marking, *names: str) -> list[str]:
    by_name = {m.name: m for m in marking.marks}
    return [by_name[n].verdict for n in names]


def test_mazur_published_values_are_the_machines(mazur) -> None:
    by_name = {s.name: s.value for s in mazur.steps}
    assert by_name["a1^(1)"] == pytest.approx(0.593269992, abs=1e-9)  # out_h1
    assert by_name["ŷ1"] == pytest.approx(0.75136507, abs=1e-8)  # out_o1
    assert by_name["L"] == pytest.approx(0.298371109, abs=1e-9)  # E_total
    assert by_name["new w11^(2)"] == pytest.approx(0.35891648, abs=1e-8)  # w5⁺
    assert by_name["new w11^(1)"] == pytest.approx(0.149780716, abs=1e-9)  # w1⁺
    # His published values typed in are all right, and so is a blank sheet's "blank".
    marking = mark_all(mazur, {"a1^(1)": "0.593269992", "ŷ1": "0.75136507", "L": "0.298371109",
                               "new w11^(2)": "0.35891648", "new w11^(1)": "0.149780716"})
    assert verdicts(marking, "a1^(1)", "ŷ1", "L", "new w11^(2)", "new w11^(1)") == ["right"] * 5
    assert marking.first_wrong is None and marking.count("blank") == len(mazur.steps) - 5


def test_one_mark_per_step_in_order_with_the_machines_value(homework_trace) -> None:
    marking = mark_all(homework_trace, {})
    assert [m.name for m in marking.marks] == [s.name for s in homework_trace.steps]
    assert all(m.verdict == "blank" and m.expected == s.value
               for m, s in zip(marking.marks, homework_trace.steps, strict=True))


def test_four_digit_intermediates_carried_on_are_never_wrong(homework_trace) -> None:
    # a1 = 0.5224848 and a2 = 0.5299641 rounded to 4 digits: 0.5225 and 0.5300.
    # z1^(2) = 0.5·0.5225 − 0.3·0.5300 + 0.1 = 0.26125 − 0.159 + 0.1 = 0.20225 → "0.2022";
    # the machine's 0.2022532 rounds to 0.2023, yet the work is correct.
    marking = mark_all(homework_trace, {"a1^(1)": "0.5225", "a2^(1)": "0.5300",
                                        "z1^(2)": "0.2022"})
    assert verdicts(marking, "a1^(1)", "a2^(1)", "z1^(2)") == ["right", "right", "right"]
    assert marking.marks[4].expected == pytest.approx(0.20225, abs=1e-15)
    assert marking.first_wrong is None
    # The same rounded work without typing the a's (rounded on paper only) is right too.
    assert verdicts(mark_all(homework_trace, {"z1^(2)": "0.2022"}), "z1^(2)") == ["right"]
    # A real slip in the 3rd digit is caught: 0.2030 is 0.00075 off 0.20225, far beyond the
    # inputs' rounding (0.5·5e-5 + 0.3·5e-5 = 4e-5) plus the answer's own (5e-5).
    slipped = mark_all(homework_trace, {"a1^(1)": "0.5225", "a2^(1)": "0.5300",
                                        "z1^(2)": "0.2030"})
    assert verdicts(slipped, "z1^(2)") == ["wrong"] and slipped.first_wrong == 4


def test_a_single_slip_is_marked_once_and_later_work_follows(homework_trace) -> None:
    # Slip: z1^(1) = 0.19 (w11 read as 0.4; the machine's is 0.09).
    # From it: a1 = σ(0.19) = 1/(1 + e^−0.19) = 1/1.826959 = 0.547358 → "0.5474";
    # z1^(2) = 0.5·0.5474 − 0.3·0.529964 + 0.1 = 0.2737 − 0.158989 + 0.1 = 0.214711 → "0.2147";
    # ŷ1 = σ(0.2147) = 0.553470 → "0.5535". Each is worked correctly from the slipped number.
    answers = {"z1^(1)": "0.19", "a1^(1)": "0.5474", "z1^(2)": "0.2147", "ŷ1": "0.5535"}
    marking = mark_all(homework_trace, answers)
    assert verdicts(marking, *answers) == ["wrong", "follows", "follows", "follows"]
    assert marking.first_wrong == 0
    by_name = {m.name: m for m in marking.marks}
    assert by_name["a1^(1)"].expected == pytest.approx(0.5473576, abs=1e-7)
    assert by_name["z1^(2)"].expected == pytest.approx(0.2147108, abs=1e-7)
    # The wrong step shows its formula with the student's own numbers, and what they give.
    slip = by_name["z1^(1)"]
    assert "`0.19`" in slip.message and "0.09" in slip.message
    assert slip.substituted.endswith("= 0.09") and r"0.2 \cdot 0.5" in slip.substituted
    # A second, independent slip is wrong too; the first wrong stays the first.
    again = mark_all(homework_trace, {**answers, "z2^(1)": "0.13"})
    assert verdicts(again, "z2^(1)") == ["wrong"] and again.first_wrong == 0


def test_a_step_neither_right_nor_following_is_wrong_and_shows_the_students_numbers(
        homework_trace) -> None:
    # a1 = 0.5474 (from the slip above), z1^(2) typed 0.2100: the machine says 0.2023 and the
    # student's own numbers 0.2147, so it is wrong, with 0.5474 in the substituted formula.
    marking = mark_all(homework_trace, {"a1^(1)": "0.5474", "z1^(2)": "0.2100"})
    mark = marking.marks[4]
    assert mark.verdict == "wrong" and r"0.5 \cdot 0.5474" in mark.substituted
    assert mark.expected == pytest.approx(0.2147108, abs=1e-7)


def test_an_update_is_judged_by_the_change_it_makes(homework_trace) -> None:
    # ∂L/∂w11^(1) = −0.0024284; η = 0.1; w11 = 0.2 → w⁺ = 0.2 + 0.00024284 = 0.20024284.
    name_g, name_w = "∂L/∂w11^(1)", "new w11^(1)"
    right = mark_all(homework_trace, {name_g: "-0.002428", name_w: "0.2002428"})
    assert verdicts(right, name_g, name_w) == ["right", "right"]
    # w⁺ = 0.2002 is w⁺ to 4 digits, but its change −0.0002 has one digit of −0.0002428.
    short = mark_all(homework_trace, {name_w: "0.2002"})
    assert verdicts(short, name_w) == ["wrong"] and "w − w⁺" in short.marks[27].message
    # An 18%-off gradient, −0.002, then w⁺ = 0.2 − 0.1·(−0.002) = 0.2002 exactly: the update is
    # worked right from the student's own gradient ("follows"), the gradient itself wrong.
    wrong_grad = mark_all(homework_trace, {name_g: "-0.002", name_w: "0.2002"})
    assert verdicts(wrong_grad, name_g, name_w) == ["wrong", "follows"]
    assert wrong_grad.first_wrong == 13
    # The wrong gradient with the machine's update: the update is right (it is the machine's).
    assert verdicts(mark_all(homework_trace, {name_g: "-0.002", name_w: "0.20024284"}),
                    name_w) == ["right"]


def test_mazur_rounded_gradient_gives_a_right_update(mazur) -> None:
    # Rounded on the way: out_h1 = 0.5933, δ_o1 = 0.1385, ∂E/∂w5 = 0.1385·0.5933 = 0.08217;
    # w5⁺ = 0.4 − 0.5·0.08217 = 0.358915. The machine's change is 0.5·0.0821670 = 0.0410835,
    # the student's 0.041085: they differ in the 4th digit only because the gradient was rounded
    # (0.5·5e-6 = 2.5e-6 of slack), so the update is right.
    marking = mark_all(mazur, {"a1^(1)": "0.5933", "δ1^(2)": "0.1385",
                               "∂L/∂w11^(2)": "0.08217", "new w11^(2)": "0.358915"})
    assert verdicts(marking, "a1^(1)", "δ1^(2)", "∂L/∂w11^(2)", "new w11^(2)") == ["right"] * 4
    # w5⁺ = 0.3589 (a change of 0.0411, 3 digits) is not.
    assert verdicts(mark_all(mazur, {"new w11^(2)": "0.3589"}), "new w11^(2)") == ["wrong"]


def test_mazur_a_forgotten_bias_is_marked_once(mazur) -> None:
    # net_h1 without b1: 0.15·0.05 + 0.20·0.10 = 0.0275 (true 0.3775);
    # out_h1 = σ(0.0275) = 0.506875 → "0.5069";
    # net_o1 = 0.40·0.5069 + 0.45·0.596884 + 0.60 = 0.20276 + 0.268598 + 0.6 = 1.071358 → "1.071".
    answers = {"z1^(1)": "0.0275", "a1^(1)": "0.5069", "z1^(2)": "1.071"}
    marking = mark_all(mazur, answers)
    assert verdicts(marking, *answers) == ["wrong", "follows", "follows"]
    assert marking.first_wrong == 0


@pytest.mark.parametrize("typed", ["<b>0.5</b>", "abc", "1/2", "__import__('os')", "nan", "inf",
                                   "0.5.2", "![x](http://example.com/x.png)"])
def test_text_that_is_not_a_number_is_unreadable_with_a_message(homework_trace, typed) -> None:
    mark = mark_all(homework_trace, {"L": typed}).marks[8]
    assert mark.verdict == "unreadable" and mark.message and mark.value is None
    outside_code = mark.message.replace(code(typed), "")  # typed text only ever as inline code
    assert "<b>" not in outside_code and "](" not in outside_code


@pytest.mark.parametrize("typed", ["", "   ", None])
def test_empty_boxes_are_blank(homework_trace, typed) -> None:
    assert mark_all(homework_trace, {"L": typed}).marks[8].verdict == "blank"


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
def test_agrees_to_four_significant_digits_without_slack(typed, true, right) -> None:
    assert agrees(float(typed), true) is right


def test_half_unit_of_the_fourth_digit() -> None:
    assert half_unit(0.2022532) == pytest.approx(5e-5)
    assert half_unit(-0.0024284) == pytest.approx(5e-7)
    assert half_unit(1.106) == pytest.approx(5e-4) and half_unit(0.0) == 0.0
