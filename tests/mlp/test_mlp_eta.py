"""The time-left estimate (core.mlp.eta) on hand-worked runs: a steady run on a loaded machine, a
slow first epoch, a burst of load, an odd epoch, records every half epoch, a run that slowed or
sped up near its end, two slow epochs, an overdue epoch, and too little to go on. Each expected
value is worked out in the test's docstring."""

from __future__ import annotations

import pytest

from core.mlp.eta import MIN_WINDOW, Mark, cpu_share, epoch_cost, seconds_left


def _run(cpu_per_epoch: float, wall_per_epoch: float, epochs: int,
         start: Mark | None = None) -> list[Mark]:
    """Marks at every epoch of a stretch whose epochs all cost the same (after `start`, or
    from a mark at 0)."""
    m = start or Mark(0.0, 0.0, 0.0)
    marks = [m] if start is None else []
    for _ in range(epochs):
        m = Mark(m.epoch + 1, m.wall + wall_per_epoch, m.cpu + cpu_per_epoch)
        marks.append(m)
    return marks


def test_a_steady_run_that_gets_half_a_core() -> None:
    """20 epochs, each 0.5 CPU s over 1 wall s: c = 0.5, s = 0.5; 80 epochs to go take
    80 · 0.5 / 0.5 = 80 s (no stretch of the 19 s steady run is as long: the whole run is the
    pace), and 0.5 s since the last record leave 79.5 s."""
    marks = _run(0.5, 1.0, 20)
    assert epoch_cost(marks) == pytest.approx(0.5)
    assert cpu_share(marks) == pytest.approx(0.5)
    assert seconds_left(marks, 80) == pytest.approx(80.0)
    assert seconds_left(marks, 80, since_last=0.5) == pytest.approx(79.5)


def test_an_overdue_epoch_leaves_the_epochs_after_it_at_the_pace() -> None:
    """The same run, 2 s since the last record of a run that makes one a second: the epoch in
    progress is overdue, but the 79 after it still take 1 s each: 79 s, not 80 − 2 = 78 s."""
    assert seconds_left(_run(0.5, 1.0, 20), 80, since_last=2.0) == pytest.approx(79.0)


def test_a_slow_first_epoch_is_left_out() -> None:
    """The first epoch takes 3 s (3 CPU s), then four take 0.5 CPU s over 1 s each: marks at
    walls 0, 3, 4, 5, 6, 7. The steady run, walls 3 to 7, is 4 epochs in 4 s: 95 epochs to go
    take 95 s (the whole run's 5 epochs in 7 s would say 133 s); c = 2 / 4, s = 2 / 4."""
    marks = _run(3.0, 3.0, 1)
    marks += _run(0.5, 1.0, 4, start=marks[-1])
    assert [m.wall for m in marks] == [0, 3, 4, 5, 6, 7]
    assert seconds_left(marks, 95) == pytest.approx(95.0)
    assert epoch_cost(marks) == pytest.approx(0.5)
    assert cpu_share(marks) == pytest.approx(0.5)


def test_a_burst_of_load_is_averaged_over_the_run_not_extrapolated() -> None:
    """20 epochs at 0.5 CPU s per 1 s, then 2 epochs at 0.5 CPU s per 5 s (other jobs took the
    core): walls 0…20, 25, 30. The steady run, walls 1 to 30, is 21 epochs in 29 s: 78 epochs
    to go take 78 · 29 / 21 = 107.71 s (the rate of the last 5 s, 0.2 epochs/s, would say
    390 s). The work per epoch did not change, c = 10.5 / 21 = 0.5; the share fell to
    s = 10.5 / 29."""
    marks = _run(0.5, 1.0, 20)
    marks += _run(0.5, 5.0, 2, start=marks[-1])
    assert seconds_left(marks, 78) == pytest.approx(78 * 29 / 21)
    assert epoch_cost(marks) == pytest.approx(0.5)
    assert cpu_share(marks) == pytest.approx(10.5 / 29)


def test_one_odd_epoch_counts_for_its_share_of_the_run() -> None:
    """After the warm-up, nine epochs of 0.4 s and one of 2.0 s (a collection, a swap): the
    steady run is 10 epochs in 9 · 0.4 + 2.0 = 5.6 s, so 10 epochs to go take 5.6 s."""
    marks = _run(1.0, 1.0, 1)
    marks += _run(0.4, 0.4, 5, start=marks[-1])
    marks += _run(2.0, 2.0, 1, start=marks[-1])
    marks += _run(0.4, 0.4, 4, start=marks[-1])
    assert seconds_left(marks, 10) == pytest.approx(5.6)


def test_records_every_half_epoch_cost_per_whole_epoch() -> None:
    """A record every 0.5 epoch, 0.25 s apart, on a full core: the steady run (marks 1 to 11) is
    5 epochs in 2.5 s, c = 0.5 CPU s per epoch, s = 1; 10 epochs to go: 5 s."""
    marks = [Mark(k / 2, k / 4, k / 4) for k in range(12)]
    assert epoch_cost(marks) == pytest.approx(0.5)
    assert cpu_share(marks) == pytest.approx(1.0)
    assert seconds_left(marks, 10) == pytest.approx(5.0)


def test_too_little_to_go_on_is_none_and_the_estimate_is_never_negative() -> None:
    assert seconds_left([], 10) is None
    assert seconds_left([Mark(1, 1, 1)], 10) is None  # one record: no interval
    assert seconds_left([Mark(1, 1, 1), Mark(1, 1, 1)], 10) is None  # nothing trained between
    assert cpu_share([Mark(1, 1, 1)]) is None and epoch_cost([]) is None
    assert seconds_left([Mark(0, 0, 0), Mark(1, 2, 1)], 1, since_last=100) == 0.0
    # A CPU clock a hair ahead of the wall clock is one core, not more: s = 1.
    assert cpu_share([Mark(0, 0, 0), Mark(1, 1.0, 1.001)]) == 1.0


def test_a_run_that_slowed_near_its_end_is_paced_by_its_recent_stretch() -> None:
    """40 epochs of 1 s (walls 0…40), then 10 of 3 s (walls 43…70: other jobs came); 5 to go.
    The newest stretches: 2 intervals are 6 s at p = 3, shorter than the 5 · 3 = 15 s they
    predict; so are 3 (9 s) and 4 (12 s); 5 intervals are 15 s: p = 3, 15 s left. The whole
    steady run, walls 1 to 70, would say 5 · 69 / 49 = 7.04 s."""
    marks = _run(1.0, 1.0, 40)
    marks += _run(1.0, 3.0, 10, start=marks[-1])
    assert marks[-1].wall == 70
    assert seconds_left(marks, 5) == pytest.approx(15.0)


def test_a_run_that_sped_up_near_its_end_is_paced_by_its_recent_stretch() -> None:
    """40 epochs of 3 s (walls 0…120), then 10 of 1 s (walls 121…130: the cores came free); 5
    to go. The newest stretches of 2, 3 and 4 intervals (2, 3, 4 s) are shorter than both the
    5 s they predict and MIN_WINDOW; 5 intervals are 5 s: p = 1, 5 s left. The whole steady
    run (walls 3 to 130) would say 5 · 127 / 49 = 12.96 s."""
    marks = _run(1.0, 3.0, 40)
    marks += _run(1.0, 1.0, 10, start=marks[-1])
    assert seconds_left(marks, 5) == pytest.approx(5.0)


def test_two_slow_epochs_alone_do_not_set_the_pace() -> None:
    """40 epochs of 0.5 s (walls 0…20), then 2 of 2 s (walls 22, 24); 1 to go. Its 2 newest
    intervals (4 s, p = 2) and 3 (walls 19.5 to 24, 4.5 s, p = 1.5) are shorter than
    MIN_WINDOW = 5 s; 4 intervals (walls 19 to 24) are 5 s over 4 epochs: p = 1.25 s."""
    assert MIN_WINDOW == 5.0
    marks = _run(0.5, 0.5, 40)
    marks += _run(2.0, 2.0, 2, start=marks[-1])
    assert seconds_left(marks, 1) == pytest.approx(1.25)
