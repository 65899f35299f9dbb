"""Median AppTest re-run time of the Backprop page (default network) against a trivial page.

Run: `.venv/bin/python bench/page_speed.py [repeats]`. The
trivial page runs alone; the home page is also timed, behind app.py's navigation like the Backprop
page. The Backprop page is timed on a plain re-run (caches warm, nothing edited) and after editing
a weight (cache miss: new trace, checks and downloads). Goal: ratio < 5.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parent.parent
TRIVIAL = '''import streamlit as st
st.title("Trivial")
st.markdown("One paragraph and one formula.")
st.latex(r"\\sigma(z) = \\frac{1}{1 + e^{-z}}")
'''


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


def main(repeats: int = 15) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        trivial_file = Path(tmp) / "trivial.py"
        trivial_file.write_text(TRIVIAL)
        trivial = AppTest.from_file(str(trivial_file), default_timeout=60)
        trivial.run()
        t_trivial = median_rerun(trivial, repeats)

    page = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    page.run()  # app.py opens on the home page: a small page behind the same navigation
    t_home = median_rerun(page, repeats)
    page.switch_page(str(ROOT / "pages" / "backprop.py")).run()
    t_page = median_rerun(page, repeats)

    def edit_weight(at: AppTest, n: int) -> None:
        key = f"W0_{at.session_state['version']}"
        at.session_state[key] = {"edited_rows": {0: {"x1": 0.2 + 0.001 * (n + 1)}},
                                 "added_rows": [], "deleted_rows": []}

    t_edit = median_rerun(page, max(5, repeats // 3), edit_weight)
    print(f"trivial page re-run:            {t_trivial * 1000:8.1f} ms")
    print(f"home page re-run (via app.py):  {t_home * 1000:8.1f} ms")
    print(f"backprop page re-run (default): {t_page * 1000:8.1f} ms")
    print(f"backprop page, weight edited:   {t_edit * 1000:8.1f} ms")
    print(f"ratio default / trivial:        {t_page / t_trivial:8.2f}x  (goal < 5x)")
    print(f"ratio edited / trivial:         {t_edit / t_trivial:8.2f}x")
    print(f"ratio default / home:           {t_page / t_home:8.2f}x  (same navigation overhead)")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 15)
