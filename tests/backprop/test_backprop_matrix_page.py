"""The matrix form view under AppTest: shapes under every operand, step-through, entry marks in
Let me try, the homework convention and the batch gradient as the mean of the examples'."""

from __future__ import annotations

import pytest

from core.backprop import trace_step
from core.backprop.problems import homework, practice

PAGE = "pages/backprop.py"


@pytest.fixture
def at(open_page):
    app = open_page(PAGE)
    app.radio(key="view").set_value("matrix").run()
    return app


def state_keys(app) -> list:
    """The keys in the session's state. AppTest at our floor (Streamlit 1.60) cannot iterate
    `at.session_state` (Python falls back to `[0]`: KeyError) but has `filtered_state`; newer
    releases iterate it and look every attribute up as a key."""
    try:
        return list(app.session_state)
    except KeyError:
        return list(app.session_state.filtered_state)


def go(app, name: str) -> None:
    jump = app.selectbox(key="mjump")
    jump.set_value(next(i for i, o in enumerate(jump.options) if o.endswith(f" {name}"))).run()


def test_each_step_has_its_shapes_and_numbers(latex, at) -> None:
    values = latex(at)
    assert any(v.startswith(r"Z^{(1)} = \underset{2\times 3}{X} \underset{3\times 2}"
                            r"{W^{(1)\top}}") for v in values), values
    # Row 1 of Z^(1) is the homework's z^(1) = [0.09, 0.12].
    assert any(v.startswith(r"Z^{(1)} = \begin{bmatrix} 0.09 & 0.12 \\") for v in values)
    assert any("X$ is 2 × 3" in c.value for c in at.caption)
    assert any("The homework reports' convention" in i.value and "x^\\top \\delta" in i.value
               for i in at.info)
    at.button(key="mnext").click().run()
    assert any(v.startswith(r"A^{(1)} = \sigma\left(") for v in latex(at))


def test_the_batch_gradient_is_shown_as_the_mean_of_the_examples(at) -> None:
    table = at.dataframe[-1].value
    hw, second = homework(), practice((3, 2, 2), 101, "half_squared_error")
    g1 = trace_step(hw.W, hw.b, hw.x, hw.y, 0.1).grad_weights[0][0, 0]
    g2 = trace_step(hw.W, hw.b, second.x, second.y, 0.1).grad_weights[0][0, 0]
    row = table[table["weight"] == "w11^(1)"].iloc[0]
    assert float(row["example 1"]) == pytest.approx(g1, rel=1e-5)
    assert float(row["example 2"]) == pytest.approx(g2, rel=1e-5)
    assert float(row["batch ∂L/∂W^(1)"]) == pytest.approx((g1 + g2) / 2, rel=1e-5)
    assert row["mean of the examples"] == row["batch ∂L/∂W^(1)"]


def test_b_equal_one_is_the_one_example_view(latex, at) -> None:
    at.number_input(key="batch_B").set_value(1).run()
    go(at, "∂L/∂W^(1)")
    # ∂L/∂w11^(1) of the homework, −0.0024284, is entry (1, 1).
    assert any(r"\begin{bmatrix} -0.0024284 &" in v for v in latex(at))


def test_let_me_try_marks_entry_by_entry(latex, at) -> None:
    at.radio(key="mode").set_value("try").run()
    assert not any(r"\begin{bmatrix} 0.09" in v for v in latex(at))
    key = next(k for k in state_keys(at) if str(k).startswith("mans::") and
               str(k).endswith("::Z^(1)"))
    at.session_state[key] = {"edited_rows": {0: {"1": "0.09", "2": "0.13"}}, "added_rows": [],
                             "deleted_rows": []}
    at.run()
    marks = at.dataframe[-1].value
    assert marks.iloc[0, 0] == "✓ right" and marks.iloc[0, 1] == "✗ wrong"
    assert any("First wrong entry: Z^(1), entry (1, 2)" in e.value for e in at.error)


def test_a_bad_x_cell_is_named(at) -> None:
    key = next(k for k in state_keys(at) if str(k).startswith("bX_"))
    at.session_state[key] = {"edited_rows": {1: {"x2": "abc"}}, "added_rows": [],
                             "deleted_rows": []}
    at.run()
    assert any(e.value.startswith("X[1][1] is not a number (`abc`)") for e in at.error), \
        [e.value for e in at.error]
