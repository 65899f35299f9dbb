"""In Chromium: SymPy's checks of a new shape arrive while the student clicks Next, and no click
is lost. They used to arrive by a whole-page re-run (a polling fragment calling st.rerun()),
which could swallow a Next clicked in that moment; now the step viewer's own fragment polls for
them, so the page never re-runs as a whole when they come in."""

import re

import pytest
from playwright.sync_api import expect

from tests.serving import websocket_frames, whole_page_runs

pytestmark = pytest.mark.browser
expect.set_options(timeout=30_000)  # two shared cores: a slow run is not a failing page


def test_next_clicked_while_sympy_checks_arrive_is_never_lost(page, app_url, goto,
                                                              wait_app) -> None:
    frames = websocket_frames(page)
    goto(page, app_url + "/backprop", "Backprop by hand")
    # A shape no other test builds, whose gradient takes SymPy seconds (5-5-3, about 2 s on one
    # core, after a second's wait and the start of its process): the checks are still to come.
    for label, value in (("Inputs", "5"), ("Units in hidden layer 1", "5"), ("Outputs", "3")):
        box = page.get_by_label(label, exact=True)
        box.fill(value)
        box.press("Enter")
        wait_app(page)
    expect(page).to_have_url(re.compile(r"shape=5-5-3&"))
    total = 121  # 16 forward, the loss, 8 deltas, 48 gradients, 48 updates
    expect(page.get_by_text(f"Step 1 of {total}", exact=True)).to_be_visible()
    checking = page.get_by_text("SymPy is differentiating the whole loss")
    expect(checking.first).to_be_visible()
    seen = len(frames)

    step, after = 1, 0
    while after < 2:  # click on until the checks are in, and twice more
        assert step < total, "SymPy's checks did not arrive while stepping through the pass"
        if not checking.count():
            after += 1
        page.get_by_role("button", name="Next ▶").click()
        step += 1
        # A lost click would leave the previous step on screen: this would time out.
        expect(page.get_by_text(f"Step {step} of {total}", exact=True)).to_be_visible()
        wait_app(page)
    assert whole_page_runs(frames[seen:]) == 0, "the checks' arrival re-ran the whole page"
    # Once in, every gradient's three checks are there, SymPy's among them.
    page.get_by_text(re.compile(r"^All 48 gradients, three ways")).click()
    expect(page.get_by_text(re.compile(r"∂L/∂w11\^\(1\)"))).not_to_have_count(0)
    expect(page.get_by_text("checking…")).to_have_count(0)
