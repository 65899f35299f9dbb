"""A student's typed answers and reveals, kept in SQLite so they survive a reload and a restart.

Work is keyed by a random token (`new_token`, 128 bits) that lives in the student's own page URL,
bound to the student's browser (`work_key`): the key is the token together with a hash of the
browser's own secret, the XSRF token Streamlit keeps in a cookie for as long as the browser runs
(`browser_key`). A reload or a server restart finds the work again; the same address copied into
another browser — another student's — opens a clean sheet, so two students never see each
other's answers, even when one copies the address bar rather than the page's "link to this
problem" (which leaves the token out). Where no such cookie exists (XSRF protection switched
off, or AppTest) the token alone is the key. Each record also holds the problem it was typed for
(`fingerprint`), so answers come back only onto the same numbers.

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
from collections.abc import Mapping
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
    if runs and "://" not in runs:  # a postgresql:// run store has no folder to sit beside
        return Path(runs).with_name("backprop_work.sqlite3")
    base = Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share")
    return base / "handprop" / "backprop_work.sqlite3"


def new_token() -> str:
    return secrets.token_urlsafe(16)


XSRF_COOKIE = "_streamlit_xsrf"


def browser_key(cookies: Mapping[str, str]) -> str:
    """A private, stable name of this browser, or "" when it sends no XSRF cookie.

    Tornado writes the cookie as "2|mask|masked token|timestamp" (hex), with a new random 4-byte
    mask on every page load; unmasking (byte i of the token XOR byte i mod 4 of the mask) gives
    the same token on every load of the same browser. Only a hash of it is kept: the token is a
    credential. A version-1 cookie is the token itself.
    """
    value = str(cookies.get(XSRF_COOKIE, "") or "")
    if not value:
        return ""
    token = value.encode()
    parts = value.split("|")
    if len(parts) == 4 and parts[0] == "2":
        try:
            mask, masked = bytes.fromhex(parts[1]), bytes.fromhex(parts[2])
        except ValueError:
            return ""
        if len(mask) != 4 or not masked:
            return ""
        token = bytes(b ^ mask[i % 4] for i, b in enumerate(masked))
    return hashlib.sha256(b"handprop-browser\n" + token).hexdigest()[:32]


def work_key(token: str, browser: str) -> str:
    """Where one student's work is kept: the URL's token, bound to their browser if known."""
    return f"{token}.{browser}" if browser else token


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
