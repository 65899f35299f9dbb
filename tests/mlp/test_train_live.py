"""What the Train page's live view reads: the records behind "time left", the records a redraw
shows (never behind the store), the runs table without "None", and charts whose spec is built
once per shape (bench/live_view.py measures the view itself in a browser)."""

from __future__ import annotations

import time
from types import SimpleNamespace

import pandas as pd
import pytest

from core.mlp import charts
from core.mlp.describe import blank_missing
from core.mlp.jobs import LiveRun, RunJob
from core.mlp.runstore import RunStore
from core.mlp.status import RunStatus


def test_a_run_estimates_from_its_steady_records_and_says_its_share_of_a_core() -> None:
    """Epochs of 0.25 CPU s that took 1 s each (a quarter of a core), records 1 to 20: the
    steady run (records 2 to 20) is 18 epochs in 18 s, so 40 epochs to go take 40 s; the run
    has had 25 % of a core. One record alone is no estimate yet."""
    live = LiveRun("r", SimpleNamespace(epochs=100))
    for epoch in range(1, 21):
        live.add({"epoch": float(epoch), "elapsed": float(epoch)}, cpu=100 + epoch / 4)
    live.last_at = time.time()
    assert live.seconds_left(40) == pytest.approx(40.0, abs=0.01)
    assert live.share() == pytest.approx(0.25)
    alone = LiveRun("r", SimpleNamespace(epochs=100))
    alone.add({"epoch": 1.0, "elapsed": 1.0}, cpu=5.0)
    assert alone.seconds_left(99) is None and alone.share() is None


def test_records_without_cpu_clocks_count_as_a_core_of_their_own() -> None:
    """Records that came without the training thread's CPU time (a test, an old worker): their
    wall clock stands in, so the share is 1 and the page says nothing of the load."""
    live = LiveRun("r", SimpleNamespace(epochs=100))
    for epoch in range(1, 11):
        live.add({"epoch": float(epoch), "elapsed": epoch / 2})
    assert live.share() == pytest.approx(1.0)


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
