"""Home: what each page teaches, with a link to it."""

import streamlit as st

from pages import through_app

through_app("pages/home.py")

st.title("handprop")
st.markdown(
    "Backpropagation by hand, with the machine checking every step. "
    "Three pages follow a first deep-learning course's homework:"
)
st.latex(r"\delta_j = f'(z_j)\sum_k w_{kj}\,\delta_k")

col1, col2, col3 = st.columns(3)
with col1:
    st.page_link("pages/backprop.py", label="Backprop by hand", icon=":material/edit_note:")
    st.markdown(
        "The 3-input sigmoid network of the homework (x = [0.5, 0.1, 0.3], y = [0.9, 0.1], "
        "η = 0.1): every forward value, delta, gradient and the update of $w_{11}$, each as a "
        "SymPy formula, then with numbers, then the value. Type your own answers and get them "
        "checked."
    )
with col2:
    st.page_link("pages/softmax.py", label="Softmax proofs", icon=":material/functions:")
    st.markdown(
        "Shift invariance, the Jacobian $\\operatorname{diag}(p) - pp^\\top$ and the "
        "softmax + cross-entropy gradient $p - t$, derived line by line with every line checked "
        "by SymPy, and the overflow that makes the max-shift matter, live."
    )
with col3:
    st.page_link("pages/train.py", label="Train an MLP", icon=":material/monitoring:")
    st.markdown(
        "A NumPy MLP of any depth on real digits: activations, initialisations, optimisers, "
        "L2 and learning-rate decay, with live charts of accuracy and mean $|W|$ per layer, "
        "and the homework's experiments one click each."
    )
