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

The same process prints ahead: each request also has it print the step formulas and chain rule
(core.backprop.shapecache, on disk) of the shapes one box away — a unit more or less in any
layer, a hidden layer more or less — and of this shape with the other activations and losses,
so that the student's next shape finds its formulas printed. That starts at once (the shapes
are the latest asked for; older ones not yet begun are dropped) and goes before any gradient.
A student stepping one box (3-2-2, then 3-3-2) likely goes on (3-4-2): while the shape on screen
settles, that shape's gradient is built, so its checks are there when the student arrives.
The process is started from a thread below the server's priority, so even its start-up (the
imports of NumPy and SymPy, seconds of CPU) never competes with the page.
"""

from __future__ import annotations

import contextlib
import multiprocessing as mp
import os
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

from core.backprop import oracle, problems, shapecache
from core.backprop.chainrule import w11_structure
from core.backprop.formulas import step_templates
from core.backprop.functions import ACTIVATIONS, LOSSES

Key = tuple[tuple[int, ...], str, str]  # (shape, activation, loss)

SETTLE_S = 1.0
NICE = 10  # the worker's niceness: below the server (0)
NEW_LAYER_UNITS = 2  # what the page's box for a new hidden layer starts at
_wanted: dict[Key, float] = {}  # asked for and not built yet: when first asked
_failed: dict[Key, str] = {}  # could not be built: why
_ahead: list[Key] = []  # to print ahead: the neighbours of the latest shape asked for
_asked: list[Key] = []  # the latest shape asked for
_guess: list[Key] = []  # the shape a student stepping one box reaches next, to build meanwhile
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


def nearby(shape, activation: str, loss: str) -> list[Key]:
    """What a student is likely to try next from here, nearest first: a unit more or less in
    one layer, a hidden layer more (of NEW_LAYER_UNITS) or less, then this shape with the other
    activations and losses; only shapes the page allows."""
    shape = tuple(int(n) for n in shape)
    shapes = []
    for at in range(len(shape)):
        shapes += [shape[:at] + (shape[at] + d,) + shape[at + 1:] for d in (1, -1)]
    shapes += [shape[:-1] + (NEW_LAYER_UNITS, shape[-1]), shape[:-2] + shape[-1:]]
    out = []
    for s in shapes:
        with contextlib.suppress(ValueError):
            out.append((problems.check_shape(s), activation, loss))
    out += [(shape, a, lo) for a in ACTIVATIONS for lo in LOSSES if (a, lo) != (activation, loss)]
    return list(dict.fromkeys(out))


def print_ahead(keys: list[Key]) -> str:
    """Print (and so keep on disk) the step formulas and chain rule of each (shape, activation,
    loss): what the page's next run of that shape reads instead of printing. Runs in the worker
    process; returns the folder it keeps them in (the cache folder of its environment)."""
    for key in keys:
        step_templates(*key)
        w11_structure(*key)
    return str(shapecache.folder())


def next_step(before: Key, now: Key) -> Key | None:
    """The shape one more step along when `now` is `before` with one box stepped by one (same
    activation and loss): a student stepping a number box. None otherwise, or past the limits."""
    (old, *rest), (new, *same) = before, now
    if rest != same or len(old) != len(new):
        return None
    moved = [at for at, (m, n) in enumerate(zip(old, new, strict=True)) if m != n]
    if len(moved) != 1 or abs(new[moved[0]] - old[moved[0]]) != 1:
        return None
    at = moved[0]
    try:
        shape = problems.check_shape(new[:at] + (2 * new[at] - old[at],) + new[at + 1:])
    except ValueError:
        return None
    return shape, *same


def request(shape, activation: str, loss: str) -> None:
    """Build SymPy's gradient of this (shape, activation, loss) in the background, if needed;
    print the formulas of the shapes near it ahead (`nearby`); and when the student is stepping
    one box (`next_step`), build the gradient of the shape one more step along while this one
    settles."""
    global _worker
    key = _key(shape, activation, loss)
    gradient = not ready(*key) and oracle.sympy_feasible(key[0], loss)
    with _cond:
        _ahead[:] = nearby(*key)
        if _asked and _asked[0] != key:
            guess = next_step(_asked[0], key)
            _guess[:] = [guess] if guess and oracle.sympy_feasible(guess[0], loss) else []
        _asked[:] = [key]
        if gradient:
            _wanted.setdefault(key, time.monotonic())
        if _worker is None or not _worker.is_alive():
            _worker = threading.Thread(target=_work, name="backprop-sympy", daemon=True)
            _worker.start()
        _cond.notify()


def _lower_priority(thread: int = 0) -> None:
    """Below the server in CPU priority (on Linux `thread`, a native thread id, alone; 0: the
    calling thread), so that the page and the browser keep up meanwhile."""
    with contextlib.suppress(OSError, AttributeError):
        os.setpriority(os.PRIO_PROCESS, thread, NICE)


def _start(pool: ProcessPoolExecutor) -> None:
    # A process started from this thread inherits its niceness from its first instruction on.
    _lower_priority(threading.get_native_id())
    pool.submit(os.getpid).result()


def _worker_pool() -> ProcessPoolExecutor:
    """The worker process (spawned once, and again after it died), started below the server."""
    global _pool
    if _pool is None:
        pool = ProcessPoolExecutor(1, mp_context=mp.get_context("spawn"),
                                   initializer=_lower_priority)
        starter = threading.Thread(target=_start, args=(pool,), name="backprop-sympy-start")
        starter.start()
        starter.join()
        _pool = pool
    return _pool


def _in_worker(fn, *args):
    """fn(*args) in the worker process; a process that died is replaced at the next call."""
    global _pool
    try:
        return _worker_pool().submit(fn, *args).result()
    except BrokenProcessPool:  # killed, out of memory: start a new one next time
        _pool = None
        raise


def _build(key: Key) -> None:
    """SymPy's gradient of `key` built in the worker process, compiled and installed here."""
    oracle.install_gradient(*key, _in_worker(oracle.sympy_gradient_source, *key))


def _next_job() -> tuple[str, object]:
    """("ahead", keys) at once; else ("gradient", key): the newest request's once settled, or
    meanwhile the guessed next step's."""
    with _cond:
        while True:
            if _ahead:
                keys = list(_ahead)
                _ahead.clear()
                return "ahead", keys
            wait = None
            if _wanted:
                key = max(_wanted, key=_wanted.__getitem__)
                age = time.monotonic() - _wanted[key]
                if age >= SETTLE_S:
                    return "gradient", key
                wait = SETTLE_S - age
            if _guess and not ready(*_guess[0]):
                return "gradient", _guess.pop()
            _guess.clear()
            _cond.wait(wait)  # a newer shape may come meanwhile


def _work() -> None:
    while True:
        job, what = _next_job()
        if job == "ahead":
            # Only a cache: a failure costs the printing at the page's own run, nothing else.
            with contextlib.suppress(Exception):
                _in_worker(print_ahead, what)
            continue
        try:
            if not ready(*what):
                _build(what)
        except Exception as err:  # noqa: BLE001 - any failure is shown on the page, not lost
            _failed[what] = f"{type(err).__name__}: {err}"
        with _cond:
            _wanted.pop(what, None)
