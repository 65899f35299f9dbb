"""The Train page under AppTest: a run completes and is charted and tabled, Stop keeps what was
made, a sweep overlays its runs, bad settings give messages, two sessions keep to their own run."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pyarrow as pa
import pytest

from core.mlp.datasets import dataset_available
from core.mlp.mnist_cifar import mnist_hint
from core.mlp.runstore import RunStore

TIMEOUT = 60


def texts(at) -> str:
    parts = [e.value for kind in ("error", "warning", "info", "caption", "markdown", "latex")
             for e in getattr(at, kind)]
    return "\n".join(str(p) for p in parts)


def chart_spec(chart) -> dict:
    """A chart's Vega-Lite spec with its data rows (Streamlit ships them as Arrow) in "_rows"."""
    spec = json.loads(chart.proto.spec)
    spec["_rows"] = [row for ds in chart.proto.datasets
                     for row in pa.ipc.open_stream(ds.data.data).read_all().to_pylist()]
    return spec


def charts_by_title(at) -> dict[str, dict]:
    out = {}
    for chart in at.get("vega_lite_chart"):
        spec = chart_spec(chart)
        title = spec.get("title")
        out[title if isinstance(title, str) else json.dumps(title)] = spec
    return out


def rows_of(spec: dict) -> list[dict]:
    return spec["_rows"]


def set_form(at, **values) -> None:
    """Type into the form's boxes (every number box is a text box read by the settings table)."""
    for key, value in values.items():
        at.text_input(key=key).set_value(str(value))
    at.run()


def train_and_wait(at):
    at.button(key="train").click().run()
    job = at.session_state["train_job"]
    assert job.join(TIMEOUT)
    at.run()
    return job


def test_short_run_on_digits_is_charted_and_tabled(open_page, run_store: RunStore) -> None:
    at = open_page("pages/train.py", timeout=TIMEOUT)
    set_form(at, f_hidden="16", f_epochs=3)
    # The parameter count, from the formula the page shows: 64·16 + 16 + 16·10 + 10.
    assert "1{,}210" in texts(at) and 64 * 16 + 16 + 16 * 10 + 10 == 1210
    job = train_and_wait(at)
    (run_id,) = job.run_ids
    stored = run_store.records(run_id)
    assert [r["epoch"] for r in stored] == [1.0, 2.0, 3.0]
    acc = charts_by_title(at)["Accuracy"]
    shown = {(r["series"], r["epoch"]): r["value"] for r in rows_of(acc)}
    assert shown == {**{("train", r["epoch"]): r["train_acc"] for r in stored},
                     **{("validation", r["epoch"]): r["val_acc"] for r in stored}}
    # Three per-epoch records: ticks at whole epochs, never 0.5 or 1.5.
    assert acc["encoding"]["x"]["axis"] == {"tickMinStep": 1, "format": "d"}
    table = at.dataframe[-1].value
    row = table[table["run"] == run_id].iloc[0]
    assert (row["status"], row["records"], row["hidden"]) == ("finished", 3, "16")
    assert row["best val acc"] == pytest.approx(max(r["val_acc"] for r in stored))
    assert row["final test acc"] == pytest.approx(stored[-1]["test_acc"])


def test_stop_ends_the_run_and_keeps_its_records(open_page, run_store: RunStore) -> None:
    at = open_page("pages/train.py", timeout=TIMEOUT)
    set_form(at, f_hidden="16", f_epochs=1000, f_batch_size=8)
    at.button(key="train").click().run()
    job = at.session_state["train_job"]
    deadline = time.monotonic() + 30
    while len(job.runs[0].records) < 2 and time.monotonic() < deadline:
        time.sleep(0.02)
    assert not job.done
    at.button(key="stop").click().run()
    assert job.done and job.runs[0].status == "stopped"
    kept = len(job.runs[0].records)
    (run_id,) = job.run_ids
    assert 2 <= kept < 1000 and run_store.n_records(run_id) == kept
    assert run_store.get_run(run_id).status == "stopped"
    assert f"Its {kept} finished records are kept" in texts(at)
    acc = charts_by_title(at)["Accuracy"]
    assert len(rows_of(acc)) == 2 * kept
    table = at.dataframe[-1].value
    assert table[table["run"] == run_id].iloc[0]["status"] == "stopped"
    assert not at.button(key="train").disabled and at.button(key="stop").disabled


def test_sweep_overlays_three_runs_one_colour_each(open_page, run_store: RunStore) -> None:
    at = open_page("pages/train.py", timeout=TIMEOUT)
    set_form(at, f_hidden="16", f_epochs=2)
    at.selectbox(key="f_sweep_key").set_value("lr").run()
    set_form(at, f_sweep_values="0.2, 1, 5")
    job = train_and_wait(at)
    assert [r.status for r in job.runs] == ["finished"] * 3
    acc = charts_by_title(at)["Accuracy"]
    assert {r["run"] for r in rows_of(acc)} == {"η = 0.2", "η = 1", "η = 5"}
    assert acc["encoding"]["color"]["field"] == "run"
    assert acc["encoding"]["color"]["title"] == "Learning rate η"
    assert sorted(r.settings["lr"] for r in run_store.list_runs()) == [0.2, 1.0, 5.0]
    results = at.dataframe[-2].value  # "Results of this comparison", above the runs table
    assert sorted(results["lr"]) == [0.2, 1.0, 5.0] and len(results) == 3
    # A constant schedule has no decay k: the cell is blank, not "None".
    assert list(results["k"]) == ["", "", ""] and list(at.dataframe[-1].value["k"]) == [""] * 3


@pytest.mark.parametrize("key,value,message", [
    ("f_hidden", "64,,x", "Hidden layers: there is an empty entry between two commas"),
    ("f_hidden", "64, x", "Hidden layers: `x` is not a whole number"),
    ("f_lr", "-1", "Learning rate η must be greater than 0, got `-1`"),
    ("f_lr", "fast", "Learning rate η is not a number (`fast`)"),
    ("f_lr", "1e308", "Learning rate η must be at most 100, got `1e308`"),
    ("f_lr", "1,5", "Learning rate η is not a number (`1,5`): use a point for decimals"),
    ("f_l2", "nan", "L2 λ is NaN"),
    ("f_batch_size", 0, "Batch size must be a positive whole number, got `0`"),
    ("f_batch_size", "1,5", "Batch size is not a number (`1,5`)"),
    ("f_epochs", -3, "Epochs must be a positive whole number, got `-3`"),
    ("f_epochs", "1e308", "Epochs must be at most 10,000, got `1e308`"),
    ("f_epochs", "inf", "Epochs is infinite (`inf`)"),
    ("f_seed", "abc", "Seed is not a number (`abc`)"),
    ("f_seed", "nan", "Seed is NaN"),
])
def test_bad_settings_give_a_message_not_a_traceback(open_page, run_store, key, value,
                                                     message) -> None:
    at = open_page("pages/train.py", timeout=TIMEOUT)
    set_form(at, **{key: value})
    assert any(message in e.value for e in at.error), [e.value for e in at.error]
    assert at.button(key="train").disabled
    assert run_store.list_runs() == []


def test_divergence_is_said_in_words(open_page, run_store: RunStore) -> None:
    at = open_page("pages/train.py", timeout=TIMEOUT)
    # η = 100 on U(−1, 1) ReLU weights: the loss passes 1e3 within two steps (9.2e4 at seed 0
    # under Haswell, SandyBridge, Nehalem and Prescott alike); tanh's 1.08e3 was too close.
    at.selectbox(key="f_activation").set_value("relu").run()
    at.selectbox(key="f_init").set_value("uniform").run()
    set_form(at, f_hidden="64", f_epochs=5, f_lr="100")
    job = train_and_wait(at)
    (run_id,) = job.run_ids
    assert run_store.get_run(run_id).status == "diverged"
    warning = " ".join(w.value for w in at.warning)
    assert "diverged at epoch 1: loss became" in warning and "blew up" in warning
    assert f"run #{run_id}" in warning


def test_sweep_values_are_checked_before_training(open_page, run_store) -> None:
    at = open_page("pages/train.py", timeout=TIMEOUT)
    at.selectbox(key="f_sweep_key").set_value("hidden").run()
    assert at.text_input(key="f_sweep_values").value == "32; 64; 128"  # the seeds' widths
    set_form(at, f_sweep_values="32; 64,,x")
    assert any("sweep: Hidden layers: there is an empty entry" in e.value for e in at.error)
    assert at.button(key="train").disabled


def test_preset_fills_the_form_and_draws_the_decision_boundary(open_page, run_store) -> None:
    at = open_page("pages/train.py", timeout=TIMEOUT)
    at.selectbox(key="preset_key").set_value("spirals").run()
    at.button(key="run_preset").click().run()
    job = at.session_state["train_job"]
    assert job.join(TIMEOUT)
    at.run()
    assert at.text_input(key="f_hidden").value == ""  # the first run: no hidden layer
    assert at.selectbox(key="f_dataset").value == "spirals"
    specs = charts_by_title(at)
    boundary = sorted(t for t in specs if t.startswith("Decision boundary"))
    assert boundary == ["Decision boundary: 32-32 tanh", "Decision boundary: no hidden layer"]
    assert {r["run"] for r in rows_of(specs["Accuracy"])} == {"no hidden layer", "32-32 tanh"}


def test_cifar_preset_enabled_only_with_its_files(open_page, run_store, monkeypatch) -> None:
    at = open_page("pages/train.py", timeout=TIMEOUT)
    at.selectbox(key="preset_key").set_value("cifar10").run()
    available, why = dataset_available("cifar10")
    assert at.button(key="run_preset").disabled is (not available)
    if not available:
        assert any("cifar-10-python.tar.gz" in i.value for i in at.info)
    # Files present (as the data module would say): the experiment can be run.
    monkeypatch.setattr("core.mlp.datasets.dataset_available",
                        lambda name, data_dir=None: (True, ""))
    at.run()
    assert not at.button(key="run_preset").disabled
    assert not any("needs the cifar10 files" in i.value for i in at.info)


def test_missing_dataset_files_are_explained(open_page, run_store, monkeypatch) -> None:
    at = open_page("pages/train.py", timeout=TIMEOUT)
    monkeypatch.setattr("core.mlp.datasets.dataset_available",
                        lambda name, data_dir=None: (name != "mnist", "put the files in /x"))
    at.selectbox(key="f_dataset").set_value("mnist").run()
    assert any("mnist is not available here: put the files in /x" in e.value for e in at.error)
    assert at.button(key="train").disabled


def test_missing_files_message_says_where_and_how_not_download_true(open_page, run_store,
                                                                    monkeypatch) -> None:
    """The page says where the files go and which command fetches them, in core's own words
    (no programmer's "download=True")."""
    folder = Path("/data/handprop/mnist")
    why = f"MNIST not found: {mnist_hint(folder)}"
    monkeypatch.setattr("core.mlp.datasets.dataset_available",
                        lambda name, data_dir=None: (name != "mnist", why))
    at = open_page("pages/train.py", timeout=TIMEOUT)
    at.selectbox(key="f_dataset").set_value("mnist").run()
    (message,) = [e.value for e in at.error if "mnist is not available here" in e.value]
    assert "download=True" not in message and "CLI" not in message
    assert f"in {folder}" in message and "train-images-idx3-ubyte.gz" in message
    assert "`python -m core.train --dataset mnist --download`" in message


def test_the_preset_panel_speaks_of_homework_not_seeds(open_page, run_store) -> None:
    at = open_page("pages/train.py", timeout=TIMEOUT)
    assert any("homework reports' experiments" in h.value for h in at.subheader)
    assert any(c.value.startswith("From the homework: ") for c in at.caption)
    for key in ("learning_rate", "width", "spirals"):
        at.selectbox(key="preset_key").set_value(key).run()
        assert "seeds" not in texts(at).lower() + " ".join(h.value for h in at.subheader)


def test_toy_data_is_described_by_features_images_by_pixels(open_page, run_store) -> None:
    at = open_page("pages/train.py", timeout=TIMEOUT)
    assert "pixel mean $\\mu$" in texts(at)  # digits: 8×8 images
    at.selectbox(key="f_dataset").set_value("spirals").run()
    shown = texts(at)
    assert "feature mean $\\mu$" in shown and "pixel" not in shown
    assert "input 2 features" in shown


def test_overlay_delete_and_csv_from_the_runs_table(open_page, run_store: RunStore) -> None:
    at = open_page("pages/train.py", timeout=TIMEOUT)
    set_form(at, f_hidden="8", f_epochs=2)
    first = train_and_wait(at).run_ids[0]
    set_form(at, f_lr="0.5")
    second = train_and_wait(at).run_ids[0]
    at.multiselect(key="overlay_ids").set_value([first, second]).run()
    overlay = [s for s in at.get("vega_lite_chart")][-5:]  # the overlay's five charts
    acc = chart_spec(overlay[0])
    assert {r["run"] for r in rows_of(acc)} == {f"#{first} 8 sigmoid · sgd η = 0.1 · digits",
                                               f"#{second} 8 sigmoid · sgd η = 0.5 · digits"}
    # the table, and the chosen run's records and settings
    assert len(at.get("download_button")) == 3
    at.selectbox(key="records_id").set_value(first).run()
    at.multiselect(key="overlay_ids").set_value([first]).run()
    at.button(key="delete").click().run()
    assert [r.id for r in run_store.list_runs()] == [second] and run_store.records(first) == []
    assert at.selectbox(key="records_id").value == second
    assert at.multiselect(key="overlay_ids").value == []


def test_two_sessions_train_at_once_and_each_sees_its_own_run(open_page, run_store) -> None:
    a = open_page("pages/train.py", timeout=TIMEOUT)
    b = open_page("pages/train.py", timeout=TIMEOUT)
    set_form(a, f_hidden="8", f_epochs=30, f_lr="0.3")
    set_form(b, f_hidden="12", f_epochs=30, f_lr="0.7")
    a.button(key="train").click().run()
    b.button(key="train").click().run()
    ja, jb = a.session_state["train_job"], b.session_state["train_job"]
    assert ja is not jb and ja.join(TIMEOUT) and jb.join(TIMEOUT)
    a.run()
    b.run()
    (ra,), (rb,) = ja.run_ids, jb.run_ids
    assert run_store.get_run(ra).settings["hidden"] == [8]
    assert run_store.get_run(rb).settings["hidden"] == [12]
    assert run_store.n_records(ra) == run_store.n_records(rb) == 30
    for at, label in ((a, "8 sigmoid · sgd η = 0.3 · digits"),
                      (b, "12 sigmoid · sgd η = 0.7 · digits")):
        acc = charts_by_title(at)["Accuracy"]
        assert {r["run"] for r in rows_of(acc)} == {label}
        assert len(rows_of(acc)) == 60


def test_unusable_database_gives_a_message(open_page, tmp_path, monkeypatch) -> None:
    corrupt = tmp_path / "not-a-run_store.sqlite3"
    corrupt.write_bytes(b"this is not an SQLite file" * 100)
    monkeypatch.setenv("HANDPROP_DB", str(corrupt))
    at = open_page("pages/train.py", timeout=TIMEOUT)
    assert "cannot be opened" in at.error[0].value and "HANDPROP_DB" in at.error[0].value
    assert at.title[0].value == "Train an MLP" and len(at.latex) > 0
