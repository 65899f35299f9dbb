"""The time-left estimate (core.mlp.eta) on hand-worked runs: a steady run on a loaded machine, a
slow first epoch, a burst of load, an odd epoch, records every half epoch, and too little to go
on. Each expected value is worked out in the test's docstring."""

from __future__ import annotations

import pytest

from core.mlp.eta import Mark, cpu_share, epoch_cost, seconds_left


def _run(cpu_per_epoch: float, wall_per_epoch: float, epochs: int, start: Mark | None = None,
         ) -> list[Mark]:
    """Marks at every epoch of a run whose epochs all cost the same, after `start`."""
    m = start or Mark(0.0, 0.0, 0.0)
    marks = [m] if start is None else []
    for _ in range(epochs):
        m = Mark(m.epoch + 1, m.wall + wall_per_epoch, m.cpu + cpu_per_epoch)
        marks.append(m)
    return marks


def test_a_steady_run_that_gets_half_a_core() -> None:
    """20 epochs, each 0.5 CPU s over 1 wall s: c = 0.5, s = 0.5; 80 epochs to go take
    80 · 0.5 / 0.5 = 80 s, and 2 s since the last record leave 78 s."""
    marks = _run(0.5, 1.0, 20)
    assert epoch_cost(marks) == pytest.approx(0.5)
    assert cpu_share(marks) == pytest.approx(0.5)
    assert seconds_left(marks, 80) == pytest.approx(80.0)
    assert seconds_left(marks, 80, since_last=2.0) == pytest.approx(78.0)


def test_a_slow_first_epoch_is_left_out() -> None:
    """The first epoch takes 3 s (3 CPU s), then four take 0.5 CPU s over 1 s each: marks at
    walls 0, 3, 4, 5, 6, 7. Without the first interval c = 0.5; the steady walls run from 3 to 7,
    so s is measured from the mark at wall 5 (the middle): ΔCPU 1 / Δwall 2 = 0.5. 95 epochs to
    go: 95 · 0.5 / 0.5 = 95 s (the whole run's 5 epochs in 7 s would say 133 s)."""
    marks = _run(3.0, 3.0, 1)
    marks += _run(0.5, 1.0, 4, start=marks[-1])
    assert [m.wall for m in marks] == [0, 3, 4, 5, 6, 7]
    assert epoch_cost(marks) == pytest.approx(0.5)
    assert cpu_share(marks) == pytest.approx(0.5)
    assert seconds_left(marks, 95) == pytest.approx(95.0)


def test_a_burst_of_load_moves_the_share_not_the_cost() -> None:
    """20 epochs at 0.5 CPU s per 1 s, then 2 epochs at 0.5 CPU s per 5 s (other jobs took the
    core): walls 0…20, 25, 30. c stays 0.5 (every interval cost 0.5 CPU s per epoch). The steady
    walls run from 1 to 30, middle 15.5: s from the mark at wall 15 (CPU 7.5) to the last (wall
    30, CPU 11) = 3.5 / 15. 78 epochs to go: 78 · 0.5 · 15 / 3.5 = 167.14 s; the rate of the
    last 5 s (0.2 epochs/s) would say 390 s, the whole run's (22 in 30 s) 106 s."""
    marks = _run(0.5, 1.0, 20)
    marks += _run(0.5, 5.0, 2, start=marks[-1])
    assert epoch_cost(marks) == pytest.approx(0.5)
    assert cpu_share(marks) == pytest.approx(3.5 / 15)
    assert seconds_left(marks, 78) == pytest.approx(78 * 0.5 * 15 / 3.5)


def test_one_odd_epoch_does_not_move_the_cost() -> None:
    """Nine epochs of 0.4 CPU s and one of 2.0 (a collection, a swap): the median of the last
    ten intervals is 0.4; the mean would be 0.56."""
    marks = _run(0.4, 0.4, 5)
    marks += _run(2.0, 2.0, 1, start=marks[-1])
    marks += _run(0.4, 0.4, 5, start=marks[-1])
    assert epoch_cost(marks) == pytest.approx(0.4)
    assert epoch_cost(marks, recent=2) == pytest.approx(0.4)


def test_an_even_count_of_intervals_takes_the_mean_of_the_middle_two() -> None:
    """Intervals (after the first) of 0.4, 0.6, 0.4, 0.6 CPU s per epoch: median (0.4 + 0.6) / 2
    = 0.5."""
    marks = [Mark(0, 0, 0), Mark(1, 1, 1)]
    for cost in (0.4, 0.6, 0.4, 0.6):
        last = marks[-1]
        marks.append(Mark(last.epoch + 1, last.wall + cost, last.cpu + cost))
    assert epoch_cost(marks) == pytest.approx(0.5)


def test_records_every_half_epoch_cost_per_whole_epoch() -> None:
    """A record every 0.5 epoch, 0.25 CPU s apart, on a full core: c = 0.25 / 0.5 = 0.5 CPU s per
    epoch; 10 epochs to go: 5 s."""
    marks = [Mark(k / 2, k / 4, k / 4) for k in range(12)]
    assert epoch_cost(marks) == pytest.approx(0.5)
    assert seconds_left(marks, 10) == pytest.approx(5.0)


def test_too_little_to_go_on_is_none_and_the_estimate_is_never_negative() -> None:
    assert seconds_left([], 10) is None
    assert seconds_left([Mark(1, 1, 1)], 10) is None  # one record: no interval
    assert seconds_left([Mark(1, 1, 1), Mark(1, 1, 1)], 10) is None  # nothing trained between
    assert seconds_left([Mark(0, 0, 0), Mark(1, 2, 1)], 3, since_last=100) == 0.0
    # A CPU clock a hair ahead of the wall one is one core, not more: s = 1.
    assert cpu_share([Mark(0, 0, 0), Mark(1, 1.0, 1.001)]) == 1.0
