"""A throw-away PostgreSQL server for the run store's tests: Debian's `postgresql` binaries, a
cluster in a temp folder (initdb), started on a free loopback port (pg_ctl), one fresh database
per test, stopped and deleted at the end of the session.

Fixtures: `pg_cluster` (session: the server's base URL) and `pg_database` (a new database's
URL). `find_pg_bin()` says whether the binaries are here; tests/conftest.py skips the
`postgres` tests with the install hint when they are not (and fails them under CI=true).
initdb refuses to run as root, so as root the cluster runs as the `postgres` user.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.serving import free_port

USER = "handprop"


def find_pg_bin() -> Path | None:
    """The folder of initdb and pg_ctl: on PATH, else Debian's /usr/lib/postgresql/N/bin."""
    found = shutil.which("pg_ctl")
    if found and shutil.which("initdb"):
        return Path(found).parent
    versions = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"),
                      key=lambda p: int(Path(p).parts[-3]) if Path(p).parts[-3].isdigit() else 0)
    return Path(versions[-1]).parent if versions else None


def psycopg_missing() -> str | None:
    try:
        import psycopg  # noqa: F401
    except ImportError:
        return "psycopg is not installed: `pip install -r requirements.txt`"
    return None


@contextlib.contextmanager
def throwaway_cluster() -> Iterator[str]:
    """A running PostgreSQL server of its own; yields the URL of its `postgres` database."""
    bin_dir = find_pg_bin()
    if bin_dir is None:
        pytest.fail("PostgreSQL is not installed: `apt-get install postgresql` (Debian)")
    folder = Path(tempfile.mkdtemp(prefix="handprop-pg-"))
    as_user: list[str] = []
    if os.geteuid() == 0:  # initdb will not run as root
        owner = pwd.getpwnam("postgres")
        os.chown(folder, owner.pw_uid, owner.pw_gid)
        as_user = ["runuser", "-u", "postgres", "--"]
    data, port = folder / "data", free_port()

    def run(*args: str) -> None:
        subprocess.run([*as_user, *args], check=True, capture_output=True, timeout=120)

    try:
        run(str(bin_dir / "initdb"), "-D", str(data), "-U", USER, "--auth=trust", "-E", "UTF8",
            "--no-sync")
        # Loopback only, its socket in the temp folder, no fsync: a test server, not a store.
        run(str(bin_dir / "pg_ctl"), "-D", str(data), "-l", str(folder / "server.log"), "-w",
            "-o", f"-h 127.0.0.1 -p {port} -k {folder} -F", "start")
        yield f"postgresql://{USER}@127.0.0.1:{port}/postgres"
    finally:
        if (data / "postmaster.pid").exists():
            with contextlib.suppress(subprocess.SubprocessError):
                run(str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop")
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[str]:
    missing = psycopg_missing()
    if missing:
        pytest.fail(missing)
    with throwaway_cluster() as url:
        yield url


@pytest.fixture
def pg_database(pg_cluster: str) -> Iterator[str]:
    """The URL of a new, empty database on the throw-away server, dropped after the test."""
    import psycopg

    name = f"t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(pg_cluster, autocommit=True) as con:
        con.execute(f"CREATE DATABASE {name}")
    yield pg_cluster.rsplit("/", 1)[0] + f"/{name}"
    with psycopg.connect(pg_cluster, autocommit=True) as con:
        con.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
