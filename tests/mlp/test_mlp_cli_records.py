"""Records measured on a helper thread while training goes on (what makes `python -m
core.train` about as fast as its engine): the numbers are those of the parameters at the
record's step, and stopping, resuming, early stopping and divergence end where they did when
every record was made before the next minibatch."""

from __future__ import annotations

import numpy as np
import pytest

from core.mlp.training import DIVERGED_LOSS, TrainConfig, TrainingRun


def _strip(records: list[dict]) -> list[dict]:
    return [{k: v for k, v in r.items() if k != "elapsed"} for r in records]


def _spy_params(run: TrainingRun, every: int) -> dict[int, list[np.ndarray]]:
    """Copies of the parameters after every `every`-th step, keyed by the step."""
    seen: dict[int, list[np.ndarray]] = {}
    apply, steps = run.optimizer.apply, [0]

    def spy(params, grads, lr):
        apply(params, grads, lr)
        steps[0] += 1
        if steps[0] % every == 0 or steps[0] % run.steps_per_epoch == 0:
            seen[steps[0]] = [p.copy() for p in params]

    run.optimizer.apply = spy
    return seen


@pytest.mark.parametrize("eval_every", [0, 7])
def test_each_record_is_the_model_at_its_step(eval_every):
    """The oracle: a separate MLP holding copies of the parameters taken at each record's step
    (by a spy on the optimiser, not by the trainer), evaluated after the run."""
    config = TrainConfig(dataset="digits", hidden=(16,), epochs=3, lr=0.3, l2=1e-3,
                         eval_every=eval_every, dtype="float64")
    run = TrainingRun(config)
    seen = _spy_params(run, eval_every or run.steps_per_epoch)
    records = list(run.run())
    assert len(records) == (3 if not eval_every else len(seen))
    oracle = TrainingRun(config).model
    for r in records:
        for mine, copied in zip(oracle.params, seen[r["step"]], strict=True):
            mine[...] = copied
        d = run.data
        assert (r["train_loss"], r["train_acc"]) == oracle.evaluate(d.X_train, d.y_train)
        assert (r["val_loss"], r["val_acc"]) == oracle.evaluate(d.X_val, d.y_val)
        assert r["test_acc"] == oracle.evaluate(d.X_test, d.y_test)[1]
        assert r["mean_abs_w"] == [float(np.mean(np.abs(W))) for W in oracle.weights]
        assert r["l2_loss"] == oracle.l2_penalty(1e-3)


def test_stopped_mid_epoch_and_resumed_gives_the_same_records():
    config = TrainConfig(dataset="digits", hidden=(16,), epochs=4, eval_every=10, seed=2)
    whole = TrainingRun(config)
    expected = list(whole.run())
    run = TrainingRun(config)
    polls = iter(range(10_000))
    got = list(run.run(should_stop=lambda: next(polls) in (30, 100, 101)))
    assert run.status == "stopped"
    while run.status == "stopped":
        got += list(run.run(should_stop=lambda: next(polls) in (150,)))
    assert run.status == "finished" and _strip(got) == _strip(expected) == _strip(run.records)
    for a, b in zip(run.model.params, whole.model.params, strict=True):
        assert np.array_equal(a, b)


@pytest.mark.parametrize("epoch", [2, 4])
def test_stopped_before_the_first_step_of_an_epoch_and_resumed(epoch):
    """A stop polled before an epoch's first minibatch (its number and shuffle already drawn)
    resumes that epoch, not a second new one: once a race of CI, here on purpose. Epoch 4 is
    the last: it must still be trained."""
    config = TrainConfig(dataset="digits", hidden=(8,), epochs=4, eval_every=9)
    whole = TrainingRun(config)
    expected = _strip(list(whole.run()))
    run = TrainingRun(config)
    first_step = (epoch - 1) * run.steps_per_epoch  # polls come one before every minibatch
    polls = iter(range(10_000))
    got = list(run.run(should_stop=lambda: next(polls) == first_step))
    assert run.status == "stopped" and run.step == first_step
    got += list(run.run())
    assert run.status == "finished" and run.step == whole.step
    assert _strip(got) == expected


@pytest.mark.parametrize("read", [1, 4, 5, 9])
def test_a_consumer_that_stops_reading_can_resume(read):
    """Closing the generator at any yield (mid-epoch, or while the next record is due) and
    calling run() again gives every record once, in order."""
    config = TrainConfig(dataset="digits", hidden=(8,), epochs=3, eval_every=9)
    expected = _strip(list(TrainingRun(config).run()))
    run = TrainingRun(config)
    got = []
    for r in run.run():
        got.append(r)
        if len(got) == read:
            break
    assert run.status == "stopped"
    got += list(run.run())
    assert _strip(got) == expected


def test_early_stopping_ends_at_the_record_that_decided_it():
    run = TrainingRun(TrainConfig(dataset="digits", hidden=(64,), epochs=200, lr=2.0,
                                  early_stopping=2))
    records = list(run.run())
    last = records[-1]
    assert run.status == "early_stopped" and len(records) < 200
    assert run.step == last["step"] and f"epoch {round(last['epoch'])}:" in run.message
    d = run.data  # the model is the one that record measured, not a later one
    assert run.model.evaluate(d.X_val, d.y_val) == (last["val_loss"], last["val_acc"])
    assert run.summary()["epochs_done"] == round(last["epoch"])


def test_a_record_that_diverged_ends_the_run_at_its_step(monkeypatch):
    """A loss above DIVERGED_LOSS with finite weights is only seen when the record is done, a
    few minibatches later: the run still ends at the record's step, with its parameters."""
    run = TrainingRun(TrainConfig(dataset="digits", hidden=(16,), epochs=5))
    seen = _spy_params(run, run.steps_per_epoch)
    measure = run._measure

    def blown_up_second(snap, step, lr, ratio, start):
        record = measure(snap, step, lr, ratio, start)
        if step == 2 * run.steps_per_epoch:
            record["train_loss"] = DIVERGED_LOSS * 10
        return record

    monkeypatch.setattr(run, "_measure", blown_up_second)
    records = list(run.run())
    assert [r["epoch"] for r in records] == [1.0] and run.status == "diverged"
    assert run.message.startswith("diverged at epoch 2:")
    assert run.step == 2 * run.steps_per_epoch
    for mine, copied in zip(run.model.params, seen[run.step], strict=True):
        assert np.array_equal(mine, copied)


@pytest.mark.parametrize(("config", "status"), [
    (TrainConfig(dataset="digits", hidden=(16,), epochs=3, eval_every=7, seed=1), "finished"),
    # η = 15 on uniform-initialised ReLU units blows up in the first epoch
    (TrainConfig(dataset="digits", hidden=(16,), epochs=5, lr=15.0, activation="relu",
                 init="uniform", eval_every=1, seed=0), "diverged"),
    # patience 2 at η = 0.5 with Adam: validation loss stops improving by epoch 4
    (TrainConfig(dataset="digits", hidden=(16,), epochs=40, lr=0.5, optimizer="adam",
                 early_stopping=2, seed=0), "early_stopped"),
], ids=["eval_every", "diverges", "early_stop"])
def test_records_in_the_training_thread_are_those_measured_beside_it(config, status):
    """The page's workers measure records in the training thread (`beside=False`: one worker per
    core already); the command line on a helper thread. Same records, same end, bit for bit."""
    beside, inline = TrainingRun(config), TrainingRun(config, beside=False)
    got_beside, got_inline = list(beside.run()), list(inline.run())
    assert _strip(got_inline) == _strip(got_beside)
    assert inline.status.value == beside.status.value == status
    assert inline.step == beside.step
    for a, b in zip(inline.model.params, beside.model.params, strict=True):
        np.testing.assert_array_equal(a, b)
