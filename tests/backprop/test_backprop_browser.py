"""In Chromium: step through the Backprop page to the update of w11 and see it rendered by KaTeX."""

import os
import re
import shutil

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser
# Five engineers share two cores: under that load a rerun can take far longer than Playwright's
# default 5 s, and a slow machine is not a failing page.
expect.set_options(timeout=30_000)


def test_step_to_w11_update_and_see_formula(page, app_url, goto, wait_app,
                                            screenshot_dir) -> None:
    goto(page, app_url + "/backprop", "Backprop by hand")
    page.locator('svg[aria-label="The network"]').first.wait_for(timeout=90_000)
    # Two clicks on Next, then jump to the update of w11 with the step picker.
    expect(page.get_by_text("Step 1 of 41")).to_be_visible(timeout=30_000)
    # On a fresh server SymPy may still be differentiating this shape: the step viewer polls for
    # its checks itself, so the steps are clicked at once (no click is lost when they arrive).
    for n in (2, 3):
        page.get_by_role("button", name="Next ▶").click()
        expect(page.get_by_text(f"Step {n} of 41")).to_be_visible(timeout=30_000)
        wait_app(page)
    # The only select box in the main area (activation and loss sit in the sidebar).
    page.locator('[data-testid="stMain"] [data-testid="stSelectbox"]').first.click()
    page.keyboard.type("new w11^(1)")  # the list is long and virtualised: filter it
    page.get_by_role("option", name="28. new w11^(1)").click()
    wait_app(page)
    expect(page.get_by_text("Step 28 of 41")).to_be_visible(timeout=30_000)
    # The innermost block holding the step title is the step's bordered container.
    step = page.locator('[data-testid="stVerticalBlock"]').filter(
        has=page.get_by_text("Step 28 of 41")).last
    # The update's three lines are typeset by KaTeX: symbolic (with η), numbers, value.
    formulas = step.locator(".katex")
    formulas.first.wait_for(timeout=30_000)
    text = " ".join(formulas.all_inner_texts())
    assert "η" in text and "0.200243" in text, text
    expect(page.locator('[data-testid="stException"]')).to_have_count(0)
    page.screenshot(path=str(screenshot_dir / "backprop_w11_update.png"), full_page=True)


def test_both_downloads_deliver_the_derivation(page, app_url, goto, tmp_path) -> None:
    """The files are written when the button is clicked (deferred data): what arrives must be
    the whole derivation, and the .tex must compile."""
    from core.export import compile_tex

    goto(page, app_url + "/backprop", "Download")
    texts = {}
    for label in ("Markdown (with LaTeX)", "LaTeX (.tex, compiles with pdflatex)"):
        with page.expect_download(timeout=60_000) as info:
            page.get_by_role("button", name=label).click()
        path = tmp_path / info.value.suggested_filename
        info.value.save_as(path)
        texts[path.suffix] = path.read_text(encoding="utf-8")
    assert "The update of w11 in full" in texts[".md"] and "0.2002428" in texts[".md"]
    assert texts[".tex"].startswith(r"\documentclass")
    if shutil.which("pdflatex") or os.environ.get("CI"):
        ok, log = compile_tex(texts[".tex"])
        assert ok, log


def typed(step) -> str:
    """What a student writes: 4 significant digits, and an update with enough digits that its
    change w − w⁺ has 4 of its own."""
    return f"{step.value:.8g}" if step.kind in ("new_w", "new_b") else f"{step.value:.4g}"


def test_work_the_homework_in_let_me_try_with_a_reload_in_the_middle(
        page, app_url, goto, wait_app, homework_trace, screenshot_dir) -> None:
    steps = homework_trace.steps
    goto(page, app_url + "/backprop?mode=try", "Backprop by hand")
    # On a fresh server SymPy checks the shape in the background meanwhile; answers go in at once.
    wait_app(page, timeout=60_000)
    main = page.locator('[data-testid="stMain"]')
    answer = main.locator('[data-testid="stTextInput"] input').first
    for i, step in enumerate(steps):
        expect(page.get_by_text(f"Step {i + 1} of {len(steps)}")).to_be_visible(timeout=60_000)
        answer.fill(typed(step))
        answer.press("Enter")
        wait_app(page)
        expect(main.get_by_text(f"Score: {i + 1} of {len(steps)}")).to_be_visible(
            timeout=60_000)
        if i == 20:  # halfway: reload the tab; answers, mode and step come back
            page.reload()
            wait_app(page, timeout=60_000)
            expect(main.get_by_text(f"Score: 21 of {len(steps)}")).to_be_visible(
                timeout=60_000)
            expect(page.get_by_text(f"Step 21 of {len(steps)}")).to_be_visible()
            expect(answer).to_have_value(typed(step))
        if i < len(steps) - 1:
            page.get_by_role("button", name="Next ▶").click()
            wait_app(page)
    expect(main.get_by_text("Every value you typed is right")).to_be_visible()
    expect(page.locator('[data-testid="stException"]')).to_have_count(0)


@pytest.mark.parametrize("mode", ["show", "try"])
def test_screenshot_both_modes(page, app_url, goto, wait_app, screenshot_dir, mode) -> None:
    page.set_viewport_size({"width": 1400, "height": 3000})
    goto(page, f"{app_url}/backprop?mode={mode}&step=3", "Backprop by hand")
    page.locator('svg[aria-label="The network"]').first.wait_for(timeout=90_000)
    expect(page.get_by_text("Step 3 of 41")).to_be_visible()
    if mode == "try":
        expect(page.get_by_role("button", name="Reveal")).to_be_visible()
    page.screenshot(path=str(screenshot_dir / f"backprop_{mode}.png"), full_page=True)


def test_clearing_a_shape_box_keeps_the_problem(page, app_url, goto, wait_app) -> None:
    """Select all in "Inputs", Backspace, Enter: the problem and its 41 steps stay (issue 15)."""
    goto(page, app_url + "/backprop", "Backprop by hand")
    inputs = page.get_by_label("Inputs", exact=True)
    inputs.fill("")
    inputs.press("Enter")
    wait_app(page)
    expect(page.get_by_text("Inputs is empty: the problem stays 3-2-2")).to_be_visible(
        timeout=30_000)
    expect(page.get_by_text("Step 1 of 41")).to_be_visible()
    inputs.fill("3")
    inputs.press("Enter")
    wait_app(page)
    expect(page.get_by_text("Inputs is empty")).to_have_count(0)
    expect(page.get_by_text("The homework problem", exact=False).first).to_be_visible()


def test_matrix_form_renders_shapes_in_chromium(page, app_url, goto, wait_app,
                                                screenshot_dir) -> None:
    page.set_viewport_size({"width": 1400, "height": 3000})
    goto(page, app_url + "/backprop", "Backprop by hand")
    page.get_by_text("Matrix form (a minibatch)").click()
    wait_app(page)
    expect(page.get_by_text("Matrix step 1 of 15")).to_be_visible(timeout=30_000)
    step = page.locator('[data-testid="stVerticalBlock"]').filter(
        has=page.get_by_text("Matrix step 1 of 15")).last
    text = " ".join(step.locator(".katex").all_inner_texts())
    assert "2×3" in text.replace(" ", "") and "0.09" in text, text
    page.screenshot(path=str(screenshot_dir / "backprop_matrix.png"), full_page=True)


def test_a_copied_link_opens_the_same_problem_on_a_fresh_server(
        browser, app_url, fresh_app_url, goto, wait_app) -> None:
    """Work a little in one browser, copy the address, open it in a new browser context on a
    server that has never been visited: the same numbers, mode and step."""
    first = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
    goto(first, app_url + "/backprop", "Backprop by hand")
    first.locator('[data-testid="stRadio"]').get_by_text("Let me try").click()
    wait_app(first)
    first.get_by_role("button", name="New practice problem").click()
    wait_app(first)
    for n in (2, 3):
        first.get_by_role("button", name="Next ▶").click()
        expect(first.get_by_text(f"Step {n} of 41")).to_be_visible(timeout=30_000)
        wait_app(first)
    banner = first.get_by_text("Practice problem, seed").inner_text()
    link = first.url.replace(app_url, fresh_app_url)
    second = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
    goto(second, link, "Backprop by hand")
    expect(second.get_by_text("Step 3 of 41")).to_be_visible(timeout=30_000)
    expect(second.get_by_text(banner)).to_be_visible()
    expect(second.get_by_role("button", name="Reveal")).to_be_visible()  # Let me try


def test_the_address_bar_of_one_student_opens_a_clean_sheet_for_another(
        browser, app_url, goto, wait_app, homework_trace) -> None:
    """The address bar carries the token of one's saved answers; another browser opening that
    same address (a classmate it was pasted to) must not see them, while a reload of the first
    browser still does (core.backprop.workstore.work_key binds the token to the browser)."""
    first_step = homework_trace.steps[0]
    mine = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
    goto(mine, app_url + "/backprop?mode=try", "Backprop by hand")
    wait_app(mine, timeout=60_000)
    answer = mine.locator('[data-testid="stMain"] [data-testid="stTextInput"] input').first
    answer.fill(typed(first_step))
    answer.press("Enter")
    wait_app(mine)
    expect(mine.get_by_text("Score: 1 of 41")).to_be_visible(timeout=60_000)
    expect(mine).to_have_url(re.compile(r"work="), timeout=30_000)
    address = mine.url
    theirs = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
    goto(theirs, address, "Backprop by hand")
    wait_app(theirs, timeout=60_000)
    their_answer = theirs.locator('[data-testid="stMain"] [data-testid="stTextInput"] input')
    expect(their_answer.first).to_have_value("", timeout=30_000)
    expect(theirs.get_by_text("Score: 1 of 41")).to_have_count(0)
    mine.reload()
    wait_app(mine, timeout=60_000)
    expect(mine.get_by_text("Score: 1 of 41")).to_be_visible(timeout=60_000)
