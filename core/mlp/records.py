"""A training record: what `TrainingRun.run()` yields, the store keeps, jobs stream and charts draw.

One record is made after every epoch (and every `eval_every` steps when asked). Every value is
JSON-safe: a loss that became NaN or ±inf is None, so a diverged run's curve stops at its last
finite point instead of breaking the chart or the database.
"""

from __future__ import annotations

from typing import TypedDict

__all__ = ["Record", "RECORD_KEYS", "LAYER_KEYS"]


class Record(TypedDict):
    """One point of a run's curves; the per-layer lists have one entry per weight matrix W⁽ˡ⁾."""

    step: int                           # minibatch steps made so far
    epoch: float                        # step / steps per epoch
    lr: float | None                    # η of the last step (after the schedule)
    train_loss: float | None            # mean cross-entropy on ≤ 10,000 training samples
    train_acc: float | None
    val_loss: float | None              # None without a validation set
    val_acc: float | None
    test_acc: float | None
    l2_loss: float | None               # (λ/2) Σ‖W‖²
    mean_abs_w: list[float | None]      # mean |W⁽ˡ⁾|
    mean_abs_w_rel: list[float | None]  # mean |W⁽ˡ⁾|ₜ / mean |W⁽ˡ⁾|₀ (1 at the start)
    update_ratio: list[float | None]    # ‖ΔW⁽ˡ⁾‖ / ‖W⁽ˡ⁾‖ of the last step
    elapsed: float                      # seconds of wall time since the run began


RECORD_KEYS: tuple[str, ...] = tuple(Record.__annotations__)
LAYER_KEYS: tuple[str, ...] = ("mean_abs_w", "mean_abs_w_rel", "update_ratio")
