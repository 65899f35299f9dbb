"""Runs that last: every training run and every record it makes, in one SQLite file.

The store is written as training goes, one short transaction per record, in WAL mode, so a closed
tab, a Stop or a killed server loses at most the record being made. Several writers (threads of one
Streamlit server, or separate processes) share the file safely: each thread of each process opens
its own connection, and a busy timeout makes a writer wait its turn instead of failing.

    runs(id, label, sweep, settings JSON, status, message, created, ended, train_seconds,
         summary JSON, owner)
    records(run_id, seq, data JSON)        one row per record, seq = 0, 1, 2, ...

Training into the store (a background job a page can watch and stop) lives in `core.mlp.jobs`.
"""

from __future__ import annotations

import io
import json
import math
import os
import socket
import sqlite3
import threading
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

__all__ = [
    "STATUSES", "RunInfo", "RunStore", "default_db_path", "runs_table", "table_csv",
    "records_frame_flat",
]

STATUSES = ("running", "finished", "stopped", "diverged", "failed")
BUSY_TIMEOUT_S = 30.0

_SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    label TEXT NOT NULL DEFAULT '',
    sweep TEXT NOT NULL DEFAULT '',
    settings TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('running','finished','stopped','diverged','failed')),
    message TEXT NOT NULL DEFAULT '',
    created REAL NOT NULL,
    ended REAL,
    train_seconds REAL,
    summary TEXT NOT NULL DEFAULT '{}',
    owner TEXT NOT NULL DEFAULT ''
);
CREATE TABLE IF NOT EXISTS records (
    run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    seq INTEGER NOT NULL,
    data TEXT NOT NULL,
    PRIMARY KEY (run_id, seq)
);
"""


def default_db_path() -> Path:
    """$HANDPROP_DB, else $XDG_DATA_HOME/handprop/runs.sqlite3 (~/.local/share by default)."""
    explicit = os.environ.get("HANDPROP_DB")
    if explicit:
        return Path(explicit).expanduser()
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "handprop" / "runs.sqlite3"


def _owner() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def _json_safe(value: Any) -> Any:
    """NaN and ±inf become null: SQLite's JSON functions (and browsers) reject them."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_safe(v) for v in value]
    if hasattr(value, "item"):  # NumPy scalars
        return _json_safe(value.item())
    return value


def _dumps(value: Any) -> str:
    return json.dumps(_json_safe(value), allow_nan=False)


@dataclass
class RunInfo:
    """One row of the runs table, with what the records say about it."""

    id: int
    label: str
    sweep: str
    settings: dict
    status: str
    message: str
    created: float
    ended: float | None
    train_seconds: float | None
    summary: dict
    n_records: int = 0
    best_val_acc: float | None = None
    final_val_acc: float | None = None
    final_test_acc: float | None = None
    final_train_acc: float | None = None


class RunStore:
    """The SQLite run database at `path` (default: `default_db_path()`).

    Connections are opened lazily, one per (process, thread): sqlite3 connections must not cross
    threads, and a forked child must not reuse its parent's.
    """

    def __init__(self, path: str | os.PathLike | None = None) -> None:
        self.path = Path(path) if path is not None else default_db_path()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._local = threading.local()
        with self._write() as con:
            for statement in _SCHEMA.split(";"):
                if statement.strip():
                    con.execute(statement)

    # -- connections ---------------------------------------------------------------------------
    def _con(self) -> sqlite3.Connection:
        con = getattr(self._local, "con", None)
        if con is None or getattr(self._local, "pid", None) != os.getpid():
            con = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_S, isolation_level=None)
            con.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_S * 1000)}")
            self._set_wal(con)
            # NORMAL is durable against a killed process in WAL mode (only power loss can undo
            # the last commits), and much cheaper than FULL's fsync per record.
            con.execute("PRAGMA synchronous = NORMAL")
            con.execute("PRAGMA foreign_keys = ON")
            self._local.con, self._local.pid = con, os.getpid()
        return con

    @staticmethod
    def _set_wal(con: sqlite3.Connection) -> None:
        # Switching the journal mode needs a moment alone with the file; the busy handler is not
        # always consulted for it, so retry briefly when another writer is starting up too.
        for attempt in range(50):
            try:
                con.execute("PRAGMA journal_mode = WAL")
                return
            except sqlite3.OperationalError:
                time.sleep(0.02 * (attempt + 1))
        con.execute("PRAGMA journal_mode = WAL")

    class _Tx:
        def __init__(self, con: sqlite3.Connection) -> None:
            self.con = con

        def __enter__(self) -> sqlite3.Connection:
            # IMMEDIATE takes the write lock up front, so two writers never deadlock mid-way.
            self.con.execute("BEGIN IMMEDIATE")
            return self.con

        def __exit__(self, exc_type, exc, tb) -> None:
            self.con.execute("ROLLBACK" if exc_type else "COMMIT")

    def _write(self) -> RunStore._Tx:
        return RunStore._Tx(self._con())

    def close(self) -> None:
        """Close this thread's connection (others close when their thread ends)."""
        con = getattr(self._local, "con", None)
        if con is not None:
            con.close()
            self._local.con = None

    # -- writing -------------------------------------------------------------------------------
    def create_run(self, settings: dict, *, label: str = "", sweep: str = "") -> int:
        """A new run with status "running"; returns its id."""
        with self._write() as con:
            cur = con.execute(
                "INSERT INTO runs (label, sweep, settings, status, created, owner) "
                "VALUES (?, ?, ?, 'running', ?, ?)",
                (label, sweep, _dumps(settings), time.time(), _owner()),
            )
            return int(cur.lastrowid)

    def add_record(self, run_id: int, record: dict) -> int:
        """Append one record (its own transaction, committed at once); returns its seq."""
        with self._write() as con:
            (seq,) = con.execute(
                "SELECT COALESCE(MAX(seq) + 1, 0) FROM records WHERE run_id = ?", (run_id,)
            ).fetchone()
            con.execute(
                "INSERT INTO records (run_id, seq, data) VALUES (?, ?, ?)",
                (run_id, seq, _dumps(record)),
            )
            return int(seq)

    def finish_run(
        self, run_id: int, status: str, *, message: str = "",
        train_seconds: float | None = None, summary: dict | None = None,
    ) -> None:
        """Mark a run finished, stopped, diverged or failed."""
        if status not in STATUSES:
            raise ValueError(f"unknown run status {status!r}; expected one of {STATUSES}")
        with self._write() as con:
            con.execute(
                "UPDATE runs SET status = ?, message = ?, ended = ?, train_seconds = ?, "
                "summary = ? WHERE id = ?",
                (status, message, time.time(), train_seconds, _dumps(summary or {}), run_id),
            )

    def delete_runs(self, run_ids: Iterable[int]) -> int:
        """Delete runs and their records; returns how many runs went."""
        ids = [int(i) for i in run_ids]
        if not ids:
            return 0
        marks = ",".join("?" * len(ids))
        with self._write() as con:
            con.execute(f"DELETE FROM records WHERE run_id IN ({marks})", ids)
            return con.execute(f"DELETE FROM runs WHERE id IN ({marks})", ids).rowcount

    def mark_orphans(self) -> int:
        """Runs left "running" by a process that no longer exists become "failed".

        That is what a killed server leaves behind; their records are kept. Only runs written on
        this host can be checked (a pid means nothing elsewhere).
        """
        host = socket.gethostname()
        changed = 0
        rows = self._con().execute(
            "SELECT id, owner FROM runs WHERE status = 'running'"
        ).fetchall()
        for run_id, owner in rows:
            owner_host, _, pid = owner.rpartition(":")
            if owner_host != host or not pid.isdigit() or _pid_alive(int(pid)):
                continue
            n = self.n_records(run_id)
            with self._write() as con:
                changed += con.execute(
                    "UPDATE runs SET status = 'failed', message = ?, ended = ? "
                    "WHERE id = ? AND status = 'running'",
                    (f"interrupted: the process training it stopped; its {n} records are kept",
                     time.time(), run_id),
                ).rowcount
        return changed

    # -- reading -------------------------------------------------------------------------------
    def n_records(self, run_id: int) -> int:
        (n,) = self._con().execute(
            "SELECT COUNT(*) FROM records WHERE run_id = ?", (run_id,)
        ).fetchone()
        return int(n)

    def records(self, run_id: int) -> list[dict]:
        """Every stored record of a run, in the order they were made."""
        rows = self._con().execute(
            "SELECT data FROM records WHERE run_id = ? ORDER BY seq", (run_id,)
        ).fetchall()
        return [json.loads(d) for (d,) in rows]

    def get_run(self, run_id: int) -> RunInfo | None:
        found = self.list_runs(ids=[run_id])
        return found[0] if found else None

    def list_runs(
        self, ids: Sequence[int] | None = None, sweep: str | None = None
    ) -> list[RunInfo]:
        """Runs, newest first, with record count, best and final accuracies."""
        where, args = [], []
        if ids is not None:
            if not ids:
                return []
            where.append(f"r.id IN ({','.join('?' * len(ids))})")
            args += [int(i) for i in ids]
        if sweep is not None:
            where.append("r.sweep = ?")
            args.append(sweep)
        sql = (
            "SELECT r.id, r.label, r.sweep, r.settings, r.status, r.message, r.created, r.ended, "
            "r.train_seconds, r.summary, "
            "(SELECT COUNT(*) FROM records WHERE run_id = r.id), "
            "(SELECT MAX(json_extract(data, '$.val_acc')) FROM records WHERE run_id = r.id), "
            "(SELECT data FROM records WHERE run_id = r.id ORDER BY seq DESC LIMIT 1) "
            "FROM runs r" + (" WHERE " + " AND ".join(where) if where else "")
            + " ORDER BY r.id DESC"
        )
        out = []
        for row in self._con().execute(sql, args).fetchall():
            last = json.loads(row[12]) if row[12] else {}
            out.append(RunInfo(
                id=row[0], label=row[1], sweep=row[2], settings=json.loads(row[3]),
                status=row[4], message=row[5], created=row[6], ended=row[7],
                train_seconds=row[8], summary=json.loads(row[9]), n_records=row[10],
                best_val_acc=row[11], final_val_acc=last.get("val_acc"),
                final_test_acc=last.get("test_acc"), final_train_acc=last.get("train_acc"),
            ))
        return out

    def records_csv(self, run_id: int) -> str:
        """A run's records as CSV: one row per record, per-layer lists spread into columns."""
        return records_frame_flat(self.records(run_id)).to_csv(index=False)


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def records_frame_flat(records: Sequence[dict]) -> pd.DataFrame:
    """Records as a flat table: `mean_abs_w` = [a, b] becomes `mean_abs_w_1`, `mean_abs_w_2`."""
    rows = []
    for rec in records:
        row = {}
        for key, value in rec.items():
            if isinstance(value, list):
                for i, v in enumerate(value, start=1):
                    row[f"{key}_{i}"] = v
            else:
                row[key] = value
        rows.append(row)
    return pd.DataFrame(rows)


def _fmt_hidden(hidden: Any) -> str:
    if isinstance(hidden, list | tuple):
        return "-".join(str(h) for h in hidden) or "none"
    return str(hidden)


def runs_table(runs: Sequence[RunInfo]) -> pd.DataFrame:
    """The runs as the seeds' results table: settings, best and final accuracy, time, status."""
    rows = []
    for r in runs:
        s = r.settings
        schedule = s.get("schedule", "constant")
        rows.append({
            "run": r.id,
            "label": r.label,
            "dataset": s.get("dataset"),
            "hidden": _fmt_hidden(s.get("hidden", ())),
            "activation": s.get("activation"),
            "init": s.get("init"),
            "optimiser": s.get("optimizer"),
            "lr": s.get("lr"),
            "L2 λ": s.get("l2"),
            "schedule": schedule,
            "k": s.get("decay_k") if schedule in ("exponential", "inverse_time") else None,
            "batch": s.get("batch_size"),
            "epochs": s.get("epochs"),
            "records": r.n_records,
            "best val acc": r.best_val_acc,
            "final val acc": r.final_val_acc,
            "final test acc": r.final_test_acc,
            "time (s)": None if r.train_seconds is None else round(r.train_seconds, 2),
            "status": r.status,
            "message": r.message,
        })
    # Outcome first (what a reader scans for), then the settings that produced it.
    return pd.DataFrame(rows, columns=[
        "run", "label", "status", "best val acc", "final val acc", "final test acc", "time (s)",
        "records", "dataset", "hidden", "activation", "init", "optimiser", "lr", "L2 λ",
        "schedule", "k", "batch", "epochs", "message",
    ])


def table_csv(runs: Sequence[RunInfo]) -> str:
    buf = io.StringIO()
    runs_table(runs).to_csv(buf, index=False)
    return buf.getvalue()
