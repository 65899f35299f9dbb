"""The lesson pages. `app.py` runs them through `st.navigation`; each starts with `through_app`.
`lazy_formulas` keeps typeset math the browser has not scrolled to from being laid out.

Why the guard: a Streamlit server starts in its old `pages/`-folder mode and leaves it only when a
script calls `st.navigation`. On a freshly started server a deep link such as /train therefore
runs pages/train.py on its own, without app.py: no wide layout, file names in the sidebar. A page
that finds it was not reached through app.py runs app.py there and then, inside the same run:
app.py builds the real navigation, which finds the page the URL names and runs it, and the copy
that was started alone stops. (Switching to app.py instead costs two more runs: app.py, then the
page again after a second switch.)
"""

from __future__ import annotations

import runpy
from pathlib import Path

import streamlit as st

ROUTED = "_handprop_routed"  # set by app.py on every run
APP = Path(__file__).resolve().parent.parent / "app.py"


def through_app(page: str) -> None:
    """Make sure this run came through app.py; `page` is this file's path, e.g. "pages/train.py"
    (the page app.py then runs is the one the URL names: this one)."""
    if not st.session_state.get(ROUTED):
        runpy.run_path(str(APP), run_name="__main__")
        st.stop()  # the page ran inside app.py just now


def lazy_formulas(height_px: int) -> str:
    """A style-only `st.html` (Streamlit puts it in the page's head, not its flow): display math
    not yet scrolled to skips style, layout and paint until it is (most of a page's browser time
    is typeset math, about 75 DOM nodes per formula); `auto` keeps a block's size once drawn, and
    `height_px` is the guess for one not drawn yet."""
    return ("<style>[data-testid='stMainBlockContainer'] "
            "[data-testid='stElementContainer']:has(.katex-display)"
            f"{{content-visibility:auto;contain-intrinsic-size:auto {height_px}px}}</style>")
