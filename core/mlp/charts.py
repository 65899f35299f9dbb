"""Altair charts drawn from training records, the figures of the seed reports.

Every builder takes `runs`: a mapping from a run's label (its legend entry, e.g. "η = 0.2") to its
records (`core.mlp.records.Record`). One run is coloured by what it measures (train / validation,
layer 1..L); in a comparison colour is the run in every chart, and what it measures is the dash,
so one colour can be followed from chart to chart. A loss or weight axis whose values span more
than two decades is logarithmic, so one run's blow-up does not flatten the others onto zero.

The line charts come back as a `Figure`: a Vega-Lite spec built by Altair once per shape (which
runs, series, scales, legend and height: `_lines_spec`, cached) and the records' data frame. A
live redraw then costs a data frame and a JSON copy, not Altair's build and schema validation,
which took ~0.3 s a chart. (Over 300 lines: one builder per figure of the homework reports, all
sharing `_lines`, the legend and height rules; splitting them would split those rules.)
"""

from __future__ import annotations

import functools
import json
import math
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import altair as alt
import numpy as np
import pandas as pd

from core.numbers import code

__all__ = [
    "CHARTS", "Figure", "chart_order", "thin", "metric_frame", "layer_frame", "with_start",
    "accuracy_chart", "loss_chart", "gap_chart",
    "weight_amplitude_chart", "update_ratio_chart", "decision_grid", "decision_boundary_chart",
    "log_scale_if_spread", "weights_caption", "warm", "warm_soon",
]

Runs = Mapping[str, Sequence[dict]]
HEIGHT = 260
# A legend label longer than this goes under the plot, one entry per line, so it never takes
# the plot's width (a half-page column leaves ~600 px; a 260 px legend beside it left ~300).
LONG_LABEL = 16
# Values spanning more than this factor get a log axis.
DECADES = 2
# Distinct hues, so overlaid runs never share a colour (the default theme uses shades of blue).
PALETTE = alt.Scale(scheme="tableau10")


def _legend(title: str, below: bool = False) -> alt.Legend:
    """A legend of line samples, so a dashed "validation" reads apart from a solid "train";
    `below` the plot (one entry per line) when its labels are long."""
    # A 20 px sample (size is the square of the length) holds a few periods of every dash
    # pattern. Beside the plot a label is cut at 160 px; below it has the chart's width.
    if below:
        return alt.Legend(title=title, symbolType="stroke", symbolSize=400,
                          symbolStrokeWidth=2, orient="bottom", direction="vertical",
                          labelLimit=560)
    return alt.Legend(title=title, symbolType="stroke", symbolSize=400, symbolStrokeWidth=2,
                      labelLimit=160)


def log_scale_if_spread(values: pd.Series | Sequence[float]) -> tuple | None:
    """(("type", "log"),), the log scale's properties, when the positive values span more
    than DECADES decades, else None."""
    v = pd.to_numeric(pd.Series(values), errors="coerce")
    v = v[np.isfinite(v) & (v > 0)]
    if v.empty or v.max() / v.min() <= 10.0 ** DECADES:
        return None
    return LOG


LOG = (("type", "log"),)


def _whole_epochs(df: pd.DataFrame) -> bool:
    """Whether every record is at a whole epoch. Records made every `eval_every` steps fall
    between epochs (epoch = step / steps per epoch); then the axis keeps its fractional ticks,
    since they are where the points are."""
    epochs = pd.to_numeric(df["epoch"], errors="coerce").dropna().to_numpy(dtype=float)
    return bool(len(epochs)) and bool(np.all(epochs == np.round(epochs)))


def _epoch_x(whole: bool) -> alt.X:
    """The epoch axis: ticks at whole epochs when every record is at one (`_whole_epochs`)."""
    if whole:
        return alt.X("epoch:Q", title="epoch", axis=alt.Axis(tickMinStep=1, format="d"))
    return alt.X("epoch:Q", title="epoch")


def metric_frame(runs: Runs, metrics: Mapping[str, str]) -> pd.DataFrame:
    """Long table run, epoch, step, series, value for `metrics` = {record key: series name}.

    Records without the key (or with None, e.g. a loss that became NaN) are left out, so a
    diverged run keeps its curve up to the last finite point.
    """
    rows = []
    for label, records in runs.items():
        for rec in records:
            for key, series in metrics.items():
                value = rec.get(key)
                if value is None or not np.isfinite(value):
                    continue
                rows.append({"run": label, "epoch": rec.get("epoch"), "step": rec.get("step"),
                             "series": series, "value": float(value)})
    return pd.DataFrame(rows, columns=["run", "epoch", "step", "series", "value"])


def layer_frame(runs: Runs, key: str) -> pd.DataFrame:
    """Long table run, epoch, layer ("layer 1" ...), value for a per-layer record list."""
    rows = []
    for label, records in runs.items():
        for rec in records:
            for i, value in enumerate(rec.get(key) or [], start=1):
                if value is None or not np.isfinite(value):
                    continue
                rows.append({"run": label, "epoch": rec.get("epoch"), "step": rec.get("step"),
                             "layer": f"layer {i}", "layer_index": i, "value": float(value)})
    return pd.DataFrame(rows, columns=["run", "epoch", "step", "layer", "layer_index", "value"])


def with_start(df: pd.DataFrame, value: float = 1.0) -> pd.DataFrame:
    """`layer_frame` plus the point (epoch 0, `value`) for every layer of every run.

    The training records start after the first epoch (or the first `eval_every` steps), but
    mean|W⁽ˡ⁾|ₜ / mean|W⁽ˡ⁾|₀ is 1 at t = 0 by definition: without this point a run whose
    weights grew 20-fold in its first epoch would seem to start at 20. Layers that already
    have an epoch-0 row keep it.
    """
    if df.empty:
        return df
    has_start = set(df.loc[df["epoch"] == 0, ["run", "layer"]].itertuples(index=False))
    firsts = df.drop_duplicates(["run", "layer"])
    start = [{"run": r.run, "epoch": 0.0, "step": 0, "layer": r.layer,
              "layer_index": r.layer_index, "value": value}
             for r in firsts.itertuples(index=False) if (r.run, r.layer) not in has_start]
    return pd.concat([pd.DataFrame(start, columns=df.columns), df], ignore_index=True)


@dataclass(frozen=True)
class Figure:
    """A chart to draw: its Vega-Lite spec without data (JSON, shared by every chart of the same
    shape) and its long data frame, which becomes the spec's one named dataset."""

    spec_json: str
    data: pd.DataFrame

    def spec(self) -> dict:
        """The spec for `st.vega_lite_chart`, the data frame as its dataset (sent as Arrow)."""
        spec = json.loads(self.spec_json)
        spec["data"], spec["datasets"] = {"name": DATASET}, {DATASET: self.data}
        return spec

    def to_dict(self) -> dict:
        """The spec with the data as rows, as Altair's `Chart.to_dict` gives it."""
        spec = self.spec()
        spec["datasets"] = {DATASET: self.data.to_dict("records")}
        return spec


DATASET = "records"


def _without_data(chart: alt.TopLevelMixin) -> str:
    """An Altair chart's Vega-Lite spec as JSON, its (empty) data taken out."""
    spec = chart.to_dict()
    spec.pop("data", None)
    spec.pop("datasets", None)
    return json.dumps(spec)


def _scale(key: tuple | None) -> alt.Scale | None:
    return None if key is None else alt.Scale(**dict(key))


def _lines(
    df: pd.DataFrame, *, y_title: str, title: str, series_title: str, several: bool,
    y_scale: tuple | None = None, series: str = "series", legend_title: str = "run",
) -> Figure:
    """One line per (run, series); colour = series for one run; for several, colour = run and
    dash = series (train / validation, or the layer), the same in every chart. `y_scale` is
    the y scale's properties as a tuple of pairs (("type", "log"),), or None."""
    colour, dash = ("run", series) if several else (series, None)
    below = _long_labels(df, colour) or (dash is not None and _long_labels(df, dash))
    entries = int(df[colour].nunique() + (df[dash].nunique() if dash else 0))
    spec = _lines_spec(tuple(df.columns), y_title, title, series_title, several, y_scale,
                       series, legend_title, bool(below), entries, _whole_epochs(df),
                       len(df) <= 400)
    return Figure(spec, df)


@functools.lru_cache(maxsize=256)
def _lines_spec(columns: tuple[str, ...], y_title: str, title: str, series_title: str,
                several: bool, y_scale: tuple | None, series: str, legend_title: str,
                below: bool, entries: int, whole_epochs: bool, points: bool) -> str:
    """`_lines`' spec for one shape, built with Altair (and validated) once.

    The records are marked by points in a second layer that has no legend: a line mark's
    own `point=True` makes Vega-Lite draw every legend symbol as a filled circle, black in a
    strokeDash legend, so "train" and "validation" looked the same.
    """
    y = alt.Y("value:Q", title=y_title, scale=_scale(y_scale) or alt.Undefined)
    tooltip = ["run:N", f"{series}:N", alt.Tooltip("epoch:Q", format=".2f"),
               alt.Tooltip("value:Q", format=".4g")]
    if several:
        colour, dash, detail = "run:N", f"{series}:N", f"{series}:N"
        colour_title, dash_title = legend_title, series_title
    else:
        colour, dash, detail = f"{series}:N", None, None
        colour_title, dash_title = series_title, None

    def channels(legend: bool) -> dict:
        out = {"color": alt.Color(colour, title=colour_title, sort=None, scale=PALETTE,
                                  legend=_legend(colour_title, below) if legend else None)}
        if dash is not None:
            out["strokeDash"] = alt.StrokeDash(
                dash, title=dash_title, sort=None,
                legend=_legend(dash_title, below) if legend else None)
            out["detail"] = detail
        return out

    # The layers inherit the encoding; the points' own colour and dash (no legend) override it.
    layers = [alt.Chart().mark_line(strokeWidth=2)]
    if points:
        layers.append(alt.Chart().mark_point(filled=True, size=20, opacity=1).encode(
            **channels(legend=False)))
    empty = pd.DataFrame(columns=list(columns))
    return _without_data(alt.layer(*layers, data=empty, title=title).encode(
        x=_epoch_x(whole_epochs), y=y, tooltip=tooltip, **channels(legend=True),
    ).properties(height=_height(entries, 2 if dash else 1, below)))


def _long_labels(df: pd.DataFrame, channel: str) -> bool:
    field = channel.split(":")[0]
    return bool(len(df)) and int(df[field].astype(str).str.len().max()) > LONG_LABEL


def _height(entries: int, legends: int, below: bool = False) -> int:
    """HEIGHT, or more when the legends need it: Streamlit fits the whole chart into this
    height and cuts off what does not fit, such as the runs' legend under 11 layers.

    A legend row takes about 25 px, a legend's title 30 px, the chart's title 60 px; under the
    plot the legends come on top of a plot of HEIGHT − 100 px, which they must not squash.
    """
    if below:
        return HEIGHT + 25 * entries + 30 * legends
    return max(HEIGHT, 25 * entries + 30 * legends + 60)


def accuracy_chart(runs: Runs, *, legend_title: str = "run", test: bool = False) -> Figure:
    """Train and validation accuracy per epoch (and test accuracy when `test`)."""
    metrics = {"train_acc": "train", "val_acc": "validation"}
    if test:
        metrics["test_acc"] = "test"
    df = metric_frame(runs, metrics)
    return _lines(df, y_title="accuracy", title="Accuracy", series_title="split",
                  several=len(runs) > 1, y_scale=(("domain", (0, 1)),),
                  legend_title=legend_title)


def loss_chart(runs: Runs, *, legend_title: str = "run") -> Figure:
    """Cross-entropy loss per epoch on the training and validation sets; a log axis when the
    losses span more than two decades (η = 50's loss of 300 beside the others' 0.1)."""
    df = metric_frame(runs, {"train_loss": "train", "val_loss": "validation"})
    scale = log_scale_if_spread(df["value"])
    if scale is not None:
        df = df[df["value"] > 0]
    return _lines(df, y_title="loss (log scale)" if scale else "cross-entropy loss",
                  title="Loss", series_title="split", several=len(runs) > 1, y_scale=scale,
                  legend_title=legend_title)


def gap_chart(runs: Runs, *, legend_title: str = "run") -> Figure:
    """The overfitting gap: train accuracy minus validation accuracy, per epoch."""
    gap = {
        label: [
            {**rec, "gap": rec["train_acc"] - rec["val_acc"]}
            for rec in records
            if rec.get("train_acc") is not None and rec.get("val_acc") is not None
        ]
        for label, records in runs.items()
    }
    df = metric_frame(gap, {"gap": "train − validation"})
    return Figure(_gap_spec(tuple(df.columns), legend_title, _long_labels(df, "run"),
                            int(df["run"].nunique()), _whole_epochs(df), len(df) <= 400), df)


@functools.lru_cache(maxsize=64)
def _gap_spec(columns: tuple[str, ...], legend_title: str, below: bool, entries: int,
              whole_epochs: bool, points: bool) -> str:
    empty = pd.DataFrame(columns=list(columns))
    chart = alt.Chart(empty, title="Overfitting gap (train − validation accuracy)").mark_line(
        point=points, strokeWidth=2
    ).encode(
        x=_epoch_x(whole_epochs),
        y=alt.Y("value:Q", title="accuracy gap"),
        color=alt.Color("run:N", title=legend_title, sort=None, scale=PALETTE,
                        legend=_legend(legend_title, below)),
        tooltip=["run:N", alt.Tooltip("epoch:Q", format=".2f"),
                 alt.Tooltip("value:Q", format=".4f")],
    )
    return _without_data(chart.properties(height=_height(entries, 1, below) if below
                                          else HEIGHT))


def weight_amplitude_chart(runs: Runs, *, legend_title: str = "run") -> Figure:
    """mean|W⁽ˡ⁾|ₜ / mean|W⁽ˡ⁾|₀ per layer l against epoch t; every layer begins at 1 (epoch 0).
    A log axis when the amplitudes span more than two decades."""
    df = with_start(layer_frame(runs, "mean_abs_w_rel"))
    scale = log_scale_if_spread(df["value"])
    if scale is not None:
        df = df[df["value"] > 0]
    # Short titles: Streamlit fits the whole chart into HEIGHT pixels, which leaves the plot
    # about 140 px tall, and a rotated y title longer than that sticks out above the plot and
    # pushes the chart title off the top of the canvas (the old "mean |W| / mean |W| at start").
    return _lines(df, y_title="mean |W|, log" if scale else "mean |W|, start = 1",
                  series="layer", title="Weight amplitude per layer", series_title="layer",
                  several=len(runs) > 1, y_scale=scale, legend_title=legend_title)


def update_ratio_chart(runs: Runs, *, legend_title: str = "run") -> Figure:
    """‖ΔW‖ / ‖W‖ of the last step per layer, on a log scale (see `weights_caption`)."""
    df = layer_frame(runs, "update_ratio")
    df = df[df["value"] > 0]  # a log scale cannot show 0 (no step made yet)
    return _lines(df, y_title="‖ΔW‖ / ‖W‖", series="layer",
                  title="Update-to-weight ratio per layer", series_title="layer",
                  several=len(runs) > 1, y_scale=LOG,
                  legend_title=legend_title)


def decision_grid(
    predict_proba: Callable[[np.ndarray], np.ndarray], X: np.ndarray, resolution: int = 45,
    margin: float = 0.1,
) -> pd.DataFrame:
    """The predicted class and its probability on a resolution × resolution grid over X (n, 2)."""
    X = np.asarray(X, dtype=float)
    lo, hi = X.min(axis=0), X.max(axis=0)
    pad = (hi - lo) * margin + 1e-9
    xs = np.linspace(lo[0] - pad[0], hi[0] + pad[0], resolution)
    ys = np.linspace(lo[1] - pad[1], hi[1] + pad[1], resolution)
    gx, gy = np.meshgrid(xs, ys)
    grid = np.column_stack([gx.ravel(), gy.ravel()])
    P = np.asarray(predict_proba(grid.astype(np.float32)))
    dx, dy = xs[1] - xs[0], ys[1] - ys[0]
    return pd.DataFrame({
        "x1": grid[:, 0] - dx / 2, "x1_end": grid[:, 0] + dx / 2,
        "x2": grid[:, 1] - dy / 2, "x2_end": grid[:, 1] + dy / 2,
        "class": P.argmax(axis=1).astype(str), "confidence": P.max(axis=1),
    })


def decision_boundary_chart(grid: pd.DataFrame, X: np.ndarray, y: np.ndarray) -> alt.LayerChart:
    """The classifier's regions as a heat map (paler where it is unsure), the points on top."""
    X = np.asarray(X, dtype=float)
    points = pd.DataFrame({"x1": X[:, 0], "x2": X[:, 1], "class": np.asarray(y).astype(str)})
    colour = alt.Color("class:N", title="class", scale=alt.Scale(scheme="category10"))
    heat = alt.Chart(grid).mark_rect().encode(
        x=alt.X("x1:Q", title="x₁"), x2="x1_end:Q",
        y=alt.Y("x2:Q", title="x₂"), y2="x2_end:Q",
        color=colour,
        opacity=alt.Opacity("confidence:Q", scale=alt.Scale(domain=[0.3, 1], range=[0.1, 0.55]),
                            legend=None),
    )
    dots = alt.Chart(points).mark_circle(size=28, stroke="white", strokeWidth=0.6,
                                         opacity=0.95).encode(
        x="x1:Q", y="x2:Q", color=colour, tooltip=["class:N", "x1:Q", "x2:Q"],
    )
    return alt.layer(heat, dots, title="Decision boundary").properties(height=HEIGHT + 60)


CHARTS: dict[str, Callable[..., Figure]] = {
    "accuracy": accuracy_chart,
    "loss": loss_chart,
    "weights": weight_amplitude_chart,
    "update": update_ratio_chart,
    "gap": gap_chart,
}


def chart_order(focus: Sequence[str] = (), several: bool = False) -> list[str]:
    """Chart names to draw: `focus` first, then the rest; the gap only for comparisons."""
    names = [n for n in focus if n in CHARTS]
    rest = ["accuracy", "loss", "weights", "update"] + (["gap"] if several else [])
    return names + [n for n in rest if n not in names]


def warm(layers: int = 2) -> None:
    """Build and cache the specs a single run's live charts start with, for a net of `layers`
    weight layers: its first redraw then costs what the others do (on a fresh server those
    specs were 0.28 s of Altair's build and validation, a fifth of a 20 s run's drawing)."""
    def record(epoch: float) -> dict:
        per_layer = [0.1 * epoch] * layers
        return {"step": int(10 * epoch), "epoch": epoch, "lr": 0.1, "train_loss": 2.0 / epoch,
                "train_acc": 0.3 * epoch, "val_loss": 2.1 / epoch, "val_acc": 0.3 * epoch,
                "test_acc": 0.3 * epoch, "l2_loss": 0.0, "mean_abs_w": per_layer,
                "mean_abs_w_rel": [1.0 + x for x in per_layer], "update_ratio": per_layer,
                "elapsed": epoch}
    runs = {"run": [record(float(e)) for e in (1, 2, 3)]}
    for name in chart_order():
        CHARTS[name](runs).spec()


_warming: threading.Thread | None = None
_warming_lock = threading.Lock()


def warm_soon() -> threading.Thread:
    """`warm()` in a daemon thread, once per process (the Train page starts it after its run: a
    student reading the form is idle time); returns that thread."""
    global _warming
    with _warming_lock:
        if _warming is None:
            _warming = threading.Thread(target=warm, name="charts-warm", daemon=True)
            _warming.start()
        return _warming


def thin(records: Sequence[dict], max_points: int = 400) -> list[dict]:
    """At most about `max_points` records, evenly spaced, always keeping the first and last.

    A live chart of a 2,000-epoch run does not need every point to show its shape, and
    drawing fewer keeps the redraw cheap.
    """
    n = len(records)
    if n <= max_points:
        return list(records)
    idx = np.unique(np.linspace(0, n - 1, max_points).round().astype(int))
    return [records[i] for i in idx]


def _span(values: Sequence[float]) -> str:
    lo, hi = min(values), max(values)
    return f"{lo:.1g}" if math.isclose(lo, hi, rel_tol=0.05) else f"{lo:.1g}–{hi:.1g}"


def weights_caption(runs: Runs) -> str:
    """What the weight-amplitude and update-ratio charts show, with the ratios these runs
    really reached (each run's range over its layers and records), so the words agree with the
    curves. Run labels are quoted as code: they may hold what a student typed."""
    ranges = []
    for label, records in runs.items():
        values = [v for rec in records for v in (rec.get("update_ratio") or [])
                  if v is not None and np.isfinite(v) and v > 0]
        if values:
            ranges.append(f"{code(label)} {_span(values)}" if len(runs) > 1 else _span(values))
    measured = f" Here: {'; '.join(ranges)}." if ranges else ""
    return (
        "Weight amplitude: $\\overline{|W^{(l)}|}_t \\,/\\, \\overline{|W^{(l)}|}_0$, so every "
        "layer starts at 1 (the homework's figure). Update ratio: "
        "$\\lVert \\Delta W^{(l)} \\rVert / \\lVert W^{(l)} \\rVert$ of the last step, how far "
        "one step moves a layer relative to its size. No one value is right for every net "
        "(the often quoted $10^{-3}$ is a starting point, not a target): compare the runs. Ten "
        "times the ratio is ten times the change per step; a run whose ratio nears 1 rewrites "
        "its weights every step and its loss jumps, one far below the others barely moves."
        + measured
    )
