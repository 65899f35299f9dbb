"""The page state as URL query parameters: a round trip that keeps every float, and links that
are refused piece by piece."""

from __future__ import annotations

from core.backprop import linkstate, problems
from core.backprop.problemfile import EXAMPLE, Exercise, read_problem


def test_round_trip_keeps_the_very_same_floats() -> None:
    params = problems.Params(W=[[[0.1 + 0.2, -1e-7, 1 / 3]], [[2.5]]], b=[[0.0], [-0.3]],
                             x=[0.05, 0.1, 123456.789], y=[0.99])
    ex = Exercise(params, 0.1, "tanh", "mean_squared_error")
    q = linkstate.to_query(ex, "try", 4, "practice", 7, "s1", "cs", "A" * 22)
    assert q["W"] == "0.30000000000000004,-1e-07,0.3333333333333333|2.5"
    state = linkstate.from_query(q)
    assert state.messages == []
    assert state.exercise == ex and (state.mode, state.step) == ("try", 4)
    assert (state.origin, state.seed, state.student, state.salt, state.work) == (
        "practice", 7, "s1", "cs", "A" * 22)


def test_an_empty_query_is_the_homework_in_show_me() -> None:
    state = linkstate.from_query({})
    assert state.exercise is None and state.mode == "show" and state.step == 0
    assert state.messages == [] and state.work == ""


def test_every_bad_part_is_named_and_the_rest_is_kept() -> None:
    q = linkstate.to_query(read_problem(EXAMPLE), "try", 2)
    state = linkstate.from_query({**q, "mode": "nonsense", "seed": "-5", "id": "x" * 65,
                                  "work": "../../etc", "junk": "1"})
    assert state.exercise == read_problem(EXAMPLE)  # the problem itself is fine
    assert state.mode == "show" and state.seed is None and state.student == ""
    assert state.work == ""  # not a token: a new one is made
    assert len(state.messages) == 3
    assert all("nonsense" not in m and "xxx" not in m for m in state.messages)


def test_a_repeated_parameter_counts_once_as_its_last_value() -> None:
    assert linkstate.from_query({"mode": ["show", "try"]}).mode == "try"
