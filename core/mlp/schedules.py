"""Learning-rate schedules η(t) with t the number of optimisation steps already taken."""

from __future__ import annotations

import math

SCHEDULES: dict[str, str] = {
    "constant": "η_t = η",
    "exponential": "η_t = η·e^(−k t)",
    "step": "η_t = η·γ^⌊epoch / s⌋",
    "inverse_time": "η_t = η / (1 + k t)",
}

SCHEDULE_LATEX: dict[str, str] = {
    "constant": r"\eta_t = \eta",
    "exponential": r"\eta_t = \eta\, e^{-k t}",
    "step": r"\eta_t = \eta\, \gamma^{\lfloor \text{epoch} / s \rfloor}",
    "inverse_time": r"\eta_t = \frac{\eta}{1 + k t}",
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
