"""The Backprop page's state in its URL, answers that survive a reload, a pasted problem, a
student's own numbers and the worksheets, under AppTest."""

from __future__ import annotations

import json

import pytest
from grid import edit

from core.backprop import problems
from core.backprop.problemfile import EXAMPLE

PAGE = "pages/backprop.py"


def box(app, step: str):
    return app.text_input(key=f"ans::{app.session_state['version']}::{step}")


def link_of(app, work: bool = False) -> dict[str, str]:
    query = dict(app.query_params)
    query = {k: v[-1] if isinstance(v, list) else v for k, v in query.items()}
    return query if work else {k: v for k, v in query.items() if k != "work"}


def test_a_copied_link_reopens_the_same_problem_mode_and_step(open_page) -> None:
    at = open_page(PAGE)
    at.radio(key="mode").set_value("try").run()
    edit(at, f"W0_{at.session_state['version']}", 0, "x1", "0.25")  # w11 of layer 1
    at.button[[b.label for b in at.button].index("Next ▶")].click().run()
    link = link_of(at)
    assert link["mode"] == "try" and link["step"] == "2" and link["W"].startswith("0.25,0.4")
    fresh = open_page(PAGE, query=link)  # a new session: nothing shared but the URL
    p = fresh.session_state["params"]
    assert p.W[0][0] == [0.25, 0.4, -0.5] and p.x == [0.5, 0.1, 0.3]
    assert fresh.session_state["mode"] == "try" and fresh.session_state["step"] == 1
    # The link says "homework", but its numbers are not the homework's: not believed.
    assert any("Your own problem" in i.value and "from a link" in i.value for i in fresh.info)
    assert link_of(fresh) == link


@pytest.mark.parametrize("query,complaint", [
    ({"shape": "3-2-2", "x": "abc,0.1,0.3", "y": "0.9,0.1", "W": "1", "b": "1", "lr": "0.1",
      "act": "sigmoid", "loss": "half_squared_error"}, "x holds something that is not a number"),
    ({"shape": "9-9"}, "the link's problem is missing"),
    ({"shape": "3-2-2", "x": "0.5,0.1,0.3", "y": "0.9,0.1", "W": "1e999", "b": "0", "lr": "0.1",
      "act": "sigmoid", "loss": "half_squared_error"}, "W holds something that is not a number"),
    ({"W": "0," * 3000}, "W in the link is too long"),
    ({"mode": "<script>alert(1)</script>"}, "mode in the link is neither show nor try"),
    ({"step": "__import__('os')"}, "step in the link is not a whole number"),
    ({"act": "gelu", "shape": "3-2-2", "x": "1,1,1", "y": "1,1", "W": "1,1,1;1,1,1|1,1;1,1",
      "b": "0,0|0,0", "lr": "0.1", "loss": "half_squared_error"}, "act or loss is not one"),
])
def test_a_tampered_link_gives_a_message_and_the_homework(open_page, query, complaint) -> None:
    at = open_page(PAGE, query=query)
    messages = [w.value for w in at.warning]
    assert any(complaint in m for m in messages), messages
    assert not any("<script>" in m or "__import__" in m for m in messages)  # never quoted
    assert at.session_state["params"] == problems.homework()
    assert any("The homework problem" in i.value for i in at.info)


def test_typed_answers_and_the_mode_survive_a_reload(open_page, monkeypatch) -> None:
    # Each AppTest is a browser of its own (its own XSRF cookie); a reload is the same browser
    # again, so here every AppTest is made one browser (core.backprop.workstore.work_key).
    monkeypatch.setattr("core.backprop.workstore.browser_key", lambda cookies: "one-browser")
    at = open_page(PAGE)
    at.radio(key="mode").set_value("try").run()
    box(at, "z1^(1)").input("0.09").run()
    box(at, "z1^(1)").input("0.19").run()  # changed the mind: the last text counts
    reloaded = open_page(PAGE, query=link_of(at, work=True))
    assert reloaded.session_state["mode"] == "try"
    assert reloaded.session_state["answers"] == {"z1^(1)": "0.19"}
    assert box(reloaded, "z1^(1)").value == "0.19"
    assert any("You typed `0.19`" in e.value for e in reloaded.error)
    # Another student opening the same problem (no work token of theirs) sees none of it.
    other = open_page(PAGE, query=link_of(at))
    assert other.session_state["answers"] == {}
    assert other.session_state["work"] != at.session_state["work"]
    # A classmate's browser given this student's whole address bar (work token included).
    monkeypatch.setattr("core.backprop.workstore.browser_key", lambda cookies: "their-browser")
    classmate = open_page(PAGE, query=link_of(at, work=True))
    assert classmate.session_state["answers"] == {}
    assert box(classmate, "z1^(1)").value == ""


def test_a_pasted_problem_is_loaded_whole_and_the_banner_says_whose(open_page) -> None:
    at = open_page(PAGE)
    at.toggle(key="show_paste").set_value(True).run()  # built when opened
    at.text_area(key="paste_text").input(EXAMPLE).run()
    at.button[[b.label for b in at.button].index("Load this problem")].click().run()
    p = at.session_state["params"]
    assert p.shape == (2, 2, 2) and p.W[1] == [[0.4, 0.45], [0.5, 0.55]] and p.y == [0.01, 0.99]
    assert at.session_state["lr"] == 0.5
    assert any("Your own problem" in i.value and "η = 0.5" in i.value and "pasted in" in i.value
               for i in at.info), [i.value for i in at.info]
    assert not any("homework" in m.value for m in at.markdown if "pen-and-paper" in m.value)
    # Mazur's out_o1 = 0.75136507 is step 7.
    jump = at.selectbox(key="jump")
    jump.set_value(6).run()
    assert any("0.751365" in el.value for el in at.latex)


@pytest.mark.parametrize("text,complaint", [
    ("not json", "this is not JSON"),
    (json.dumps({"x": [1]}), "the problem has no y, weights, biases"),
    (json.dumps({**json.loads(EXAMPLE), "x": ["![a](http://e.com/a.png)", 0.1]}),
     "x[0] is not a number (`![a](http://e.com/a.png)`)"),
    (json.dumps({**json.loads(EXAMPLE), "shape": [3, 2, 2]}), "the shape given is not"),
])
def test_a_bad_paste_says_why_and_keeps_the_problem(open_page, text, complaint) -> None:
    at = open_page(PAGE)
    at.toggle(key="show_paste").set_value(True).run()
    at.text_area(key="paste_text").input(text).run()
    at.button[[b.label for b in at.button].index("Load this problem")].click().run()
    assert any(complaint in e.value for e in at.error), [e.value for e in at.error]
    assert at.session_state["params"] == problems.homework()


def test_a_student_id_opens_that_students_worksheet_numbers(open_page) -> None:
    at = open_page(PAGE)
    at.text_input(key="student_id").input("s12").run()
    at.button[[b.label for b in at.button].index("Open my problem")].click().run()
    want = problems.practice((3, 2, 2), problems.student_seed("s12"), "half_squared_error")
    assert at.session_state["params"] == want
    assert any("student `s12`" in i.value and "seed 2158007614" in i.value for i in at.info)
    # The same through the URL, on a fresh session, and with a course code.
    by_link = open_page(PAGE, query={"id": "S12 "})
    assert by_link.session_state["params"] == want
    salted = open_page(PAGE, query={"id": "s12", "salt": "cs101"})
    assert salted.session_state["params"] == problems.practice(
        (3, 2, 2), problems.student_seed("s12", "cs101"), "half_squared_error")
    # Its link names the student, and the numbers back it up.
    again = open_page(PAGE, query=link_of(salted))
    assert any("student `s12`" in i.value and "cs101" in i.value for i in again.info)


def test_worksheets_for_a_class_come_as_one_zip(open_page) -> None:
    at = open_page(PAGE)
    assert not [t for t in at.text_area if t.key == "sheet_roster"]  # built when opened
    at.toggle(key="show_sheets").set_value(True).run()
    at.text_area(key="sheet_roster").input("s1\ns2\n").run()
    at.button[[b.label for b in at.button].index("Make worksheets")].click().run()
    assert "Worksheets and key (.zip)" in [d.label for d in at.get("download_button")]
    at.text_area(key="sheet_roster").input("../x\n").run()
    at.button[[b.label for b in at.button].index("Make worksheets")].click().run()
    assert any("cannot be a file name" in e.value for e in at.error)
