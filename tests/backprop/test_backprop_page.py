"""The Backprop page under AppTest: edit a weight, step through, check my work, bad input."""

from __future__ import annotations

import pytest
from grid import edit
from typeset import equations  # the page's formulas, one equation per line

from core.backprop import problems


def test_default_page_shows_homework_illustrative_weights_and_first_step(at) -> None:
    assert any("illustrative" in i.value and "Figure 1" in i.value for i in at.info)
    # Step 1: z1 of layer 1 as formula, with numbers, and its value 0.09.
    assert r"z^{(1)}_{1} = 0.2 \cdot 0.5 + 0.4 \cdot 0.1 + \left(-0.5\right) \cdot 0.3 + 0.1" \
        in equations(at)
    assert "z^{(1)}_{1} = 0.09" in equations(at)
    # The network, drawn as one SVG with step 1's unit h1 lit.
    drawings = [m.value for m in at.markdown if m.value.startswith("<svg")]
    assert len(drawings) == 1 and 'data-unit="h1"' in drawings[0]
    assert any("14 agree within 1e-9" in e.label for e in at.expander)
    assert [d.label for d in at.get("download_button")][-4:] == [
        "Markdown (with LaTeX)", "LaTeX (.tex, compiles with pdflatex)",
        "Problem and trace (.json)", "Step values (.csv)"]


def test_editing_a_weight_changes_the_numbers(at) -> None:
    # w11 of layer 1: 0.2 -> 0.4 makes z1 = 0.09 + 0.2*0.5 = 0.19.
    edit(at, f"W0_{at.session_state['version']}", 0, "x1", 0.4)
    values = equations(at)
    assert "z^{(1)}_{1} = 0.19" in values and "z^{(1)}_{1} = 0.09" not in values
    assert any(r"0.4 \cdot 0.5" in v for v in values)


def test_step_through_with_next_previous_jump_and_show_all(at) -> None:
    at.button[[b.label for b in at.button].index("Next ▶")].click().run()
    assert "z^{(1)}_{2} = 0.12" in equations(at)
    at.button[[b.label for b in at.button].index("◀ Previous")].click().run()
    assert "z^{(1)}_{1} = 0.09" in equations(at)
    jump = at.selectbox(key="jump")
    target = next(i for i in jump.options if "new w11^(1)" in i)
    jump.select(jump.options.index(target) if isinstance(jump.value, int) else target).run()
    assert any(r"w^{(1)\,\mathrm{new}}_{11} = 0.2 - 0.1" in v for v in equations(at))
    at.toggle(key="show_all").set_value(True).run()
    # All 41 steps at once, one aligned block per stage and layer: forward ×2, the loss,
    # deltas ×2, gradients ×2, updates ×2. Each step keeps its three lines in its block.
    trace = at.session_state["last_good"][0]
    typeset = [el.value.strip().removeprefix("$$").removesuffix("$$").strip() for el in at.latex]
    blocks = [v for v in typeset if v.startswith(r"\begin{aligned}")
              and v != trace.w11.expression]  # (w11 in full, further down, is aligned too)
    assert len(blocks) == 9
    text = " ".join(blocks)
    assert all(f"{s.label} &= " in text for s in trace.steps)
    assert r"z^{(1)}_{1} &= w^{(1)}_{11} x_{1} + w^{(1)}_{12} x_{2}" in text
    assert r"&= 0.2 \cdot 0.5 + 0.4 \cdot 0.1 + \left(-0.5\right) \cdot 0.3 + 0.1 \\ &= 0.09" \
        in text
    # new w11 = 0.2 − 0.1·(−0.0024284) = 0.20024284
    assert r"&= 0.2 - 0.1 \cdot \left(-0.0024284\right) \\ &= 0.200243" in text
    # The gradients' three checks, as a plain table under each gradient block.
    assert any("| ∂L/∂w11^(1) | -0.002428" in m.value for m in at.markdown)
    # Show me needs no answer boxes here: every value is on the page.
    assert not [t for t in at.text_input if str(t.key).startswith("ans::")]


def test_gradient_step_shows_three_checks_badge(at) -> None:
    jump = at.selectbox(key="jump")
    jump.set_value(jump.options.index(next(o for o in jump.options if "∂L/∂w11^(1)" in o))).run()
    assert any("Three checks agree within 1e-9" in s.value for s in at.success)


def answer_box(app, step: str):
    """The "your value" box of a step; its key carries the problem's version."""
    return app.text_input(key=f"ans::{app.session_state['version']}::{step}")


def test_check_my_work_marks_wrong_and_right_and_survives_bad_text(at) -> None:
    z1 = "$z^{(1)}_{1}$"  # feedback names the step as the formulas do
    answer_box(at, "z1^(1)").input("0.1").run()
    assert any(f"{z1}: You typed `0.1`, but" in e.value for e in at.error)
    assert any(f"First wrong step: {z1} (step 1)" in e.value for e in at.error)
    answer_box(at, "z1^(1)").input("0.09").run()
    assert any(f"{z1}: `0.09` is right" in s.value for s in at.success)
    assert any("Every value you typed is right" in s.value for s in at.success)
    answer_box(at, "z1^(1)").input("zero point nine").run()
    assert any("is not a number" in w.value for w in at.warning)


@pytest.mark.parametrize("typed,complaint", [
    (None, "is empty: type a number"),
    ("abc", "is not a number (`abc`)"),
    ("1e308", "= 1e+308 is too large"),  # text cells: the grid cannot turn this into 1308
    ("nan", "is NaN"),
])
def test_bad_cell_gives_a_message_naming_the_cell_not_a_traceback(at, typed,
                                                                   complaint) -> None:
    edit(at, f"W1_{at.session_state['version']}", 1, "h2", typed)
    assert any(e.value.startswith(f"Layer 2, row ŷ2, column h2 (w22) {complaint}")
               for e in at.error), [e.value for e in at.error]
    assert any("last problem that worked" in w.value for w in at.warning)
    # The steps still show the last problem that worked: nothing computed is lost.
    assert any("0.09" in v for v in equations(at))


def test_a_typed_number_with_exponent_or_page_minus_sign_is_read(at) -> None:
    edit(at, f"W0_{at.session_state['version']}", 0, "x1", "−2e-1")
    assert not at.error, [e.value for e in at.error]
    assert at.session_state["last_good"][0].problem.W[0][0, 0] == -0.2


def test_new_practice_problem_shows_its_seed(at) -> None:
    at.button[[b.label for b in at.button].index("New practice problem")].click().run()
    seed = at.session_state["origin"]["seed"]
    assert any(f"seed {seed}" in i.value for i in at.info)


def test_softmax_cross_entropy_and_shape_change(at) -> None:
    at.selectbox(key="loss").set_value("cross_entropy").run()
    assert any("output** layer is a softmax" in c.value for c in at.caption)
    at.number_input(key="n_hidden_layers").set_value(2).run()
    at.number_input(key="n_out").set_value(3).run()
    assert at.session_state["params"].shape == (3, 2, 2, 3)
    # w11 now reaches the loss along 2 hidden units x 3 outputs = 6 paths, through ŷ3 too.
    at.toggle(key="show_w11").set_value(True).run()
    assert any("along 6 path(s)" in m.value for m in at.markdown)
    assert any(r"\frac{\partial L}{\partial z^{(3)}_{3}}" in v for v in equations(at))


def test_a_stale_answer_box_after_a_shape_change_is_no_traceback(at) -> None:
    """A browser that has not yet drawn the new problem can still send the old problem's answer
    box (typed, then the shape changed before Enter). Running an element of the old tree sends
    exactly that stale set of widgets; its answer must be ignored, never a KeyError."""
    stale_box = answer_box(at, "z1^(1)")
    at.number_input(key="n_in").increment().run()
    assert at.session_state["params"].shape == (4, 2, 2)
    stale_box.input("0.09").run()
    assert "0.09" not in at.session_state["answers"].values()
    answer_box(at, "z1^(1)").input("1.5").run()
    assert at.session_state["answers"] == {"z1^(1)": "1.5"}


def test_changing_the_shape_keeps_every_number_that_fits_and_says_whose_it_is(at) -> None:
    at.number_input(key="hidden_0").set_value(3).run()
    p = at.session_state["params"]
    assert p.shape == (3, 3, 2) and p.x == [0.5, 0.1, 0.3] and p.y == [0.9, 0.1]
    # The homework's two hidden units keep their weights and biases; the third is new.
    assert p.W[0][:2] == [[0.2, 0.4, -0.5], [0.3, -0.1, 0.6]] and p.b[0][:2] == [0.1, -0.2]
    assert [row[:2] for row in p.W[1]] == [[0.5, -0.3], [0.2, 0.7]] and p.b[1] == [0.1, -0.1]
    assert any("Your own problem" in i.value and "3-3-2 network" in i.value
               and "the homework problem in a new shape" in i.value for i in at.info), \
        [i.value for i in at.info]
    # Back to two units: the homework's numbers, all of them, again.
    at.number_input(key="hidden_0").set_value(2).run()
    assert at.session_state["params"] == problems.homework()
    at.button[[b.label for b in at.button].index("Back to the homework problem")].click().run()
    at.selectbox(key="activation").set_value("tanh").run()
    assert any("The homework problem" in i.value and "changed in the sidebar: activation tanh"
               in i.value for i in at.info), [i.value for i in at.info]


# ----------------------------------------------------------------------------- issue 15
@pytest.mark.parametrize("key,value,complaint", [
    ("n_in", None, "Inputs is empty"),
    ("n_in", 0, "Inputs must be 1 to 6, not 0"),
    ("n_in", 99, "Inputs must be 1 to 6, not 99"),
    ("n_out", -1, "Outputs must be 1 to 6, not -1"),
    ("hidden_0", None, "Units in hidden layer 1 is empty"),
    ("n_hidden_layers", 7, "Hidden layers must be 0 to 3, not 7"),
])
def test_a_cleared_or_out_of_range_shape_box_keeps_the_problem_and_says_why(
        at, key, value, complaint) -> None:
    answer_box(at, "z1^(1)").input("0.09").run()
    at.number_input(key=key).set_value(value).run()
    assert at.session_state["params"] == problems.homework()
    assert any(e.value.startswith(f"{complaint}: the problem stays 3-2-2")
               for e in at.sidebar.error), [e.value for e in at.sidebar.error]
    assert at.session_state["answers"] == {"z1^(1)": "0.09"}  # the student's work is kept
    at.number_input(key=key).set_value(3 if key == "n_in" else (1 if key == "n_hidden_layers"
                                                                  else 2)).run()
    assert at.session_state["params"] == problems.homework()  # the same weights, not new ones
    assert not at.sidebar.error


@pytest.mark.parametrize("typed,complaint", [
    ("1,5", "use a point for decimals"),
    ("abc", "is not a number (`abc`)"),
    ("1e308", "must be above 0 and at most 1e+06, not `1e308`"),
    ("0", "must be above 0"),
    ("![x](http://example.com/x.png)", "(`![x](http://example.com…`)"),
])
def test_a_learning_rate_that_is_not_usable_is_refused_not_changed(at, typed, complaint) -> None:
    at.text_input(key="lr_text").input(typed).run()
    assert at.session_state["lr"] == 0.1
    assert any(complaint in e.value and "η stays 0.1" in e.value for e in at.sidebar.error), \
        [e.value for e in at.sidebar.error]
    at.text_input(key="lr_text").input("0.5").run()
    assert at.session_state["lr"] == 0.5 and not at.sidebar.error
    assert at.session_state["last_good"][0].problem.lr == 0.5


@pytest.mark.parametrize("table,delta", [
    ("x", {"edited_rows": {99: {"x1": "0.3"}}, "added_rows": [], "deleted_rows": []}),
    ("x", {"edited_rows": {}, "added_rows": [], "deleted_rows": [0]}),
    ("W0", {"edited_rows": {}, "added_rows": [], "deleted_rows": [0]}),
    ("W1", {"edited_rows": {0: {"zz": "0.3"}}, "added_rows": [], "deleted_rows": []}),
    ("y", {"edited_rows": {}, "added_rows": [{"ŷ1": "1"}], "deleted_rows": []}),
    ("y", {"edited_rows": {"a": 1}, "added_rows": [], "deleted_rows": []}),
])
def test_a_modified_clients_table_payload_is_ignored(at, table, delta) -> None:
    at.session_state[f"{table}_{at.session_state['version']}"] = delta
    at.run()  # the fixture fails the test on any exception (IndexError, KeyError before)
    assert any("did not fit this table" in c.value for c in at.caption)
    assert at.session_state["last_good"][0].problem.shape == (3, 2, 2)


def test_the_edits_that_fit_survive_a_payload_that_does_not(at) -> None:
    key = f"W0_{at.session_state['version']}"
    at.session_state[key] = {"edited_rows": {0: {"x1": "0.4"}, 99: {"x1": "9"}},
                             "added_rows": [], "deleted_rows": []}
    at.run()
    assert at.session_state["last_good"][0].problem.W[0][0, 0] == 0.4  # row 0 kept, 99 ignored
    assert "z^{(1)}_{1} = 0.19" in equations(at)


def test_a_student_id_is_quoted_as_code_in_the_banner(at) -> None:
    at.text_input(key="student_id").input("**big** ![i](http://e.com)").run()
    at.button[[b.label for b in at.button].index("Open my problem")].click().run()
    assert any("student `**big** ![i](http://e.c…`" in i.value for i in at.info), \
        [i.value for i in at.info]
