"""Learning-rate schedules η(t) with t the number of optimisation steps already taken."""

from __future__ import annotations

import math

# name -> label (the formula), the choices of the form and the command line
SCHEDULES: dict[str, str] = {
    "constant": "constant η",
    "exponential": "exponential  η·e^(−k t)",
    "step": "step  η·factor^⌊epoch/every⌋",
    "inverse_time": "inverse time  η/(1 + k t)",
}


def learning_rate(
    name: str,
    lr: float,
    step: int,
    steps_per_epoch: int,
    decay_k: float = 0.0,
    step_every: int = 10,
    step_factor: float = 0.5,
) -> float:
    """η at optimisation step `step` (0-based); step decay counts whole epochs done."""
    if name == "constant":
        return lr
    if name == "exponential":
        return lr * math.exp(-decay_k * step)
    if name == "inverse_time":
        return lr / (1.0 + decay_k * step)
    if name == "step":
        epochs_done = step // max(steps_per_epoch, 1)
        return lr * step_factor ** (epochs_done // max(step_every, 1))
    raise ValueError(f"unknown schedule {name!r}; choose one of {', '.join(SCHEDULES)}")
