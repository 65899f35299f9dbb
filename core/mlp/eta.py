"""How long a training run has left, from its records, on a machine whose load keeps changing.

    seconds left = max(epochs_left · p − since_last, (epochs_left − 1) · p),
    p = Δwall / Δepoch over the shortest recent stretch of the steady run that lasted at least
        as long as what it predicts (Δwall ≥ epochs_left · p, and ≥ `MIN_WINDOW` s);
        the whole steady run when no stretch is that long.

The steady run is every record after the first interval (data on the cores, caches, the first
allocations: the warm-up) once there are three intervals. `since_last` is the wall time since
the newest record: the epoch in progress has used it already, but an epoch overdue says nothing
about the epochs after it, so those still take p each.

Why "look back as far as you look ahead": a worker trains below the server's priority, so other
jobs change its share of a core tenfold within one run (0.02-0.55 measured on this machine with
two busy loops and other engineers' tests beside it), on every time scale from seconds to
minutes. For the next minute the best guide is the last minute: its bursts average out much as
the next minute's will, and a load that came to stay (another test suite) is in it. For the
last ten seconds it is the last ten seconds: whatever holds the cores now is likely still there.
Early in a run no stretch is as long as the time to go, and the whole steady run is the pace.
Replaying 100-epoch runs logged with two busy loops beside them at load 14-16, the median error
after the first 10 % fell from 48 % (the whole steady run) to 30 %.

c = CPU seconds of the training thread per epoch (`epoch_cost`: the work) and s = the CPU
seconds it got per wall second (`cpu_share`: what the load leaves it) are kept apart for the
page to say *why* a run is slow: "it has had 12 % of a core".
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

__all__ = ["Mark", "seconds_left", "pace", "epoch_cost", "cpu_share", "MIN_WINDOW"]

# Seconds: no stretch shorter than this sets the pace (one slow epoch is not a trend).
MIN_WINDOW = 5.0


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


def pace(marks: Sequence[Mark], epochs_left: float) -> float | None:
    """p: wall seconds per epoch over the shortest recent stretch of the steady run (at least two
    intervals, ending at the newest mark) whose Δwall ≥ max(MIN_WINDOW, epochs_left · p); over
    the whole steady run when none is; None before two marks apart in epochs and time."""
    run = steady(marks)
    if _span(marks) is None:
        return None
    last = run[-1]
    for first in reversed(run[:max(1, len(run) - 2)]):  # the newest start first
        epochs, wall = last.epoch - first.epoch, last.wall - first.wall
        if epochs > 0 and wall > 0 and wall >= max(MIN_WINDOW, epochs_left * wall / epochs):
            return wall / epochs
    epochs, wall, _ = _span(marks)
    return wall / epochs


def seconds_left(marks: Sequence[Mark], epochs_left: float,
                 since_last: float = 0.0) -> float | None:
    """max(epochs_left · p − since_last, (epochs_left − 1) · p), at least 0, with p = `pace`;
    None before two records apart in epochs and time."""
    p = pace(marks, epochs_left)
    if p is None:
        return None
    return max(0.0, epochs_left * p - since_last, (epochs_left - 1) * p)
