"""The Softmax page's charts as Vega-Lite specs (plain dicts, data inline): the bars of softmax(s)
beside softmax(s + c), and the K×K Jacobian as a heat map.

Plain dicts rather than Altair objects: Altair validates every spec against the Vega-Lite JSON
schema as it builds it (about 0.2 s for the page's three charts on every re-run) and costs 0.4 s
to import; the spec is the same either way. The data goes inline into each layer as JSON values:
Streamlit turns a top-level `data` or named `datasets` into Arrow tables (and imports pandas and
pyarrow to do so, 0.3 s on a fresh server), layer data it sends as it is.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from core.softmax.numerics import softmax

__all__ = ["SERIES", "MAX_K_BAR_LABELS", "bar_chart", "heat_map"]

SERIES = ("softmax(s)", "softmax(s + c)")
COLOURS = ("#4c78a8", "#f58518")
# Past 4 classes the value labels on the bars run into each other; the table beside has them.
MAX_K_BAR_LABELS = 4
# Streamlit fits title, axes and rows into the height: about 120 px of frame, the rest rows.
HEAT_FRAME_PX, HEAT_ROW_PX = 120, 28


def bar_chart(s: ArrayLike, c: float) -> dict:
    """Grouped bars: p = softmax(s) and softmax(s + c) per class k = 1..K, on a 0..1 axis, with
    the values written on the bars while they fit (K <= MAX_K_BAR_LABELS)."""
    s = np.asarray(s, dtype=np.float64)
    rows = [{"class": f"k = {k + 1}", "scores": name, "p": float(v)}
            for name, p in zip(SERIES, (softmax(s), softmax(s + c)), strict=True)
            for k, v in enumerate(p)]
    encoding = {
        "x": {"field": "class", "type": "nominal", "title": None, "sort": None,
              "axis": {"labelAngle": 0}},
        "xOffset": {"field": "scores", "type": "nominal", "sort": list(SERIES)},
        "y": {"field": "p", "type": "quantitative", "title": "probability",
              "scale": {"domain": [0, 1]}},
        "color": {"field": "scores", "type": "nominal", "title": None,
                  "legend": {"orient": "top"},
                  "scale": {"domain": list(SERIES), "range": list(COLOURS)}},
        "tooltip": [{"field": "class", "type": "nominal"},
                    {"field": "scores", "type": "nominal"},
                    {"field": "p", "type": "quantitative", "format": ".6f"}],
    }
    layers = [{"mark": {"type": "bar"}}]
    if s.size <= MAX_K_BAR_LABELS:
        layers.append({"mark": {"type": "text", "dy": -7, "fontSize": 11},
                       "encoding": {"text": {"field": "p", "type": "quantitative",
                                             "format": ".4f"}}})
    return {"height": 300, "encoding": encoding, "layer": inline(layers, rows)}


def heat_map(matrix: ArrayLike, title: str) -> dict:
    """A K×K matrix as coloured cells, i down and j across, on a red–blue scale symmetric about
    0, with the values written in the cells up to K = 6; the height grows with K so that the row
    labels never overlap."""
    m = np.asarray(matrix, dtype=np.float64)
    k = m.shape[0]
    # Integer classes with an explicit order: as strings, K = 10 sorts as 1, 10, 2, …, 9.
    rows = [{"i": i + 1, "j": j + 1, "value": float(m[i, j])} for i in range(k) for j in range(k)]
    order = list(range(1, k + 1))
    limit = float(np.abs(m).max()) or 1.0
    encoding = {
        "x": {"field": "j", "type": "ordinal", "title": "j (score s_j)", "sort": order,
              "axis": {"labelAngle": 0}},
        "y": {"field": "i", "type": "ordinal", "title": "i (probability p_i)", "sort": order,
              "axis": {"labelOverlap": False}},
    }
    rect = {"mark": {"type": "rect"}, "encoding": {
        "color": {"field": "value", "type": "quantitative", "title": None,
                  "scale": {"scheme": "redblue", "domain": [-limit, limit], "reverse": True}},
        "tooltip": [{"field": "i", "type": "ordinal"}, {"field": "j", "type": "ordinal"},
                    {"field": "value", "type": "quantitative", "format": ".6f"}]}}
    layers = [rect]
    if k <= 6:
        layers.append({"mark": {"type": "text", "fontSize": 11}, "encoding": {
            "text": {"field": "value", "type": "quantitative", "format": ".3f"}}})
    return {"title": title, "encoding": encoding, "layer": inline(layers, rows),
            "height": max(260, HEAT_FRAME_PX + HEAT_ROW_PX * k)}


def inline(layers: list[dict], rows: list[dict]) -> list[dict]:
    """Each layer with the rows as its own inline data (see the module docstring for why)."""
    return [{**layer, "data": {"values": rows}} for layer in layers]
