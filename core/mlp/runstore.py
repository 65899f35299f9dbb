"""Runs that last: every training run and every record it makes, in one database.

The database is a SQLite file by default (`core.mlp.store_sqlite`), or a PostgreSQL database
when HANDPROP_DB is a postgresql:// URL (`core.mlp.store_postgres`); the tables are declared
once for both in `core.mlp.store_schema`. A store is opened only when the file is a run
database, a fresh one or an older version of one (upgraded in place); a zero-byte, foreign or
unreadable file raises `RunStoreError` with what to do, and is never replaced or given tables
of ours.

One bad row never hides the others: a run whose settings or records are not JSON, or that sits
on a damaged page of the file, is skipped, named once in the log and in `problems`, and the rest
is listed. A run whose trainer vanished (a killed server, a container gone, a reused PID) stops
sending heartbeats; `mark_orphans()` at the next start marks it interrupted, records kept.

Training into the store (a background job a page can watch and stop) lives in `core.mlp.jobs`;
the runs as tables (pandas) in `core.mlp.run_tables`, re-exported here. This module is over
300 lines because it is one class: its opening, writing, reading and orphan-marking share the
one dialect seam (`self.db`) and the one place bad rows are noted (`problems`).
"""

from __future__ import annotations

import json
import logging
import math
import os
import socket
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from core.mlp.records import Record
from core.mlp.run_tables import records_frame_flat, runs_table, table_csv
from core.mlp.status import STORED, RunStatus
from core.mlp.store_postgres import PostgresBackend, is_postgres_url, masked
from core.mlp.store_schema import (
    RECORD_COLUMNS,
    RUN_COLUMNS,
    SCHEMA_VERSION,
    V1_RUN_COLUMNS,
    create_statements,
)
from core.mlp.store_sqlite import SqliteBackend

__all__ = [
    "STORED", "RunInfo", "RunStore", "RunStoreError", "default_db_path", "runs_table",
    "table_csv", "records_frame_flat", "STALE_AFTER_S",
]

log = logging.getLogger(__name__)

# A run that has written nothing (no record, no heartbeat) for this long has no live trainer;
# jobs send a heartbeat every few seconds even inside a long epoch.
STALE_AFTER_S = 60.0


class RunStoreError(RuntimeError):
    """The database cannot be used as the run store; the message says why and what to do."""


def default_db_path() -> Path | str:
    """$HANDPROP_DB, else $XDG_DATA_HOME/handprop/runs.sqlite3 (~/.local/share by default).

    A postgresql:// URL is returned as it is (a str; shown by `RunStore.path` without its
    password)."""
    explicit = os.environ.get("HANDPROP_DB")
    if explicit:
        return explicit if is_postgres_url(explicit) else Path(explicit).expanduser()
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "handprop" / "runs.sqlite3"


def _owner() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def _json_safe(value: Any) -> Any:
    """NaN and ±inf become null: JSON (and browsers) reject them."""
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
    """One row of the runs table, with what its records say about it."""

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
    owner: str = ""
    heartbeat: float | None = None
    n_records: int = 0
    best_val_acc: float | None = None
    final_val_acc: float | None = None
    final_test_acc: float | None = None
    final_train_acc: float | None = None


def _json_object(text: Any, what: str) -> dict:
    value = json.loads(text) if text not in (None, "") else {}
    if not isinstance(value, dict):
        raise ValueError(f"{what} is JSON but not an object")
    return value


class RunStore:
    """The run database at `path`: a SQLite file, or a postgresql:// URL (default:
    `default_db_path()`). `location` is what another process opens the same store with;
    `path` is the file, or the URL without its password."""

    def __init__(self, path: str | os.PathLike | None = None, *,
                 stale_after: float = STALE_AFTER_S) -> None:
        where = default_db_path() if path is None else path
        self.stale_after = stale_after
        if isinstance(where, str) and is_postgres_url(where):
            self.location, self.path = where, masked(where)
            self.db: SqliteBackend | PostgresBackend = PostgresBackend(where)
        else:
            self.path = Path(where).expanduser()
            self.location = str(self.path)
            self.db = SqliteBackend(self.path)
        self.problems: dict[str, str] = {}  # what could not be read → why, each noted once
        self._open()

    # -- opening -------------------------------------------------------------------------------
    def _refuse(self, why: str) -> RunStoreError:
        return RunStoreError(
            f"{self.db} is not a run database handprop can use: {why}. It was left as it is; "
            "point HANDPROP_DB at another file (a new one is created) or move this one away.")

    def _open(self) -> None:
        why = self.db.prepare()
        if why:
            raise self._refuse(why)
        try:
            tables = self.db.tables()
        except self.db.errors as exc:
            raise self._refuse(f"it cannot be read ({exc})") from exc
        ours = {"runs", "records", "handprop_schema"}
        if tables - ours:
            raise self._refuse(f"it holds other tables ({', '.join(sorted(tables - ours))})")
        try:
            version = self._version(tables)
            self.db.configure()
            if version == 0:
                with self.db.tx() as con:
                    self.db.lock_schema(con)  # two servers starting at once create it once
                    for statement in create_statements(self.db.dialect):
                        con.execute(statement)
                    con.execute(self.db.sql("INSERT INTO handprop_schema (version) VALUES (?)"),
                                (SCHEMA_VERSION,))
            elif version == 1:
                self._upgrade_from_v1()
            elif version > SCHEMA_VERSION:
                raise self._refuse(f"it was written by a newer handprop (schema {version}, this "
                                   f"one knows {SCHEMA_VERSION})")
        except self.db.errors as exc:
            raise self._refuse(f"it cannot be read or upgraded ({exc})") from exc

    def _version(self, tables: set[str]) -> int:
        """0 for a database without our tables, else the schema version it holds."""
        if not tables:
            return 0
        if "handprop_schema" in tables:
            row = self.db.con().execute("SELECT MAX(version) FROM handprop_schema").fetchone()
            return int(row[0] or 0)
        runs = self.db.columns("runs") if "runs" in tables else []
        records = self.db.columns("records") if "records" in tables else []
        if tuple(runs) in (V1_RUN_COLUMNS, RUN_COLUMNS) and tuple(records) == RECORD_COLUMNS:
            return 1  # (or an upgrade to 2 that another process has begun: finish it)
        raise self._refuse("its runs/records tables are not the ones handprop makes")

    def _upgrade_from_v1(self) -> None:
        """Version 1 → 2 in place: the new columns, filled from the records (bad rows skipped);
        runs left "running" get no heartbeat, so `mark_orphans` judges them."""
        self.db.rebuild_runs_v1()  # False when another process has just rebuilt it: go on
        ids = [i for (i,) in self.db.con().execute("SELECT id FROM runs").fetchall()]
        for run_id in ids:
            records = self.records(run_id)
            n = self._count_rows(run_id)
            best = max((r["val_acc"] for r in records
                        if isinstance(r.get("val_acc"), int | float)), default=None)
            with self.db.tx() as con:
                con.execute(self.db.sql(
                    "UPDATE runs SET n_records = ?, best_val_acc = ?, last_record = ? "
                    "WHERE id = ?"),
                    (n, best, _dumps(records[-1]) if records else None, run_id))
        with self.db.tx() as con:
            con.execute(create_statements(self.db.dialect)[2])
            con.execute("INSERT INTO handprop_schema (version) VALUES (?)", (SCHEMA_VERSION,))
        log.info("run database %s upgraded from schema 1 to %d", self.db, SCHEMA_VERSION)

    def _count_rows(self, run_id: int) -> int:
        try:
            (n,) = self.db.con().execute(self.db.sql(
                "SELECT COUNT(*) FROM records WHERE run_id = ?"), (run_id,)).fetchone()
            return int(n)
        except self.db.errors as exc:
            if not self.db.damaged(exc):
                raise
            return len(self.records(run_id))

    def close(self) -> None:
        """Close this thread's connection (others close when their thread ends)."""
        self.db.close()

    # -- problems ------------------------------------------------------------------------------
    def _problem(self, what: str, why: str) -> None:
        if what not in self.problems:
            self.problems[what] = why
            log.warning("run database %s: %s skipped: %s", self.db, what, why)

    def problem_text(self) -> str:
        """One sentence naming every row skipped so far ("" when none)."""
        if not self.problems:
            return ""
        items = "; ".join(f"{what} ({why})" for what, why in self.problems.items())
        return (f"{len(self.problems)} damaged entr{'y' if len(self.problems) == 1 else 'ies'} "
                f"in the run database could not be read and are left out: {items}.")

    # -- writing -------------------------------------------------------------------------------
    def create_run(self, settings: dict, *, label: str = "", sweep: str = "") -> int:
        """A new run with status "running"; returns its id."""
        now = time.time()
        with self.db.tx() as con:
            return self.db.insert_id(con, self.db.sql(
                "INSERT INTO runs (label, sweep, settings, status, created, owner, heartbeat) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)"),
                (label, sweep, _dumps(settings), RunStatus.RUNNING.value, now, _owner(), now))

    def add_record(self, run_id: int, record: Record | dict) -> int:
        """Append one record (its own transaction, committed at once); returns its seq."""
        data = _dumps(record)
        val = record.get("val_acc")
        val = float(val) if isinstance(val, int | float) and math.isfinite(val) else None
        with self.db.tx() as con:
            # The run's row first, locked: concurrent writers of one run take turns for seq.
            best = con.execute(self.db.sql("SELECT best_val_acc FROM runs WHERE id = ?"
                                           + self.db.row_lock), (run_id,)).fetchone()
            (seq,) = con.execute(self.db.sql(
                "SELECT COALESCE(MAX(seq) + 1, 0) FROM records WHERE run_id = ?"),
                (run_id,)).fetchone()
            con.execute(self.db.sql("INSERT INTO records (run_id, seq, data) VALUES (?, ?, ?)"),
                        (run_id, seq, data))
            if best is not None and best[0] is not None and (val is None or best[0] >= val):
                val = best[0]
            con.execute(self.db.sql(
                "UPDATE runs SET n_records = n_records + 1, best_val_acc = ?, last_record = ?, "
                "heartbeat = ? WHERE id = ?"), (val, data, time.time(), run_id))
            return int(seq)

    def beat(self, run_id: int) -> None:
        """A heartbeat: the run's trainer is alive (sent between records of a long epoch)."""
        with self.db.tx() as con:
            con.execute(self.db.sql("UPDATE runs SET heartbeat = ? WHERE id = ?"),
                        (time.time(), run_id))

    def finish_run(
        self, run_id: int, status: str, *, message: str = "",
        train_seconds: float | None = None, summary: dict | None = None,
    ) -> None:
        """Mark a run finished, stopped, diverged, failed or interrupted."""
        if status not in STORED or status == RunStatus.RUNNING:
            ended = ", ".join(s.value for s in STORED if s is not RunStatus.RUNNING)
            raise ValueError(f"unknown run status {status!r}; expected one of {ended}")
        now = time.time()
        with self.db.tx() as con:
            con.execute(self.db.sql(
                "UPDATE runs SET status = ?, message = ?, ended = ?, train_seconds = ?, "
                "summary = ?, heartbeat = ? WHERE id = ?"),
                (RunStatus(status).value, message, now, train_seconds, _dumps(summary or {}),
                 now, run_id))

    def delete_runs(self, run_ids: Iterable[int]) -> int:
        """Delete runs and their records; returns how many runs went."""
        ids = [int(i) for i in run_ids]
        if not ids:
            return 0
        marks = ",".join("?" * len(ids))
        with self.db.tx() as con:
            con.execute(self.db.sql(f"DELETE FROM records WHERE run_id IN ({marks})"), ids)
            return con.execute(self.db.sql(f"DELETE FROM runs WHERE id IN ({marks})"),
                               ids).rowcount

    def mark_orphans(self, now: float | None = None) -> int:
        """Runs left "running" without a live trainer become "interrupted"; returns how many.

        A trainer is dead when it has sent no heartbeat for `stale_after` seconds (whatever host
        it was on: a PID means nothing in another container, and may have been reused), or at
        once when it was a process of this host that no longer exists. Records are kept.
        """
        now = time.time() if now is None else now
        host = socket.gethostname()
        rows = self.db.con().execute(self.db.sql(
            "SELECT id, owner, heartbeat, n_records FROM runs WHERE status = ?"),
            (RunStatus.RUNNING.value,)).fetchall()
        changed = 0
        for run_id, owner, heartbeat, n in rows:
            owner_host, _, pid = (owner or "").rpartition(":")
            if owner_host == host and pid.isdigit() and not _pid_alive(int(pid)):
                why = "the process training it has stopped"
            elif heartbeat is None or now - heartbeat > self.stale_after:
                quiet = "never sent a heartbeat" if heartbeat is None else \
                    f"sent nothing for {now - heartbeat:.0f} s"
                why = f"its trainer ({owner or 'unknown'}) {quiet}"
            else:
                continue
            with self.db.tx() as con:
                changed += con.execute(self.db.sql(
                    "UPDATE runs SET status = ?, message = ?, ended = ? "
                    "WHERE id = ? AND status = ?"),
                    (RunStatus.INTERRUPTED.value, f"interrupted: {why}; its {n} records are kept",
                     now, run_id, RunStatus.RUNNING.value)).rowcount
        return changed

    # -- reading -------------------------------------------------------------------------------
    def n_records(self, run_id: int) -> int:
        return self._count_rows(run_id)

    def records(self, run_id: int) -> list[Record]:
        """Every readable record of a run, in the order they were made; bad rows skipped."""
        sql = self.db.sql("SELECT seq, data FROM records WHERE run_id = ? ORDER BY seq")
        try:
            rows = self.db.con().execute(sql, (run_id,)).fetchall()
        except self.db.errors as exc:
            if not self.db.damaged(exc):
                raise
            rows = self._each(
                lambda seq: self.db.con().execute(self.db.sql(
                    "SELECT seq, data FROM records WHERE run_id = ? AND seq = ?"),
                    (run_id, seq)).fetchall(),
                range(self._stated_records(run_id) + 1), f"run #{run_id}'s records")
        out = []
        for seq, data in rows:
            try:
                out.append(_json_object(data, "the record"))
            except ValueError as exc:
                self._problem(f"record {seq} of run #{run_id}", f"not JSON: {exc}")
        return out

    def _stated_records(self, run_id: int) -> int:
        try:
            row = self.db.con().execute(self.db.sql(
                "SELECT n_records FROM runs WHERE id = ?"), (run_id,)).fetchone()
        except self.db.errors:
            return 0
        return int(row[0]) if row else 0

    def _each(self, fetch: Callable[[Any], list], keys: Iterable, what: str) -> list:
        """Rows fetched one key at a time, skipping those on damaged pages of the file."""
        rows, lost = [], 0
        for key in keys:
            try:
                rows += fetch(key)
            except self.db.errors as exc:
                if not self.db.damaged(exc):
                    raise
                lost += 1
        if lost:
            self._problem(what, f"{lost} row(s) on a damaged part of the file")
        return rows

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
            where.append(f"id IN ({','.join('?' * len(ids))})")
            args += [int(i) for i in ids]
        if sweep is not None:
            where.append("sweep = ?")
            args.append(sweep)
        cond = " WHERE " + " AND ".join(where) if where else ""
        sql = self.db.sql(f"SELECT {', '.join(RUN_COLUMNS)} FROM runs{cond} ORDER BY id DESC")
        try:
            rows = self.db.con().execute(sql, args).fetchall()
        except self.db.errors as exc:
            if not self.db.damaged(exc):
                raise
            one = self.db.sql(f"SELECT {', '.join(RUN_COLUMNS)} FROM runs WHERE id = ?"
                              + (" AND " + " AND ".join(where) if where else ""))
            keys = [int(i) for i in ids] if ids is not None else \
                range(self.db.max_run_id(), 0, -1)
            rows = self._each(lambda i: self.db.con().execute(one, [i, *args]).fetchall(),
                              keys, "runs")
        return [info for row in rows if (info := self._info(row)) is not None]

    def _info(self, row: Sequence) -> RunInfo | None:
        r = dict(zip(RUN_COLUMNS, row, strict=True))
        try:
            settings = _json_object(r["settings"], "the settings")
            summary = _json_object(r["summary"], "the summary")
            last = _json_object(r["last_record"], "the last record")
        except ValueError as exc:
            self._problem(f"run #{r['id']}", f"not JSON: {exc}")
            return None
        return RunInfo(
            id=r["id"], label=r["label"], sweep=r["sweep"], settings=settings,
            status=r["status"], message=r["message"], created=r["created"], ended=r["ended"],
            train_seconds=r["train_seconds"], summary=summary, owner=r["owner"],
            heartbeat=r["heartbeat"], n_records=r["n_records"], best_val_acc=r["best_val_acc"],
            final_val_acc=last.get("val_acc"), final_test_acc=last.get("test_acc"),
            final_train_acc=last.get("train_acc"),
        )

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
