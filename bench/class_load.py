"""A class at once: training throughput and the Backprop page's Next, with sessions training.

    python bench/class_load.py [--seconds 10] [--clicks 15]

Sessions are simulated in one run: each is a `RunJob` training mnist5k 784-64-10 sigmoid B32
(the issue's load) until stopped. Part 1 counts the records all sessions make per second, for
1, 2, 4 and 8 sessions, trained in worker processes (`WorkerPool`, the page's way) and, for the
record, in threads of this process (the old way). Part 2 times the Backprop page's re-run after
a Next click, server-side through AppTest (the script run Streamlit makes for a click), with no
session training and with 8 sessions training in the pool. Goals (issue 16): records/s with 2
sessions ≥ 1.7× one session; Next with 8 training ≤ 2× Next with none.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from core.mlp.jobs import RunJob, single_blas_thread  # noqa: E402
from core.mlp.runstore import RunStore  # noqa: E402
from core.mlp.training import TrainConfig, TrainingRun  # noqa: E402
from core.mlp.workers import WorkerPool  # noqa: E402

CONFIG = TrainConfig(dataset="mnist5k", hidden=(64,), activation="sigmoid", batch_size=32,
                     epochs=10_000, lr=0.1)
GOAL_SCALING, GOAL_CLICK = 1.7, 2.0


def _sessions(store: RunStore, n: int, pool: WorkerPool | None) -> list[RunJob]:
    data = CONFIG.load_data() if pool is None else None
    return [RunJob(store, [(f"session {i}", CONFIG)], lambda c: TrainingRun(c, data),
                   pool=pool).start() for i in range(n)]


def _records(jobs: list[RunJob]) -> int:
    return sum(len(j.runs[0].records) for j in jobs)


def _until_training(jobs: list[RunJob], pool: WorkerPool | None) -> None:
    """Wait until every session that can train now has its first record (with a pool, the
    first `pool.size`: the others are queued), so spawning and data loading do not count."""
    can = jobs if pool is None else jobs[:pool.size]
    deadline = time.monotonic() + 120
    while any(not j.runs[0].records for j in can) and time.monotonic() < deadline:
        time.sleep(0.05)


def throughput(store: RunStore, n: int, pool: WorkerPool | None, seconds: float) -> float:
    """Records per second made by n sessions together, once they train."""
    jobs = _sessions(store, n, pool)
    _until_training(jobs, pool)
    start_count, t0 = _records(jobs), time.monotonic()
    time.sleep(seconds)
    made, elapsed = _records(jobs) - start_count, time.monotonic() - t0
    for j in jobs:
        j.stop()
    for j in jobs:
        j.join(30)
    return made / elapsed


def next_click_seconds(clicks: int) -> float:
    """Median seconds of the Backprop page's re-run after Next (AppTest, through app.py)."""
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.run()
    at.switch_page("pages/backprop.py").run()
    times = []
    for i in range(clicks + 1):
        labels = [b.label for b in at.button]
        label = "Next ▶" if i % 8 < 4 else "◀ Previous"  # walk back and forth
        t = time.perf_counter()
        at.button[labels.index(label)].click().run()
        if i:  # the first click warms caches
            times.append(time.perf_counter() - t)
    return statistics.median(times)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seconds", type=float, default=10.0, help="timed seconds per load")
    ap.add_argument("--clicks", type=int, default=15, help="Next/Previous clicks per median")
    ap.add_argument("--threads", action="store_true",
                    help="also measure the old way, threads of one process")
    a = ap.parse_args()
    single_blas_thread()
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["HANDPROP_DB"] = str(Path(tmp) / "runs.sqlite3")
        store = RunStore()
        pool = WorkerPool()
        print(f"{os.cpu_count()} cores, a pool of {pool.size} workers; mnist5k 784-64-10 "
              f"sigmoid B32; {a.seconds:.0f} s per load")
        rates = {}
        for n in (1, 2, 4, 8):
            rates[n] = throughput(store, n, pool, a.seconds)
            line = f"  {n} session(s) in workers: {rates[n]:6.1f} records/s"
            if a.threads:
                line += f"   (threads: {throughput(store, n, None, a.seconds):6.1f})"
            print(line, flush=True)
        scaling = rates[2] / rates[1]
        print(f"  2 sessions / 1 session = {scaling:.2f}x (goal >= {GOAL_SCALING}x: "
              f"{'met' if scaling >= GOAL_SCALING else 'MISSED'})")

        idle = next_click_seconds(a.clicks)
        jobs = _sessions(store, 8, pool)
        _until_training(jobs, pool)
        busy = next_click_seconds(a.clicks)
        for j in jobs:
            j.stop()
        for j in jobs:
            j.join(30)
        ratio = busy / idle
        print(f"  Backprop Next, median re-run: {idle * 1000:.0f} ms idle, {busy * 1000:.0f} ms "
              f"with 8 sessions training = {ratio:.2f}x (goal <= {GOAL_CLICK}x: "
              f"{'met' if ratio <= GOAL_CLICK else 'MISSED'})")
        pool.shutdown()


if __name__ == "__main__":
    main()
