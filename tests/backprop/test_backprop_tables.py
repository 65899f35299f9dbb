"""Data-editor payloads cut to the edits that fit a fixed table."""

from core.backprop.tables import edits_that_fit

COLS = ["x1", "x2", "b"]


def test_edits_of_existing_cells_pass_and_nothing_else() -> None:
    state = {"edited_rows": {0: {"x1": "0.4"}, "1": {"b": 2}}, "added_rows": [],
             "deleted_rows": []}
    assert edits_that_fit(state, 2, COLS) == ({0: {"x1": "0.4"}, 1: {"b": 2}}, False)
    assert edits_that_fit(None, 2, COLS) == ({}, False)


def test_rows_and_columns_that_are_not_there_are_dropped_and_reported() -> None:
    state = {"edited_rows": {0: {"x1": "1", "zz": "2"}, 99: {"x1": "3"}, "a": {}, -1: {"b": 0}},
             "added_rows": [{"x1": "4"}], "deleted_rows": [0]}
    assert edits_that_fit(state, 2, COLS) == ({0: {"x1": "1"}}, True)
    assert edits_that_fit("garbage", 2, COLS) == ({}, True)
    assert edits_that_fit({"edited_rows": [1, 2]}, 2, COLS) == ({}, True)
