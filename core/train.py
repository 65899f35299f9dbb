"""`python -m core.train`: the Train page's engine from the command line (see core/mlp/cli.py).

Run as a script, it fixes the BLAS threads (`--blas-threads`, 1 by default) in the environment
before anything imports NumPy: OpenBLAS then starts without a pool of worker threads to spawn
and park, which is most of what limiting them afterwards would cost the start-up.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence

__all__ = ["blas_threads_asked", "build_parser", "main"]


def blas_threads_asked(argv: Sequence[str]) -> int | None:
    """The --blas-threads value in argv (1 when it is not given), or None when it is not a
    whole number the command line accepts: then argparse gets to say why, and threadpoolctl
    sets whatever it finally reads."""
    value = "1"
    for i, arg in enumerate(argv):
        if arg == "--":
            break
        if arg == "--blas-threads" and i + 1 < len(argv):
            value = argv[i + 1]
        elif arg.startswith("--blas-threads="):
            value = arg.partition("=")[2]
    try:
        n = int(value)
    except ValueError:
        return None
    return n if n >= 0 else None


if __name__ == "__main__":
    _threads = blas_threads_asked(sys.argv[1:])
    if _threads:  # 0 is the BLAS library's own choice: nothing to set
        os.environ["OPENBLAS_NUM_THREADS"] = str(_threads)

from core.mlp.cli import build_parser, main  # noqa: E402 - after the environment is set

if __name__ == "__main__":
    sys.exit(main(blas_threads_set=_threads))
