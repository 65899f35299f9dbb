"""A student's typed answers and reveals, kept in SQLite so they survive a reload and a restart.

Work is keyed by a random token (`new_token`, 128 bits) that lives in the student's own page URL
and nowhere else: two students never see each other's answers unless one gives the other that
URL (the page's "link to this problem" leaves the token out). Each record also holds the problem
it was typed for (`fingerprint`), so answers come back only onto the same numbers.

The file is $HANDPROP_BACKPROP_DB, else backprop_work.sqlite3 beside $HANDPROP_DB (the app's run
database), else in $XDG_DATA_HOME/handprop/ (~/.local/share by default). A damaged or foreign file
raises WorkStoreError: the page says answers are not being kept, and carries on.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path

from core.backprop.problemfile import Exercise, problem_dict

TABLE = "backprop_work"
MAX_ANSWERS = 2000  # steps of the largest shape the page draws, with room
MAX_TEXT = 200  # characters kept of one typed answer


class WorkStoreError(RuntimeError):
    """The store cannot be read or written; the message says so in plain words."""


@dataclass(frozen=True)
class Work:
    fingerprint: str
    answers: dict[str, str]
    revealed: list[str]


def default_path() -> Path:
    explicit = os.environ.get("HANDPROP_BACKPROP_DB")
    if explicit:
        return Path(explicit)
    runs = os.environ.get("HANDPROP_DB")
    if runs:
        return Path(runs).with_name("backprop_work.sqlite3")
    base = Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share")
    return base / "handprop" / "backprop_work.sqlite3"


def new_token() -> str:
    return secrets.token_urlsafe(16)


def fingerprint(ex: Exercise) -> str:
    """SHA-256 of the problem's documented form (numbers as shortest round-trip decimals)."""
    text = json.dumps(problem_dict(ex), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


class WorkStore:
    def __init__(self, path: Path | str | None = None) -> None:
        self.path = Path(path) if path is not None else default_path()

    def _connect(self) -> sqlite3.Connection:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            con = sqlite3.connect(self.path, timeout=5)
            con.execute("PRAGMA journal_mode=WAL")
            con.execute(f"CREATE TABLE IF NOT EXISTS {TABLE} (token TEXT PRIMARY KEY, "
                        "fingerprint TEXT NOT NULL, answers TEXT NOT NULL, revealed TEXT NOT "
                        "NULL, updated REAL NOT NULL)")
            return con
        except (sqlite3.Error, OSError) as err:
            raise WorkStoreError(f"the answers file {self.path.name} cannot be opened "
                                 f"({type(err).__name__})") from None

    def load(self, token: str) -> Work | None:
        """The work saved under `token`, or None; WorkStoreError if the file is unreadable."""
        con = self._connect()
        try:
            row = con.execute(f"SELECT fingerprint, answers, revealed FROM {TABLE} WHERE "
                              "token = ?", (token,)).fetchone()
        except sqlite3.Error as err:
            raise WorkStoreError(f"the answers file {self.path.name} cannot be read "
                                 f"({type(err).__name__})") from None
        finally:
            con.close()
        if row is None:
            return None
        try:
            answers, revealed = json.loads(row[1]), json.loads(row[2])
        except json.JSONDecodeError:
            return None  # a damaged record is no work to restore
        if not isinstance(answers, dict) or not isinstance(revealed, list):
            return None
        answers = {str(k): str(v)[:MAX_TEXT] for k, v in list(answers.items())[:MAX_ANSWERS]}
        return Work(str(row[0]), answers, [str(r) for r in revealed[:MAX_ANSWERS]])

    def save(self, token: str, problem: str, answers: dict[str, str], revealed) -> None:
        answers = {k: str(v)[:MAX_TEXT] for k, v in list(answers.items())[:MAX_ANSWERS] if v}
        con = self._connect()
        try:
            with con:
                con.execute(f"INSERT OR REPLACE INTO {TABLE} VALUES (?, ?, ?, ?, ?)",
                            (token, problem, json.dumps(answers, ensure_ascii=False),
                             json.dumps(sorted(revealed)[:MAX_ANSWERS], ensure_ascii=False),
                             time.time()))
        except sqlite3.Error as err:
            raise WorkStoreError(f"the answers file {self.path.name} cannot be written "
                                 f"({type(err).__name__})") from None
        finally:
            con.close()
