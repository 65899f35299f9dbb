"""Where handprop keeps what it can always compute again (data sets as .npy, checked
derivations, the Softmax page's digest): one rule for every package.

    $HANDPROP_CACHE, else $XDG_CACHE_HOME/handprop, else ~/.cache/handprop
"""

from __future__ import annotations

import os
from pathlib import Path


def cache_root() -> Path:
    """The cache folder (not created here: each user makes its own subfolder when it writes)."""
    explicit = os.environ.get("HANDPROP_CACHE")
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "handprop"
