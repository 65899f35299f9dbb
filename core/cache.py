"""Where handprop keeps what it can always compute again (data sets as .npy, checked
derivations, the Softmax page's digest): one rule for every package, and one way to write a JSON
file there.

    $HANDPROP_CACHE, else $XDG_CACHE_HOME/handprop, else ~/.cache/handprop
"""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path


def cache_root() -> Path:
    """The cache folder (not created here: each user makes its own subfolder when it writes)."""
    explicit = os.environ.get("HANDPROP_CACHE")
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "handprop"


def write_json(path: Path, data: object) -> bool:
    """`data` as JSON (UTF-8, not ASCII-escaped) at `path`, its folder made if need be, written
    to a file of this process and thread then renamed over `path`: readers see the old file or
    the whole new one. False when it cannot be written: a cache that cannot be kept only costs
    the time of computing it again."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}.{threading.get_ident()}.tmp")
        tmp.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
        os.replace(tmp, path)
    except OSError:
        return False
    return True
