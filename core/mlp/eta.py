"""How long a training run has left, from its records, on a machine whose load keeps changing.

    seconds left = epochs_left · Δwall / Δepoch over the steady run − since_last
                 = epochs_left · c / s − since_last,   where over the same records
    c = CPU seconds of the training thread per epoch   (`epoch_cost`: the work)
    s = CPU seconds that thread got per wall second    (`cpu_share`: what the load leaves it)

The steady run is every record after the first interval (data on the cores, caches, the first
allocations: the warm-up) once there are three intervals. `since_last` is the wall time since
the newest record: the epoch in progress has used it already.

Why the whole steady run and not the last few seconds: a worker trains below the server's
priority, so other jobs change its share of a core 10× within one run (0.04–1.0 measured with
two busy loops beside it) and no window of the past foresees the next burst; the longest window
averages most of them out. Replaying four logged 100-epoch runs (quiet, one and two busy loops),
the steady-run average was within 25 % at 56 % of the moments after the first 10 % (median
error 22 %), against 46–53 % for the rate of the last 5, 10 or 20 s, of the later half, or
mixes of them, and a recent CPU cost per epoch (0.052–0.075 s apart on a quiet machine) was no
steadier a unit of work than wall time. c and s are kept apart for the page to say *why* a run
is slow: "it has had 12 % of a core".
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

__all__ = ["Mark", "seconds_left", "epoch_cost", "cpu_share"]


@dataclass(frozen=True)
class Mark:
    """One record as the estimate sees it."""

    epoch: float  # Record["epoch"]: epochs trained when the record was made
    wall: float   # Record["elapsed"]: the run's wall clock, seconds
    cpu: float    # CPU seconds of the training thread at that moment (any fixed origin)


def steady(marks: Sequence[Mark]) -> Sequence[Mark]:
    """The marks after the first interval (the warm-up) once there are three intervals."""
    return marks[1:] if len(marks) >= 4 else marks


def _span(marks: Sequence[Mark]) -> tuple[float, float, float] | None:
    """(Δepoch, Δwall, ΔCPU) over the steady run; None unless it trained for a while."""
    run = steady(marks)
    if len(run) < 2:
        return None
    first, last = run[0], run[-1]
    spans = (last.epoch - first.epoch, last.wall - first.wall, last.cpu - first.cpu)
    return spans if spans[0] > 0 and spans[1] > 0 else None


def epoch_cost(marks: Sequence[Mark]) -> float | None:
    """c: CPU seconds per epoch over the steady run; None before it has trained."""
    span = _span(marks)
    return span[2] / span[0] if span is not None else None


def cpu_share(marks: Sequence[Mark]) -> float | None:
    """s: CPU seconds per wall second over the steady run, at most 1 (one thread); None before
    it has trained."""
    span = _span(marks)
    return min(1.0, max(0.0, span[2] / span[1])) if span is not None else None


def seconds_left(marks: Sequence[Mark], epochs_left: float,
                 since_last: float = 0.0) -> float | None:
    """epochs_left · Δwall/Δepoch over the steady run − since_last, at least 0; None before two
    records apart in epochs and time."""
    span = _span(marks)
    if span is None:
        return None
    return max(0.0, epochs_left * span[1] / span[0] - since_last)
