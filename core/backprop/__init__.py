"""Backprop by hand (pages/backprop.py): one step of gradient descent on a tiny network, by hand.

    problems.py    the homework's 3-2-2 problem and seeded practice problems
    network.py     the problem's validation and the NumPy network; the SymPy oracle and finite
                   differences that check the tracer independently
    formulas.py    every step's formula as SymPy prints it, once per shape
    tracer.py      `trace_step`: forward, loss, deltas, gradients, updates; `three_checks`
    chainrule.py   ∂L/∂w11 summed over every path to the outputs
    marking.py     a student's typed values against the machine's
    drawing.py     the network as a Vega-Lite chart
    derivation.py  the whole step as a Markdown or .tex document
"""

from core.backprop.tracer import GradientCheck, Step, Trace, three_checks, trace_step

__all__ = ["GradientCheck", "Step", "Trace", "three_checks", "trace_step"]
