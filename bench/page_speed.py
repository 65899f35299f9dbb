"""Median AppTest re-run time of the Backprop page (default network) against a trivial page.

Run: `.venv/bin/python bench/page_speed.py [repeats]`. The trivial page runs alone; the home page
is also timed, behind app.py's navigation like the Backprop page. The Backprop page is timed on a
plain re-run (caches warm, nothing edited) and after editing a weight (a new trace and checks).
Goal (issue): ratio under 5x.

Two measurements, both printed:
* as AppTest runs: it builds a new ScriptCache for every run, so every re-run also parses and
  compiles app.py and the page again (the longer the page, the more that costs);
* as a server runs: one ScriptCache for the whole session, as `streamlit run` keeps, so a re-run
  is only the script itself. This is the time a student waits for.
"""

from __future__ import annotations

import contextlib
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import streamlit.testing.v1.app_test as app_test
from streamlit.runtime.scriptrunner.script_cache import ScriptCache
from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parent.parent
TRIVIAL = '''import streamlit as st
st.title("Trivial")
st.markdown("One paragraph and one formula.")
st.latex(r"\\sigma(z) = \\frac{1}{1 + e^{-z}}")
'''


@contextlib.contextmanager
def compiled_once() -> Iterator[None]:
    """AppTest with one ScriptCache for all runs, as a server has (not a fresh one per run)."""
    shared = ScriptCache()
    original = app_test.ScriptCache
    app_test.ScriptCache = lambda: shared
    try:
        yield
    finally:
        app_test.ScriptCache = original


def median_rerun(at: AppTest, repeats: int, edit=None) -> float:
    times = []
    for n in range(repeats):
        if edit is not None:
            edit(at, n)
        t0 = time.perf_counter()
        at.run()
        times.append(time.perf_counter() - t0)
        assert not at.exception, [e.value for e in at.exception]
    return statistics.median(times)


def edit_weight(at: AppTest, n: int) -> None:
    key = f"W0_{at.session_state['version']}"
    at.session_state[key] = {"edited_rows": {0: {"x1": f"{0.2 + 0.001 * (n + 1):.3f}"}},
                             "added_rows": [], "deleted_rows": []}


def measure(repeats: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp:
        trivial_file = Path(tmp) / "trivial.py"
        trivial_file.write_text(TRIVIAL)
        trivial = AppTest.from_file(str(trivial_file), default_timeout=60)
        trivial.run()
        t = {"trivial": median_rerun(trivial, repeats)}
    page = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    page.run()  # app.py opens on the home page: a small page behind the same navigation
    t["home"] = median_rerun(page, repeats)
    page.switch_page(str(ROOT / "pages" / "backprop.py")).run()
    t["backprop"] = median_rerun(page, repeats)
    t["edited"] = median_rerun(page, max(5, repeats // 3), edit_weight)
    return t


def report(title: str, t: dict[str, float]) -> None:
    print(f"\n{title}")
    print(f"  trivial page re-run:            {t['trivial'] * 1000:8.1f} ms")
    print(f"  home page re-run (via app.py):  {t['home'] * 1000:8.1f} ms")
    print(f"  backprop page re-run (default): {t['backprop'] * 1000:8.1f} ms")
    print(f"  backprop page, weight edited:   {t['edited'] * 1000:8.1f} ms")
    ratio = t["backprop"] / t["trivial"]
    print(f"  ratio default / trivial:        {ratio:8.2f}x  (goal < 5x: "
          f"{'met' if ratio < 5 else 'missed'})")
    print(f"  ratio edited / trivial:         {t['edited'] / t['trivial']:8.2f}x")
    print(f"  ratio default / home:           {t['backprop'] / t['home']:8.2f}x  "
          "(same navigation overhead)")


def main(repeats: int = 15) -> None:
    report("As AppTest runs (every run parses and compiles the scripts again):", measure(repeats))
    with compiled_once():
        report("As a server runs (scripts compiled once per session):", measure(repeats))


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 15)
