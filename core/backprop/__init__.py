"""Backprop by hand (pages/backprop.py): one step of gradient descent on a tiny network, by hand.

    problems.py    the homework's 3-2-2 problem and seeded practice problems
    functions.py   each activation and loss once: label, NumPy f and f', the printed formulas
    names.py       every LaTeX and plain name of a value or unit
    network.py     the problem's validation and the NumPy network
    oracle.py      SymPy's diff of the whole loss and finite differences, built independently
    formulas.py    every step's formula as SymPy prints it, once per shape
    tracer.py      `trace_step`: forward, loss, deltas, gradients, updates; `three_checks`
    chainrule.py   ∂L/∂w11 summed over every path to the outputs
    marking.py     `mark_all`: a student's typed values, marks that carry forward
    batch.py       `trace_batch`: the same step on a minibatch, in matrix form with shapes
    batchmarking.py  the matrix form marked entry by entry with marking's rules
    checking.py    SymPy's gradient of a new shape, built in the background
    showall.py     every step at once: one aligned LaTeX block per stage and layer
    drawing.py     the network as one SVG (the page) or a Vega-Lite chart
    derivation.py  the whole step as a Markdown or .tex document
    deltarule.py   the δ rule and ∂L/∂w = δ a derived, every line checked by core.derivations
    problemfile.py a whole problem as JSON (paste, download), the trace as JSON and CSV
    linkstate.py   the page state in its URL: a copied link reopens the same problem
    workstore.py   a student's typed answers in SQLite, keyed by a token of their own
"""

from core.backprop.batch import BatchTrace, MatrixStep, trace_batch
from core.backprop.marking import Mark, Marking, mark_all
from core.backprop.tracer import GradientCheck, Step, Trace, three_checks, trace_step

__all__ = ["BatchTrace", "GradientCheck", "Mark", "Marking", "MatrixStep", "Step", "Trace",
           "mark_all", "three_checks", "trace_batch", "trace_step"]
