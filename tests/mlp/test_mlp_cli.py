"""`python -m core.train` as a process: what its start-up loads, and its BLAS threads.

The command line is timed as a whole process against PyTorch's epoch (bench/train_speed.py,
issue 14), so what it imports before the first epoch is part of what it costs. These tests run
it in a fresh interpreter and look at what that interpreter ended up holding.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest

from core.train import blas_threads_asked

# Run core.train as `python -m` runs it, then report the exit code, the BLAS threads and
# which modules the run loaded (threadpoolctl is imported only after that list is taken).
PROBE = textwrap.dedent("""
    import json, runpy, sys
    sys.argv = ["core.train", *json.loads(sys.argv[1])]
    try:
        runpy.run_module("core.train", run_name="__main__", alter_sys=True)
    except SystemExit as e:
        code = e.code
    loaded = sorted(sys.modules)
    from threadpoolctl import threadpool_info
    threads = sorted({i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas"})
    print(json.dumps({"code": code, "threads": threads, "loaded": loaded}), file=sys.stderr)
""")


def _probe(*args: str) -> dict:
    out = subprocess.run([sys.executable, "-c", PROBE, json.dumps(list(args))],
                         capture_output=True, text=True, check=True)
    return json.loads(out.stderr.strip().splitlines()[-1])


@pytest.mark.parametrize(("argv", "threads"), [
    ([], 1),
    (["--epochs", "3"], 1),
    (["--blas-threads", "2"], 2),
    (["--blas-threads=3", "--epochs", "1"], 3),
    (["--blas-threads", "0"], 0),
    (["--blas-threads", "-1"], None),  # argparse says why
    (["--blas-threads", "two"], None),
    (["--", "--blas-threads", "2"], 1),
])
def test_blas_threads_are_read_before_numpy_loads(argv, threads):
    assert blas_threads_asked(argv) == threads


def test_a_plain_run_loads_no_heavy_library_and_trains_on_one_blas_thread():
    got = _probe("--dataset", "xor", "--hidden", "4", "--epochs", "2")
    assert got["code"] == 0 and got["threads"] == [1]
    heavy = {"sklearn", "mlxtend", "pandas", "sympy", "altair", "streamlit", "scipy", "sqlite3",
             "threadpoolctl", "urllib.request", "zipfile", "tarfile", "concurrent.futures",
             "core.mlp.jobs", "core.mlp.csvdata", "core.mlp.runstore"}
    assert heavy.isdisjoint(got["loaded"]), sorted(heavy & set(got["loaded"]))


def test_asked_blas_threads_are_set_as_asked():
    got = _probe("--dataset", "xor", "--hidden", "4", "--epochs", "1", "--blas-threads", "2")
    assert got["code"] == 0 and got["threads"] == [2]


def test_the_json_lines_are_the_records_and_the_summary():
    out = subprocess.run([sys.executable, "-m", "core.train", "--dataset", "xor", "--hidden",
                          "4", "--epochs", "3", "--eval-every", "5"],
                         capture_output=True, text=True, check=True)
    lines = [json.loads(x) for x in out.stdout.splitlines()]
    records, summary = lines[:-1], lines[-1]["summary"]
    assert [r["step"] for r in records] == sorted(r["step"] for r in records)  # in order
    assert records[-1]["epoch"] == 3.0 and summary["steps"] == records[-1]["step"]
    assert summary["final_test_acc"] == records[-1]["test_acc"]
    assert summary["best_test_acc"] == max(r["test_acc"] for r in records)
