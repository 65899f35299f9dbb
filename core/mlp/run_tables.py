"""The runs as tables: the homework reports' results table of stored runs, and a run's records
flat, one column per layer value. Both are pandas DataFrames (CSV for downloads); pandas is
imported here only, so the command-line trainer never pays for it.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from core.mlp.runstore import RunInfo

__all__ = ["runs_table", "table_csv", "records_frame_flat"]


def records_frame_flat(records: Sequence[dict]):
    """Records as a flat DataFrame: `mean_abs_w` = [a, b] becomes `mean_abs_w_1`, `mean_abs_w_2`."""
    import pandas as pd  # here, not at the top: the command-line trainer never needs it

    rows = []
    for rec in records:
        row = {}
        for key, value in rec.items():
            if isinstance(value, list):
                for i, v in enumerate(value, start=1):
                    row[f"{key}_{i}"] = v
            else:
                row[key] = value
        rows.append(row)
    return pd.DataFrame(rows)


def _fmt_hidden(hidden: Any) -> str:
    if isinstance(hidden, list | tuple):
        return "-".join(str(h) for h in hidden) or "none"
    return "" if hidden is None else str(hidden)


def runs_table(runs: Sequence[RunInfo]):
    """The runs as the homework reports' results table (a DataFrame): settings, best and final
    accuracy, time, status. A setting a run does not have is an empty cell, never "None"."""
    import pandas as pd

    rows = []
    for r in runs:
        s = r.settings
        schedule = s.get("schedule", "constant")
        rows.append({
            "run": r.id,
            "label": r.label,
            "dataset": s.get("dataset", ""),
            "hidden": _fmt_hidden(s.get("hidden", ())),
            "activation": s.get("activation", ""),
            "init": s.get("init", ""),
            "optimiser": s.get("optimizer", ""),
            "lr": s.get("lr"),
            "L2 λ": s.get("l2"),
            "schedule": schedule,
            "k": s.get("decay_k") if schedule in ("exponential", "inverse_time") else None,
            "batch": s.get("batch_size"),
            "epochs": s.get("epochs"),
            "records": r.n_records,
            "best val acc": r.best_val_acc,
            "final val acc": r.final_val_acc,
            "final test acc": r.final_test_acc,
            "time (s)": None if r.train_seconds is None else round(r.train_seconds, 2),
            "status": r.status,
            "message": r.message,
        })
    # Outcome first (what a reader scans for), then the settings that produced it.
    table = pd.DataFrame(rows, columns=[
        "run", "label", "status", "best val acc", "final val acc", "final test acc", "time (s)",
        "records", "dataset", "hidden", "activation", "init", "optimiser", "lr", "L2 λ",
        "schedule", "k", "batch", "epochs", "message",
    ])
    # Text columns: a missing value is an empty cell (pandas would print None).
    text = ["label", "status", "dataset", "hidden", "activation", "init", "optimiser",
            "schedule", "message"]
    table[text] = table[text].fillna("").astype(str)
    return table


def table_csv(runs: Sequence[RunInfo]) -> str:
    buf = io.StringIO()
    runs_table(runs).to_csv(buf, index=False)
    return buf.getvalue()
