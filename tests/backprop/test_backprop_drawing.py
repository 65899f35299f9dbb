"""The network drawing's data: every weight labelled, the current unit and edge lit."""

from __future__ import annotations

import re

from core.backprop import problems
from core.backprop.drawing import HIGHLIGHT, network_spec, network_svg
from core.backprop.tracer import trace_step

HW = problems.homework()


def test_network_drawing_labels_every_weight_and_lights_the_current_edge(homework_trace) -> None:
    t = homework_trace
    step = next(s for s in t.steps if s.name == "∂L/∂w21^(2)")
    spec = network_spec((3, 2, 2), t.problem.W, t.problem.b, t.activations, step)
    # Rules and weight labels draw the edges; circles and their texts draw the nodes.
    edges, nodes = spec["datasets"]["edges"], spec["datasets"]["nodes"]
    assert spec["data"] == {"name": "edges"} and "data" not in spec["layer"][1]
    assert all(layer["data"] == {"name": "nodes"} for layer in spec["layer"][2:])
    assert sorted(e["label"] for e in edges) == sorted(
        f"{w:.3g}" for layer in HW.W for row in layer for w in row)
    lit = [e for e in edges if e["lit"]]
    assert len(lit) == 1 and lit[0]["label"] == "0.2" and lit[0]["x"] == 1  # w21 of layer 2
    assert [n["name"] for n in nodes if n["lit"]] == ["ŷ2"]


def test_crowded_layers_label_only_the_lit_edge() -> None:
    """6 inputs × 2 units is 12 edges: their labels would pile up, so only the lit one stays;
    the 2 × 2 layer after it keeps all four labels."""
    p = problems.practice((6, 2, 2), 3, "half_squared_error")
    t = trace_step(p.W, p.b, p.x, p.y, 0.1)
    step = next(s for s in t.steps if s.name == "∂L/∂w15^(1)")
    edges = network_spec((6, 2, 2), t.problem.W, t.problem.b, t.activations,
                         step)["datasets"]["edges"]
    first = [e for e in edges if e["x"] == 0]
    assert [e["label"] for e in first if e["label"]] == [f"{p.W[0][0][4]:.3g}"]
    assert all(e["label"] for e in edges if e["x"] == 1)
    assert all("w" in e["weight"] for e in first)  # the tooltip still names every weight


def test_the_spec_is_the_same_for_every_step_only_the_datasets_change(homework_trace) -> None:
    """A browser redraws a chart from scratch when its spec changes and only swaps the data in
    when just the datasets do: Next must change the datasets alone."""
    t = homework_trace
    specs = [network_spec((3, 2, 2), t.problem.W, t.problem.b, t.activations, s)
             for s in t.steps[:3]]
    bare = [{k: v for k, v in spec.items() if k != "datasets"} for spec in specs]
    assert bare[0] == bare[1] == bare[2]
    lit = [[n["name"] for n in spec["datasets"]["nodes"] if n["lit"]] for spec in specs]
    assert lit == [["h1"], ["h2"], ["h1"]]  # z1, z2, then a1 of the hidden layer


def test_the_svg_draws_every_weight_and_unit_with_the_step_lit(homework_trace) -> None:
    """What the page shows: one SVG with every edge (its weight in a hover title), every unit's
    value and bias, and the lit edge (w21 of layer 2, 0.2) drawn red and thick, last."""
    t = homework_trace
    step = next(s for s in t.steps if s.name == "∂L/∂w21^(2)")
    svg = network_svg((3, 2, 2), t.problem.W, t.problem.b, t.activations, step)
    lines = re.findall(r'<line [^>]*stroke="([^"]+)" stroke-width="([^"]+)"><title>([^<]+)', svg)
    assert len(lines) == 10  # 3×2 + 2×2 edges
    assert lines[-1] == (HIGHLIGHT, "4", "w21^(2) = 0.2")
    assert sorted(tip for *_, tip in lines) == sorted(
        f"w{j + 1}{i + 1}^({ell + 1}) = {w:.6g}" for ell, layer in enumerate(HW.W)
        for j, row in enumerate(layer) for i, w in enumerate(row))
    units = dict(re.findall(r'data-unit="([^"]*)" data-value="([^"]*)"', svg))
    # σ(0.09) = 0.5225 and σ(0.12) = 0.53 (4 significant digits), as in the steps.
    assert units == {"x1": "0.5", "x2": "0.1", "x3": "0.3", "h1": "0.5225", "h2": "0.53",
                     "ŷ1": "0.5504", "ŷ2": "0.5928"}
    assert 'stroke="#d62728" stroke-width="3"' in svg.split('data-unit="ŷ2"')[1].split("</g>")[0]


def test_the_svg_shows_only_what_is_answered_and_escapes_its_text(homework_trace) -> None:
    t = homework_trace
    svg = network_svg((3, 2, 2), t.problem.W, t.problem.b, t.activations, None, shown={(1, 0)})
    units = dict(re.findall(r'data-unit="([^"]*)" data-value="([^"]*)"', svg))
    assert units["h1"] == "0.5225" and units["h2"] == units["ŷ1"] == "?"
    assert "<script" not in svg and HIGHLIGHT not in svg  # nothing lit in Show all
