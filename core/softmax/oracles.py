"""Independent references for the numbers the softmax page shows next to the proved formulas.

The page shows J = diag(p) - p p^T and dL/ds = p - t; here the same quantities come from SymPy
differentiating the *definitions* (no formula from the proofs is used), compiled once per K with
`lambdify`. They are evaluated at s - max(s): proof 1 says that changes nothing, and it keeps
e^{s} from overflowing, so the oracle works for any finite scores too.
"""

from __future__ import annotations

import threading
from functools import lru_cache

import numpy as np
import sympy as sp
from numpy.typing import ArrayLike, NDArray

__all__ = ["jacobian_by_sympy", "ce_grad_by_sympy", "central_differences"]

# lru_cache does not stop two threads building the same function at once (the page and
# core.softmax.check_ahead on a fresh server): the second waits for the first instead.
_building = threading.Lock()


@lru_cache(maxsize=16)
def _jacobian_fn(k: int):
    s = sp.symbols(f"s1:{k + 1}", real=True)
    total = sum(sp.exp(x) for x in s)
    p = [sp.exp(x) / total for x in s]
    jac = sp.Matrix(k, k, lambda i, j: sp.diff(p[i], s[j]))
    return sp.lambdify([s], jac, modules="numpy")


@lru_cache(maxsize=16)
def _ce_grad_fn(k: int):
    s = sp.symbols(f"s1:{k + 1}", real=True)
    t = sp.symbols(f"t1:{k + 1}", real=True)
    # L = -sum_k t_k log p_k with log p_k = s_k - log sum_m e^{s_m} (no formula p - t assumed).
    log_total = sp.log(sum(sp.exp(x) for x in s))
    loss = -sum(tk * (sk - log_total) for tk, sk in zip(t, s, strict=True))
    grad = sp.Matrix([sp.diff(loss, x) for x in s])
    return sp.lambdify([s, t], grad, modules="numpy")


def _shifted(s: ArrayLike) -> NDArray[np.float64]:
    s = np.asarray(s, dtype=np.float64)
    with np.errstate(over="ignore"):
        return s - s.max()


def jacobian_by_sympy(s: ArrayLike) -> NDArray[np.float64]:
    """dp_i/ds_j from `sympy.diff` of e^{s_i} / sum_m e^{s_m}, at s - max s. Shape (K, K)."""
    z = _shifted(s)
    # z <= 0, so an overflow inside (2 z = -inf for z near -1e308) only means e^{...} = 0.
    with _building:
        fn = _jacobian_fn(len(z))
    with np.errstate(under="ignore", over="ignore"):
        return np.asarray(fn(z), dtype=np.float64)


def ce_grad_by_sympy(s: ArrayLike, t: ArrayLike) -> NDArray[np.float64]:
    """dL/ds from `sympy.diff` of L = -sum_k t_k log softmax_k(s), at s - max s. Shape (K,)."""
    z = _shifted(s)
    t = np.asarray(t, dtype=np.float64)
    with _building:
        fn = _ce_grad_fn(len(z))
    with np.errstate(under="ignore", over="ignore"):
        return np.asarray(fn(z, t), dtype=np.float64).reshape(-1)


def central_differences(f, s: ArrayLike, h: float = 1e-6) -> NDArray[np.float64]:
    """d f(s)/ds by (f(s + h e_j) - f(s - h e_j)) / 2h, column j. Shape (len f(s), K)."""
    s = np.asarray(s, dtype=np.float64)
    cols = []
    for j in range(s.size):
        e = np.zeros_like(s)
        e[j] = h
        cols.append((np.asarray(f(s + e)) - np.asarray(f(s - e))) / (2 * h))
    return np.stack(cols, axis=-1)
