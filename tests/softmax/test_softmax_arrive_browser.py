"""In Chromium, on a server whose disk cache is empty: SymPy's verdicts, the downloads and the live
SymPy Jacobian arrive while the page stays put, and a click made then is never lost. They used to
arrive by a whole-page re-run (a polling fragment calling st.rerun()), which could swallow a click
made at that moment; now each part that waits for SymPy polls for itself (`verdicts_arriving`,
`oracles_arriving`), so the page never re-runs as a whole when they come in."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from core.softmax.proofs import PROOFS
from tests.serving import serve, websocket_frames, whole_page_runs

pytestmark = pytest.mark.browser
LINES = sum(len(p.steps) + 1 for p in PROOFS.values())


def test_sympy_arrives_without_a_whole_page_run(page, tmp_path, wait_app) -> None:
    frames = websocket_frames(page)
    # No digest and no remembered checks: SymPy checks every proof and mistake from scratch
    # (seconds of CPU), after it has built the live oracles.
    with serve(tmp_path, env={"HANDPROP_CACHE": str(tmp_path / "cache")}) as url:
        page.goto(f"{url}/softmax")
        expect(page.get_by_role("heading", name="Proof 3.")).to_be_visible(timeout=120_000)
        expect(page.get_by_text("SymPy is checking this line").first).to_be_visible()
        wait_app(page, timeout=120_000)
        # Turned on at once: SymPy's side of the Jacobian comes with the background thread.
        page.get_by_text("The Jacobian at your scores as heat maps").click()
        expect(page.get_by_text("computed directly")).to_be_visible(timeout=60_000)
        wait_app(page, timeout=60_000)
        seen = len(frames)  # after the toggle's own run

        charts = page.locator('[data-testid="stVegaLiteChart"]')
        expect(page.get_by_text("✓ symbolic K")).to_have_count(LINES, timeout=300_000)
        expect(charts).to_have_count(3, timeout=120_000)
        expect(page.get_by_text("largest entry-wise difference")).to_be_visible()
        expect(page.get_by_text("SymPy is checking this line")).to_have_count(0)
        page.wait_for_timeout(1500)  # a poll's last run, and whatever it would have asked for
        assert whole_page_runs(frames[seen:]) == 0, "SymPy's arrival re-ran the whole page"
        download = page.get_by_role("button", name="Download", exact=True)
        expect(download).to_be_visible(timeout=30_000)

        # And a click now lands (the polls keep running until the page's next run).
        page.get_by_text("[1000, 1001, 1002]", exact=True).click()
        expect(page.get_by_text("The naive softmax in float64 gives nan")).to_be_visible(
            timeout=30_000)
        wait_app(page, timeout=60_000)
        expect(page.locator('[data-testid="stException"]')).to_have_count(0)
        expect(charts).to_have_count(3)
