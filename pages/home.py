"""Home: what each page teaches, with a link to it."""

import streamlit as st

from pages import through_app

through_app("pages/home.py")

PAGES = [
    ("pages/backprop.py", "Backprop by hand", ":material/edit_note:",
     "The 3-input sigmoid network of the homework (x = [0.5, 0.1, 0.3], y = [0.9, 0.1], "
     "η = 0.1): every forward value, delta, gradient and the update of $w_{11}$, each as a SymPy "
     "formula, then with numbers, then the value. Type your own answers and get them checked."),
    ("pages/softmax.py", "Softmax proofs", ":material/functions:",
     "Shift invariance, the Jacobian $\\operatorname{diag}(p) - pp^\\top$ and the softmax + "
     "cross-entropy gradient $p - t$, derived line by line with every line checked by SymPy, "
     "and live: the overflow of $e^s$ and of its sum that makes the max-shift matter."),
    ("pages/train.py", "Train an MLP", ":material/monitoring:",
     "A NumPy MLP of any depth on real digits: activations, initialisations, optimisers, L2 and "
     "learning-rate decay, with live charts of accuracy and mean $|W|$ per layer, and the "
     "homework's experiments one click each."),
]


def welcome() -> None:
    st.title("handprop")
    st.markdown("Backpropagation by hand, with the machine checking every step. "
                "Three pages follow a first deep-learning course's homework:")
    st.latex(r"\delta_j = f'(z_j)\sum_k w_{kj}\,\delta_k")


def the_pages() -> None:
    for column, (path, label, icon, what) in zip(st.columns(len(PAGES)), PAGES, strict=True):
        with column:
            st.page_link(path, label=label, icon=icon)
            st.markdown(what)


welcome()
the_pages()
