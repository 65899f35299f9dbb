"""The lesson pages. `app.py` runs them through `st.navigation`; each starts with `through_app`.
`derivation_lines` shows a derivation checked by `core.derivations` the same way on every page.

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
from typing import TYPE_CHECKING

import streamlit as st

if TYPE_CHECKING:
    from core.derivations import Derivation, DerivationResult

ROUTED = "_handprop_routed"  # set by app.py on every run
APP = Path(__file__).resolve().parent.parent / "app.py"


def through_app(page: str) -> None:
    """Make sure this run came through app.py; `page` is this file's path, e.g. "pages/train.py"
    (the page app.py then runs is the one the URL names: this one)."""
    if not st.session_state.get(ROUTED):
        runpy.run_path(str(APP), run_name="__main__")
        st.stop()  # the page ran inside app.py just now


def derivation_lines(d: Derivation, result: DerivationResult | None, pending: str) -> None:
    """Every line of `d` beside its number, rule and SymPy's verdicts (badges and what the line
    was checked against), or the badge `pending` while `result` is not known yet."""
    for n, step in enumerate(d.steps, start=1):
        math, why = st.columns([3, 2], vertical_alignment="center")
        math.latex(step.latex)
        r = result.lines[n - 1] if result else None
        verdict = f"{r.badges} :gray[vs {r.against_words}]" if r else pending
        why.markdown(f"**{n}.** {step.rule}  \n{verdict}")
