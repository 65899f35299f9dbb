"""The editable tables' edits, as Streamlit's data editor reports them, kept to what fits.

A data editor's state is {"edited_rows": {row: {column: value}}, "added_rows": [...],
"deleted_rows": [...]}. The Backprop page's tables have a fixed size, so only edits of an existing
row and column count; a modified client's payload that deletes or adds a row, edits row 99 or a
column that is not there is cut down to the edits that fit (Streamlit itself would raise an
IndexError or KeyError on it).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

Edits = dict[int, dict[str, object]]


def edits_that_fit(state: object, n_rows: int, columns: Sequence[str]) -> tuple[Edits, bool]:
    """(the edits of existing cells, whether anything else was in the state)."""
    if not isinstance(state, Mapping):
        return {}, state is not None
    extra = bool(state.get("added_rows")) or bool(state.get("deleted_rows"))
    extra = extra or not set(state) <= {"edited_rows", "added_rows", "deleted_rows"}
    rows = state.get("edited_rows") or {}
    if not isinstance(rows, Mapping):
        return {}, True
    fitting: Edits = {}
    for row, cells in rows.items():
        try:
            r = int(row)
        except (TypeError, ValueError):
            extra = True
            continue
        if not 0 <= r < n_rows or not isinstance(cells, Mapping):
            extra = True
            continue
        for col, value in cells.items():
            if col in columns:
                fitting.setdefault(r, {})[col] = value
            else:
                extra = True
    return fitting, extra
