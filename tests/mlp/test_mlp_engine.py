"""MLP engine: gradients vs finite differences, optimisers vs textbook formulas, counts, runs."""

from __future__ import annotations

import itertools
import json
import math
import subprocess
import sys
import warnings

import numpy as np
import pytest

from core.mlp.activations import ACTIVATIONS
from core.mlp.initializers import INITS
from core.mlp.model import MLP, n_params_of, param_formula
from core.mlp.optimizers import make_optimizer
from core.mlp.schedules import learning_rate
from core.mlp.training import TrainConfig, TrainingRun


def _numeric_grads(m: MLP, X, Y, l2: float, h: float = 1e-6) -> list[np.ndarray]:
    out = []
    for p in m.params:
        g = np.zeros_like(p)
        for i in np.ndindex(p.shape):
            old = p[i]
            p[i] = old + h
            up, _ = m.loss_and_grads(X, Y, l2)
            p[i] = old - h
            down, _ = m.loss_and_grads(X, Y, l2)
            p[i] = old
            g[i] = (up - down) / (2 * h)
        out.append(g)
    return out


@pytest.mark.parametrize(("activation", "init", "l2"),
                         list(itertools.product(ACTIVATIONS, INITS, [0.0, 0.05])))
def test_gradients_match_central_differences(activation, init, l2):
    rng = np.random.default_rng(7)
    m = MLP([4, 5, 3, 3], activation=activation, init=init, seed=3, dtype="float64")
    for b in m.biases:  # non-zero biases so their gradients are exercised everywhere
        b[:] = rng.normal(0, 0.3, b.shape)
    X = rng.normal(size=(6, 4))
    Y = np.eye(3)[rng.integers(0, 3, 6)]
    _, grads = m.loss_and_grads(X, Y, l2)
    grads = [g.copy() for g in grads]
    for g, n in zip(grads, _numeric_grads(m, X, Y, l2), strict=True):
        rel = np.linalg.norm(g - n) / max(np.linalg.norm(g) + np.linalg.norm(n), 1e-12)
        assert rel < 1e-6


def test_loss_is_mean_cross_entropy_plus_half_lambda_w2():
    rng = np.random.default_rng(1)
    m = MLP([3, 4, 2], activation="tanh", dtype="float64")
    X, y = rng.normal(size=(5, 3)), rng.integers(0, 2, 5)
    a = np.tanh(X @ m.weights[0] + m.biases[0])
    s = a @ m.weights[1] + m.biases[1]
    p = np.exp(s) / np.exp(s).sum(1, keepdims=True)
    expected = -np.log(p[np.arange(5), y]).mean() + 0.05 * sum((W**2).sum() for W in m.weights)
    loss, _ = m.loss_and_grads(X, np.eye(2)[y], l2=0.1)
    assert loss == pytest.approx(expected, rel=1e-12)
    assert np.allclose(m.predict_proba(X), p)


def test_params_are_the_model_arrays():
    m = MLP([3, 2, 2], dtype="float64")
    X = np.ones((1, 3))
    before = m.predict_proba(X)
    m.params[2][:] = 0.0
    m.params[3][:] = [5.0, 0.0]
    assert not np.allclose(before, m.predict_proba(X))
    assert m.predict_proba(X)[0, 0] == pytest.approx(math.exp(5) / (math.exp(5) + 1))


@pytest.mark.parametrize(("sizes", "count"), [
    ([784, 64, 10], 50_890),
    ([784, 64, 64, 10], 55_050),
    ([784] + [64] * 10 + [10], 88_330),  # the seed's 88,448 double-counts biases
    ([784, 700, 700, 700, 10], 784 * 700 + 700 + 2 * (700 * 700 + 700) + 7010),
    ([2, 10], 30),
])
def test_parameter_counts(sizes, count):
    m = MLP(sizes)
    assert m.n_params == count == n_params_of(sizes)
    assert sum(p.size for p in m.params) == count
    assert param_formula(sizes).endswith(f"= {count:,}")


def test_param_formula_text():
    assert param_formula([784, 64, 10]) == "784·64 + 64 + 64·10 + 10 = 50,890"


def test_inits_have_the_stated_spread():
    fan_in, fan_out = 400, 300
    stds = {name: MLP([fan_in, fan_out], init=name, dtype="float64").weights[0].std()
            for name in INITS}
    assert stds["uniform"] == pytest.approx(1 / math.sqrt(3), rel=0.02)
    assert stds["fan_in"] == pytest.approx(math.sqrt(1 / fan_in), rel=0.02)
    assert stds["he"] == pytest.approx(math.sqrt(2 / fan_in), rel=0.02)
    assert stds["glorot"] == pytest.approx(math.sqrt(2 / (fan_in + fan_out)), rel=0.02)


def _two_steps(name: str, **kw):
    theta = [np.array([1.0, -2.0])]
    opt = make_optimizer(name, theta, **kw)
    for g in ([0.5, -1.0], [0.25, 2.0]):
        opt.step(theta, [np.array(g)], lr=0.1)
    return theta[0]


def test_sgd_momentum_nesterov_adam_against_hand_formulas():
    g1, g2 = np.array([0.5, -1.0]), np.array([0.25, 2.0])
    t0 = np.array([1.0, -2.0])
    assert np.allclose(_two_steps("sgd"), t0 - 0.1 * g1 - 0.1 * g2)
    v1 = -0.1 * g1
    v2 = 0.9 * v1 - 0.1 * g2
    assert np.allclose(_two_steps("momentum", momentum=0.9), t0 + v1 + v2)
    step1 = 0.9 * v1 - 0.1 * g1
    step2 = 0.9 * v2 - 0.1 * g2
    assert np.allclose(_two_steps("nesterov", momentum=0.9), t0 + step1 + step2)
    m = v = 0.0
    t = t0.copy()
    for k, g in enumerate((g1, g2), start=1):
        m = 0.9 * m + 0.1 * g
        v = 0.999 * v + 0.001 * g * g
        t = t - 0.1 * (m / (1 - 0.9**k)) / (np.sqrt(v / (1 - 0.999**k)) + 1e-8)
    assert np.allclose(_two_steps("adam"), t)
    # Adam's first step is ±η in every coordinate.
    assert np.allclose(t0 - 0.1 * np.sign(g1), _adam_one_step())


def _adam_one_step():
    theta = [np.array([1.0, -2.0])]
    make_optimizer("adam", theta).step(theta, [np.array([0.5, -1.0])], lr=0.1)
    return theta[0]


@pytest.mark.parametrize("name", ["sgd", "momentum", "nesterov", "adam"])
@pytest.mark.parametrize("l2", [0.0, 0.01])
def test_scaled_gradients_then_apply_equal_textbook_step(name, l2):
    """The training loop's fast path (gradients scaled in the backward pass, then `apply`) must
    move the weights exactly as `step` does with the plain gradients."""
    rng = np.random.default_rng(11)
    X, Y = rng.normal(size=(7, 5)), np.eye(3)[rng.integers(0, 3, 7)]
    slow, fast = (MLP([5, 6, 4, 3], "tanh", seed=2, dtype="float64") for _ in range(2))
    opt_slow, opt_fast = make_optimizer(name, slow.params), make_optimizer(name, fast.params)
    for lr in (0.3, 0.1, 0.05):
        loss_slow, g = slow.loss_and_grads(X, Y, l2)
        opt_slow.step(slow.params, g, lr)
        s = opt_fast.grad_scale(lr)
        loss_fast, g = fast.loss_and_grads(X, Y, l2, scale=s)
        assert loss_fast == pytest.approx(loss_slow, rel=1e-12)  # the loss is never scaled
        opt_fast.apply(fast.params, g, lr)
    for a, b in zip(slow.params, fast.params, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-15)
    for a, b in zip(opt_slow.delta, opt_fast.delta, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-15)


def test_scale_multiplies_every_gradient():
    rng = np.random.default_rng(3)
    m = MLP([4, 5, 3], "sigmoid", seed=1, dtype="float64")
    X, Y = rng.normal(size=(6, 4)), np.eye(3)[rng.integers(0, 3, 6)]
    _, g = m.loss_and_grads(X, Y, 0.02)
    g = [a.copy() for a in g]
    _, h = m.loss_and_grads(X, Y, 0.02, scale=-0.25)
    for a, b in zip(g, h, strict=True):
        np.testing.assert_allclose(b, -0.25 * a, rtol=1e-13)


@pytest.mark.parametrize("name", ["sgd", "momentum", "adam"])
def test_update_ratio_is_the_size_of_the_last_real_step(name):
    """update_ratio[l] in a record = ‖W_l after − W_l before the last step‖ / ‖W_l after‖,
    measured here from copies of the weights, not from the optimiser's own buffers."""
    run = TrainingRun(TrainConfig(dataset="digits", hidden=(16, 8), epochs=1, optimizer=name,
                                  lr=0.05, l2=1e-3, dtype="float64"))
    before: list[np.ndarray] = []
    apply = run.optimizer.apply

    def spy(params, grads, lr):
        before[:] = [W.copy() for W in run.model.weights]
        apply(params, grads, lr)

    run.optimizer.apply = spy
    (record,) = list(run.run())
    for ratio, W, W0 in zip(record["update_ratio"], run.model.weights, before, strict=True):
        expected = np.linalg.norm(W - W0) / np.linalg.norm(W)
        assert ratio == pytest.approx(expected, rel=1e-9)
        assert ratio > 0


def test_schedules():
    assert learning_rate("constant", 0.1, 500, 10) == 0.1
    assert learning_rate("exponential", 0.1, 100, 10, decay_k=0.01) == pytest.approx(0.1 / math.e)
    assert learning_rate("inverse_time", 0.1, 100, 10, decay_k=0.01) == pytest.approx(0.05)
    assert learning_rate("step", 0.1, 99, 10, step_every=10, step_factor=0.5) == 0.1
    assert learning_rate("step", 0.1, 100, 10, step_every=10, step_factor=0.5) == 0.05


def _records(**kw):
    run = TrainingRun(TrainConfig(dataset="digits", hidden=(16,), epochs=3, **kw))
    return run, list(run.run())


def test_same_seed_gives_bit_identical_records():
    _, a = _records(seed=4, optimizer="adam", lr=0.01, eval_every=20)
    _, b = _records(seed=4, optimizer="adam", lr=0.01, eval_every=20)
    _, c = _records(seed=5, optimizer="adam", lr=0.01, eval_every=20)
    strip = [{k: v for k, v in r.items() if k != "elapsed"} for r in a]
    assert strip == [{k: v for k, v in r.items() if k != "elapsed"} for r in b]
    assert strip != [{k: v for k, v in r.items() if k != "elapsed"} for r in c]
    assert len(a) > 3 and json.loads(json.dumps(a)) == a


def test_training_learns_digits_and_records_are_complete():
    run, recs = _records(lr=0.5, activation="relu", init="he")
    assert run.status == "finished" and [r["epoch"] for r in recs] == [1.0, 2.0, 3.0]
    assert recs[-1]["test_acc"] > 0.85 and recs[-1]["train_loss"] < recs[0]["train_loss"]
    for key in ("mean_abs_w", "mean_abs_w_rel", "update_ratio"):
        assert len(recs[-1][key]) == 2
    s = run.summary()
    assert s["final_test_acc"] == recs[-1]["test_acc"] and s["n_train"] == len(run.data.y_train)


def test_divergence_is_a_result():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        # η = 100, the largest the settings allow, on U(−1, 1) ReLU weights blows up at the
        # second step: losses 3.5e4 to 9.2e4 over seeds 0-3 under Haswell and SandyBridge,
        # 35x or more above the 1e3 that counts as diverged.
        run = TrainingRun(TrainConfig(dataset="digits", hidden=(64,), epochs=3, lr=100.0,
                                      activation="relu", init="uniform"))
        recs = list(run.run())
    assert run.status == "diverged" and run.message.startswith("diverged at epoch 1")
    assert recs == run.records == []


def test_stop_and_resume_and_early_stopping():
    run = TrainingRun(TrainConfig(dataset="digits", hidden=(8,), epochs=2))
    calls = iter(range(100))
    list(run.run(should_stop=lambda: next(calls) >= 5))
    assert run.status == "stopped" and run.step == 5
    list(run.run())
    assert run.status == "finished" and len(run.records) == 2
    run = TrainingRun(TrainConfig(dataset="digits", hidden=(64,), epochs=200, lr=2.0,
                                  early_stopping=2))
    list(run.run())
    assert run.status == "early_stopped" and len(run.records) < 200


@pytest.mark.parametrize(("field", "value", "words"), [
    ("batch_size", 0, "Batch size must be a positive whole number, got `0`"),
    ("lr", float("nan"), "Learning rate η is NaN"),
    ("lr", 1e6, "Learning rate η must be at most 100"),
    ("activation", "softsign", "Activation must be one of"),
    ("hidden", (0,), "Hidden layers: a layer needs 1 to 4,096 units"),
    ("hidden", (8,) * 21, "at most 20 hidden layers"),
    ("epochs", "20", "Epochs must be a whole number"),
])
def test_config_validation_names_the_field(field, value, words):
    with pytest.raises(ValueError, match=words):
        TrainConfig(**{field: value}).validate()


def test_config_round_trip():
    c = TrainConfig(hidden=(32, 16), optimizer="adam", max_train=100)
    assert TrainConfig.from_dict(json.loads(json.dumps(c.to_dict()))) == c


def test_cli_prints_records_and_summary():
    out = subprocess.run([sys.executable, "-m", "core.train", "--dataset", "xor", "--hidden",
                          "8", "--activation", "tanh", "--lr", "0.5", "--epochs", "2"],
                         capture_output=True, text=True, check=True)
    lines = [json.loads(x) for x in out.stdout.splitlines()]
    assert [r["epoch"] for r in lines[:-1]] == [1.0, 2.0]
    summary = lines[-1]["summary"]
    assert {"final_test_acc", "best_test_acc", "n_train", "train_seconds"} <= set(summary)


def test_cli_errors_are_messages_not_tracebacks(tmp_path):
    bad = subprocess.run([sys.executable, "-m", "core.train", "--batch-size", "0"],
                         capture_output=True, text=True)
    assert bad.returncode == 2 and "Batch size must be a positive whole number, got '0'" \
        in bad.stderr and "Traceback" not in bad.stderr
    missing = subprocess.run([sys.executable, "-m", "core.train", "--dataset", "mnist",
                              "--data-dir", str(tmp_path)], capture_output=True, text=True)
    assert missing.returncode == 2 and str(tmp_path) in missing.stderr
    assert "Traceback" not in missing.stderr


def test_cli_trains_on_one_blas_thread_unless_told(capsys):
    """The README's example ran 7x slower under load with OpenBLAS's default thread pool."""
    from threadpoolctl import threadpool_info, threadpool_limits

    from core.train import main

    def blas_threads() -> set[int]:
        return {i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas"}

    with threadpool_limits(limits=2, user_api="blas"):
        assert main(["--dataset", "xor", "--hidden", "4", "--epochs", "1"]) == 0
        assert blas_threads() == {1}
    with threadpool_limits(limits=2, user_api="blas"):
        assert main(["--dataset", "xor", "--hidden", "4", "--epochs", "1",
                     "--blas-threads", "2"]) == 0
        assert blas_threads() == {2}
    capsys.readouterr()
    with pytest.raises(SystemExit) as exit_:
        main(["--blas-threads", "-1"])
    assert exit_.value.code == 2 and "--blas-threads" in capsys.readouterr().err
