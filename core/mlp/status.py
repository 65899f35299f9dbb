"""What a training run is doing, in one vocabulary shared by the engine, the store, jobs and page.

    ready ─► queued ─► running ─► finished | stopped | diverged | failed | interrupted
                          └────► early_stopped (the engine's word; stored as finished)

`RunStatus` is a `str` enum, so a member compares equal to its word (`RunStatus.RUNNING ==
"running"`) and is stored, sent as JSON and shown as that word. The run store's SQL CHECK
constraint is built from `STORED` by `sql_check()`, so the database cannot hold a word this
module does not know.
"""

from __future__ import annotations

from enum import StrEnum

__all__ = ["RunStatus", "STORED", "ENDED", "to_stored", "sql_check"]


class RunStatus(StrEnum):
    """Every status a run can have, from built to ended."""

    READY = "ready"              # engine: built, not trained yet
    WAITING = "waiting"          # job: a later run of a sweep, not started yet
    QUEUED = "queued"            # job: waiting for a free worker
    RUNNING = "running"
    FINISHED = "finished"        # every epoch trained
    EARLY_STOPPED = "early_stopped"  # engine: validation loss stopped improving
    STOPPED = "stopped"          # the user pressed Stop (or a caller closed the loop)
    DIVERGED = "diverged"        # the loss or the weights stopped being finite numbers
    FAILED = "failed"            # an error: bad settings, missing data, a dead worker
    INTERRUPTED = "interrupted"  # its trainer vanished (a killed server); found at the next start
    SKIPPED = "skipped"          # job: a sweep was stopped before this run began


# The statuses a row of the run store may have (the SQL CHECK constraint).
STORED: tuple[RunStatus, ...] = (
    RunStatus.RUNNING, RunStatus.FINISHED, RunStatus.STOPPED, RunStatus.DIVERGED,
    RunStatus.FAILED, RunStatus.INTERRUPTED,
)
# The statuses after which nothing more will happen to a run.
ENDED: frozenset[RunStatus] = frozenset({
    RunStatus.FINISHED, RunStatus.EARLY_STOPPED, RunStatus.STOPPED, RunStatus.DIVERGED,
    RunStatus.FAILED, RunStatus.INTERRUPTED, RunStatus.SKIPPED,
})


def to_stored(status: str) -> RunStatus:
    """The stored status of an engine status: early_stopped is finished, and a run that never
    got going (ready, or still running when its loop was left) counts as stopped."""
    s = RunStatus(status)
    if s in STORED and s is not RunStatus.RUNNING:
        return s
    if s is RunStatus.EARLY_STOPPED:
        return RunStatus.FINISHED
    return RunStatus.STOPPED


def sql_check(column: str = "status") -> str:
    """`CHECK (status IN ('running', ...))` for the store's schema."""
    words = ", ".join(f"'{s.value}'" for s in STORED)
    return f"CHECK ({column} IN ({words}))"
