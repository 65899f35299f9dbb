"""The lesson pages. `app.py` runs them through `st.navigation`; each starts with `through_app`.
`derivation_lines` shows a derivation checked by `core.derivations` the same way on every page.

Why the guard: a Streamlit server starts in its old `pages/`-folder mode and leaves it only when a
script calls `st.navigation`. On a freshly started server a deep link such as /train therefore
runs pages/train.py on its own, without app.py: no wide layout, file names in the sidebar. A page
that finds it was not reached through app.py remembers where the student was going and switches
to app.py, which builds the real navigation and sends them on (`app.py` reads `DEEP_LINK`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import streamlit as st

if TYPE_CHECKING:
    from core.derivations import Derivation, DerivationResult

ROUTED = "_handprop_routed"  # set by app.py on every run
DEEP_LINK = "_handprop_deep_link"  # the page a deep link asked for, until app.py sends us there


def through_app(page: str) -> None:
    """Make sure this run came through app.py; `page` is this file's path, e.g. "pages/train.py"."""
    if not st.session_state.get(ROUTED):
        st.session_state[DEEP_LINK] = page
        st.switch_page("app.py")


def derivation_lines(d: Derivation, result: DerivationResult | None, pending: str) -> None:
    """Every line of `d` beside its number, rule and SymPy's verdicts (badges and what the line
    was checked against), or the badge `pending` while `result` is not known yet."""
    for n, step in enumerate(d.steps, start=1):
        math, why = st.columns([3, 2], vertical_alignment="center")
        math.latex(step.latex)
        r = result.lines[n - 1] if result else None
        verdict = f"{r.badges} :gray[vs {r.against_words}]" if r else pending
        why.markdown(f"**{n}.** {step.rule}  \n{verdict}")
