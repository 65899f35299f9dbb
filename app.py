"""handprop: backpropagation by hand, checked by the machine.

Start with `streamlit run app.py`. This file builds the navigation, and after its first run starts
SymPy checking the Softmax proofs in the background; each page lives in `pages/` and every
number it shows is computed in `core/`.
"""

import streamlit as st

from core.softmax import check_ahead
from pages import ROUTED

st.set_page_config(page_title="handprop", page_icon=":material/calculate:", layout="wide")

PAGES = [
    st.Page("pages/home.py", title="Home", icon=":material/home:", default=True),
    st.Page("pages/backprop.py", title="Backprop by hand", icon=":material/edit_note:",
            url_path="backprop"),
    st.Page("pages/softmax.py", title="Softmax proofs", icon=":material/functions:",
            url_path="softmax"),
    st.Page("pages/train.py", title="Train an MLP", icon=":material/monitoring:",
            url_path="train"),
]

st.session_state[ROUTED] = True
page = st.navigation(PAGES)
try:
    page.run()
finally:
    # Once per server (a no-op after): the proofs are deterministic, remembered on disk, and no
    # student should wait for SymPy on the Softmax page. Started after the page's run, because
    # SymPy's import would share the interpreter (and its lock) with that run.
    check_ahead()
