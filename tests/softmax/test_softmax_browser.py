"""The softmax page in headless Chromium: three proofs typeset by KaTeX, the charts drawn (the
heat maps on demand), the shift slider moved by keyboard and typed, without changing a single
probability, and the overflow demo opening by itself."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

import core.softmax
from core.softmax.proofs import PROOFS

pytestmark = pytest.mark.browser
LINES = sum(len(p.steps) + 1 for p in PROOFS.values())


def probabilities_text(page) -> tuple[str, str]:
    text = page.get_by_text("softmax(s + c) =").first.inner_text()
    before = re.search(r"softmax\(s\) = (\[[^\]]*\])", text)
    after = re.search(r"softmax\(s \+ c\) = (\[[^\]]*\])", text)
    assert before and after, text
    return before.group(1), after.group(1)


def test_softmax_page_proofs_chart_and_slider(page, app_url, wait_app, screenshot_dir) -> None:
    core.softmax.checked_ahead(timeout=300)  # fills the disk cache the server reads
    # Start at the entry point so the app's own navigation is what serves the page.
    page.goto(app_url)
    wait_app(page)
    page.locator('[data-testid="stSidebarNav"]').get_by_text("Softmax proofs", exact=True).click()
    for n, proof in enumerate(PROOFS.values(), start=1):
        expect(page.get_by_role("heading", name=f"Proof {n}. {proof.title}")).to_be_visible(
            timeout=90_000)
    # The server checks in the background; its verdicts arrive within a few seconds at most.
    expect(page.get_by_text("✓ symbolic K")).to_have_count(LINES, timeout=120_000)
    wait_app(page, timeout=120_000)
    expect(page.locator('[data-testid="stException"]')).to_have_count(0)
    expect(page.locator(".katex-error")).to_have_count(0)
    # KaTeX typeset every statement and line (plus the formulas in the text).
    assert page.locator(".katex-display").count() >= LINES

    # One chart on opening (the bars); the Jacobian's two heat maps when their toggle is on.
    charts = page.locator('[data-testid="stVegaLiteChart"]')
    expect(charts).to_have_count(1)
    page.get_by_text("The Jacobian at your scores as heat maps").click()
    expect(charts).to_have_count(3, timeout=60_000)
    for i in range(3):
        expect(charts.nth(i).locator(".marks").first).to_be_visible(timeout=30_000)
    wait_app(page, timeout=60_000)

    p_before, q_before = probabilities_text(page)
    assert p_before == q_before == "[0.090031, 0.244728, 0.665241]"

    # Move the shift slider with the keyboard: End jumps to c = 1000, past float64's 709.78.
    # By role: a native range input in newer Streamlit, a div with role="slider" in older ones.
    thumb = page.locator('[data-testid="stSlider"]').first.get_by_role("slider").first
    thumb.focus()
    thumb.press("End")
    expect(page.get_by_text("The naive softmax in float64 gives nan")).to_be_visible(
        timeout=30_000)
    wait_app(page, timeout=60_000)
    expect(page.locator('[data-testid="stSliderThumbValue"]').first).to_have_text("1000.00")
    typed = page.get_by_role("textbox", name="or type c")
    expect(typed).to_have_value("1000")  # the box follows the slider
    assert probabilities_text(page) == (p_before, q_before)

    # Type a shift between the slider's steps: s + c = [87.25, 88.25, 89.25], and only the
    # third passes float32's 88.72.
    # Focus leaves the slider first: its thumb commits the value it shows when it loses focus,
    # and on a busy machine that commit could land after the typed shift and undo it.
    typed.click()
    wait_app(page, timeout=60_000)
    typed.fill("86.25")
    typed.press("Enter")
    expect(page.get_by_text("overflowed to inf for k = 3 (scores past 88.72)")).to_be_visible(
        timeout=30_000)
    wait_app(page, timeout=60_000)
    expect(page.locator('[data-testid="stSliderThumbValue"]').first).to_have_text("86.25")
    assert probabilities_text(page) == (p_before, q_before)

    # The sum overflows in float32 although every term fits: named, not silent.
    page.get_by_text("[88.7, 88.7, 0]", exact=True).click()
    expect(page.get_by_text("The naive softmax in float32 gives all zeros")).to_be_visible(
        timeout=30_000)
    wait_app(page, timeout=60_000)
    expect(page.locator('[data-testid="stException"]')).to_have_count(0)

    # Tall viewport: Streamlit scrolls inside its own container, so this shows the whole page.
    page.set_viewport_size({"width": 1400, "height": 7000})
    page.wait_for_timeout(500)
    page.screenshot(path=str(screenshot_dir / "softmax_proofs.png"), full_page=True)
