"""The problem as JSON and the trace as JSON and CSV: round trips and refusals."""

from __future__ import annotations

import csv
import io
import json

import pytest

from core.backprop import mark_all, trace_step
from core.backprop.problemfile import (
    EXAMPLE,
    ProblemFileError,
    exercise_of,
    problem_dict,
    read_problem,
    steps_csv,
    trace_json,
)


def test_mazurs_example_reads_and_traces_to_his_numbers() -> None:
    ex = read_problem(EXAMPLE)
    assert ex.shape == (2, 2, 2) and ex.lr == 0.5 and ex.params.W[0] == [[0.15, 0.2], [0.25, 0.3]]
    p = ex.params
    t = trace_step(p.W, p.b, p.x, p.y, ex.lr, ex.activation, ex.loss)
    assert t.loss == pytest.approx(0.298371109, abs=1e-9)  # his E_total


def test_the_download_pastes_back_and_carries_every_step(homework_trace) -> None:
    text = trace_json(homework_trace, "the homework problem")
    doc = json.loads(text)
    assert [s["name"] for s in doc["steps"]] == [s.name for s in homework_trace.steps]
    assert doc["steps"][0]["formula"].startswith("z^{(1)}_{1} = w^{(1)}_{11} x_{1}")
    assert doc["steps"][-1]["value"] == homework_trace.steps[-1].value
    back = read_problem(text)
    assert problem_dict(back) == problem_dict(exercise_of(homework_trace))


def test_answers_and_marks_ride_along_in_json_and_csv(homework_trace) -> None:
    marking = mark_all(homework_trace, {"z1^(1)": "0.19", "a1^(1)": "0.5474",
                                        "z2^(1)": "=HYPERLINK(1)", "δ1^(2)": "-0.08651"})
    doc = json.loads(trace_json(homework_trace, "", marking))
    assert [s["verdict"] for s in doc["steps"][:3]] == ["wrong", "unreadable", "follows"]
    assert doc["first_wrong"] == "z1^(1)"
    rows = list(csv.reader(io.StringIO(steps_csv(homework_trace, marking))))
    assert rows[0] == ["step", "name", "kind", "value", "answer", "verdict", "expected"]
    assert rows[1][:2] == ["1", "z1^(1)"] and rows[1][4:6] == ["0.19", "wrong"]
    assert rows[2][4] == "'=HYPERLINK(1)"  # a spreadsheet must not run typed text
    assert rows[10][4] == "-0.08651"  # a negative number stays a number
    assert float(rows[1][3]) == homework_trace.steps[0].value  # values in full
    plain = list(csv.reader(io.StringIO(steps_csv(homework_trace))))
    assert plain[0] == ["step", "name", "kind", "value"] and len(plain) == 42


@pytest.mark.parametrize("text,message", [
    ("", "this is not JSON"),
    ("[1, 2]", "must be an object"),
    ("{" * 100_001, "characters long"),
    ("[" * 5000 + "]" * 5000, "not JSON"),
    (json.dumps({"x": [1], "y": [1], "weights": [[[1]]], "biases": [[0]], "loss": "hinge"}),
     "loss must be one of"),
    (json.dumps({"x": [1] * 7, "y": [1], "weights": [[[1] * 7]], "biases": [[0]]}),
     "every layer has 1 to 6 units, not 7"),
    (json.dumps({"x": [1], "y": [1], "weights": [[[float("nan")]]], "biases": [[0]]}),
     r"weights[0][0][0] is NaN"),
    (json.dumps({"x": [1], "y": [1], "weights": [[[1]]], "biases": [[0]], "lr": -1}),
     "lr = -1 must be positive"),
])
def test_what_is_not_a_problem_is_refused_with_a_reason(text, message) -> None:
    with pytest.raises(ProblemFileError) as caught:
        read_problem(text)
    assert message in str(caught.value)
