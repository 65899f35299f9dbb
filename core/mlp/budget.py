"""The memory a net needs to train, and the budget it must fit, checked before anything is built.

Twenty hidden layers of 4,096 units are 319 million parameters: Adam keeps six arrays of that
size (the weights, their gradients, a record's copy, Δθ and its two moments), 7.7 GB in float32,
and four such runs would exhaust the machine. So a run is refused up front, with the figures, when

    bytes = itemsize · (N · (3 + s) + B · Σ_l d_l · 3)

exceeds the budget: N parameters, the weights, their gradients and the copy a record is measured
on (core.mlp.training measures records beside training) plus the optimiser's s arrays
(`core.mlp.optimizers.STATE_ARRAYS`: SGD and momentum 1, Nesterov 2, Adam 3), and per example of
a batch of B the layer outputs, deltas and scratch of every layer d_1 … d_L. The budget is
`DEFAULT_BUDGET_MB`, or $HANDPROP_MEMORY_MB, or the command line's --memory-mb.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

import numpy as np

from core.mlp.datasets import SHAPES
from core.mlp.model import n_params_of
from core.mlp.optimizers import STATE_ARRAYS

__all__ = ["DEFAULT_BUDGET_MB", "memory_budget_mb", "memory_needed", "check_memory",
           "check_config"]

DEFAULT_BUDGET_MB = 1024
MB = 1024 * 1024


def memory_budget_mb() -> int:
    """$HANDPROP_MEMORY_MB when it is a positive whole number, else DEFAULT_BUDGET_MB."""
    text = os.environ.get("HANDPROP_MEMORY_MB", "").strip()
    return int(text) if text.isdigit() and 0 < int(text) < 10**7 else DEFAULT_BUDGET_MB


def memory_needed(layer_sizes: Sequence[int], optimizer: str, batch_size: int,
                  dtype: str = "float32") -> int:
    """Bytes of parameters, gradients, the record's copy, optimiser state and one batch's layer
    buffers."""
    item = np.dtype(dtype).itemsize
    arrays = 3 + STATE_ARRAYS[optimizer]
    return item * (n_params_of(layer_sizes) * arrays + batch_size * sum(layer_sizes[1:]) * 3)


def _layers(sizes: Sequence[int]) -> str:
    """784 → 20 × 4096 → 10: equal layers in a row counted, not repeated."""
    groups: list[list[int]] = []
    for d in sizes:
        if groups and groups[-1][0] == d:
            groups[-1][1] += 1
        else:
            groups.append([d, 1])
    return " → ".join(f"{m} × {d}" if m > 1 else str(d) for d, m in groups)


def check_memory(layer_sizes: Sequence[int], optimizer: str, batch_size: int,
                 dtype: str = "float32", budget_mb: int | None = None) -> int:
    """The bytes needed (as `memory_needed`); raises ValueError saying why when they exceed the
    budget (`memory_budget_mb()` unless given)."""
    budget = memory_budget_mb() if budget_mb is None else budget_mb
    need = memory_needed(layer_sizes, optimizer, batch_size, dtype)
    if need > budget * MB:
        n = n_params_of(layer_sizes)
        raise ValueError(
            f"This net is too large to train here: {_layers(layer_sizes)} has "
            f"{n:,} parameters, and training it with {optimizer} needs about {need / MB:,.0f} MB "
            f"(weights, gradients and {STATE_ARRAYS[optimizer]} optimiser array(s) of that size, "
            f"plus one batch's layer buffers), more than the budget of {budget:,} MB. Use fewer "
            "or narrower hidden layers (or raise the budget: HANDPROP_MEMORY_MB, or --memory-mb "
            "on the command line).")
    return need


def check_config(config, n_features: int | None = None, n_classes: int | None = None,
                 budget_mb: int | None = None) -> int | None:
    """`check_memory` for a TrainConfig, before its data is loaded when the data set's sizes are
    known (`core.mlp.datasets.SHAPES`); None when they are not known yet."""
    if n_features is None or n_classes is None:
        known = SHAPES.get(config.dataset)
        if known is None:
            return None
        n_features, n_classes = known
    sizes = (n_features, *config.hidden, n_classes)
    return check_memory(sizes, config.optimizer, config.batch_size, config.dtype, budget_mb)
