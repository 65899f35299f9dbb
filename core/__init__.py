"""handprop's engine: every formula and number the pages show, with no Streamlit in it.

One package per page of the app (pages/ holds the thin Streamlit scripts):

    core/backprop/   Backprop by hand (pages/backprop.py): the homework's network traced step by
                     step, checked by SymPy and finite differences, a student's work marked
    core/softmax/    Softmax proofs (pages/softmax.py): the numerics, three derivations checked
                     line by line by SymPy, and the typical mistakes they catch
    core/mlp/        Train an MLP (pages/train.py): the NumPy MLP, its data, training loop, run
                     store, charts and the homework reports' experiments

Shared by more than one page:

    core/numbers.py  the one parser of typed numbers; numbers and brackets for LaTeX
    core/export.py   a derivation as Markdown-with-LaTeX or a .tex file that compiles
    core/train.py    `python -m core.train`, the MLP from the command line
"""
