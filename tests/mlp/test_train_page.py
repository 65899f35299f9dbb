"""The Train page under AppTest: a run completes and is charted and tabled, Stop keeps what was
made, a sweep overlays its runs, bad settings give messages, two sessions keep to their own run."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import pyarrow as pa
import pytest

from core.mlp.datasets import dataset_available
from core.mlp.mnist_cifar import mnist_hint
from core.mlp.model import n_params_of, param_formula
from core.mlp.runstore import RunStore
from core.mlp.settings import formula_tex, parse_hidden, parse_settings, parse_sweep

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
    for key, value in values.items():
        widget = at.text_input(key=key) if isinstance(value, str) else at.number_input(key=key)
        widget.set_value(value)
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
    assert acc["encoding"]["color"]["title"] == "learning rate η"
    assert sorted(r.settings["lr"] for r in run_store.list_runs()) == [0.2, 1.0, 5.0]
    results = at.dataframe[-2].value  # "Results of this comparison", above the runs table
    assert sorted(results["lr"]) == [0.2, 1.0, 5.0] and len(results) == 3
    # A constant schedule has no decay k: the cell is blank, not "None".
    assert list(results["k"]) == ["", "", ""] and list(at.dataframe[-1].value["k"]) == [""] * 3


@pytest.mark.parametrize("key,value,message", [
    ("f_hidden", "64,,x", "hidden layers: there is an empty entry between two commas"),
    ("f_hidden", "64, x", "hidden layers: 'x' is not a whole number"),
    ("f_lr", "-1", "learning rate η must be greater than 0, got -1"),
    ("f_lr", "fast", "learning rate η is not a number (`fast`)"),
    ("f_lr", "1e308", "learning rate η must be at most 100"),
    ("f_l2", "nan", "L2 λ is NaN"),
    ("f_batch_size", 0, "batch size must be a positive integer, got 0"),
    ("f_epochs", -3, "epochs must be a positive integer, got -3"),
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
    at.selectbox(key="f_activation").set_value("tanh").run()
    set_form(at, f_hidden="16", f_epochs=5, f_lr="100")
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
    assert any("sweep: hidden layers: there is an empty entry" in e.value for e in at.error)
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
    assert len(at.get("download_button")) == 2  # the table, and the chosen run's records
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


# ----------------------------------------------------------------------------- the form parser
@pytest.mark.parametrize("text,sizes", [("64", (64,)), ("64, 64", (64, 64)), ("32 16", (32, 16)),
                                        ("", ()), (" 128 ,64 ", (128, 64))])
def test_hidden_layers_parse(text: str, sizes: tuple) -> None:
    assert parse_hidden(text) == sizes


@pytest.mark.parametrize("text,message", [
    ("64,,x", "empty entry between two commas"), ("x", "'x' is not a whole number"),
    ("64, 0", "1 to 4096 units, got 0"), ("1.5", "'1.5' is not a whole number"),
    ("-3", "'-3' is not a whole number"), (",".join(["8"] * 21), "at most 20 hidden layers"),
])
def test_hidden_layers_refused_with_a_sentence(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        parse_hidden(text)


def test_settings_collects_every_problem_and_keeps_good_fields() -> None:
    settings, errors = parse_settings({"lr": "1e-3", "batch_size": 0, "epochs": "2.5",
                                       "l2": "inf", "seed": 7, "optimizer": "rmsprop"})
    assert settings == {"lr": 0.001, "seed": 7}
    assert len(errors) == 4
    assert any("batch size must be a positive integer, got 0" in e for e in errors)
    assert any("epochs must be a whole number" in e for e in errors)
    assert any("L2 λ is infinite" in e for e in errors)
    assert any("optimizer must be one of sgd, momentum, nesterov, adam" in e for e in errors)


def test_sweep_values_become_labelled_full_settings() -> None:
    base = {"lr": 0.1, "hidden": (64,)}
    configs, errors = parse_sweep("hidden", "32; 64, 64", base)
    assert errors == []
    assert configs == [("hidden = 32", {"lr": 0.1, "hidden": (32,)}),
                       ("hidden = 64-64", {"lr": 0.1, "hidden": (64, 64)})]
    assert parse_sweep("lr", "0.2", base)[1][0].startswith("sweep of learning rate η: give at")
    assert "must be greater than 0" in parse_sweep("lr", "0.2, -1", base)[1][0]
    schedules, _ = parse_sweep("schedule", "constant, exponential", base)
    assert schedules[1][1]["decay_k"] == 1e-4 and "decay_k" not in schedules[0][1]


def test_formula_tex_matches_the_engines_count() -> None:
    sizes = (784, 64, 64, 64, 10)
    formula = param_formula(sizes)
    assert formula.endswith(f"= {784 * 64 + 64 + 2 * (64 * 64 + 64) + 64 * 10 + 10:,}")
    assert formula_tex(param_formula((784, 64, 10))) == (
        r"\begin{aligned} N &= 784 \cdot 64 + 64 \\ &\quad + 64 \cdot 10 + 10 "
        r"\\ &= 50{,}890 \end{aligned}")
    tex = formula_tex(formula)
    assert r"&\quad + 2 \cdot (64 \cdot 64 + 64)" in tex and r"&= 59{,}210" in tex


def _shown_lines(tex: str) -> list[str]:
    """The lines of an aligned formula as they read: "N=784·64+64", "+64·10+10", "=50,890"."""
    plain = re.sub(r"\\(begin|end)\{aligned\}", "", tex)
    for a, b in ((r"\cdot", "·"), (r"\quad", ""), ("{,}", ","), ("&", ""), ("$", ""),
                 (" ", ""), ("\n", "")):
        plain = plain.replace(a, b)
    return plain.split("\\\\")


@pytest.mark.parametrize("hidden", [(64,), (64,) * 10, (4096, 4096), (100, 50, 25, 12, 6)])
def test_formula_lines_fit_the_column(hidden) -> None:
    """The right column holds about 20 characters of display math (the old one-line
    "N = 784·64 + 64 + 64·10 + 10 = 50,890" was cut to "50,89"), and a 10-hidden-layer net
    must not become 22 terms."""
    sizes = (784, *hidden, 10)
    tex = formula_tex(param_formula(sizes))
    lines = _shown_lines(tex)
    assert max(len(line) for line in lines) <= 22, lines
    assert len(lines) <= len(set(hidden)) + 3
    assert lines[-1] == f"={n_params_of(sizes):,}"


def test_page_shows_the_formula_in_lines(open_page, run_store) -> None:
    at = open_page("pages/train.py", timeout=TIMEOUT)
    at.selectbox(key="f_dataset").set_value("mnist5k").run()
    (tex,) = [e.value for e in at.latex if "50{,}890" in e.value]
    assert _shown_lines(tex) == ["N=784·64+64", "+64·10+10", "=50,890"]
