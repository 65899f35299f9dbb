"""What SymPy prints for one shape, remembered in this process and on disk.

Printing a shape's step formulas and its chain rule with `sympy.latex` takes 20–60 ms of the
interpreter (a new shape's page run waited for it), and the text depends only on (shape,
activation, loss) and on the code that prints it. So each printed result is kept as JSON in
`core.cache`'s folder, `backprop/{kind}_{shape}_{activation}_{loss}.json`, with a fingerprint of
that code (the source of formulas.py, chainrule.py, functions.py, names.py and this module, and
SymPy's and Python's versions): a file of other code, a damaged file or one whose content does not
fit the shape is ignored and written over. core.backprop.checking fills the folder ahead for the
shapes a student is likely to try next, in its worker process.

Threads asking for the same result at once get one object: the first computes (or reads) it
under a lock, the others find it in the memo. Files are written atomically (core.cache.write_json),
so a reader in another process sees the old file or the whole new one.
"""

from __future__ import annotations

import json
import sys
import threading
from collections import OrderedDict
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path
from typing import Any

from core.cache import cache_root, digest_of, source_of, write_json

FORMAT = 1
MEMO_SIZE = 64  # results kept in the process, oldest first out
# The modules whose code decides what is printed: any change makes every file stale.
PRINTERS = ("core.backprop.formulas", "core.backprop.chainrule", "core.backprop.functions",
            "core.backprop.names", __name__)

Key = tuple[tuple[int, ...], str, str]  # (shape, activation, loss)

_memo: OrderedDict[tuple, Any] = OrderedDict()  # written under _lock only
_lock = threading.RLock()  # also keeps two threads from printing with SymPy at once


def folder() -> Path:
    """Where the printed results are kept: core.cache's folder / backprop."""
    return cache_root() / "backprop"


@lru_cache(maxsize=1)
def fingerprint() -> str:
    """Hex digest of the printing code and SymPy's and Python's versions (read once)."""
    import sympy as sp

    for name in PRINTERS:
        __import__(name)
    return digest_of([f"format {FORMAT}", sp.__version__, f"{sys.version_info[:2]}",
                      *(source_of(name) for name in PRINTERS)])


def path_of(kind: str, key: Key, where: Path | None | str = "default") -> Path | None:
    """The file of one result, e.g. backprop/steps_3-2-2_sigmoid_half_squared_error.json."""
    base = folder() if where == "default" else (None if where is None else Path(where))
    if base is None:
        return None
    shape, activation, loss = key
    return base / f"{kind}_{'-'.join(map(str, shape))}_{activation}_{loss}.json"


def _read(path: Path | None, kind: str, key: Key, decode: Callable[[Any], Any]) -> Any | None:
    """The value in `path` if it was written by this code for this key, else None."""
    if path is None or not path.is_file():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(data, dict) or data.get("fingerprint") != fingerprint() or \
                data.get("kind") != kind or data.get("key") != _key_json(key):
            return None
        return decode(data["value"])
    except (OSError, ValueError, KeyError, TypeError, IndexError, AttributeError):
        return None  # damaged or foreign: computed again and written over


def _key_json(key: Key) -> list:
    shape, activation, loss = key
    return [list(shape), activation, loss]


def remembered(kind: str, key: Key, compute: Callable[[], Any], encode: Callable[[Any], Any],
               decode: Callable[[Any], Any], where: Path | None | str = "default") -> Any:
    """`compute()` for (kind, key), remembered: from this process, else from its file (when
    `decode` accepts it: `decode` raises ValueError, KeyError, TypeError or IndexError for
    anything that does not fit), else computed and written. `where` is the folder ("default":
    `folder()`; None: this process only)."""
    memo_key = (kind, key, str(where))
    if (value := _memo.get(memo_key)) is not None:
        return value
    with _lock:
        if (value := _memo.get(memo_key)) is not None:
            return value  # another thread made it while this one waited
        path = path_of(kind, key, where)
        value = _read(path, kind, key, decode)
        if value is None:
            value = compute()
            if path is not None:  # unwritable: computed again next time, nothing lost
                write_json(path, {"fingerprint": fingerprint(), "kind": kind,
                                  "key": _key_json(key), "value": encode(value)})
        _memo[memo_key] = value
        while len(_memo) > MEMO_SIZE:
            _memo.popitem(last=False)
        return value


def forget() -> None:
    """Empty this process's memo (the files stay): for tests that play a fresh process."""
    with _lock:
        _memo.clear()
