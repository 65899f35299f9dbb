"""The run store: records round-trip, survive a killed writer, and two writers lose nothing.

Every test that takes `run_store` runs twice: on a SQLite file and on a throw-away PostgreSQL
server (tests/pg_server.py; marked `postgres`, skipped with the install hint where PostgreSQL is
missing, failed under CI=true)."""

from __future__ import annotations

import json
import math
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from core.mlp.jobs import RunJob, record_run
from core.mlp.runstore import RunStore, default_db_path, records_frame_flat, runs_table
from tests.pg_server import pg_cluster, pg_database  # noqa: F401 - fixtures used by run_store

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def run_store(request, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> RunStore:
    """An empty run store of this test's own, on each back end; also what HANDPROP_DB names,
    so the processes a test starts open the same one."""
    where = str(tmp_path / "runs.sqlite3") if request.param == "sqlite" else \
        request.getfixturevalue("pg_database")
    monkeypatch.setenv("HANDPROP_DB", where)
    return RunStore(where)


def _record(i: int) -> dict:
    return {"step": 10 * i, "epoch": float(i), "train_acc": 0.5 + 0.01 * i,
            "val_acc": 0.4 + i / 100, "test_acc": 0.3, "train_loss": 1.0 / (i + 1),
            "mean_abs_w": [0.1, 0.2],
            "mean_abs_w_rel": [1.0, 1.0 + i], "update_ratio": [1e-3, 2e-3]}


def test_db_path_from_env_then_xdg_then_home(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("HANDPROP_DB", str(tmp_path / "x.db"))
    assert default_db_path() == tmp_path / "x.db"
    monkeypatch.delenv("HANDPROP_DB")
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    assert default_db_path() == tmp_path / "xdg" / "handprop" / "runs.sqlite3"
    monkeypatch.delenv("XDG_DATA_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert default_db_path() == tmp_path / "home" / ".local/share/handprop/runs.sqlite3"


def test_records_round_trip_with_best_final_and_csv(run_store: RunStore) -> None:
    assert run_store.location == os.environ["HANDPROP_DB"]
    run_id = run_store.create_run({"dataset": "digits", "hidden": [64], "lr": 0.5}, label="η = 0.5")
    records = [_record(i) for i in range(4)]
    records[2]["val_acc"] = 0.9  # the best is not the last
    records[3]["train_loss"] = float("nan")  # a diverged loss is stored as null, not lost
    records[1]["train_acc"] = np.float32(0.75)  # NumPy scalars are stored as plain numbers
    for rec in records:
        run_store.add_record(run_id, rec)
    run_store.finish_run(run_id, "diverged", message="loss became nan", train_seconds=1.25)

    back = run_store.records(run_id)
    assert [r["step"] for r in back] == [0, 10, 20, 30]
    assert back[3]["train_loss"] is None and back[1]["train_acc"] == pytest.approx(0.75)
    assert back[0]["mean_abs_w_rel"] == [1.0, 1.0]
    info = run_store.get_run(run_id)
    assert (info.status, info.message, info.n_records) == ("diverged", "loss became nan", 4)
    assert info.best_val_acc == pytest.approx(0.9)
    assert info.final_val_acc == pytest.approx(0.43)
    assert info.train_seconds == pytest.approx(1.25)

    table = runs_table(run_store.list_runs())
    row = table.iloc[0]
    assert (row["run"], row["hidden"], row["status"], row["records"]) == (
        run_id, "64", "diverged", 4)
    assert row["best val acc"] == pytest.approx(0.9)

    flat = records_frame_flat(back)
    assert {"mean_abs_w_1", "mean_abs_w_2", "update_ratio_2"} <= set(flat.columns)
    csv_lines = run_store.records_csv(run_id).strip().splitlines()
    assert len(csv_lines) == 1 + 4 and "mean_abs_w_rel_2" in csv_lines[0]


def test_unknown_status_refused_and_delete_removes_records(run_store: RunStore) -> None:
    a = run_store.create_run({"lr": 1})
    b = run_store.create_run({"lr": 2})
    run_store.add_record(a, _record(0))
    run_store.add_record(b, _record(0))
    with pytest.raises(ValueError, match="unknown run status"):
        run_store.finish_run(a, "early")
    assert run_store.delete_runs([a]) == 1
    assert run_store.get_run(a) is None and run_store.records(a) == []
    assert run_store.n_records(b) == 1


class _FakeRun:
    """A TrainingRun stand-in: yields n records, then ends as told."""

    def __init__(self, n: int, end: str = "finished", fail_at: int | None = None) -> None:
        self.config = {"lr": 0.1, "epochs": n}
        self.n, self.end, self.fail_at = n, end, fail_at
        self.status, self.message, self.train_seconds = "ready", "", 0.0

    def run(self, should_stop=None):
        self.status = "running"
        for i in range(self.n):
            if self.fail_at == i:
                raise FloatingPointError("overflow in exp")
            if should_stop is not None and should_stop():
                self.status = "stopped"
                return
            time.sleep(0.01)
            yield _record(i)
        self.status = self.end
        self.message = "diverged at epoch 3: loss became nan" if self.end == "diverged" else ""

    def summary(self) -> dict:
        return {"status": self.status}


def test_record_run_keeps_records_whatever_ends_the_run(run_store: RunStore) -> None:
    ok = record_run(run_store, _FakeRun(3))
    diverged = record_run(run_store, _FakeRun(3, end="diverged"))
    failed = record_run(run_store, _FakeRun(5, fail_at=2))
    with pytest.raises(KeyboardInterrupt):
        def interrupt(record: dict) -> None:
            raise KeyboardInterrupt
        record_run(run_store, _FakeRun(5), on_record=interrupt)
    runs = {r.id: r for r in run_store.list_runs()}
    assert (runs[ok].status, runs[ok].n_records) == ("finished", 3)
    assert (runs[diverged].status, runs[diverged].message) == (
        "diverged", "diverged at epoch 3: loss became nan")
    assert (runs[failed].status, runs[failed].n_records) == ("failed", 2)
    assert "overflow in exp" in runs[failed].message
    interrupted = max(runs)
    assert (runs[interrupted].status, runs[interrupted].n_records) == ("stopped", 1)


def test_job_stop_ends_current_run_and_skips_rest_of_sweep(run_store: RunStore) -> None:
    configs = [(f"run {i}", SimpleNamespace(epochs=200)) for i in range(3)]
    job = RunJob(run_store, configs, lambda cfg: _FakeRun(200), sweep="s1").start()
    deadline = time.monotonic() + 10
    while len(job.runs[0].records) < 3 and time.monotonic() < deadline:
        time.sleep(0.01)
    job.stop()
    assert job.join(10)
    assert [r.status for r in job.runs] == ["stopped", "skipped", "skipped"]
    (info,) = run_store.list_runs(sweep="s1")
    assert info.status == "stopped"
    assert info.n_records == len(job.runs[0].records) >= 3
    assert run_store.records(info.id) == [json.loads(json.dumps(r)) for r in job.runs[0].records]
    assert job.outcomes() == [("info", f"**run 0** stopped. Its {len(job.runs[0].records)} "
                                       f"finished records are kept (run #{info.id}).")]
    assert job.progress_text().startswith(f"{(len(job.runs[0].records) - 1) / 600:.0%} of the "
                                          "epochs trained · 3 of 3 runs ended")
    # Progress counts the epochs really trained: the last record's epoch of 3 × 200.
    kept = len(job.runs[0].records)
    assert job.progress() == (pytest.approx((kept - 1) / 600), 0.0)


def test_two_writer_threads_lose_nothing(run_store: RunStore) -> None:
    shared = run_store.create_run({"lr": 1})
    own: dict[int, int] = {}
    n, n_threads = 100, 4

    def write(k: int) -> None:
        mine = run_store.create_run({"lr": k})
        own[k] = mine
        for i in range(n):
            run_store.add_record(shared, {"writer": k, "i": i})
            run_store.add_record(mine, {"i": i})

    threads = [threading.Thread(target=write, args=(k,)) for k in range(n_threads)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    recs = run_store.records(shared)
    assert len(recs) == n * n_threads
    assert {(r["writer"], r["i"]) for r in recs} == {(k, i) for k in range(n_threads)
                                                      for i in range(n)}
    for mine in own.values():
        assert [r["i"] for r in run_store.records(mine)] == list(range(n))


WRITER = textwrap.dedent("""
    import sys, time
    from core.mlp.runstore import RunStore
    store = RunStore()
    shared, k, n, go = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])
    while time.time() < go:
        time.sleep(0.005)
    for i in range(n):
        store.add_record(shared, {"writer": k, "i": i})
""")


def test_two_writer_processes_lose_nothing(run_store: RunStore) -> None:
    shared = run_store.create_run({"lr": 1})
    n = 150
    go = time.time() + 1.0  # both start writing at the same moment
    procs = [subprocess.Popen([sys.executable, "-c", WRITER, str(shared), str(k), str(n),
                               str(go)], cwd=ROOT, env=os.environ.copy()) for k in range(2)]
    for p in procs:
        assert p.wait(timeout=60) == 0
    recs = run_store.records(shared)
    assert sorted((r["writer"], r["i"]) for r in recs) == [(k, i) for k in range(2)
                                                           for i in range(n)]


TRAINER = textwrap.dedent("""
    import sys
    from core.mlp.jobs import record_run
    from core.mlp.runstore import RunStore
    from core.mlp.training import TrainConfig, TrainingRun
    cfg = TrainConfig(dataset="digits", hidden=(16,), epochs=10000, batch_size=64, lr=0.1)
    run = TrainingRun(cfg)
    record_run(RunStore(), run, label="killed",
               on_start=lambda i: print(i, flush=True))
""")


def test_records_survive_a_killed_training_process(run_store: RunStore) -> None:
    proc = subprocess.Popen([sys.executable, "-c", TRAINER], cwd=ROOT, env=os.environ.copy(),
                            stdout=subprocess.PIPE, text=True)
    try:
        run_id = int(proc.stdout.readline())
        deadline = time.monotonic() + 60
        while run_store.n_records(run_id) < 3 and time.monotonic() < deadline:
            time.sleep(0.02)
        proc.send_signal(signal.SIGKILL)  # no finally, no atexit: the hard way a server dies
        proc.wait(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == -signal.SIGKILL
    kept = run_store.records(run_id)
    assert len(kept) >= 3
    # Every kept record is whole, and they are the consecutive epochs 1, 2, 3, ...
    assert [r["epoch"] for r in kept] == pytest.approx(list(range(1, len(kept) + 1)))
    assert all(math.isfinite(r["train_loss"]) for r in kept)
    assert run_store.get_run(run_id).status == "running"
    assert run_store.mark_orphans() == 1
    info = run_store.get_run(run_id)
    assert info.status == "interrupted" and f"{len(kept)} records are kept" in info.message
    assert run_store.n_records(run_id) == len(kept)


def test_the_command_line_trainer_stores_its_run_only_with_db(tmp_path) -> None:
    env = {**os.environ, "HANDPROP_DB": str(tmp_path / "default.sqlite3")}
    args = [sys.executable, "-m", "core.train", "--dataset", "xor", "--hidden", "3",
            "--epochs", "2", "--batch-size", "50"]
    plain = subprocess.run(args, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert plain.returncode == 0, plain.stderr
    assert not (tmp_path / "default.sqlite3").exists()  # off by default

    stored = subprocess.run([*args, "--db", str(tmp_path / "cli.sqlite3")], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=120)
    assert stored.returncode == 0, stored.stderr
    printed = [json.loads(line) for line in stored.stdout.splitlines()]
    (info,) = RunStore(tmp_path / "cli.sqlite3").list_runs()
    assert (info.status, info.label, info.n_records) == ("finished", "command line", 2)
    assert RunStore(tmp_path / "cli.sqlite3").records(info.id) == printed[:2]
    assert f"stored as run #{info.id}" in stored.stderr

    alone = subprocess.run([*args, "--db"], cwd=ROOT, env=env, capture_output=True, text=True,
                           timeout=120)
    assert alone.returncode == 0 and RunStore(tmp_path / "default.sqlite3").list_runs()

    (tmp_path / "empty.db").write_bytes(b"")
    refused = subprocess.run([*args, "--db", str(tmp_path / "empty.db")], cwd=ROOT, env=env,
                             capture_output=True, text=True, timeout=120)
    assert refused.returncode == 2 and "empty (0 bytes)" in refused.stderr
    assert "Traceback" not in refused.stderr


def test_time_left_follows_the_training_rate_not_the_set_up(run_store: RunStore) -> None:
    """A run of 100 epochs at 10 epochs/s whose data took 5 s to load: 30 epochs in, 7 s are
    left, whatever the set-up cost (the old estimate, elapsed/done, said 8.7 s)."""
    job = RunJob(run_store, [("r", SimpleNamespace(epochs=100))], lambda cfg: _FakeRun(1))
    live = job.runs[0]
    now = time.time()
    job.started = now - 8.0  # 5 s of loading, then 3 s of training
    for epoch in range(1, 31):
        live.add({"epoch": float(epoch), "elapsed": epoch / 10})
    live.last_at = now
    frac, left = job.progress()
    assert frac == pytest.approx(0.3)
    assert left == pytest.approx(7.0, rel=0.01)
    live.last_at = now - 0.05  # half an epoch since the last record: 0.05 s less
    assert job.progress()[1] == pytest.approx(6.95, rel=0.01)
    # Five epochs' time since the last: that epoch is overdue, and the 69 after it take 6.9 s.
    live.last_at = now - 0.5
    assert job.progress()[1] == pytest.approx(6.9, rel=0.005)
    live.records[:] = live.records[:1]
    assert job.progress()[1] is None  # one record is no rate yet


def test_the_schema_version_is_recorded_once_and_reopening_keeps_it(run_store) -> None:
    from core.mlp.store_schema import SCHEMA_VERSION

    run = run_store.create_run({"lr": 1})
    again = RunStore(run_store.location)  # a second server opening the same store
    rows = again.db.con().execute("SELECT version FROM handprop_schema").fetchall()
    assert {v for (v,) in rows} == {SCHEMA_VERSION}
    assert [r.id for r in again.list_runs()] == [run]



def test_a_postgres_url_is_shown_without_its_password() -> None:
    from core.mlp.store_postgres import masked

    assert masked("postgresql://app:s3cr:t@db:5432/handprop") == \
        "postgresql://app:***@db:5432/handprop"
    assert masked("postgresql://app@db/handprop") == "postgresql://app@db/handprop"
