"""The network drawn: units as circles, every weight on its edge, the current step lit.

`network_svg` is what the page shows (one SVG, drawn at once); `network_spec` is the same
drawing as a Vega-Lite chart (Altair), for notebooks and anything that wants an interactive one.

Layer l sits at x = l; its units are stacked and centred at y = 0. A weight's label sits part-way
along its edge, at a fraction that depends on the source unit so labels from different sources
into the same unit do not overlap. Between layers with more than `MAX_LABELLED` edges only the
lit edge keeps its label (the rest would pile up); every weight is in the tables and tooltips.
"""

from __future__ import annotations

from functools import lru_cache
from html import escape

import altair as alt

from core.backprop.names import unit_names

HIGHLIGHT = "#d62728"
MAX_LABELLED = 9  # edges between two layers that still get readable labels (3 × 3)


def _ys(n: int) -> list[float]:
    return [(n - 1) / 2 - k for k in range(n)]


def network_data(shape, weights, biases, activations, step=None,
                 shown=None) -> dict[str, list[dict]]:
    """The chart's two datasets. weights[l] (n_{l+1}, n_l), biases[l] (n_{l+1},), activations[l].

    `step` is a tracer Step: its unit (layer, unit) and, for a weight, its edge are lit. With
    `shown` (a set of (layer, unit)), only those units' activations are written, "?" elsewhere:
    in Let me try the drawing gives away nothing the student has not answered or revealed.
    """
    n_layers = len(shape) - 1
    lit_node = (step.layer, step.unit) if step is not None and step.unit is not None else None
    lit_edge = ((step.layer, step.unit, step.source)
                if step is not None and step.source is not None else None)
    nodes, edges = [], []
    names = unit_names(shape)
    for ell, n in enumerate(shape):
        for j, y in enumerate(_ys(n)):
            bias = "" if ell == 0 else f"b={float(biases[ell - 1][j]):.3g}"
            value = f"{float(activations[ell][j]):.4g}"
            if shown is not None and ell > 0 and (ell, j) not in shown:
                value = "?"
            nodes.append({"x": ell, "y": y, "name": names[ell][j], "value": value, "bias": bias,
                          "lit": (ell, j) == lit_node})
    for ell in range(n_layers):
        ys_in, ys_out = _ys(shape[ell]), _ys(shape[ell + 1])
        crowded = shape[ell] * shape[ell + 1] > MAX_LABELLED
        for j in range(shape[ell + 1]):
            for i in range(shape[ell]):
                w = float(weights[ell][j][i])
                t = 0.22 + 0.5 * (i + 0.5) / shape[ell]
                y0, y1 = ys_in[i], ys_out[j]
                lit = (ell + 1, j, i) == lit_edge
                edges.append({"x": ell, "y": y0, "x2": ell + 1, "y2": y1,
                              "lx": ell + t, "ly": y0 + t * (y1 - y0),
                              "label": "" if crowded and not lit else f"{w:.3g}",
                              "sign": "positive" if w >= 0 else "negative", "lit": lit,
                              "weight": f"w{j + 1}{i + 1}^({ell + 1}) = {w:.6g}"})
    return {"nodes": nodes, "edges": edges}


@lru_cache(maxsize=64)
def _spec(shape: tuple[int, ...], height: int) -> dict:
    """The Altair chart for a shape, with named (empty) datasets, as Vega-Lite JSON.

    Altair's schema validation costs ~0.5 s, so it runs once per shape; each re-run only swaps
    in the datasets.
    """
    n_layers = len(shape) - 1
    edf, ndf = alt.Data(name="edges"), alt.Data(name="nodes")
    span = max(shape) / 2 + 0.3
    xs = alt.Scale(domain=[-0.35, n_layers + 0.35])
    ysc = alt.Scale(domain=[-span, span])
    X, Y = alt.X("x:Q", scale=xs, axis=None), alt.Y("y:Q", scale=ysc, axis=None)
    lit_color = alt.condition("datum.lit", alt.value(HIGHLIGHT), alt.value("#888"))
    rule = alt.Chart(edf).mark_rule().encode(
        X, Y, x2="x2:Q", y2="y2:Q",
        color=alt.condition("datum.lit", alt.value(HIGHLIGHT),
                            alt.Color("sign:N", scale=alt.Scale(domain=["positive", "negative"],
                                                                range=["#4c78a8", "#e49444"]),
                                      legend=None)),
        strokeWidth=alt.condition("datum.lit", alt.value(4), alt.value(1.4)),
        tooltip=["weight:N"])
    labels = alt.Chart(edf).mark_text(fontSize=11, dy=-6).encode(
        x=alt.X("lx:Q", scale=xs, axis=None), y=alt.Y("ly:Q", scale=ysc, axis=None),
        text="label:N", color=alt.condition("datum.lit", alt.value(HIGHLIGHT), alt.value("#333")),
        size=alt.condition("datum.lit", alt.value(14), alt.value(11)))
    circles = alt.Chart(ndf).mark_circle(size=1500, opacity=1).encode(
        X, Y, color=alt.condition("datum.lit", alt.value("#fde0dd"), alt.value("#f3f3f3")),
        stroke=lit_color, strokeWidth=alt.condition("datum.lit", alt.value(3), alt.value(1)),
        tooltip=["name:N", "value:N", "bias:N"])
    names = alt.Chart(ndf).mark_text(fontSize=12, fontWeight="bold", dy=-5).encode(
        X, Y, text="name:N")
    values = alt.Chart(ndf).mark_text(fontSize=10, dy=9).encode(X, Y, text="value:N")
    biases_t = alt.Chart(ndf).mark_text(fontSize=10, dy=30, color="#555").encode(
        X, Y, text="bias:N")
    chart = (rule + labels + circles + names + values + biases_t).properties(
        height=height).configure_view(stroke=None)
    return chart.to_dict()


def network_spec(shape, weights, biases, activations, step=None, height: int = 320,
                 shown=None) -> dict:
    """Vega-Lite spec (for st.vega_lite_chart) of the network with the step's unit/edge lit.

    Everything but the two named datasets ("nodes", "edges") is the same for every step of a
    shape: Streamlit sends the datasets apart from the spec, and a browser given the same spec
    with new datasets only swaps the data into the chart it has, instead of building it again
    (Vega's parse and compile, the larger part of a redraw) on every Next.
    """
    spec = dict(_spec(tuple(int(n) for n in shape), height))  # the cached dict is never mutated
    spec["datasets"] = network_data(shape, weights, biases, activations, step, shown)
    return spec


SVG_PAD = 0.35  # drawing units: layer l at x = l, the view padded by SVG_PAD
PX_PER_LAYER, PX_PER_UNIT = 140, 70  # at these the labels read at their font sizes
POSITIVE, NEGATIVE, GREY, INK = "#4c78a8", "#e49444", "#888", "#333"
RADIUS = 22  # px: the area of the chart's circles (1500 px²)


def network_svg(shape, weights, biases, activations, step=None, shown=None) -> str:
    """The same drawing as `network_spec`, as one SVG: what the page shows.

    A browser draws this at once, while a Vega-Lite chart first loads and compiles Vega (about
    as long as the rest of the page together) and re-renders on every step. Hovering over an edge
    or a unit shows its weight, or its value and bias (SVG titles). Only numbers and the units'
    own names go in, escaped all the same.
    """
    data = network_data(shape, weights, biases, activations, step, shown)
    n_layers, span = len(shape) - 1, max(shape) / 2 + 0.3
    # Sized by the net, drawn at the column's width: the text stays about its size in px.
    width, height = round(PX_PER_LAYER * (n_layers + 2 * SVG_PAD)), round(PX_PER_UNIT * 2 * span)

    def px(x: float, y: float) -> tuple[float, float]:
        return (round((x + SVG_PAD) / (n_layers + 2 * SVG_PAD) * width, 1),
                round((span - y) / (2 * span) * height, 1))

    out = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
           f'width="100%" role="img" aria-label="The network" font-family="sans-serif">']
    for e in sorted(data["edges"], key=lambda e: e["lit"]):  # the lit edge on top
        (x1, y1), (x2, y2) = px(e["x"], e["y"]), px(e["x2"], e["y2"])
        colour = HIGHLIGHT if e["lit"] else POSITIVE if e["sign"] == "positive" else NEGATIVE
        out.append(f'<line x1="{x1}" y1="{y1}" x2="{x2}" y2="{y2}" stroke="{colour}" '
                   f'stroke-width="{4 if e["lit"] else 1.4}"><title>{escape(e["weight"])}'
                   '</title></line>')
    for e in data["edges"]:
        if e["label"]:
            x, y = px(e["lx"], e["ly"])
            out.append(f'<text x="{x}" y="{y - 6}" text-anchor="middle" '
                       f'font-size="{14 if e["lit"] else 11}" '
                       f'fill="{HIGHLIGHT if e["lit"] else INK}">{escape(e["label"])}</text>')
    for n in data["nodes"]:
        x, y = px(n["x"], n["y"])
        tip = escape(" ".join(v for v in (n["name"], n["value"], n["bias"]) if v))
        out.append(
            f'<g data-unit="{escape(n["name"])}" data-value="{escape(n["value"])}">'
            f'<title>{tip}</title><circle cx="{x}" cy="{y}" r="{RADIUS}" '
            f'fill="{"#fde0dd" if n["lit"] else "#f3f3f3"}" '
            f'stroke="{HIGHLIGHT if n["lit"] else GREY}" stroke-width="{3 if n["lit"] else 1}"/>'
            f'<text x="{x}" y="{y - 5}" text-anchor="middle" font-size="12" font-weight="bold" '
            f'fill="{INK}">{escape(n["name"])}</text>'
            f'<text x="{x}" y="{y + 9}" text-anchor="middle" font-size="10" fill="{INK}">'
            f'{escape(n["value"])}</text>'
            f'<text x="{x}" y="{y + 30}" text-anchor="middle" font-size="10" fill="#555">'
            f'{escape(n["bias"])}</text></g>')
    out.append("</svg>")
    return "".join(out)
