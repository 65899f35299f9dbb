"""Open every page from the sidebar in Chromium: no exception, math rendered, screenshot."""

import pytest

pytestmark = pytest.mark.browser

NAV = [
    ("Home", "handprop"),
    ("Backprop by hand", "Backprop by hand"),
    ("Softmax proofs", "Softmax proofs"),
    ("Train an MLP", "Train an MLP"),
]


@pytest.mark.parametrize("link,title", NAV)
def test_every_page_from_sidebar(page, app_url, wait_app, screenshot_dir, link, title) -> None:
    page.goto(app_url)
    wait_app(page)
    page.locator('[data-testid="stSidebarNav"]').get_by_text(link, exact=True).click()
    page.get_by_role("heading", name=title).first.wait_for(timeout=60_000)
    wait_app(page, timeout=120_000)
    assert page.locator('[data-testid="stException"]').count() == 0
    # KaTeX turns every formula into a .katex element: the math really rendered.
    page.locator(".katex").first.wait_for(timeout=30_000)
    assert page.locator(".katex").count() > 0
    # Charts (Vega-Lite via Altair) render to a canvas or svg inside .vega-embed.
    charts = page.locator('[data-testid="stVegaLiteChart"]')
    for i in range(charts.count()):
        charts.nth(i).locator("canvas, svg").first.wait_for(timeout=30_000)
    slug = link.lower().replace(" ", "_")
    page.screenshot(path=str(screenshot_dir / f"page_{slug}.png"), full_page=True)
