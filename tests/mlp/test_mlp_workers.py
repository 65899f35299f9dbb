"""Runs in worker processes: records stream back, Stop is immediate, runs queue, dead workers
fail their run with the reason and are replaced."""

from __future__ import annotations

import os
import signal
import time

import numpy as np
import pytest

from core.mlp.jobs import RunJob, _model_like
from core.mlp.runstore import RunStore
from core.mlp.status import RunStatus
from core.mlp.training import TrainConfig
from core.mlp.workers import WorkerPool, pool_size


@pytest.fixture(scope="module")
def pool():
    p = WorkerPool(size=2)
    yield p
    p.shutdown()


def _cfg(epochs: int, dataset: str = "digits", hidden=(8,)) -> TrainConfig:
    return TrainConfig(dataset=dataset, hidden=hidden, epochs=epochs, batch_size=64, lr=0.1)


def _wait(condition, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def test_pool_size_is_the_setting_else_the_cores(monkeypatch) -> None:
    monkeypatch.setenv("HANDPROP_WORKERS", "3")
    assert pool_size() == 3
    monkeypatch.setenv("HANDPROP_WORKERS", "0")
    with pytest.raises(ValueError, match="1 or more"):
        pool_size()
    monkeypatch.delenv("HANDPROP_WORKERS")
    assert pool_size() == len(os.sched_getaffinity(0))


def test_a_run_trains_in_a_worker_and_streams_every_record(pool, run_store: RunStore) -> None:
    job = RunJob(run_store, [("r", _cfg(4))], pool=pool, sweep="w1").start()
    assert job.join(120)
    live = job.runs[0]
    assert live.status == RunStatus.FINISHED and len(live.records) == 4
    (info,) = run_store.list_runs(sweep="w1")
    assert run_store.records(info.id) == live.records  # the session saw what the store holds
    assert info.status == "finished" and info.owner.rsplit(":", 1)[1] != str(os.getpid())
    # Each record came with the worker's training-thread CPU clock (core.mlp.eta); without it
    # the run's wall clock would stand in, record for record.
    assert len(live.cpu) == 4 and live.cpu == sorted(live.cpu)
    assert live.cpu != [r["elapsed"] for r in live.records]


def test_stop_ends_a_worker_run_at_once_and_keeps_its_records(pool, run_store) -> None:
    job = RunJob(run_store, [("long", _cfg(5000)), ("next", _cfg(5))], pool=pool).start()
    _wait(lambda: len(job.runs[0].records) >= 2)
    t = time.monotonic()
    job.stop()
    assert job.join(30)
    assert time.monotonic() - t < 3.0
    assert [r.status for r in job.runs] == [RunStatus.STOPPED, RunStatus.SKIPPED]
    info = run_store.get_run(job.runs[0].run_id)
    assert info.status == "stopped" and info.n_records == len(job.runs[0].records) < 5000


def test_runs_wait_for_a_worker_and_say_how_many_are_ahead(run_store) -> None:
    one = WorkerPool(size=1)
    try:
        jobs = [RunJob(run_store, [(f"j{i}", _cfg(5000))], pool=one).start() for i in range(3)]
        _wait(lambda: jobs[0].runs[0].records and all(
            j.runs[0].status == RunStatus.QUEUED for j in jobs[1:]))
        assert "queued, 0 ahead" in jobs[1].progress_text()
        assert "queued, 1 ahead" in jobs[2].progress_text()
        jobs[1].stop()  # a queued run never starts
        assert jobs[1].join(10) and jobs[1].runs[0].status == RunStatus.SKIPPED
        _wait(lambda: "queued, 0 ahead" in jobs[2].progress_text())
        for j in (jobs[0], jobs[2]):
            j.stop()
            assert j.join(30)
    finally:
        one.shutdown()


def test_a_worker_that_dies_fails_its_run_with_the_reason_and_is_replaced(pool,
                                                                          run_store) -> None:
    job = RunJob(run_store, [("doomed", _cfg(5000))], pool=pool).start()
    _wait(lambda: len(job.runs[0].records) >= 2)
    before = pool.replaced
    os.kill(job.runs[0].task._worker.process.pid, signal.SIGKILL)
    assert job.join(30)
    live = job.runs[0]
    assert live.status == RunStatus.FAILED and "killed by signal 9" in live.message
    info = run_store.get_run(live.run_id)
    assert info.status == "failed" and "worker process" in info.message
    assert info.n_records >= 2  # what it made is kept
    _wait(lambda: pool.replaced == before + 1)
    again = RunJob(run_store, [("after", _cfg(2))], pool=pool).start()
    assert again.join(120) and again.runs[0].status == RunStatus.FINISHED


def test_a_two_feature_run_brings_its_model_back_for_the_boundary(pool, run_store) -> None:
    job = RunJob(run_store, [("xor", _cfg(300, dataset="xor", hidden=(8,)))], pool=pool)
    assert job.start().join(120)
    live = job.runs[0]
    assert live.data is not None and live.data.X_train.shape[1] == 2
    # The copy carries the worker's last weights: it reaches the accuracy the last record
    # measured on the same training set, and is not the untrained net of the same seed.
    accuracy = np.mean(live.model.predict_proba(live.data.X_train).argmax(1)
                       == live.data.y_train)
    assert accuracy == pytest.approx(live.records[-1]["train_acc"], abs=1e-9)
    fresh = _model_like(live.config, live.data)
    assert not np.allclose(fresh.params[0], live.model.params[0])


def test_bad_settings_in_a_worker_fail_the_run_in_words(pool, run_store) -> None:
    job = RunJob(run_store, [("bad", _cfg(2, dataset="mnist", hidden=(8,)))], pool=pool)
    job.runs[0].config = TrainConfig(dataset="mnist", hidden=(8,), epochs=2,
                                     data_dir="/nonexistent/mnist")
    assert job.start().join(120)
    live = job.runs[0]
    assert live.status == RunStatus.FAILED and live.message
    assert run_store.get_run(live.run_id).status == "failed"


def test_stop_ends_even_a_run_stuck_in_one_huge_minibatch(pool, run_store) -> None:
    """Three 4096-wide layers on all of digits in one minibatch: seconds per step. Stop ends
    it within the grace period anyway (its worker is ended), as stopped, not failed."""
    from core.mlp.workers import STOP_GRACE_S

    cfg = TrainConfig(dataset="digits", hidden=(4096, 4096, 4096), epochs=100,
                      batch_size=2000, lr=0.01)
    job = RunJob(run_store, [("huge", cfg)], pool=pool).start()
    _wait(lambda: job.runs[0].run_id is not None)
    time.sleep(0.5)  # well inside its first minibatch
    t = time.monotonic()
    job.stop()
    assert job.join(STOP_GRACE_S + 10)
    assert time.monotonic() - t < STOP_GRACE_S + 5
    live = job.runs[0]
    assert live.status == RunStatus.STOPPED and "worker was ended" in live.message
    assert run_store.get_run(live.run_id).status == "stopped"
    again = RunJob(run_store, [("after", _cfg(2))], pool=pool).start()
    assert again.join(120) and again.runs[0].status == RunStatus.FINISHED


def test_progress_says_queued_until_a_worker_has_it_then_starting(run_store) -> None:
    from core.mlp.workers import Task

    class Pool:  # only what progress_text asks of a pool
        def ahead(self, task: Task) -> int:
            return 2

    job = RunJob(run_store, [("r", _cfg(5))], pool=Pool())
    live = job.runs[0]
    live.status, live.task = RunStatus.QUEUED, Task(config={}, db="unused")
    assert job.progress_text() == ("0% of the epochs trained · queued, 2 ahead: waiting for a "
                                   "free worker")
    live.task.state = RunStatus.RUNNING  # dispatched: the worker boots and loads the data
    assert job.progress_text().endswith("· starting: its worker is loading the data")


def test_workers_train_below_the_server_in_cpu_priority(pool, run_store) -> None:
    from core.mlp.workers import WORKER_NICE

    job = RunJob(run_store, [("nice", _cfg(5000))], pool=pool).start()
    _wait(lambda: len(job.runs[0].records) >= 1)
    pid = job.runs[0].task._worker.process.pid
    worker_nice = os.getpriority(os.PRIO_PROCESS, pid)
    job.stop()
    assert job.join(30)
    assert WORKER_NICE == 10 and worker_nice == min(19, os.nice(0) + WORKER_NICE)
