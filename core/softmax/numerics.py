"""Softmax done right, and done wrong on purpose.

    p_k(s) = e^{s_k} / sum_i e^{s_i}          (K scores -> K probabilities)

Shift invariance, p(s + c·1) = p(s), lets us subtract m = max_i s_i first: every exponent is then
<= 0, so e^{s_i - m} never overflows and at least one term of the sum is exactly 1. `softmax_naive`
skips that shift so the page can show the overflow it causes (e^x is inf in float32 from
x ≈ 88.72 and in float64 from x ≈ 709.78). Arrays keep their float dtype (ints become float64);
`axis` picks the class axis, so a batch of shape (N, K) gives N rows that each sum to 1.

The naive form fails three ways, and `naive_breakdown` says which, in a sentence the page shows:
an e^{s_k} overflows (inf / inf = nan); every e^{s_k} fits but their *sum* overflows, so every
p_k = finite / inf = 0, silently [0, 0, 0] in float32 for scores [88.7, 88.7, 0]; or every
e^{s_k} underflows to 0 (0 / 0 = nan) for scores all below about -744 (float64) or -103 (float32).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from core.numbers import parse_number

__all__ = [
    "softmax",
    "log_softmax",
    "logsumexp",
    "softmax_naive",
    "softmax_via_logsumexp",
    "overflow_threshold",
    "softmax_jacobian",
    "cross_entropy",
    "cross_entropy_grad",
    "one_hot",
    "three_ways",
    "naive_breakdown",
    "naive_fails",
    "float32_rounding",
    "parse_score",
]


def _as_scores(s: ArrayLike) -> NDArray[np.floating]:
    """Scores as a float array (float32/float64 kept, anything else becomes float64)."""
    arr = np.asarray(s)
    if arr.dtype not in (np.float32, np.float64):
        arr = arr.astype(np.float64)
    if arr.ndim == 0 or arr.size == 0:
        raise ValueError("softmax needs at least one score along the class axis")
    return arr


def _checked(s: ArrayLike, axis: int) -> tuple[NDArray[np.floating], NDArray[np.floating]]:
    """(scores, row maxima with keepdims) after rejecting input softmax is undefined for."""
    arr = _as_scores(s)
    if np.isnan(arr).any():
        raise ValueError("softmax is undefined for NaN scores")
    if np.isposinf(arr).any():
        raise ValueError("softmax is undefined for +inf scores (inf - inf has no value)")
    m = np.max(arr, axis=axis, keepdims=True)
    if np.isneginf(m).any():
        raise ValueError("every score in a row is -inf: softmax of that row is undefined")
    return arr, m


def logsumexp(s: ArrayLike, axis: int = -1, keepdims: bool = False) -> NDArray[np.floating]:
    """log sum_i e^{s_i} = m + log sum_i e^{s_i - m}, with m = max_i s_i (never overflows
    inside; the result itself is finite whenever the scores are)."""
    arr, m = _checked(s, axis)
    with np.errstate(over="ignore", under="ignore"):
        # s - m can overflow to -inf for float32 scores ~1e38 apart: e^{-inf} = 0 is right.
        total = np.sum(np.exp(arr - m), axis=axis, keepdims=True)
        out = m + np.log(total)
    return out if keepdims else np.squeeze(out, axis=axis)


def log_softmax(s: ArrayLike, axis: int = -1) -> NDArray[np.floating]:
    """log p_k = (s_k - m) - log sum_i e^{s_i - m}: stable, and -inf only where p_k underflows."""
    arr, m = _checked(s, axis)
    with np.errstate(over="ignore", under="ignore", invalid="ignore"):
        z = arr - m
        return z - np.log(np.sum(np.exp(z), axis=axis, keepdims=True))


def softmax(s: ArrayLike, axis: int = -1) -> NDArray[np.floating]:
    """p = e^{s - m} / sum e^{s - m} with m = max s: finite, in [0, 1], rows summing to 1.

    Shape: same as `s`. Raises ValueError for NaN or +inf scores (and rows that are all -inf);
    a -inf score is allowed and gets probability 0 (a masked class).
    """
    arr, m = _checked(s, axis)
    with np.errstate(over="ignore", under="ignore"):
        e = np.exp(arr - m)
        return e / np.sum(e, axis=axis, keepdims=True)


def softmax_via_logsumexp(s: ArrayLike, axis: int = -1) -> NDArray[np.floating]:
    """p = exp(s - logsumexp(s)): the third way, the one log-probability code uses."""
    arr = _as_scores(s)
    with np.errstate(over="ignore", under="ignore"):
        return np.exp(arr - logsumexp(arr, axis=axis, keepdims=True))


def softmax_naive(s: ArrayLike, axis: int = -1) -> NDArray[np.floating]:
    """e^s / sum e^s straight from the definition: inf/inf = nan once a score passes
    log(max float). For the overflow demo only; warnings are off because overflow is the lesson."""
    arr = _as_scores(s)
    with np.errstate(over="ignore", invalid="ignore", under="ignore"):
        e = np.exp(arr)
        return e / np.sum(e, axis=axis, keepdims=True)


def overflow_threshold(dtype: type | np.dtype) -> float:
    """log(largest finite float): e^x overflows to inf just above it (88.72 / 709.78)."""
    return float(np.log(np.finfo(dtype).max))


def softmax_jacobian(p: ArrayLike) -> NDArray[np.floating]:
    """J = diag(p) - p p^T, J[i, j] = dp_i/ds_j = p_i (δ_ij - p_j). Shape (K,) -> (K, K)."""
    p = np.asarray(p, dtype=np.float64)
    return np.diag(p) - np.outer(p, p)


def one_hot(target: int, k: int) -> NDArray[np.float64]:
    """t with t_target = 1 and every other entry 0."""
    if not 0 <= target < k:
        raise ValueError(f"target class {target} is not in 0..{k - 1}")
    t = np.zeros(k)
    t[target] = 1.0
    return t


def cross_entropy(s: ArrayLike, t: ArrayLike) -> float:
    """L = -sum_k t_k log p_k(s), from log_softmax so it stays finite for huge scores."""
    t = np.asarray(t, dtype=np.float64)
    logp = log_softmax(np.asarray(s, dtype=np.float64))
    # 0 * log 0 counts as 0: a class with no target mass adds nothing.
    with np.errstate(invalid="ignore"):
        return float(-np.sum(np.where(t != 0, t * logp, 0.0)))


def cross_entropy_grad(s: ArrayLike, t: ArrayLike) -> NDArray[np.float64]:
    """dL/ds = p - t for softmax + cross-entropy, valid whenever sum_k t_k = 1. Shape (K,)."""
    return softmax(np.asarray(s, dtype=np.float64)) - np.asarray(t, dtype=np.float64)


def three_ways(s: ArrayLike, dtype: type) -> dict[str, NDArray[np.floating] | str]:
    """The overflow demo for one dtype: naive, max-shifted and log-sum-exp softmax of `s`.

    Values are arrays (inf/nan left in: they are the point); a method that cannot run gives a
    sentence instead, e.g. when a score does not even fit in float32 (|s| > 3.4e38).
    """
    with np.errstate(over="ignore"):
        x = np.asarray(s, dtype=np.float64).astype(dtype)
    if not np.isfinite(x).all():
        msg = (f"a score does not fit in {np.dtype(dtype).name} "
               f"(largest finite value {np.finfo(dtype).max:.3g})")
        return {"naive": msg, "max-shifted": msg, "log-sum-exp": msg}
    with np.errstate(over="ignore"):
        biggest = np.exp(x.max())
    return {
        "e^max": np.asarray([biggest]),
        "naive": softmax_naive(x),
        "max-shifted": softmax(x),
        "log-sum-exp": softmax_via_logsumexp(x),
        "logsumexp": np.asarray([logsumexp(x)]),
    }


def naive_breakdown(s: ArrayLike, dtype: type) -> str | None:
    """Why e^s / Σ e^s fails for scores `s` computed in `dtype`, as a sentence (Markdown with
    $math$) that starts "The naive softmax in float32 gives …"; None when it works. Scores that
    do not fit in `dtype` at all are `three_ways`'s message, not this one's."""
    name = np.dtype(dtype).name
    with np.errstate(over="ignore", under="ignore"):
        x = np.asarray(s, dtype=np.float64).astype(dtype)
        if not np.isfinite(x).all():
            return None
        e = np.exp(x)
        total = np.sum(e)
    threshold = overflow_threshold(dtype)
    if np.isinf(e).any():
        where = ", ".join(str(k + 1) for k in np.flatnonzero(np.isinf(e)))
        return (f"The naive softmax in {name} gives nan: $e^{{s_k}}$ overflowed to inf for "
                f"k = {where} (scores past {threshold:.2f}), and inf / inf = nan.")
    if np.isinf(total):
        return (f"The naive softmax in {name} gives all zeros, and no warning: every "
                f"$e^{{s_k}}$ fits (the largest is {float(e.max()):.3g}, below {name}'s largest "
                f"{float(np.finfo(dtype).max):.3g}), but their sum overflows to inf, and "
                "finite / inf = 0 for every class. These \"probabilities\" sum to 0, not 1.")
    if total == 0:
        return (f"The naive softmax in {name} gives nan: every $e^{{s_k}}$ underflowed to 0 "
                f"(scores below about {float(np.log(np.finfo(dtype).smallest_subnormal)):.1f}), "
                "and 0 / 0 = nan.")
    return None


def naive_fails(s: ArrayLike) -> bool:
    """True when the naive softmax of `s` breaks in float32 or float64 (`naive_breakdown` has a
    sentence for it), or the scores do not even fit in float32: the overflow demo's cases."""
    with np.errstate(over="ignore"):
        fits32 = bool(np.isfinite(np.asarray(s, dtype=np.float64).astype(np.float32)).all())
    return not fits32 or any(naive_breakdown(s, d) is not None for d in (np.float32, np.float64))


def float32_rounding(lse: float | None) -> str:
    """What float32 costs exp(s − logsumexp) at this size of logsumexp (None: the scores do not
    fit in float32), in a sentence (Markdown with $math$)."""
    if lse is None:
        return "float32 cannot store these scores, so none of the three ways can run in it."
    spacing = abs(float(np.spacing(np.float32(lse))))
    return (f"exp(s − logsumexp) in float32 loses digits as the scores grow: here logsumexp = "
            f"{lse:.6g} is stored only to the float32 spacing at that size, {spacing:.2g}, and "
            "every $p_k$ inherits a relative error of that size.")


def parse_score(text: str) -> float:
    """A score typed by a person, read by core.numbers (float() only, never eval); NumberError
    (a ValueError) says what is wrong, without the score's name: the page puts s_k in front."""
    return parse_number(text, "")
