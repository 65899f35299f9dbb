"""The memory budget: what a net needs to train, counted by hand, and the refusal over budget."""

from __future__ import annotations

import pytest

from core.mlp.budget import check_config, check_memory, memory_needed
from core.mlp.training import TrainConfig, TrainingRun


def test_memory_needed_counts_weights_gradients_state_and_buffers(monkeypatch) -> None:
    sizes = (784, 64, 10)  # 50,890 parameters; a batch of 32 holds 32·(64 + 10) per buffer
    n, buffers = 50_890, 32 * 74 * 3
    # weights, gradients and the copy a record is measured on, plus the optimiser's state
    assert memory_needed(sizes, "sgd", 32) == 4 * (n * 4 + buffers)
    assert memory_needed(sizes, "adam", 32) == 4 * (n * 6 + buffers)
    assert memory_needed(sizes, "nesterov", 32, "float64") == 8 * (n * 5 + buffers)
    # Adam in float64: 8·(6·50,890 + 7,104) = 2,499,552 bytes, about 2.4 MB
    assert check_memory(sizes, "adam", 32, "float64", budget_mb=3) == 2_499_552
    with pytest.raises(ValueError, match="needs about 2 MB .* more than the budget of 1 MB"):
        check_memory(sizes, "adam", 32, "float64", budget_mb=1)
    monkeypatch.setenv("HANDPROP_MEMORY_MB", "1")
    with pytest.raises(ValueError, match="budget of 1 MB"):
        check_memory(sizes, "adam", 32, "float64")


def test_a_config_is_checked_before_its_data_and_a_run_before_its_arrays() -> None:
    big = TrainConfig(dataset="mnist", hidden=(4096,) * 20, optimizer="adam")
    # 784·4096 + 4096 + 19·(4096·4096 + 4096) + 4096·10 + 10 = 322,101,258 parameters
    with pytest.raises(ValueError, match="322,101,258 parameters"):
        check_config(big)
    assert check_config(TrainConfig(dataset="csv", csv="x.csv", label="y")) is None  # unknown
    with pytest.raises(ValueError, match="more than the budget of 1 MB"):
        TrainingRun(TrainConfig(dataset="digits", hidden=(512, 512)), budget_mb=1)
