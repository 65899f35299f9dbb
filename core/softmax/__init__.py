"""Softmax proofs (pages/softmax.py): three facts about softmax, derived and checked by SymPy.

    numerics.py    softmax, log-softmax and their float32/float64 overflow, in NumPy
    oracles.py     the Jacobian and the cross-entropy gradient by SymPy and finite differences
    proofcheck.py  the two ways a proof line is checked: for symbolic K and for each concrete K
    proofs.py      the three proofs, line by line (core.derivations runs the checks)
    mistakes.py    typical wrong lines, each caught by the checker
    figures.py     the page's charts as Vega-Lite specs

`check_ahead()` checks every proof and mistake in a background thread, once per process, so the
page finds them done (app.py starts it on its first run).
"""

from __future__ import annotations

import threading

from core.softmax.numerics import log_softmax, softmax

__all__ = ["check_ahead", "log_softmax", "softmax"]

_ahead: threading.Thread | None = None
_ahead_lock = threading.Lock()
_all_done = threading.Event()  # set when a thread has checked everything


def _check_everything() -> None:
    # Imported here: app.py calls check_ahead on every page, and SymPy's import is 0.5 s.
    import numpy as np

    from core.softmax.mistakes import MISTAKES, check_mistake
    from core.softmax.oracles import ce_grad_by_sympy, jacobian_by_sympy
    from core.softmax.proofs import verify_all

    # First what the page's first run needs at once: its live oracles for the default K = 3
    # (lambdify, 0.3 s), then the checks (read from disk after the first start, ~5 ms).
    jacobian_by_sympy(np.zeros(3))
    ce_grad_by_sympy(np.zeros(3), np.eye(3)[0])
    verify_all()
    for index in range(len(MISTAKES)):
        check_mistake(index)
    _all_done.set()


def check_ahead() -> threading.Thread:
    """Start checking every softmax proof and typical mistake in a daemon thread, unless one is
    at it or has done it (a thread that died is started again); returns that thread.
    Deterministic work, remembered on disk (`core.derivations.checked`), so on a later start it
    is mostly the imports."""
    global _ahead
    with _ahead_lock:
        if _ahead is None or not (_ahead.is_alive() or _all_done.is_set()):
            _ahead = threading.Thread(target=_check_everything, name="softmax-check-ahead",
                                      daemon=True)
            _ahead.start()
        return _ahead
