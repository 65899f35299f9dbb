"""A shape's printed formulas remembered on disk (core.backprop.shapecache) and printed ahead by
the worker process (core.backprop.checking): the same text as printing anew, a damaged, stale or
foreign file ignored and written over, one result for two threads, and the worker below the
server's priority."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from core.backprop import checking, formulas, mark_all, oracle, shapecache, trace_step
from core.backprop.chainrule import w11_structure

KEY = ((3, 3, 2), "tanh", "mean_squared_error")


@pytest.fixture
def cache(tmp_path, monkeypatch) -> Path:
    """A private cache folder, and this process playing a fresh one (empty memos)."""
    monkeypatch.setenv("HANDPROP_CACHE", str(tmp_path))
    shapecache.forget()
    w11_structure.cache_clear()
    yield tmp_path / "backprop"
    shapecache.forget()
    w11_structure.cache_clear()


def no_printing(monkeypatch) -> None:
    """From here on, printing a shape's formulas fails the test."""
    monkeypatch.setattr(formulas, "_printed", lambda *a: pytest.fail("printed again"))


def test_formulas_from_disk_are_the_printed_ones_and_need_no_printing(cache, monkeypatch) -> None:
    printed = formulas._printed(*KEY)
    assert formulas.step_templates(*KEY) == printed  # printed now, and written
    assert shapecache.path_of("steps", KEY).is_file()
    assert formulas.step_templates(*KEY, where=None) == printed  # the uncached path
    chain = w11_structure(*KEY)
    shapecache.forget()
    w11_structure.cache_clear()
    no_printing(monkeypatch)
    assert formulas.step_templates(*KEY) == printed  # a fresh process: read from the file
    assert w11_structure(*KEY) == chain
    # Each template names its inputs: the symbols its formula is evaluated at (marking).
    z = next(t for t in printed if t.key == "z|1|0")
    assert z.inputs == ("a|0|0", "a|0|1", "a|0|2", "b|1|0", "w|1|0|0", "w|1|0|1", "w|1|0|2")


def test_marking_from_formulas_read_from_disk_carries_a_slip_forward(cache, monkeypatch) -> None:
    # 1-1-1 sigmoid, ½(y − ŷ)²: w1 = 0.5, b1 = 0, w2 = 1, b2 = 0, x = 2, y = 1.
    args = ([[[0.5]], [[1.0]]], [[0.0], [0.0]], [2.0], [1.0], 0.1)
    formulas.step_templates((1, 1, 1), "sigmoid", "half_squared_error")
    shapecache.forget()
    no_printing(monkeypatch)
    trace = trace_step(*args)
    # z1 = 0.5·2 + 0 = 1, a slip typed as a1 = 0.8 (σ(1) = 0.7311); then z^(2) = 1·0.8 + 0 = 0.8
    # worked from the slip "follows"; 0.75 there is wrong, shown with the student's 0.8 in.
    marks = {m.name: m for m in mark_all(trace, {"a1^(1)": "0.8", "z1^(2)": "0.8"}).marks}
    assert marks["a1^(1)"].verdict == "wrong" and marks["z1^(2)"].verdict == "follows"
    assert marks["z1^(2)"].expected == pytest.approx(0.8)
    wrong = {m.name: m for m in mark_all(trace, {"a1^(1)": "0.8", "z1^(2)": "0.75"}).marks}
    assert wrong["z1^(2)"].verdict == "wrong"
    assert wrong["z1^(2)"].substituted == r"z^{(2)}_{1} = 1 \cdot 0.8 + 0 = 0.8"


@pytest.mark.parametrize("damage", ["garbage", "truncated", "stale", "other shape", "bad key"])
def test_a_damaged_stale_or_foreign_file_is_ignored_and_written_over(cache, damage) -> None:
    printed = formulas._printed(*KEY)
    formulas.step_templates(*KEY)
    path = shapecache.path_of("steps", KEY)
    data = json.loads(path.read_text(encoding="utf-8"))
    if damage == "garbage":
        path.write_bytes(b"\x00\xffnot json")
    elif damage == "truncated":
        path.write_text(path.read_text(encoding="utf-8")[:500], encoding="utf-8")
    elif damage == "stale":  # written by other printing code (an older version)
        data["fingerprint"] = "0" * 40
        data["value"][0][2] = "z^{(1)}_{1} = stale"
        path.write_text(json.dumps(data), encoding="utf-8")
    elif damage == "other shape":  # 3-2-2's templates under 3-3-2's name and key
        other = formulas._encode(formulas._printed((3, 2, 2), *KEY[1:]))
        path.write_text(json.dumps({**data, "value": other}), encoding="utf-8")
    else:  # a placeholder no value fills: the page's fill would raise KeyError
        data["value"][0][3] = "z^{(1)}_{1} = ⟨w|9|9|9⟩"
        path.write_text(json.dumps(data), encoding="utf-8")
    shapecache.forget()
    assert formulas.step_templates(*KEY) == printed
    rewritten = json.loads(path.read_text(encoding="utf-8"))
    assert rewritten["fingerprint"] == shapecache.fingerprint()
    assert formulas._decoder(KEY[0])(rewritten["value"]) == printed


def test_an_unwritable_folder_only_costs_printing(tmp_path, monkeypatch) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("HANDPROP_CACHE", str(blocker))
    shapecache.forget()
    try:
        assert formulas.step_templates(*KEY) == formulas._printed(*KEY)
    finally:
        shapecache.forget()


def test_two_threads_asking_at_once_get_one_result_printed_once(cache, monkeypatch) -> None:
    calls, real = [], formulas._printed

    def slow(*key):
        calls.append(key)
        time.sleep(0.3)  # the second thread asks meanwhile
        return real(*key)

    monkeypatch.setattr(formulas, "_printed", slow)
    start, got = threading.Barrier(2), []

    def ask() -> None:
        start.wait()
        got.append(formulas.step_templates(*KEY))

    threads = [threading.Thread(target=ask) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert len(calls) == 1 and len(got) == 2 and got[0] is got[1]


def test_nearby_shapes_are_one_box_away_and_allowed() -> None:
    near = checking.nearby((3, 2, 2), "sigmoid", "half_squared_error")
    shapes = [s for s, a, lo in near if (a, lo) == ("sigmoid", "half_squared_error")]
    assert shapes == [(4, 2, 2), (2, 2, 2), (3, 3, 2), (3, 1, 2), (3, 2, 3), (3, 2, 1),
                      (3, 2, 2, 2), (3, 2)]
    # The same shape under the other 3 × 3 − 1 activations and losses.
    assert len(near) == len(shapes) + 8 == len(set(near))
    assert {(a, lo) for s, a, lo in near if s == (3, 2, 2)} == {
        (a, lo) for a in ("sigmoid", "tanh", "relu")
        for lo in ("half_squared_error", "mean_squared_error", "cross_entropy")} - {
        ("sigmoid", "half_squared_error")}
    # At the page's limits (1–6 units, 0–3 hidden layers) nothing beyond them is printed.
    edge = {s for s, *_ in checking.nearby((1, 6, 6, 6, 6), "relu", "cross_entropy")}
    assert edge == {(2, 6, 6, 6, 6), (1, 5, 6, 6, 6), (1, 6, 5, 6, 6), (1, 6, 6, 5, 6),
                    (1, 6, 6, 6, 5), (1, 6, 6, 6), (1, 6, 6, 6, 6)}


@pytest.mark.skipif(sys.platform != "linux", reason="a thread's own niceness is Linux's")
def test_the_worker_prints_the_next_shapes_ahead_below_the_servers_priority() -> None:
    folder = Path(checking._in_worker(checking.print_ahead, []))  # the worker's cache folder
    key = ((5, 1, 4), "relu", "mean_squared_error")
    ahead = ((5, 2, 4), "relu", "mean_squared_error")  # a unit more in the hidden layer
    path = shapecache.path_of("steps", ahead, folder)
    path.unlink(missing_ok=True)
    checking.request(*key)
    deadline = time.monotonic() + 120
    while not path.is_file():
        assert time.monotonic() < deadline, "the worker did not print the next shape ahead"
        time.sleep(0.1)
    data = json.loads(path.read_text(encoding="utf-8"))
    assert data["fingerprint"] == shapecache.fingerprint()
    assert formulas._decoder(ahead[0])(data["value"]) == formulas._printed(*ahead)
    worker = next(iter(checking._pool._processes))
    assert os.getpriority(os.PRIO_PROCESS, worker) >= checking.NICE
    assert os.getpriority(os.PRIO_PROCESS, 0) < checking.NICE  # this process: unchanged


@pytest.mark.skipif(sys.platform != "linux", reason="a thread's own niceness is Linux's")
def test_a_process_started_from_the_lowered_thread_is_below_the_server_from_its_start() -> None:
    """What the worker's start relies on: lowering one thread leaves the others as they were,
    and a process it starts inherits the lower priority before it runs a line (its imports)."""
    seen = {}

    def start() -> None:
        checking._lower_priority(threading.get_native_id())
        seen["child"] = int(subprocess.run(
            [sys.executable, "-c", "import os; print(os.getpriority(os.PRIO_PROCESS, 0))"],
            capture_output=True, text=True, check=True, timeout=60).stdout)

    before = os.getpriority(os.PRIO_PROCESS, 0)
    thread = threading.Thread(target=start)
    thread.start()
    thread.join(timeout=60)
    assert seen["child"] == checking.NICE  # setpriority sets the niceness, not a step down
    assert os.getpriority(os.PRIO_PROCESS, 0) == before


def test_a_student_stepping_one_box_is_guessed_to_go_on() -> None:
    s, t = "sigmoid", "half_squared_error"
    assert checking.next_step(((3, 2, 2), s, t), ((3, 3, 2), s, t)) == ((3, 4, 2), s, t)
    assert checking.next_step(((3, 3, 2), s, t), ((3, 2, 2), s, t)) == ((3, 1, 2), s, t)
    assert checking.next_step(((2, 2, 2), s, t), ((3, 2, 2), s, t)) == ((4, 2, 2), s, t)
    assert checking.next_step(((3, 2, 2), s, t), ((4, 3, 2), s, t)) is None  # two boxes
    assert checking.next_step(((3, 2, 2), s, t), ((3, 4, 2), s, t)) is None  # typed, not stepped
    assert checking.next_step(((3, 2, 2), s, t), ((3, 3, 2), "tanh", t)) is None
    assert checking.next_step(((3, 2, 2), s, t), ((3, 2, 2, 2), s, t)) is None
    assert checking.next_step(((3, 5, 2), s, t), ((3, 6, 2), s, t)) is None  # 7 units: no
    assert checking.next_step(((3, 2, 2), s, t), ((3, 1, 2), s, t)) is None  # 0 units: no


def test_the_next_step_of_a_stepping_student_is_built_before_they_ask() -> None:
    asked = [((2, 1, 2), "relu", "cross_entropy"), ((2, 2, 2), "relu", "cross_entropy")]
    guess = ((2, 3, 2), "relu", "cross_entropy")
    assert not oracle.sympy_ready(*guess)
    for key in asked:
        checking.request(*key)
    deadline = time.monotonic() + 180
    while not oracle.sympy_ready(*guess):
        assert time.monotonic() < deadline, "the guessed next shape was not built"
        time.sleep(0.1)
    assert checking.failure(*guess) is None
