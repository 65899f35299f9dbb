"""The exported derivation: every step in the Markdown, and a .tex that compiles."""

from __future__ import annotations

import pytest

from core.backprop import derivation, problems
from core.backprop.tracer import three_checks, trace_step
from core.export import compile_tex

HW = problems.homework()


def homework(activation: str, loss: str):
    return trace_step(HW.W, HW.b, HW.x, HW.y, 0.1, activation, loss)


@pytest.mark.parametrize("act,loss", [("sigmoid", "half_squared_error"),
                                      ("relu", "cross_entropy"), ("tanh", "mean_squared_error")])
def test_markdown_has_every_step(act: str, loss: str) -> None:
    t = homework(act, loss)
    checks = three_checks(t)
    md = derivation.markdown(t, checks, "Default weights are illustrative.")
    for s in t.steps:
        assert s.symbolic in md
    assert "The update of w11 in full" in md and "checks agree" in md


@pytest.mark.tex
@pytest.mark.parametrize("act,loss", [("sigmoid", "half_squared_error"),
                                      ("relu", "cross_entropy"), ("tanh", "mean_squared_error")])
def test_exported_tex_compiles(act: str, loss: str) -> None:
    t = homework(act, loss)
    ok, log = compile_tex(derivation.tex(t, three_checks(t)))
    assert ok, log


@pytest.mark.tex
def test_every_formula_the_page_typesets_compiles_in_latex() -> None:
    """Each step's formula and substitution, the chain-rule sum and every factor's "on paper" form
    (the page shows them all through KaTeX) in one document per activation and loss, on a net
    with two hidden layers: pdflatex rejects what KaTeX would show as red text, such as the
    double superscript of a^{(1)}_{1}^{2}."""
    W = [[[0.2, -0.4, 0.1], [0.3, 0.5, -0.2]], [[0.5, -0.3], [0.2, 0.7]],
         [[0.4, -0.6], [-0.1, 0.8]]]
    b = [[0.1, -0.2], [0.1, -0.1], [0.0, 0.2]]
    lines = []
    for act in ("sigmoid", "tanh", "relu"):
        for loss in ("half_squared_error", "mean_squared_error", "cross_entropy"):
            t = trace_step(W, b, [0.5, 0.1, 0.3], [0.9, 0.1], 0.1, act, loss)
            lines += [s.symbolic for s in t.steps] + [s.substituted for s in t.steps]
            ch = t.w11
            lines += [ch.expression, ch.update_symbolic, ch.update_substituted]
            lines += [f"{f.symbol} = {f.equals}" for path in ch.paths for f in path.factors]
    doc = "\n".join(
        [r"\documentclass{article}", r"\usepackage{amsmath,amssymb}", r"\begin{document}"]
        + [f"\\begin{{equation*}}\n{line}\n\\end{{equation*}}" for line in lines]
        + [r"\end{document}"])
    ok, log = compile_tex(doc)
    assert ok, log
