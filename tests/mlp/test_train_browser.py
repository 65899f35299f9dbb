"""In headless Chromium: start a run, watch its chart grow, stop it, find it in the runs table."""

from __future__ import annotations

import re
import time

import pytest

pytestmark = pytest.mark.browser

RECORDS = re.compile(r"records so far: (\d+)")


def records_shown(page) -> int:
    caption = page.get_by_text(RECORDS).first
    caption.wait_for(timeout=30_000)
    return int(RECORDS.search(caption.inner_text()).group(1))


def test_train_watch_stop_and_see_it_in_the_runs_table(page, app_url, wait_app,
                                                       screenshot_dir) -> None:
    page.goto(app_url)
    wait_app(page)
    page.locator('[data-testid="stSidebarNav"]').get_by_text("Train an MLP", exact=True).click()
    page.get_by_role("heading", name="Train an MLP").first.wait_for(timeout=60_000)
    wait_app(page, timeout=60_000)
    epochs = page.get_by_role("textbox", name="Epochs", exact=True)
    # The most the form allows: digits trains 1,000 epochs in about 10 s now, which a loaded
    # machine's screenshot and click can outlast (the run then finishes instead of stopping).
    epochs.fill("10000")
    epochs.press("Enter")
    wait_app(page)

    page.locator(".st-key-train button").click()
    # The live panel redraws while the run trains: the record count and the chart grow.
    deadline = time.monotonic() + 30
    first = 0
    while first == 0 and time.monotonic() < deadline:
        first = records_shown(page)
        time.sleep(0.2)
    assert first > 0, "no record drawn within 30 s"
    charts = page.locator('[data-testid="stVegaLiteChart"]')
    charts.first.locator("canvas, svg").first.wait_for(timeout=30_000)
    later = first
    while later <= first and time.monotonic() < deadline:
        time.sleep(0.3)
        later = records_shown(page)
    assert later > first, f"the chart did not grow ({first} records, then {later})"
    page.set_viewport_size({"width": 1400, "height": 2600})
    page.screenshot(path=str(screenshot_dir / "train_live.png"))

    page.locator(".st-key-stop button").click()
    page.get_by_text("finished records are kept").first.wait_for(timeout=30_000)
    kept = records_shown(page)
    assert later <= kept < 10000
    wait_app(page, timeout=30_000)
    # The live panel (a fragment) can report the stop before the whole page reruns and redraws
    # the runs table; the page reruns itself once the job has ended, so wait for that.
    cells: list[str] = []
    deadline = time.monotonic() + 30
    while "stopped" not in cells and time.monotonic() < deadline:
        # st.dataframe draws on a canvas; its accessible table carries the cell text.
        table = page.get_by_test_id("stDataFrame").last
        table.locator("td").first.wait_for(state="attached", timeout=30_000)
        cells = table.locator("td").all_text_contents()
        if "stopped" not in cells:
            time.sleep(0.3)
    assert "stopped" in cells, cells[:40]
    assert str(kept) in cells  # the records column of the stopped run
    assert page.locator('[data-testid="stException"]').count() == 0
    page.set_viewport_size({"width": 1400, "height": 3400})
    page.screenshot(path=str(screenshot_dir / "train_stopped.png"))


# The rendered extent of each display formula next to the box that clips it.
FORMULA_EXTENTS = """() => [...document.querySelectorAll('.katex-display')].map(k => {
    const box = k.getBoundingClientRect();
    const parts = [...k.querySelectorAll('.katex-html .base')].map(b => b.getBoundingClientRect());
    return {text: k.innerText.replace(/\\s+/g, ' '), boxRight: box.right,
            right: Math.max(...parts.map(r => r.right)), boxLeft: box.left,
            left: Math.min(...parts.map(r => r.left))};
})"""


def test_parameter_formula_fits_its_column(page, app_url, wait_app, screenshot_dir) -> None:
    """784-64-10 on mnist5k was cut to "= 50,89" by the narrow right column; a 10-hidden-layer
    net must fit too."""
    page.goto(app_url)
    wait_app(page)
    page.locator('[data-testid="stSidebarNav"]').get_by_text("Train an MLP", exact=True).click()
    page.get_by_role("heading", name="Train an MLP").first.wait_for(timeout=60_000)
    wait_app(page, timeout=60_000)
    page.get_by_role("combobox", name="Data set").click()
    page.get_by_role("option", name="mnist5k", exact=True).click()
    wait_app(page, timeout=60_000)
    for hidden, total in (("64", "50,890"), (", ".join(["64"] * 10), "88,330")):
        box = page.get_by_role("textbox", name="Hidden layers")
        box.fill(hidden)
        box.press("Enter")
        wait_app(page, timeout=60_000)
        page.locator(".katex-display").filter(has_text=total).first.wait_for(timeout=30_000)
        (formula,) = [f for f in page.evaluate(FORMULA_EXTENTS) if total in f["text"]]
        assert formula["right"] <= formula["boxRight"] + 0.5, formula
        assert formula["left"] >= formula["boxLeft"] - 0.5, formula
    page.screenshot(path=str(screenshot_dir / "train_formula_deep.png"))


def test_a_copied_link_reopens_the_form_on_a_fresh_server(page, browser, app_url, fresh_app_url,
                                                         goto, wait_app, screenshot_dir) -> None:
    """Type settings, take the address bar's link, open it in a new browser context on a server
    that has never seen this session: the same form."""
    from playwright.sync_api import expect

    goto(page, f"{app_url}/train", "Train an MLP")
    typed = {"Hidden layers": "32, 16", "Learning rate η": "0.25", "Epochs": "7"}
    for name, value in typed.items():
        box = page.get_by_role("textbox", name=name, exact=True)
        box.fill(value)
        box.press("Enter")
        wait_app(page)
    page.get_by_role("combobox", name="Data set").click()
    page.get_by_role("option", name="spirals", exact=True).click()
    wait_app(page)
    # The page writes the form into its URL as it reruns: wait until all of it is there.
    for part in ("dataset=spirals", "hidden=32%2C\\+16", "lr=0.25", "epochs=7"):
        expect(page).to_have_url(re.compile(part), timeout=30_000)
    link = page.url.replace(app_url, fresh_app_url)
    other = browser.new_context(viewport={"width": 1400, "height": 3000})
    try:
        fresh = other.new_page()
        goto(fresh, link, "Train an MLP")
        # A fresh server under load can take many seconds to mount the boxes after the page's
        # text is drawn (the form itself is already restored by then).
        for name, value in typed.items():
            expect(fresh.get_by_role("textbox", name=name, exact=True)).to_have_value(
                value, timeout=60_000)
        expect(fresh.get_by_text("input 2 features").first).to_be_visible(timeout=60_000)
        fresh.screenshot(path=str(screenshot_dir / "train_from_link.png"), full_page=True)
    finally:
        other.close()


def test_a_slip_in_a_lone_box_disables_train_until_it_is_fixed(page, app_url, goto,
                                                               wait_app) -> None:
    """η's box re-runs alone (a fragment of its own); a value the form cannot use still reaches
    the whole form: its sentence quoting what was typed and Train disabled; fixed, both go and
    the link takes the new value."""
    from playwright.sync_api import expect

    goto(page, f"{app_url}/train", "Train an MLP")
    train = page.locator(".st-key-train button")
    lr = page.get_by_role("textbox", name="Learning rate η", exact=True)
    lr.fill("0.3")
    lr.press("Enter")
    wait_app(page)
    expect(page).to_have_url(re.compile(r"lr=0\.3"), timeout=30_000)
    expect(train).to_be_enabled()
    lr.fill("fast")
    lr.press("Enter")
    wait_app(page)
    problem = page.locator('[data-testid="stAlertContentError"]').filter(has_text="fast")
    expect(problem).to_have_count(1, timeout=30_000)
    expect(train).to_be_disabled()
    lr.fill("0.05")
    lr.press("Enter")
    wait_app(page)
    expect(problem).to_have_count(0, timeout=30_000)
    expect(train).to_be_enabled()
    expect(page).to_have_url(re.compile(r"lr=0\.05"), timeout=30_000)
    assert page.locator('[data-testid="stException"]').count() == 0
