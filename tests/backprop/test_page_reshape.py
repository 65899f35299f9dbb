"""A new shape keeps the data grids it leaves unchanged (their editors' keys), and a new problem
still starts every grid afresh: no edit of the old problem reaches the new one."""

from __future__ import annotations

from grid import edit
from typeset import equations  # the page's formulas, one equation per line

from core.backprop import problems


def keys(app) -> dict[int, int]:
    return dict(app.session_state["table_stamps"])


def test_one_hidden_unit_more_keeps_the_x_and_y_grids_and_renews_the_weights(at) -> None:
    before = keys(at)
    at.number_input(key="hidden_0").set_value(3).run()
    after = keys(at)
    # x (1×3) and y (1×2) are the same tables; W⁽¹⁾ gains a row and W⁽²⁾ a column.
    assert after[0] == before[0] and after[1] == before[1]
    assert after[2] != before[2] and after[3] != before[3]
    # The kept grids still feed the numbers: edit x1 under its old key, and z1 follows
    # (0.2·0.25 + 0.4·0.1 − 0.5·0.3 + 0.1 = 0.04).
    edit(at, f"x_{after[0]}", 0, "x1", "0.25")
    assert at.session_state["last_good"][0].problem.x.tolist() == [0.25, 0.1, 0.3]
    assert "z^{(1)}_{1} = 0.04" in equations(at)


def test_an_edited_table_that_a_reshape_carries_over_starts_a_new_grid(at) -> None:
    edit(at, f"x_{keys(at)[0]}", 0, "x1", "0.25")
    before = keys(at)
    at.number_input(key="hidden_0").set_value(3).run()
    # The edit is now in the table itself (the reshape keeps every number that fits), so the
    # grid starts from it: under the old key it would apply the edit a second time.
    assert keys(at)[0] != before[0]
    assert at.session_state["params"].x == [0.25, 0.1, 0.3]


def test_back_to_the_homework_after_an_edit_gives_the_homework_numbers(at) -> None:
    edit(at, f"x_{keys(at)[0]}", 0, "x1", "0.25")
    at.button[[b.label for b in at.button].index("Back to the homework problem")].click().run()
    # The same starting tables as before the edit, yet no grid keeps the edit typed into it.
    assert at.session_state["last_good"][0].problem.x.tolist() == [0.5, 0.1, 0.3]
    assert at.session_state["params"] == problems.homework()


def test_a_step_picked_by_a_label_drawn_before_its_mark_changed_is_no_traceback(at) -> None:
    """Go to step's labels carry the marks; a browser can send a label from before a mark
    changed, which no option has any more (Streamlit then passes the text on)."""
    at.radio(key="mode").set_value("try").run()
    jump = at.selectbox(key="jump").set_value(2)

    class DrawnBefore(list):  # what that browser sends for step 3: its old label
        def index(self, *_) -> int:
            return 2

    jump.options = DrawnBefore([*jump.options[:2], "3. z3^(1) — as drawn before",
                                *jump.options[3:]])
    at.run()
    assert at.session_state["step"] == 2  # the fixture fails the test on any page exception
