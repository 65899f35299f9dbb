"""Let me try under AppTest: the formula first, numbers only once answered or revealed, marks
that carry forward, the score, and a drawing that gives nothing away."""

from __future__ import annotations

import re
import time

import pytest
from typeset import equations  # the page's formulas, one equation per line

from core.backprop import checking

PAGE = "pages/backprop.py"


@pytest.fixture
def at(open_page):
    app = open_page(PAGE)
    app.radio(key="mode").set_value("try").run()
    return app


def box(app, step: str):
    return app.text_input(key=f"ans::{app.session_state['version']}::{step}")


def go(app, name: str) -> None:
    jump = app.selectbox(key="jump")
    jump.set_value(next(i for i, o in enumerate(jump.options) if o.split(" ")[1] == name)).run()


def score(app) -> str:
    return next(m.value for m in app.markdown if m.value.startswith("**Score"))


def drawn_values(app) -> dict[str, str]:
    """The value written in each unit of the drawing (an SVG: one group per unit)."""
    svg = next(m.value for m in app.markdown if m.value.startswith("<svg"))
    return dict(re.findall(r'data-unit="([^"]*)" data-value="([^"]*)"', svg))


def test_a_step_shows_its_formula_but_not_its_numbers(at) -> None:
    values = equations(at)
    assert any(v.startswith("z^{(1)}_{1} = w^{(1)}_{11} x_{1}") for v in values)
    assert "z^{(1)}_{1} = 0.09" not in values and not any(r"0.2 \cdot 0.5" in v for v in values)
    assert "Reveal" in [b.label for b in at.button]
    # The drawing shows the inputs, but no activation yet; w11 in full and the gradient table
    # (which hold every value) wait for Show me.
    assert drawn_values(at) == {"x1": "0.5", "x2": "0.1", "x3": "0.3", "h1": "?", "h2": "?",
                                "ŷ1": "?", "ŷ2": "?"}
    assert not any("agree within 1e-9" in e.label for e in at.expander)
    assert "**Score: 0 of 41**" in score(at)


def test_a_right_answer_opens_the_step_and_scores(at) -> None:
    box(at, "z1^(1)").input("0.09").run()
    assert "z^{(1)}_{1} = 0.09" in equations(at)
    assert any("`0.09` is right" in s.value for s in at.success)
    assert "**Score: 1 of 41** — 1 right" in score(at)
    assert at.selectbox(key="jump").options[0] == "1. z1^(1) — ✓ right"


def test_reveal_opens_a_step_and_counts_as_revealed(at) -> None:
    go(at, "a1^(1)")
    at.button(key=f"reveal::{at.session_state['version']}::a1^(1)").click().run()
    assert "a^{(1)}_{1} = 0.522485" in equations(at)
    assert drawn_values(at)["h1"] == "0.5225" and drawn_values(at)["h2"] == "?"
    assert "1 revealed" in score(at) and "**Score: 0 of 41**" in score(at)
    assert "3. a1^(1) — ◌ revealed" in at.selectbox(key="jump").options


def test_a_slip_is_wrong_once_and_later_work_follows(at) -> None:
    # z1^(1) = 0.19 is a slip (0.09); a1 = σ(0.19) = 0.547358 → 0.5474 follows from it.
    box(at, "z1^(1)").input("0.19").run()
    assert any("You typed `0.19`" in e.value and "0.09" in e.value for e in at.error)
    go(at, "a1^(1)")
    box(at, "a1^(1)").input("0.5474").run()
    assert any("`0.5474` follows from your own earlier numbers" in s.value for s in at.success)
    # Its numbers open (it follows), the drawing shows the student's own a1 is accepted.
    assert "a^{(1)}_{1} = 0.522485" in equations(at)
    assert any("First wrong step: $z^{(1)}_{1}$ (step 1)" in e.value for e in at.error)
    assert "**Score: 1 of 41** — 0 right, 1 worked right from your own numbers, 1 wrong" in \
        score(at)
    # The sheet lists every step with its mark; typed text stays text.
    sheet = at.dataframe[-1].value  # after the data editors
    assert list(sheet["mark"][:3]) == ["✗ wrong", "· not yet", "→ follows from your numbers"]


def test_typed_markdown_and_html_are_shown_as_code_never_rendered(at) -> None:
    box(at, "z1^(1)").input("![x](http://example.com/x.png) <b>1</b>").run()
    messages = [w.value for w in at.warning]
    # Quoted as inline code (and shortened), so no image is fetched and no tag is drawn.
    assert any("(`![x](http://example.com…`)" in m for m in messages), messages


def test_show_me_again_shows_every_number(at) -> None:
    at.radio(key="mode").set_value("show").run()
    assert "z^{(1)}_{1} = 0.09" in equations(at)
    assert drawn_values(at)["h1"] == "0.5225"
    # SymPy's column arrives from the background (at once if an earlier test built it).
    deadline = time.monotonic() + 120
    while not checking.ready((3, 2, 2), "sigmoid", "half_squared_error"):
        assert time.monotonic() < deadline, "SymPy's build did not finish in 2 minutes"
        time.sleep(0.2)
    at.run()
    assert any("agree within 1e-9" in e.label for e in at.expander)
