"""The softmax page in headless Chromium: three proofs typeset by KaTeX, the charts drawn, and the
shift slider moved by keyboard without changing a single probability."""

from __future__ import annotations

import re

import pytest

from core.softmax.proofs import PROOFS

pytestmark = pytest.mark.browser


def probabilities_text(page) -> tuple[str, str]:
    text = page.get_by_text("softmax(s + c) =").first.inner_text()
    before = re.search(r"softmax\(s\) = (\[[^\]]*\])", text)
    after = re.search(r"softmax\(s \+ c\) = (\[[^\]]*\])", text)
    assert before and after, text
    return before.group(1), after.group(1)


def test_softmax_page_proofs_chart_and_slider(page, app_url, wait_app, screenshot_dir) -> None:
    # Start at the entry point so the app's own navigation is what serves the page.
    page.goto(app_url)
    wait_app(page)
    page.locator('[data-testid="stSidebarNav"]').get_by_text("Softmax proofs", exact=True).click()
    page.get_by_role("heading", name="Softmax proofs").first.wait_for(timeout=60_000)
    for n, proof in enumerate(PROOFS.values(), start=1):
        page.get_by_role("heading", name=f"Proof {n}. {proof.title}").wait_for(timeout=90_000)
    wait_app(page, timeout=120_000)
    assert page.locator('[data-testid="stException"]').count() == 0

    # KaTeX typeset every statement and line (plus the formulas in the text).
    n_display = sum(len(p.steps) + 1 for p in PROOFS.values())
    assert page.locator(".katex-display").count() >= n_display
    assert page.locator(".katex-error").count() == 0
    assert page.get_by_text("✓ symbolic K").count() >= n_display

    charts = page.locator('[data-testid="stVegaLiteChart"]')
    assert charts.count() == 3
    for i in range(3):
        charts.nth(i).locator("canvas, svg").first.wait_for(timeout=30_000)

    p_before, q_before = probabilities_text(page)
    assert p_before == q_before == "[0.090031, 0.244728, 0.665241]"

    # Move the shift slider with the keyboard: End jumps to c = 1000, past float64's 709.78.
    # By role: a native range input in newer Streamlit, a div with role="slider" in older ones.
    thumb = page.locator('[data-testid="stSlider"]').first.get_by_role("slider").first
    thumb.focus()
    thumb.press("End")
    page.get_by_text("The naive softmax in float64 gives inf/nan").wait_for(timeout=30_000)
    wait_app(page, timeout=60_000)
    assert page.locator('[data-testid="stSliderThumbValue"]').first.inner_text() == "1000.00"
    p_after, q_after = probabilities_text(page)
    assert (p_after, q_after) == (p_before, q_before)
    assert page.locator('[data-testid="stException"]').count() == 0

    # Tall viewport: Streamlit scrolls inside its own container, so this shows the whole page.
    page.set_viewport_size({"width": 1400, "height": 7000})
    page.wait_for_timeout(500)
    page.screenshot(path=str(screenshot_dir / "softmax_proofs.png"), full_page=True)
