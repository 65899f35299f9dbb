"""How long a training run has left, from its records, robust to the machine's changing load.

A run's wall-clock speed swings when other jobs share the cores (2–5× within one run here), so
the rate of the last few seconds is a poor guess of the rest. The estimate splits that speed in
two factors that behave differently:

    cost  c = CPU seconds one epoch takes the training thread   (the work: steady, known early)
    share s = CPU seconds that thread gets per wall second       (the load: noisy, averaged)

    seconds left = epochs_left · c / s − since_last

c is the median over the last `recent` records of each interval's ΔCPU/Δepoch, so a slow first
epoch (allocation, cold caches) and one odd epoch do not move it; s is ΔCPU/Δwall over the later
half of the run so far, long enough that a burst of load averages out and short enough to follow
a lasting change. `since_last` is the wall time since the newest record: the epoch in progress
has used it already.
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


def _steady(marks: Sequence[Mark]) -> Sequence[Mark]:
    """The marks after the first interval (the warm-up) when at least two intervals remain."""
    return marks[1:] if len(marks) >= 4 else marks


def epoch_cost(marks: Sequence[Mark], recent: int = 10) -> float | None:
    """c: the median CPU seconds per epoch of the last `recent` intervals between marks (the
    first interval left out once there are three); None without an interval that trained."""
    steady = _steady(marks)[-(recent + 1):]
    costs = sorted((b.cpu - a.cpu) / (b.epoch - a.epoch)
                   for a, b in zip(steady, steady[1:], strict=False) if b.epoch > a.epoch)
    if not costs:
        return None
    mid = len(costs) // 2
    return costs[mid] if len(costs) % 2 else (costs[mid - 1] + costs[mid]) / 2


def cpu_share(marks: Sequence[Mark]) -> float | None:
    """s: ΔCPU/Δwall from the last mark at or before the middle of the steady run's wall time
    to the newest mark (at most 1: one thread); None when no wall time has passed."""
    steady = _steady(marks)
    if len(steady) < 2:
        return None
    middle = (steady[0].wall + steady[-1].wall) / 2
    start = max((m for m in steady[:-1] if m.wall <= middle), key=lambda m: m.wall)
    wall, cpu = steady[-1].wall - start.wall, steady[-1].cpu - start.cpu
    if wall <= 0 or cpu <= 0:
        return None
    return min(1.0, cpu / wall)


def seconds_left(marks: Sequence[Mark], epochs_left: float, since_last: float = 0.0,
                 recent: int = 10) -> float | None:
    """epochs_left · c / s − since_last, at least 0; None before two marks apart in time."""
    cost, share = epoch_cost(marks, recent), cpu_share(marks)
    if cost is None or share is None:
        return None
    return max(0.0, epochs_left * cost / share - since_last)
