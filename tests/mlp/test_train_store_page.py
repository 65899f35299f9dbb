"""The Train page over a damaged or foreign run database, and a tab reloaded mid-run."""

from __future__ import annotations

import time

import pytest

from tests.mlp.test_mlp_store_damage import _v1_database
from tests.pg_server import pg_cluster, pg_database  # noqa: F401 - fixtures


def _texts(at, kind: str) -> str:
    return " ".join(e.value for e in at.get(kind))


def test_bad_rows_leave_the_rest_of_the_runs_table(open_page, tmp_path, monkeypatch) -> None:
    path = tmp_path / "runs.sqlite3"
    _v1_database(path)
    monkeypatch.setenv("HANDPROP_DB", str(path))
    at = open_page("pages/train.py")
    warning = _texts(at, "warning")
    assert "run #2 (not JSON" in warning and "record 1 of run #3" in warning
    (table,) = [d for d in at.dataframe if "best val acc" in d.value.columns]
    assert sorted(table.value["run"]) == [1, 3, 4]
    statuses = dict(zip(table.value["run"], table.value["status"], strict=True))
    assert statuses[4] == "interrupted"  # the other host's dead run, found at start
    assert "None" not in table.value.astype(str).to_numpy()


def test_a_zero_byte_database_gets_a_message_and_stays_empty(open_page, tmp_path,
                                                             monkeypatch) -> None:
    path = tmp_path / "runs.sqlite3"
    path.write_bytes(b"")
    monkeypatch.setenv("HANDPROP_DB", str(path))
    at = open_page("pages/train.py")
    assert "empty (0 bytes)" in _texts(at, "error")
    assert path.stat().st_size == 0


def test_a_reloaded_tab_finds_its_running_run_and_stops_it(open_page, run_store) -> None:
    at = open_page("pages/train.py", timeout=120)
    at.text_input(key="f_epochs").input("1000").run()
    at.button(key="train").click().run()
    token = at.query_params["job"]
    token = token[0] if isinstance(token, list) else token
    assert token
    deadline = time.monotonic() + 60
    while not run_store.list_runs() and time.monotonic() < deadline:
        time.sleep(0.05)
    # A reload: a new session, with nothing but the URL.
    again = open_page("pages/train.py", timeout=120, query={"job": token})
    assert not again.button(key="stop").disabled
    again.button(key="stop").click().run()
    (info,) = run_store.list_runs()
    assert info.status == "stopped" and info.n_records < 1000


def test_records_of_run_defaults_to_the_newest_run(open_page, run_store) -> None:
    first = run_store.create_run({"dataset": "digits"}, label="first")
    run_store.finish_run(first, "finished")
    at = open_page("pages/train.py")
    assert at.selectbox(key="records_id").value == first
    second = run_store.create_run({"dataset": "digits"}, label="second")
    run_store.finish_run(second, "finished")
    at.run()
    assert at.selectbox(key="records_id").value == second  # a new run: its records first
    at.selectbox(key="records_id").set_value(first).run()
    assert at.selectbox(key="records_id").value == first  # the student's own choice stays


@pytest.mark.postgres
def test_a_run_made_elsewhere_on_postgres_is_listed_overlaid_and_downloadable(
        open_page, request, monkeypatch) -> None:
    """Two servers, one PostgreSQL database: a run trained by another process (here the
    command line) is in this server's runs table, overlays and downloads."""
    import subprocess
    import sys

    from tests.conftest import ROOT

    url = request.getfixturevalue("pg_database")
    done = subprocess.run(
        [sys.executable, "-m", "core.train", "--dataset", "xor", "--hidden", "4", "--epochs",
         "3", "--batch-size", "50", "--db", url],
        cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    monkeypatch.setenv("HANDPROP_DB", url)
    at = open_page("pages/train.py")
    (table,) = [d for d in at.dataframe if "best val acc" in d.value.columns]
    (run_id,) = table.value["run"]
    assert table.value["label"].tolist() == ["command line"]
    assert table.value["records"].tolist() == [3]
    at.multiselect(key="overlay_ids").select(run_id).run()
    overlaid = [c for c in at.get("vega_lite_chart") if '"run"' in c.proto.spec]
    assert overlaid  # the overlay charts draw its records
    assert "Stored in postgresql://" in " ".join(
        c.value for c in at.caption)
