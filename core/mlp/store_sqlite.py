"""The run store's SQLite back end: one file, WAL mode, one connection per (process, thread).

The store is written as training goes, one short transaction per record, so a closed tab, a Stop
or a killed server loses at most the record being made. Several writers (threads of one server,
or separate processes) share the file: a busy timeout makes a writer wait its turn, and BEGIN
IMMEDIATE takes the write lock up front so two writers never deadlock mid-way.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import threading
import time
from collections.abc import Iterator
from pathlib import Path

from core.mlp.store_schema import V1_RUN_COLUMNS, create_statements

__all__ = ["SqliteBackend", "BUSY_TIMEOUT_S"]

BUSY_TIMEOUT_S = 30.0


class SqliteBackend:
    """What the run store needs of SQLite: connections, transactions and a few dialect words."""

    dialect = "sqlite"
    row_lock = ""  # BEGIN IMMEDIATE already holds the whole file's write lock
    errors: tuple[type[Exception], ...] = (sqlite3.Error,)

    def __init__(self, path: Path) -> None:
        self.path = path
        self._local = threading.local()
        self._ours = False  # set by configure(): only then are our pragmas applied

    def __str__(self) -> str:
        return str(self.path)

    def prepare(self) -> str | None:
        """Create the folder; say why the file cannot be a run store (None when it can be).

        A zero-byte file is not an empty database to fill: SQLite would silently turn it into
        one, and whatever the user meant that file for would be replaced.
        """
        self.path.parent.mkdir(parents=True, exist_ok=True)
        if self.path.exists() and self.path.is_file() and self.path.stat().st_size == 0:
            return "the file is empty (0 bytes), so it is not a run database"
        return None

    def con(self) -> sqlite3.Connection:
        con = getattr(self._local, "con", None)
        if con is None or getattr(self._local, "pid", None) != os.getpid():
            con = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_S, isolation_level=None)
            con.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_S * 1000)}")
            if self._ours:
                self._pragmas(con)
            self._local.con, self._local.pid = con, os.getpid()
        return con

    @staticmethod
    def _pragmas(con: sqlite3.Connection) -> None:
        # NORMAL is durable against a killed process in WAL mode (only power loss can undo the
        # last commits), and much cheaper than FULL's fsync per record.
        con.execute("PRAGMA synchronous = NORMAL")
        con.execute("PRAGMA foreign_keys = ON")

    def configure(self) -> None:
        """WAL and its durability, once the file is known to be ours (never on a foreign one)."""
        con = self.con()
        # Switching the journal mode needs a moment alone with the file; the busy handler is not
        # always consulted for it, so retry briefly when another writer is starting up too.
        for attempt in range(50):
            try:
                con.execute("PRAGMA journal_mode = WAL")
                break
            except sqlite3.OperationalError:
                time.sleep(0.02 * (attempt + 1))
        self._pragmas(con)
        self._ours = True

    @contextlib.contextmanager
    def tx(self) -> Iterator[sqlite3.Connection]:
        con = self.con()
        con.execute("BEGIN IMMEDIATE")
        try:
            yield con
        except BaseException:
            con.execute("ROLLBACK")
            raise
        con.execute("COMMIT")

    @staticmethod
    def sql(text: str) -> str:
        return text

    @staticmethod
    def lock_schema(con: sqlite3.Connection) -> None:
        """Nothing: the write transaction already has the file to itself."""

    def tables(self) -> set[str]:
        rows = self.con().execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
        ).fetchall()
        return {name for (name,) in rows}

    def columns(self, table: str) -> list[str]:
        return [row[1] for row in self.con().execute(f"PRAGMA table_info({table})")]

    def insert_id(self, con: sqlite3.Connection, sql: str, args: tuple) -> int:
        return int(con.execute(sql, args).lastrowid)

    @staticmethod
    def damaged(exc: BaseException) -> bool:
        """A damaged file ("database disk image is malformed"), not a busy or locked one."""
        return isinstance(exc, sqlite3.DatabaseError) and not isinstance(
            exc, sqlite3.OperationalError)

    def max_run_id(self) -> int:
        row = self.con().execute("SELECT seq FROM sqlite_sequence WHERE name = 'runs'").fetchone()
        return int(row[0]) if row else 0

    def rebuild_runs_v1(self) -> bool:
        """Version 1 → 2: a new runs table (new columns, a CHECK that knows "interrupted"),
        the old rows copied in, as SQLite's ALTER TABLE cannot change a CHECK constraint.
        False when another process has just done it."""
        con = self.con()
        con.execute("PRAGMA foreign_keys = OFF")  # records point at runs while it is swapped
        try:
            with self.tx():
                if tuple(self.columns("runs")) != V1_RUN_COLUMNS:
                    return False
                new = create_statements(self.dialect, runs_table="runs_v2")[0]
                con.execute(new)
                cols = ", ".join(V1_RUN_COLUMNS)
                con.execute(f"INSERT INTO runs_v2 ({cols}) SELECT {cols} FROM runs")
                con.execute("DROP TABLE runs")
                con.execute("ALTER TABLE runs_v2 RENAME TO runs")
            return True
        finally:
            con.execute("PRAGMA foreign_keys = ON")

    def close(self) -> None:
        con = getattr(self._local, "con", None)
        if con is not None:
            con.close()
            self._local.con = None
