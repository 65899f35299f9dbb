"""`python -m core.train`: the Train page's engine from the command line (see core/mlp/cli.py)."""

import sys

from core.mlp.cli import build_parser, main

__all__ = ["build_parser", "main"]

if __name__ == "__main__":
    sys.exit(main())
