"""The network drawing's data: every weight labelled, the current unit and edge lit."""

from __future__ import annotations

from core.backprop import problems
from core.backprop.drawing import network_spec
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
