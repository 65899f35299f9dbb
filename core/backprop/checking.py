"""SymPy's gradient of a new shape, built in the background so that no page waits for it.

`sympy.diff` of the whole loss takes 0.5–5 s per (shape, activation, loss) the first time
(core.backprop.oracle caches it for the server's life). The page shows the numbers, formulas and
drawing at once, asks for the build here, and fills the SymPy checks in once `ready` says so.

One worker thread hands one gradient at a time, the most recently asked first, and only once it
has been asked for `SETTLE_S` seconds, to a worker *process* (spawned once, below the server in
CPU priority): a student who clicks through four shapes gets the one on screen, not the three
they passed. The diff runs in that process because SymPy in a thread of the server holds the
interpreter lock: the page's own runs (the next shape, a Next) took 2–3x longer meanwhile. The
process sends back the gradient's Python source, which is compiled here (`oracle.install_gradient`).
"""

from __future__ import annotations

import contextlib
import multiprocessing as mp
import os
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

from core.backprop import oracle

Key = tuple[tuple[int, ...], str, str]  # (shape, activation, loss)

SETTLE_S = 1.0
_wanted: dict[Key, float] = {}  # asked for and not built yet: when first asked
_failed: dict[Key, str] = {}  # could not be built: why
_cond = threading.Condition()
_worker: threading.Thread | None = None
_pool: ProcessPoolExecutor | None = None


def _key(shape, activation: str, loss: str) -> Key:
    return tuple(int(n) for n in shape), activation, loss


def ready(shape, activation: str, loss: str) -> bool:
    """Whether the checks of this (shape, activation, loss) no longer wait for SymPy."""
    key = _key(shape, activation, loss)
    return oracle.sympy_ready(*key) or key in _failed


def failure(shape, activation: str, loss: str) -> str | None:
    """Why SymPy could not build this gradient, or None."""
    return _failed.get(_key(shape, activation, loss))


def request(shape, activation: str, loss: str) -> None:
    """Build SymPy's gradient of this (shape, activation, loss) in the background, if needed."""
    global _worker
    key = _key(shape, activation, loss)
    if ready(*key) or not oracle.sympy_feasible(key[0], loss):
        return
    with _cond:
        _wanted.setdefault(key, time.monotonic())
        if _worker is None or not _worker.is_alive():
            _worker = threading.Thread(target=_work, name="backprop-sympy", daemon=True)
            _worker.start()
        _cond.notify()


def _lower_priority() -> None:
    # Below the server in CPU priority, so that the page and the browser keep up meanwhile.
    with contextlib.suppress(OSError, AttributeError):
        os.setpriority(os.PRIO_PROCESS, 0, 10)


def _build(key: Key) -> None:
    """SymPy's gradient of `key` built in the worker process, compiled and installed here."""
    global _pool
    if _pool is None:
        _pool = ProcessPoolExecutor(1, mp_context=mp.get_context("spawn"),
                                    initializer=_lower_priority)
    try:
        source = _pool.submit(oracle.sympy_gradient_source, *key).result()
    except BrokenProcessPool:  # the process died (killed, out of memory): start a new one
        _pool = None
        raise
    oracle.install_gradient(*key, source)


def _work() -> None:
    while True:
        with _cond:
            while True:
                while not _wanted:
                    _cond.wait()
                key = max(_wanted, key=_wanted.__getitem__)
                age = time.monotonic() - _wanted[key]
                if age >= SETTLE_S:
                    break
                _cond.wait(SETTLE_S - age)  # a newer shape may come meanwhile
        try:
            _build(key)
        except Exception as err:  # noqa: BLE001 - any failure is shown on the page, not lost
            _failed[key] = f"{type(err).__name__}: {err}"
        with _cond:
            _wanted.pop(key, None)
