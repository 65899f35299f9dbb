"""Check-my-work marking, the exported derivation (it compiles), and the network drawing's data."""

from __future__ import annotations

import pytest

from core.backprop import derivation, problems
from core.backprop import marking as checkwork
from core.backprop.drawing import network_spec
from core.backprop.tracer import three_checks, trace_step
from core.export import compile_tex
from core.numbers import tex_number

HW = problems.homework()


def homework(**kw):
    return trace_step(HW.W, HW.b, HW.x, HW.y, 0.1, **kw)


@pytest.mark.parametrize("typed,true,right", [
    ("0.5225", 0.5224848247918001, True),  # rounded to 4 significant digits
    ("0.52248", 0.5224848247918001, True),  # more digits, within half a unit of the 4th
    ("0.5224", 0.5224848247918001, False),  # truncated, off by 0.85 units
    ("0.5226", 0.5224848247918001, False),
    ("-0.002428", -0.0024283954137642593, True),
    ("-2.428e-3", -0.0024283954137642593, True),
    ("0.002428", -0.0024283954137642593, False),  # sign matters
    ("0", 0.0, True),
    ("0.0001", 0.0, False),
])
def test_agrees_to_four_significant_digits(typed: str, true: float, right: bool) -> None:
    assert checkwork.agrees(checkwork.parse_answer(typed), true) is right


@pytest.mark.parametrize("typed", ["abc", "1/2", "__import__('os').system('true')", "nan",
                                   "inf", "0.5.2", "e"])
def test_text_that_is_not_a_number_gets_a_message(typed: str) -> None:
    with pytest.raises(ValueError, match="not a|infinite"):
        checkwork.parse_answer(typed)


def test_mark_all_names_the_first_wrong_step() -> None:
    steps = homework().steps
    answers = {"z1^(1)": "0.09", "z2^(1)": "0.13", "a1^(1)": "0.5225", "L": "oops",
               "ŷ1": "0.1"}
    marks, first_wrong = checkwork.mark_all(steps, answers)
    by_name = {m.name: m for m in marks}
    assert by_name["z1^(1)"].right is True and by_name["a1^(1)"].right is True
    assert by_name["z2^(1)"].right is False and by_name["ŷ1"].right is False
    assert by_name["L"].right is None and "not a number" in by_name["L"].message
    assert steps[first_wrong].name == "z2^(1)"


@pytest.mark.parametrize("act,loss", [("sigmoid", "half_squared_error"),
                                      ("relu", "cross_entropy"), ("tanh", "mean_squared_error")])
def test_markdown_has_every_step(act: str, loss: str) -> None:
    t = homework(activation=act, loss=loss)
    checks = three_checks(t)
    md = derivation.markdown(t, checks, "Default weights are illustrative.")
    for s in t.steps:
        assert s.symbolic in md
    assert "The update of w11 in full" in md and "checks agree" in md


@pytest.mark.tex
@pytest.mark.parametrize("act,loss", [("sigmoid", "half_squared_error"),
                                      ("relu", "cross_entropy"), ("tanh", "mean_squared_error")])
def test_exported_tex_compiles(act: str, loss: str) -> None:
    t = homework(activation=act, loss=loss)
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


def test_network_drawing_labels_every_weight_and_lights_the_current_edge() -> None:
    t = homework()
    step = next(s for s in t.steps if s.name == "∂L/∂w21^(2)")
    spec = network_spec((3, 2, 2), t.problem.W, t.problem.b, t.activations, step)
    # Rules and weight labels draw the edges; circles and their texts draw the nodes.
    edges, nodes = spec["layer"][0]["data"]["values"], spec["layer"][2]["data"]["values"]
    assert spec["layer"][1]["data"]["values"] is edges
    assert all(layer["data"]["values"] is nodes for layer in spec["layer"][2:])
    assert "datasets" not in spec and "data" not in spec  # inline: no Arrow round trip
    assert sorted(e["label"] for e in edges) == sorted(
        f"{w:.3g}" for layer in HW.W for row in layer for w in row)
    lit = [e for e in edges if e["lit"]]
    assert len(lit) == 1 and lit[0]["label"] == "0.2" and lit[0]["x"] == 1  # w21 of layer 2
    assert [n["name"] for n in nodes if n["lit"]] == ["ŷ2"]


def test_practice_inputs_are_never_zero_and_minus_zero_prints_as_zero() -> None:
    # With x1 = 0 every factor of dL/dw11 ends in 0 and the w11 update teaches nothing.
    for seed in range(200):
        assert min(problems.practice((6, 3, 2), seed, "half_squared_error").x) >= 0.1
    assert tex_number(-0.0) == "0" and tex_number(-1e-30) == r"-1 \times 10^{-30}"


def test_crowded_layers_label_only_the_lit_edge() -> None:
    """6 inputs × 2 units is 12 edges: their labels would pile up, so only the lit one stays;
    the 2 × 2 layer after it keeps all four labels."""
    p = problems.practice((6, 2, 2), 3, "half_squared_error")
    t = trace_step(p.W, p.b, p.x, p.y, 0.1)
    step = next(s for s in t.steps if s.name == "∂L/∂w15^(1)")
    edges = network_spec((6, 2, 2), t.problem.W, t.problem.b, t.activations,
                         step)["layer"][0]["data"]["values"]
    first = [e for e in edges if e["x"] == 0]
    assert [e["label"] for e in first if e["label"]] == [f"{p.W[0][0][4]:.3g}"]
    assert all(e["label"] for e in edges if e["x"] == 1)
    assert all("w" in e["weight"] for e in first)  # the tooltip still names every weight
