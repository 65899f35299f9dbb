"""The lesson pages. `app.py` runs them through `st.navigation`; each starts with `through_app`.

Why the guard: a Streamlit server starts in its old `pages/`-folder mode and leaves it only when a
script calls `st.navigation`. On a freshly started server a deep link such as /train therefore
runs pages/train.py on its own, without app.py: no wide layout, file names in the sidebar. A page
that finds it was not reached through app.py remembers where the student was going and switches
to app.py, which builds the real navigation and sends them on (`app.py` reads `DEEP_LINK`).
"""

from __future__ import annotations

import streamlit as st

ROUTED = "_handprop_routed"  # set by app.py on every run
DEEP_LINK = "_handprop_deep_link"  # the page a deep link asked for, until app.py sends us there


def through_app(page: str) -> None:
    """Make sure this run came through app.py; `page` is this file's path, e.g. "pages/train.py"."""
    if not st.session_state.get(ROUTED):
        st.session_state[DEEP_LINK] = page
        st.switch_page("app.py")
