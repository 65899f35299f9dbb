"""Softmax proofs (pages/softmax.py): three facts about softmax, derived and checked by SymPy.

    numerics.py    softmax, log-softmax and their float32/float64 overflow, in NumPy
    oracles.py     the Jacobian and the cross-entropy gradient by SymPy and finite differences
    proofcheck.py  the two ways a proof line is checked: for symbolic K and for each concrete K
    proofs.py      the three proofs, line by line (core.derivations runs the checks)
    mistakes.py    typical wrong lines, each caught by the checker
    figures.py     the page's charts as Vega-Lite specs
    digest.py      what the page shows of the checked proofs, one JSON file read without SymPy

`check_ahead()` checks every proof and mistake in a background thread, once per process, so the
page finds them done (app.py starts it after its first run), and builds the page's live SymPy
oracles; `live_oracles()` hands them to the page once they exist, so that a fresh server's first
visit never waits for SymPy's import. When the checked proofs are already on disk, the thread
imports SymPy only once the oracles are wanted: at once when a page turns one on, or
AHEAD_DELAY_S after a Softmax visit (`oracles_soon`). The import and lambdify are a second of
CPU holding the interpreter's lock, which on a timer from any page landed in the middle of a
Backprop click or a Train run's live view (measured: 0.5-0.7 s of that thread inside a new
network shape); on the Softmax page a student reading the proofs is idle time.
"""

from __future__ import annotations

import threading
from types import ModuleType

from core.softmax.numerics import log_softmax, softmax

__all__ = ["check_ahead", "checked_ahead", "live_oracles", "log_softmax", "oracles_soon",
           "softmax"]

_ahead: threading.Thread | None = None
_ahead_lock = threading.Lock()
_all_done = threading.Event()  # set when a thread has checked everything
_oracles_built = threading.Event()  # set when the live oracles for K = 3 exist
_oracles_wanted = threading.Event()  # set when a page has asked for them
_soon: threading.Timer | None = None
# After a Softmax visit, long enough for that visit to be drawn on a busy machine (3.9 s measured
# at load 0.4, 13 s at load 14, a 3 s wait let SymPy's import take the interpreter's lock from the
# middle of it); a page that wants the oracles ends the wait at once, and then polls for them
# without blocking a click.
AHEAD_DELAY_S = 15.0


def _check_everything() -> None:
    # Imported here: app.py calls check_ahead on every page, and SymPy's import is 0.6 s.
    import numpy as np

    from core.softmax import digest

    if digest.load() is not None:  # nothing a visit shows waits for SymPy: not until wanted
        _oracles_wanted.wait()
    from core.softmax.oracles import ce_grad_by_sympy, jacobian_by_sympy

    # First what the page shows live, for the default K = 3 (lambdify, 0.3 s), then the checks:
    # nothing to do when the digest for this code is on disk, else read from the per-proof cache
    # (~5 ms) or checked now (seconds), and kept in one digest for the next start.
    jacobian_by_sympy(np.zeros(3))
    ce_grad_by_sympy(np.zeros(3), np.eye(3)[0])
    _oracles_built.set()
    if digest.load() is None:
        from core.softmax.mistakes import MISTAKES, check_mistake
        from core.softmax.proofs import verify_all

        verify_all()
        for index in range(len(MISTAKES)):
            check_mistake(index)
        digest.write(digest.from_results())
    _all_done.set()


def live_oracles() -> ModuleType | None:
    """`core.softmax.oracles` (SymPy's Jacobian and cross-entropy gradient, evaluated live) once
    the background thread has imported SymPy and built them for K = 3; None until then, so the
    page says "SymPy is differentiating…" instead of waiting. Another K then costs one lambdify
    (0.3 s) in the run that asks for it."""
    if not _oracles_built.is_set():
        _oracles_wanted.set()
        return None
    from core.softmax import oracles

    return oracles


def oracles_soon() -> None:
    """Ask for the live oracles AHEAD_DELAY_S from now, once per process: the Softmax page calls
    it after each run, so that they exist by the time its reader turns a heat map on, while no
    other page ever pays for SymPy."""
    global _soon
    with _ahead_lock:
        if _soon is None and not _oracles_wanted.is_set():
            _soon = threading.Timer(AHEAD_DELAY_S, _oracles_wanted.set)
            _soon.daemon = True
            _soon.start()


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


def checked_ahead(timeout: float | None = None) -> bool:
    """`check_ahead()` run to its end, without the wait a first visit gets (for tests and
    scripts that want every proof checked and the oracles built now); True when it finished."""
    _oracles_wanted.set()
    thread = check_ahead()
    thread.join(timeout)
    return not thread.is_alive()
