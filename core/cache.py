"""Where handprop keeps what it can always compute again (data sets as .npy, checked
derivations, the Softmax page's digest): one rule for every package, and one way to write a JSON
file there and to fingerprint the code that made it.

    $HANDPROP_CACHE, else $XDG_CACHE_HOME/handprop, else ~/.cache/handprop
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
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


def digest_of(parts: list[str]) -> str:
    """40 hex digits of SHA-256 over `parts` joined by NUL: the key a cached file is written
    under, so any change in what made it gives a new key."""
    return hashlib.sha256("\x00".join(parts).encode("utf-8")).hexdigest()[:40]


def source_of(module_name: str) -> str:
    """An imported module's source text, "" when it has no readable file."""
    path = getattr(sys.modules.get(module_name), "__file__", None)
    try:
        return Path(path).read_text(encoding="utf-8") if path else ""
    except OSError:
        return ""
