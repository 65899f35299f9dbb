"""Placeholder until this page's issue lands."""

import streamlit as st

st.title("Train an MLP")
st.info("This page is being built.")
st.latex(r"\sigma(z) = \frac{1}{1 + e^{-z}}")
