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


def test_browser_key_unmasks_the_xsrf_cookie_and_work_key_binds_to_it() -> None:
    """Tornado's v2 XSRF cookie, worked by hand: token bytes 01 02 03 04 05, mask aa bb cc dd,
    masked = token XOR mask (repeated) = ab b9 cf d9 af. Two page loads of one browser send the
    same token under different masks: one key; another browser's token: another key."""
    from core.backprop.workstore import browser_key, work_key

    load_1 = {"_streamlit_xsrf": "2|aabbccdd|abb9cfd9af|1796124431"}
    load_2 = {"_streamlit_xsrf": "2|00000000|0102030405|1796124431"}  # zero mask: token itself
    other = {"_streamlit_xsrf": "2|00000000|0102030406|1796124431"}
    assert browser_key(load_1) == browser_key(load_2) != ""
    assert browser_key(other) != browser_key(load_1)
    assert browser_key({}) == "" and browser_key({"_streamlit_xsrf": "2|zz|xx|1"}) == ""
    assert "0102030405" not in browser_key(load_1)  # only a hash of the credential is kept
    assert work_key("tok", browser_key(load_1)) != work_key("tok", browser_key(other))
    assert work_key("tok", "") == "tok"


def test_a_postgresql_run_store_does_not_put_the_answers_file_in_a_folder_named_after_it(
        monkeypatch) -> None:
    from core.backprop.workstore import default_path

    monkeypatch.delenv("HANDPROP_BACKPROP_DB", raising=False)
    monkeypatch.setenv("HANDPROP_DB", "postgresql://u:pw@db.example/handprop")
    assert "postgresql" not in str(default_path()) and "pw" not in str(default_path())
