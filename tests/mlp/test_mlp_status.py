"""One run-status vocabulary: the engine, the store's CHECK constraint and jobs speak it alike."""

from __future__ import annotations

import json
import sqlite3

import pytest

from core.mlp.records import LAYER_KEYS, RECORD_KEYS
from core.mlp.runstore import RunStore
from core.mlp.status import ENDED, STORED, RunStatus, sql_check, to_stored
from core.mlp.training import TrainConfig, TrainingRun


def test_a_status_is_its_word_in_python_json_and_sql(run_store: RunStore) -> None:
    assert RunStatus.RUNNING == "running" and f"{RunStatus.DIVERGED}" == "diverged"
    assert json.dumps({"s": RunStatus.FAILED}) == '{"s": "failed"}'
    run = run_store.create_run({"lr": 1})
    run_store.finish_run(run, RunStatus.INTERRUPTED, message="gone")
    assert run_store.get_run(run).status == "interrupted"
    assert sql_check() == ("CHECK (status IN ('running', 'finished', 'stopped', 'diverged', "
                           "'failed', 'interrupted'))")


def test_the_database_refuses_a_word_the_vocabulary_lacks(run_store: RunStore) -> None:
    run = run_store.create_run({"lr": 1})
    con = sqlite3.connect(run_store.path)
    with pytest.raises(sqlite3.IntegrityError, match="CHECK"):
        con.execute("UPDATE runs SET status = 'early_stopped' WHERE id = ?", (run,))
    con.close()
    with pytest.raises(ValueError, match="unknown run status 'done'"):
        run_store.finish_run(run, "done")


def test_every_engine_ending_has_a_stored_word() -> None:
    # early_stopped is the engine's word for a finished run; a loop left while "running" (or
    # never started) was stopped by its caller.
    assert {s: to_stored(s) for s in RunStatus if s not in STORED} == {
        RunStatus.READY: RunStatus.STOPPED, RunStatus.WAITING: RunStatus.STOPPED,
        RunStatus.QUEUED: RunStatus.STOPPED, RunStatus.EARLY_STOPPED: RunStatus.FINISHED,
        RunStatus.SKIPPED: RunStatus.STOPPED}
    assert to_stored("running") is RunStatus.STOPPED
    assert RunStatus.RUNNING not in ENDED and RunStatus.QUEUED not in ENDED


def test_a_record_has_exactly_the_typed_keys() -> None:
    run = TrainingRun(TrainConfig(dataset="xor", hidden=(3,), epochs=1, batch_size=50))
    (record,) = list(run.run())
    assert tuple(record) == RECORD_KEYS
    assert run.status is RunStatus.FINISHED
    for key in LAYER_KEYS:
        assert len(record[key]) == 2  # one entry per weight matrix of a 2-3-2 net
