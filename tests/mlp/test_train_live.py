"""What the Train page's live view reads: the rate behind "time left", the records a redraw
shows (never behind the store), the runs table without "None", and charts whose spec is built
once per shape (bench/live_view.py measures the view itself in a browser)."""

from __future__ import annotations

from types import SimpleNamespace

import pandas as pd

from core.mlp import charts
from core.mlp.describe import blank_missing
from core.mlp.jobs import LiveRun, RunJob
from core.mlp.runstore import RunStore
from core.mlp.status import RunStatus


def test_the_rate_follows_a_change_of_speed_within_seconds() -> None:
    """Ten epochs at 1 s each, then twenty at 0.2 s: the rate over the last 5 s of the run's
    clock (records 9 to 30) is (30 - 9) epochs / (14 - 9) s = 4.2 epochs/s, near the new
    speed of 5 (the whole run's average, 30 / 14 = 2.1, is not)."""
    live = LiveRun("r", SimpleNamespace(epochs=100))
    for epoch in range(1, 11):
        live.add({"epoch": float(epoch), "elapsed": float(epoch)})
    for epoch in range(11, 31):
        live.add({"epoch": float(epoch), "elapsed": 10 + (epoch - 10) * 0.2})
    assert abs(live.rate() - 4.2) < 1e-9


def test_a_slow_run_still_uses_a_few_records() -> None:
    """Epochs of 10 s each: the last 5 s hold no earlier record, so the rate takes the last
    four records: 3 epochs / 30 s."""
    live = LiveRun("r", SimpleNamespace(epochs=100))
    for epoch in range(1, 8):
        live.add({"epoch": float(epoch), "elapsed": 10.0 * epoch})
    assert abs(live.rate() - 0.1) < 1e-12
    alone = LiveRun("r", SimpleNamespace(epochs=100))
    alone.add({"epoch": 1.0, "elapsed": 1.0})
    assert alone.rate() is None


def test_a_redraw_reads_the_store_when_the_pipe_lags(run_store: RunStore) -> None:
    """The worker has stored three records; one came over the pipe: the redraw shows three."""
    job = RunJob(run_store, [("r", SimpleNamespace(epochs=10))])
    live = job.runs[0]
    live.run_id = run_store.create_run({"epochs": 10}, label="r")
    for epoch in (1, 2, 3):
        run_store.add_record(live.run_id, {"epoch": float(epoch), "elapsed": epoch / 10})
    live.add(run_store.records(live.run_id)[0])
    live.status = RunStatus.RUNNING
    assert [r["epoch"] for r in job.records(run_store)["r"]] == [1.0, 2.0, 3.0]
    assert len(job.records()["r"]) == 1  # without the store: what the pipe brought
    live.status = RunStatus.FINISHED  # an ended run's records all came before its end
    assert len(job.records(run_store)["r"]) == 1


def test_the_runs_table_has_no_none() -> None:
    table = pd.DataFrame({"run": [1, 2], "time (s)": [None, 3.25], "k": [None, None],
                          "best val acc": [0.9375, float("nan")], "label": ["a", "b"]})
    shown = blank_missing(table)
    assert list(shown["time (s)"]) == ["", "3.25"]
    assert list(shown["k"]) == ["", ""]
    assert list(shown["best val acc"]) == ["0.9375", ""]
    assert list(shown["run"]) == [1, 2]  # a column without a gap stays numbers
    assert "None" not in shown.astype(str).to_string()


def test_a_chart_of_the_same_shape_reuses_its_spec_with_new_data() -> None:
    def rec(epoch: int) -> dict:
        return {"step": epoch, "epoch": float(epoch), "train_acc": 0.5, "val_acc": 0.25}

    first = charts.accuracy_chart({"r": [rec(1), rec(2)]})
    later = charts.accuracy_chart({"r": [rec(1), rec(2), rec(3)]})
    assert first.spec_json is later.spec_json  # built once, by Altair
    spec = later.spec()
    assert spec["data"] == {"name": charts.DATASET}
    assert len(spec["datasets"][charts.DATASET]) == 6  # 3 records × train, validation
