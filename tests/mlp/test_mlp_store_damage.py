"""What a file holds or a crash leaves behind never breaks the run store: bad rows are skipped and
named, foreign files are refused untouched, dead runs are marked interrupted."""

from __future__ import annotations

import json
import os
import socket
import sqlite3
import time
from pathlib import Path

import pytest

from core.mlp import jobs
from core.mlp.jobs import record_run
from core.mlp.runstore import RunStore, RunStoreError
from core.mlp.store_schema import SCHEMA_VERSION

# The schema the first release wrote (version 1), verbatim: databases made by it must open.
V1_SCHEMA = """
CREATE TABLE runs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    label TEXT NOT NULL DEFAULT '', sweep TEXT NOT NULL DEFAULT '', settings TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('running','finished','stopped','diverged','failed')),
    message TEXT NOT NULL DEFAULT '', created REAL NOT NULL, ended REAL, train_seconds REAL,
    summary TEXT NOT NULL DEFAULT '{}', owner TEXT NOT NULL DEFAULT '');
CREATE TABLE records (
    run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE, seq INTEGER NOT NULL,
    data TEXT NOT NULL, PRIMARY KEY (run_id, seq));
"""


def _v1_database(path: Path) -> None:
    """A version-1 database as the hidden checks replay it: good runs, a run whose settings are
    not JSON, a run with a record that is not JSON, and a run left "running" by another host."""
    con = sqlite3.connect(path)
    con.executescript(V1_SCHEMA)
    now = time.time()
    rows = [
        (1, "good", '{"dataset": "digits", "hidden": [64]}', "finished", "", "me:1"),
        (2, "bad settings", "{not json", "finished", "", "me:1"),
        (3, "bad record", '{"dataset": "digits"}', "finished", "", "me:1"),
        (4, "foreign dead", '{"dataset": "digits"}', "running", "", "old-container:4242"),
    ]
    for run_id, label, settings, status, message, owner in rows:
        con.execute("INSERT INTO runs (id, label, settings, status, message, created, owner) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (run_id, label, settings, status, message, now - 3600, owner))
        for seq in range(3):
            data = json.dumps({"epoch": seq + 1, "val_acc": 0.5 + 0.1 * seq, "test_acc": 0.4})
            if run_id == 3 and seq == 1:
                data = "{'epoch': 2"  # what a hand edit or a half-written tool leaves
            con.execute("INSERT INTO records VALUES (?, ?, ?)", (run_id, seq, data))
    con.commit()
    con.close()


def test_a_version_1_database_with_bad_rows_opens_upgraded_and_lists_the_rest(tmp_path) -> None:
    path = tmp_path / "runs.sqlite3"
    _v1_database(path)
    store = RunStore(path)
    con = sqlite3.connect(path)
    assert con.execute("SELECT version FROM handprop_schema").fetchall() == [(SCHEMA_VERSION,)]
    con.close()
    runs = {r.id: r for r in store.list_runs()}
    assert sorted(runs) == [1, 3, 4]  # run 2's settings cannot be read: skipped, not fatal
    assert (runs[1].n_records, runs[1].best_val_acc, runs[1].final_val_acc) == (3, 0.7, 0.7)
    assert [r["epoch"] for r in store.records(3)] == [1, 3]  # the bad record skipped
    assert "epoch_1" not in store.records_csv(3)  # the CSV is made of the readable ones
    text = store.problem_text()
    assert text.startswith("2 damaged entries") and "run #2" in text and "record 1 of run #3" \
        in text
    store.list_runs()
    assert len(store.problems) == 2  # each reported once, however often it is read
    # The other host's run has no heartbeat at all: no live trainer can be writing it.
    assert store.mark_orphans() == 1
    dead = store.get_run(4)
    assert dead.status == "interrupted" and "old-container:4242" in dead.message
    assert "its 3 records are kept" in dead.message
    assert store.delete_runs([4]) == 1


def test_a_run_with_a_stale_heartbeat_is_interrupted_even_if_its_pid_lives(run_store) -> None:
    here = socket.gethostname()
    fresh_elsewhere = run_store.create_run({"lr": 1})
    reused_pid = run_store.create_run({"lr": 2})
    con = sqlite3.connect(run_store.path)
    con.execute("UPDATE runs SET owner = 'other-host:7' WHERE id = ?", (fresh_elsewhere,))
    # This very process is alive, so a PID check alone would keep it "running" for ever.
    con.execute("UPDATE runs SET owner = ?, heartbeat = ? WHERE id = ?",
                (f"{here}:{os.getpid()}", time.time() - 3600, reused_pid))
    con.commit()
    con.close()
    assert run_store.mark_orphans() == 1
    assert run_store.get_run(reused_pid).status == "interrupted"
    assert "sent nothing for 3600 s" in run_store.get_run(reused_pid).message
    assert run_store.get_run(fresh_elsewhere).status == "running"  # its trainer may be alive
    assert run_store.mark_orphans(now=time.time() + 61) == 1  # a minute of silence: dead


class _SlowRun:
    """A TrainingRun stand-in whose single epoch polls should_stop for a while."""

    config = {"lr": 0.1}
    status, message, train_seconds = "ready", "", 0.0

    def run(self, should_stop=None):
        end = time.monotonic() + 0.3
        while time.monotonic() < end:
            should_stop()
            time.sleep(0.005)
        self.status = "finished"
        yield {"epoch": 1.0, "val_acc": 0.5}

    def summary(self) -> dict:
        return {}


def test_a_long_epoch_sends_heartbeats(run_store, monkeypatch) -> None:
    monkeypatch.setattr(jobs, "HEARTBEAT_S", 0.05)
    beats = []
    monkeypatch.setattr(run_store, "beat", lambda run_id: beats.append(time.time()))
    record_run(run_store, _SlowRun())
    assert len(beats) >= 3


@pytest.mark.parametrize("content, why", [
    (b"", r"empty \(0 bytes\)"),
    (b"my thesis, chapter 1\n" * 200, "cannot be read"),
])
def test_an_empty_or_non_database_file_is_refused_untouched(tmp_path, content, why) -> None:
    path = tmp_path / "runs.sqlite3"
    path.write_bytes(content)
    with pytest.raises(RunStoreError, match=why):
        RunStore(path)
    assert path.read_bytes() == content


def test_a_foreign_sqlite_file_is_refused_and_gets_no_table(tmp_path) -> None:
    path = tmp_path / "photos.db"
    con = sqlite3.connect(path)
    con.execute("CREATE TABLE photos (id INTEGER PRIMARY KEY, name TEXT)")
    con.commit()
    con.close()
    before = path.read_bytes()
    with pytest.raises(RunStoreError, match=r"other tables \(photos\)"):
        RunStore(path)
    assert path.read_bytes() == before
    con = sqlite3.connect(path)
    assert con.execute("SELECT name FROM sqlite_master").fetchall() == [("photos",)]
    con.close()


def _leaves(path: Path, table: str) -> list[int]:
    con = sqlite3.connect(path)
    pages = [p for (p,) in con.execute(
        "SELECT pageno FROM dbstat WHERE name = ? AND pagetype = 'leaf' ORDER BY pageno",
        (table,))]
    con.close()
    return pages


def _scribble(path: Path, page: int) -> None:
    """Overwrite one page of the file with garbage, as a failing disk would."""
    con = sqlite3.connect(path)
    size = con.execute("PRAGMA page_size").fetchone()[0]
    con.close()
    with open(path, "r+b") as f:
        f.seek(size * (page - 1))
        f.write(b"\xde\xad" * (size // 2))


def test_damaged_pages_mid_file_lose_only_what_they_held(tmp_path) -> None:
    path = tmp_path / "runs.sqlite3"
    store = RunStore(path)
    for i in range(60):
        run = store.create_run({"lr": i, "note": "x" * 400}, label=f"run {i}")
        for seq in range(6):
            store.add_record(run, {"epoch": seq + 1, "val_acc": 0.5, "pad": "y" * 300})
        store.finish_run(run, "finished")
    store.close()
    con = sqlite3.connect(path)
    con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    con.close()
    runs_leaves, record_leaves = _leaves(path, "runs"), _leaves(path, "records")
    assert len(runs_leaves) > 4 and len(record_leaves) > 4
    # Rows go in id order: a late leaf of runs, an early leaf of records (other runs' rows).
    _scribble(path, runs_leaves[-2])
    _scribble(path, record_leaves[len(record_leaves) // 4])

    reopened = RunStore(path)
    listed = reopened.list_runs()
    assert 40 < len(listed) < 60  # one leaf of ~15 held a few runs; the others all show
    assert "runs" in reopened.problems and "damaged part of the file" in reopened.problems["runs"]
    kept = {info.id: len(reopened.records(info.id)) for info in listed}
    assert sum(n < 6 for n in kept.values()) >= 1  # a run whose records sat on the bad page
    assert sum(n == 6 for n in kept.values()) > 30  # ... and only those lost any
