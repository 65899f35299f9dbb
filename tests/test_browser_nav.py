"""Open every page from the sidebar in Chromium: no exception, math rendered, screenshot."""

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser

NAV = [
    ("Home", "handprop"),
    ("Backprop by hand", "Backprop by hand"),
    ("Softmax proofs", "Softmax proofs"),
    ("Train an MLP", "Train an MLP"),
]


@pytest.mark.parametrize("link,title", NAV)
def test_every_page_from_sidebar(page, app_url, goto, wait_app, screenshot_dir, link,
                                 title) -> None:
    goto(page, app_url, "handprop")
    page.locator('[data-testid="stSidebarNav"]').get_by_text(link, exact=True).click()
    expect(page.get_by_role("heading", name=title).first).to_be_visible(timeout=60_000)
    wait_app(page, timeout=120_000)
    expect(page.locator('[data-testid="stException"]')).to_have_count(0)
    # KaTeX turns every formula into a .katex element: the math really rendered.
    expect(page.locator(".katex").first).to_be_visible(timeout=30_000)
    expect(page.locator(".katex-error")).to_have_count(0)
    # Charts (Vega-Lite) draw their marks into a canvas or an svg of class "marks".
    charts = page.locator('[data-testid="stVegaLiteChart"]')
    for i in range(charts.count()):
        expect(charts.nth(i).locator(".marks").first).to_be_attached(timeout=30_000)
    slug = link.lower().replace(" ", "_")
    page.screenshot(path=str(screenshot_dir / f"page_{slug}.png"), full_page=True)


def test_deep_link_on_a_fresh_server_goes_through_app_py(page, fresh_app_url, wait_app) -> None:
    """A fresh server is in Streamlit's old pages/-folder mode until app.py has called
    st.navigation: a first visit straight to /train must still get app.py's navigation and wide
    layout, not pages/train.py alone with file names in the sidebar."""
    page.goto(fresh_app_url + "/train")
    expect(page.get_by_role("heading", name="Train an MLP").first).to_be_visible(timeout=60_000)
    nav = page.locator('[data-testid="stSidebarNav"]')
    expect(nav.get_by_text("Backprop by hand", exact=True)).to_be_visible(timeout=60_000)
    wait_app(page, timeout=60_000)
    expect(nav.get_by_text("app", exact=True)).to_have_count(0)
    width = page.locator('[data-testid="stMainBlockContainer"]').bounding_box()["width"]
    assert width > 1000, f"layout is not wide ({width:.0f} px): app.py did not run"
    assert page.url.endswith("/train")
    expect(page.locator('[data-testid="stException"]')).to_have_count(0)
