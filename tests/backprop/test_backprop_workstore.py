"""Typed answers in SQLite: they come back for the same token and problem, and only then."""

from __future__ import annotations

import pytest

from core.backprop import problems
from core.backprop.problemfile import Exercise
from core.backprop.workstore import WorkStore, WorkStoreError, fingerprint, new_token


def homework() -> Exercise:
    return Exercise(problems.homework(), 0.1, "sigmoid", "half_squared_error")


def test_work_survives_a_new_store_object_as_it_would_a_restart(tmp_path) -> None:
    path, token = tmp_path / "work.sqlite3", new_token()
    WorkStore(path).save(token, fingerprint(homework()), {"L": "0.1825", "ŷ1": ""}, {"δ1^(2)"})
    work = WorkStore(path).load(token)  # a fresh connection: nothing in memory
    assert work.answers == {"L": "0.1825"} and work.revealed == ["δ1^(2)"]
    assert work.fingerprint == fingerprint(homework())
    assert WorkStore(path).load(new_token()) is None  # another student's token: nothing
    assert len(token) >= 22 and new_token() != token


def test_the_fingerprint_changes_with_any_number() -> None:
    other = homework()
    other.params.W[0][0][0] = 0.2000001
    assert fingerprint(other) != fingerprint(homework())


def test_a_file_that_is_not_sqlite_gives_an_error_not_a_crash(tmp_path) -> None:
    bad = tmp_path / "work.sqlite3"
    bad.write_bytes(b"this is not a database" * 100)
    with pytest.raises(WorkStoreError, match="cannot be"):
        WorkStore(bad).load(new_token())
