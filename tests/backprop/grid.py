"""The Backprop page's data grids as AppTest edits them (AppTest has no data-editor element)."""

from __future__ import annotations


def edit(app, key: str, row: int, column: str, value) -> None:
    """A student's edit of one cell of the grid `key`, as the browser reports it; then a run."""
    app.session_state[key] = {"edited_rows": {row: {column: value}}, "added_rows": [],
                              "deleted_rows": []}
    app.run()
