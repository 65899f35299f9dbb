"""The run store's PostgreSQL back end (psycopg 3): HANDPROP_DB=postgresql://user@host/db.

The same tables as SQLite (core.mlp.store_schema, in PostgreSQL's types), so several app
servers can share one database: a run started on one is listed, overlaid and downloaded on the
others. One connection per (process, thread), in autocommit mode with explicit transactions;
a record's row locks its run's row (SELECT … FOR UPDATE), so concurrent writers of one run
take turns for its next seq instead of colliding on it.
"""

from __future__ import annotations

import contextlib
import os
import re
import threading
from collections.abc import Iterator
from typing import Any

__all__ = ["PostgresBackend", "is_postgres_url", "masked"]


def is_postgres_url(location: str) -> bool:
    return location.startswith(("postgresql://", "postgres://"))


def masked(url: str) -> str:
    """The URL without its password, fit to show on a page or in a log."""
    return re.sub(r"(://[^:/@]+):[^@]*@", r"\1:***@", url)


class PostgresBackend:
    """What the run store needs of PostgreSQL: connections, transactions, a few dialect words."""

    dialect = "postgresql"
    row_lock = " FOR UPDATE"

    def __init__(self, url: str) -> None:
        import psycopg  # only a PostgreSQL store needs the driver

        self._psycopg = psycopg
        self.url = url
        self.errors: tuple[type[Exception], ...] = (psycopg.Error,)
        self._local = threading.local()

    def __str__(self) -> str:
        return masked(self.url)

    def prepare(self) -> str | None:
        return None

    def con(self) -> Any:
        con = getattr(self._local, "con", None)
        if con is None or con.closed or getattr(self._local, "pid", None) != os.getpid():
            con = self._psycopg.connect(self.url, autocommit=True, connect_timeout=10)
            self._local.con, self._local.pid = con, os.getpid()
        return con

    def configure(self) -> None:
        """Nothing to set per database (durability is the server's)."""

    @contextlib.contextmanager
    def tx(self) -> Iterator[Any]:
        con = self.con()
        with con.transaction():
            yield con

    @staticmethod
    def sql(text: str) -> str:
        return text.replace("?", "%s")

    @staticmethod
    def lock_schema(con: Any) -> None:
        """Two servers creating the tables at once would collide in the catalogue: take turns."""
        con.execute("SELECT pg_advisory_xact_lock(7166587)")

    def tables(self) -> set[str]:
        rows = self.con().execute(
            "SELECT table_name FROM information_schema.tables "
            "WHERE table_schema = current_schema()").fetchall()
        return {name for (name,) in rows}

    def columns(self, table: str) -> list[str]:
        rows = self.con().execute(
            "SELECT column_name FROM information_schema.columns WHERE table_schema = "
            "current_schema() AND table_name = %s ORDER BY ordinal_position", (table,)).fetchall()
        return [name for (name,) in rows]

    def insert_id(self, con: Any, sql: str, args: tuple) -> int:
        return int(con.execute(sql + " RETURNING id", args).fetchone()[0])

    def damaged(self, exc: BaseException) -> bool:
        errors = self._psycopg.errors
        return isinstance(exc, errors.DataCorrupted | errors.IndexCorrupted)

    def max_run_id(self) -> int:
        (n,) = self.con().execute("SELECT COALESCE(MAX(id), 0) FROM runs").fetchone()
        return int(n)

    def rebuild_runs_v1(self) -> bool:
        return False  # schema 1 was never written to PostgreSQL

    def close(self) -> None:
        con = getattr(self._local, "con", None)
        if con is not None:
            con.close()
            self._local.con = None
