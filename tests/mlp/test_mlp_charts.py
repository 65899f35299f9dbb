"""Chart builders: the numbers in each Vega-Lite spec are the records' numbers, by hand."""

from __future__ import annotations

import numpy as np
import pytest

from core.mlp import charts


def rec(epoch: float, train: float, val: float, w_rel=(1.0, 1.0), ratio=(None, None),
        loss: float | None = 1.0) -> dict:
    return {"step": int(epoch * 10), "epoch": epoch, "train_acc": train, "val_acc": val,
            "test_acc": val, "train_loss": loss, "val_loss": loss, "mean_abs_w_rel": list(w_rel),
            "update_ratio": list(ratio)}


def spec_rows(chart) -> list[dict]:
    """All data rows of a chart's spec (Altair moves a DataFrame into `datasets`)."""
    spec = chart.to_dict()
    return [row for rows in spec.get("datasets", {}).values() for row in rows]


def encoding(chart) -> dict:
    spec = chart.to_dict()
    return spec.get("encoding") or spec["layer"][0]["encoding"]


def test_accuracy_one_run_coloured_by_split_with_the_records_values() -> None:
    runs = {"run": [rec(1, 0.5, 0.4), rec(2, 0.75, 0.625)]}
    chart = charts.accuracy_chart(runs)
    rows = spec_rows(chart)
    got = {(r["series"], r["epoch"]): r["value"] for r in rows}
    assert got == {("train", 1): 0.5, ("validation", 1): 0.4,
                   ("train", 2): 0.75, ("validation", 2): 0.625}
    enc = encoding(chart)
    assert enc["color"]["field"] == "series"
    assert enc["y"]["scale"]["domain"] == [0, 1]


def test_sweep_overlay_one_colour_per_run_with_legend_title() -> None:
    runs = {f"η = {lr}": [rec(1, a, a - 0.1), rec(2, a + 0.1, a)]
            for lr, a in [(0.2, 0.5), (1, 0.8), (5, 0.2)]}
    chart = charts.accuracy_chart(runs, legend_title="learning rate")
    rows = spec_rows(chart)
    assert {r["run"] for r in rows} == {"η = 0.2", "η = 1", "η = 5"}
    assert len(rows) == 3 * 2 * 2
    enc = encoding(chart)
    assert enc["color"]["field"] == "run" and enc["color"]["title"] == "learning rate"
    assert enc["strokeDash"]["field"] == "series"  # train solid, validation dashed


def test_diverged_run_keeps_its_curve_up_to_the_last_finite_loss() -> None:
    runs = {"η = 50": [rec(1, 0.3, 0.3, loss=2.5), rec(2, 0.1, 0.1, loss=float("nan")),
                       rec(3, 0.1, 0.1, loss=None)]}
    rows = spec_rows(charts.loss_chart(runs))
    assert sorted((r["epoch"], r["value"]) for r in rows) == [(1, 2.5), (1, 2.5)]


def test_gap_is_train_minus_validation() -> None:
    runs = {"2 layers": [rec(1, 0.9, 0.85), rec(2, 0.99, 0.9)],
            "10 layers": [rec(1, 0.8, 0.8)]}
    rows = spec_rows(charts.gap_chart(runs))
    got = {(r["run"], r["epoch"]): r["value"] for r in rows}
    assert got == pytest.approx({("2 layers", 1): 0.05, ("2 layers", 2): 0.09,
                                 ("10 layers", 1): 0.0})


def test_weight_amplitude_per_layer_starts_at_one() -> None:
    runs = {"deep": [rec(0, 0.1, 0.1, w_rel=(1.0, 1.0, 1.0)),
                     rec(1, 0.5, 0.5, w_rel=(1.25, 0.5, 2.0))]}
    chart = charts.weight_amplitude_chart(runs)
    rows = spec_rows(chart)
    got = {(r["layer"], r["epoch"]): r["value"] for r in rows}
    assert got == {("layer 1", 0): 1.0, ("layer 2", 0): 1.0, ("layer 3", 0): 1.0,
                   ("layer 1", 1): 1.25, ("layer 2", 1): 0.5, ("layer 3", 1): 2.0}
    assert encoding(chart)["color"]["field"] == "layer"


def test_update_ratio_drops_missing_and_zero_values_for_its_log_scale() -> None:
    runs = {"r": [rec(0, 0.1, 0.1, ratio=(None, None)), rec(1, 0.2, 0.2, ratio=(1e-3, 0.0)),
                  rec(2, 0.3, 0.3, ratio=(2e-3, 4e-4))]}
    chart = charts.update_ratio_chart(runs)
    rows = spec_rows(chart)
    assert sorted((r["layer"], r["epoch"], r["value"]) for r in rows) == [
        ("layer 1", 1, 1e-3), ("layer 1", 2, 2e-3), ("layer 2", 2, 4e-4)]
    assert encoding(chart)["y"]["scale"]["type"] == "log"


def test_decision_grid_follows_a_known_classifier() -> None:
    # P(class 1) = 1 where x1 > 0.5: the grid must say class 1 exactly right of that line.
    def proba(X: np.ndarray) -> np.ndarray:
        p1 = (X[:, 0] > 0.5).astype(float) * 0.8 + 0.1
        return np.column_stack([1 - p1, p1])

    rng = np.random.default_rng(0)
    X = rng.uniform(0, 1, size=(50, 2))
    y = (X[:, 0] > 0.5).astype(int)
    grid = charts.decision_grid(proba, X, resolution=20)
    assert len(grid) == 400
    centre = (grid["x1"] + grid["x1_end"]) / 2
    assert ((grid["class"] == "1") == (centre > 0.5)).all()
    assert np.allclose(grid["confidence"], 0.9)
    assert grid["x1"].min() < X[:, 0].min() and grid["x1_end"].max() > X[:, 0].max()
    chart = charts.decision_boundary_chart(grid, X, y)
    spec = chart.to_dict()
    assert [layer["mark"]["type"] for layer in spec["layer"]] == ["rect", "circle"]
    n_rows = sorted(len(rows) for rows in spec["datasets"].values())
    assert n_rows == [50, 400]


def test_thin_keeps_first_last_and_at_most_max_points() -> None:
    records = [rec(i / 10, 0.5, 0.5) for i in range(2001)]
    thinned = charts.thin(records, max_points=400)
    assert len(thinned) <= 400
    assert thinned[0] is records[0] and thinned[-1] is records[-1]
    epochs = [r["epoch"] for r in thinned]
    assert epochs == sorted(epochs)
    gaps = np.diff(epochs)
    assert gaps.max() <= 2 * gaps.min() + 1e-9  # evenly spaced
    short = records[:50]
    assert charts.thin(short) == short


def test_chart_order_puts_the_experiments_charts_first() -> None:
    assert charts.chart_order() == ["accuracy", "loss", "weights", "update"]
    assert charts.chart_order(("weights", "update"), several=True) == [
        "weights", "update", "accuracy", "loss", "gap"]
    assert charts.chart_order(("boundary", "gap")) == ["gap", "accuracy", "loss", "weights",
                                                       "update"]


def test_several_runs_legends_show_line_samples_not_dots() -> None:
    """Colour and dash legends draw line samples (so dashed "validation" differs from solid
    "train"); the points that mark the records carry no legend, whose circles hid the dash."""
    runs = {"η = 0.2": [rec(1, 0.5, 0.4), rec(2, 0.6, 0.5)],
            "η = 1": [rec(1, 0.7, 0.6), rec(2, 0.8, 0.7)]}
    for chart in (charts.accuracy_chart(runs), charts.loss_chart(runs),
                  charts.weight_amplitude_chart(runs), charts.gap_chart(runs)):
        spec = chart.to_dict()
        enc = encoding(chart)
        legends = [enc[ch]["legend"] for ch in ("color", "strokeDash") if ch in enc]
        assert legends and all(leg["symbolType"] == "stroke" for leg in legends), spec["title"]
        if "strokeDash" in enc:  # a line mark's point=True would turn these into dots
            marks = [layer["mark"] for layer in spec["layer"]]
            assert not any(m.get("point") for m in marks)
            points = [la for la in spec["layer"] if la["mark"]["type"] == "point"]
            assert points and all(la["encoding"][ch]["legend"] is None for la in points
                                  for ch in ("color", "strokeDash"))
    assert "strokeDash" in encoding(charts.accuracy_chart(runs))


def test_weight_amplitude_has_its_epoch_zero_point_at_one_for_every_layer_and_run() -> None:
    # The records start after epoch 1, where a too-large η has already grown |W| 20-fold.
    runs = {"η = 50": [rec(1, 0.1, 0.1, w_rel=(15.0, 22.0, 18.0)),
                       rec(2, 0.1, 0.1, w_rel=(16.0, 23.0, 19.0))],
            "η = 0.5": [rec(1, 0.8, 0.8, w_rel=(1.1, 1.2, 1.3))]}
    rows = spec_rows(charts.weight_amplitude_chart(runs))
    start = {(r["run"], r["layer"]): r["value"] for r in rows if r["epoch"] == 0}
    assert start == {(run, f"layer {i}"): 1.0 for run in runs for i in (1, 2, 3)}
    assert len(rows) == 6 + 9  # the start points, and every record's layers
    # A run that already has its epoch-0 record gets no second start point.
    runs = {"r": [rec(0, 0.1, 0.1, w_rel=(1.0, 1.0)), rec(1, 0.5, 0.5, w_rel=(2.0, 3.0))]}
    rows = spec_rows(charts.weight_amplitude_chart(runs))
    assert sorted((r["layer"], r["epoch"]) for r in rows) == [
        ("layer 1", 0), ("layer 1", 1), ("layer 2", 0), ("layer 2", 1)]


def test_epoch_axis_ticks_whole_epochs_only_when_records_are_per_epoch() -> None:
    per_epoch = {"r": [rec(1, 0.5, 0.4), rec(2, 0.6, 0.5), rec(3, 0.7, 0.6)]}
    for build in (charts.accuracy_chart, charts.loss_chart, charts.gap_chart,
                  charts.weight_amplitude_chart):
        axis = encoding(build(per_epoch))["x"]["axis"]
        assert axis["tickMinStep"] == 1 and axis["format"] == "d"
    # eval_every records fall between epochs: fractional ticks and values stay.
    sub_epoch = {"r": [rec(0.35, 0.5, 0.4), rec(0.7, 0.6, 0.5), rec(1, 0.7, 0.6)]}
    chart = charts.accuracy_chart(sub_epoch)
    assert "axis" not in encoding(chart)["x"]
    assert sorted({r["epoch"] for r in spec_rows(chart)}) == [0.35, 0.7, 1]


def test_weight_amplitude_titles_fit_the_plot_streamlit_leaves() -> None:
    """Streamlit fits the whole chart into its height, leaving the plot ~140 px: a longer
    rotated y title sticks out above it and pushes the chart title off the canvas."""
    enc = encoding(charts.weight_amplitude_chart({"r": [rec(1, 0.5, 0.5)]}))
    assert len(enc["y"]["title"]) <= 20


def test_many_layers_make_the_chart_tall_enough_for_both_legends() -> None:
    runs = {f"run {i}": [rec(1, 0.5, 0.5, w_rel=(1.5,) * 11)] for i in range(2)}
    assert charts.weight_amplitude_chart(runs).to_dict()["height"] >= 25 * 13 + 60
    few = {f"run {i}": [rec(1, 0.5, 0.5)] for i in range(3)}
    assert charts.accuracy_chart(few).to_dict()["height"] == charts.HEIGHT


def _colour_of_runs(chart) -> dict:
    """{run: colour} as Vega-Lite would assign it: tableau10 in the order the runs first come."""
    rows = spec_rows(chart)
    order = list(dict.fromkeys(r["run"] for r in rows))
    return {run: i for i, run in enumerate(order)}


def test_in_a_comparison_colour_is_the_run_in_every_chart() -> None:
    runs = {"η = 0.2": [rec(1, 0.5, 0.4, w_rel=(1.5, 2.0), ratio=(1e-3, 2e-3))],
            "η = 5": [rec(1, 0.2, 0.1, w_rel=(9.0, 8.0), ratio=(0.1, 0.2))]}
    built = [charts.CHARTS[name](runs) for name in charts.chart_order(several=True)]
    for chart in built:
        enc = encoding(chart)
        assert enc["color"]["field"] == "run", chart.to_dict()["title"]
        assert enc["color"]["scale"]["scheme"] == "tableau10"
        assert _colour_of_runs(chart) == {"η = 0.2": 0, "η = 5": 1}  # same order, same hue
    # What a run measures is its dash: the split, or the layer.
    assert encoding(built[0])["strokeDash"]["field"] == "series"
    assert encoding(charts.weight_amplitude_chart(runs))["strokeDash"]["field"] == "layer"
    assert encoding(charts.update_ratio_chart(runs))["strokeDash"]["field"] == "layer"


def test_loss_axis_goes_logarithmic_past_two_decades() -> None:
    calm = {"η = 0.2": [rec(1, 0.5, 0.4, loss=2.3), rec(2, 0.6, 0.5, loss=0.05)]}
    assert "scale" not in encoding(charts.loss_chart(calm))["y"]  # 2.3 / 0.05 = 46 < 100
    blown = {**calm, "η = 50": [rec(1, 0.1, 0.1, loss=300.0)]}  # 300 / 0.05 = 6000
    enc = encoding(charts.loss_chart(blown))
    assert enc["y"]["scale"]["type"] == "log" and "log" in enc["y"]["title"]
    assert charts.log_scale_if_spread([0.0, 1.0, 99.0]) is None  # zero is not a decade
    assert charts.log_scale_if_spread([0.01, 1.0, 1.01]) is not None


def test_weight_amplitude_axis_goes_logarithmic_past_two_decades() -> None:
    small = {"a": [rec(1, 0.5, 0.5, w_rel=(1.2, 3.0))], "b": [rec(1, 0.5, 0.5, w_rel=(50.0,
                                                                                        2.0))]}
    assert "scale" not in encoding(charts.weight_amplitude_chart(small))["y"]  # 1 … 50
    big = {"a": [rec(1, 0.5, 0.5, w_rel=(1.2, 3.0))], "b": [rec(1, 0.5, 0.5, w_rel=(400.0,
                                                                                      2.0))]}
    assert encoding(charts.weight_amplitude_chart(big))["y"]["scale"]["type"] == "log"


def test_long_run_names_put_the_legend_under_the_plot_not_beside_it() -> None:
    short = {f"η = {v}": [rec(1, 0.5, 0.4)] for v in (0.2, 1)}
    legend = encoding(charts.accuracy_chart(short))["color"]["legend"]
    assert legend.get("orient") is None and legend["labelLimit"] == 160
    long = {f"Exp. 3: Adam η = 1e-3, L2 = {v}": [rec(1, 0.5, 0.4)] for v in (0, 1e-4, 1e-3)}
    for build in (charts.accuracy_chart, charts.gap_chart, charts.weight_amplitude_chart):
        chart = build(long)
        legend = encoding(chart)["color"]["legend"]
        assert legend["orient"] == "bottom" and legend["direction"] == "vertical"
        # The plot keeps HEIGHT − 100 px above its legends' rows (25 px each) and titles.
        entries = len(long) + (2 if build is charts.accuracy_chart else 0) + (
            2 if build is charts.weight_amplitude_chart else 0)
        legends = 1 if build is charts.gap_chart else 2
        assert chart.to_dict()["height"] == charts.HEIGHT + 25 * entries + 30 * legends


def test_update_ratio_caption_states_the_ratios_the_runs_reached() -> None:
    # The homework's two runs: η too low sits at 0.0006-0.006, η about right at 0.005-0.04.
    runs = {"η = 0.01": [rec(1, 0.5, 0.4, ratio=(6e-4, 6e-3)), rec(2, 0.5, 0.4, ratio=(1e-3,
                                                                                        2e-3))],
            "η = 0.2": [rec(1, 0.5, 0.4, ratio=(5e-3, 4e-2))]}
    text = charts.weights_caption(runs)
    assert "Here: `η = 0.01` 0.0006–0.006; `η = 0.2` 0.005–0.04." in text
    assert "learns steadily" not in text and "compare the runs" in text
    assert charts.weights_caption({"r": [rec(1, 0.5, 0.4, ratio=(None, 0.0))]}).endswith(
        "barely moves.")  # nothing measured yet: no "Here"
    # A typed label cannot render as Markdown: it is quoted as code.
    assert "`![x](http://e/x.png)`" in charts.weights_caption(
        {"![x](http://e/x.png)": [rec(1, 0.5, 0.4, ratio=(1e-3, 1e-3))], "b": []})


def test_warm_builds_every_spec_a_real_runs_first_redraws_need() -> None:
    """The Train page warms the chart specs while the form is read: a real run of the default
    depth (one hidden layer: two weight layers) then builds none in its first redraws, which
    on a fresh server cost 0.28 s of Altair's validation, a fifth of a run's drawing."""
    from core.mlp.training import TrainConfig, TrainingRun

    records = list(TrainingRun(TrainConfig(dataset="digits", hidden=(16,), epochs=3)).run())
    charts._lines_spec.cache_clear()
    charts.warm()
    built = charts._lines_spec.cache_info().misses
    assert built >= 4  # the four charts, for one record and more
    for n in (1, 2, 3):
        for name in charts.chart_order():
            charts.CHARTS[name]({"a run": records[:n]}).spec()
    assert charts._lines_spec.cache_info().misses == built, "a first redraw built a spec"
    deeper = {"a run": [{**r, "mean_abs_w_rel": [*r["mean_abs_w_rel"], 1.0]} for r in records]}
    charts.weight_amplitude_chart(deeper)
    assert charts._lines_spec.cache_info().misses == built + 1  # another depth: its own spec


def test_warm_soon_is_one_thread_per_process(monkeypatch) -> None:
    monkeypatch.setattr(charts, "_warming", None)
    thread = charts.warm_soon()
    assert thread.daemon and thread.name == "charts-warm" and charts.warm_soon() is thread
    thread.join(timeout=60)
    assert not thread.is_alive()
