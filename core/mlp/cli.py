"""Command line: train an MLP and print one JSON record per line, then a JSON summary line.

    python -m core.train --dataset mnist5k --hidden 64 --activation sigmoid --init fan_in \
        --optimizer sgd --lr 0.1 --batch-size 32 --epochs 20 --seed 0

Every training option (its flag, range, default and help) comes from the one settings table,
`core.mlp.settings.SETTINGS`, so the command line accepts exactly what the Train page accepts.
Exit codes: 0 trained (finished, early-stopped or diverged: divergence is a result),
2 bad arguments, data unavailable or unreadable, or a net over the memory budget.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from typing import Any

from core.mlp.budget import check_config, memory_budget_mb
from core.mlp.datasets import DataUnavailable
from core.mlp.settings import SETTINGS, Setting, check, parse_hidden
from core.mlp.training import TrainConfig, TrainingRun


def _reader(setting: Setting) -> Callable[[str], Any]:
    """argparse's type= for one setting: the table's own check, its message as the error."""
    def read(text: str) -> Any:
        try:
            return parse_hidden(text) if setting.kind == "hidden" else check(setting.name, text)
        except ValueError as exc:
            raise argparse.ArgumentTypeError(str(exc).replace("`", "'")) from None
    read.__name__ = setting.name  # argparse names the type in its messages
    return read


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m core.train",
        description="Train a NumPy MLP; print one JSON record per evaluation and a summary line.")
    for s in SETTINGS.values():
        help_text = s.full_help().replace("%", "%%")
        if s.kind == "choice":
            p.add_argument(s.flag, choices=list(s.choices or {}), default=s.default,
                           help=help_text)
        elif s.kind == "hidden":
            # --hidden 64, --hidden 700 700 700, --hidden 64,64 or --hidden "" (no hidden layer)
            p.add_argument(s.flag, type=_reader(s), nargs="+", default=[s.default],
                           help=help_text)
        else:
            p.add_argument(s.flag, type=_reader(s), default=s.default, help=help_text)
    p.add_argument("--download", action="store_true",
                   help="download missing MNIST/CIFAR-10 files (checksum-verified)")
    p.add_argument("--memory-mb", type=int, default=memory_budget_mb(),
                   help="refuse a net whose weights, gradients, optimiser state and batch "
                        "buffers need more than this many MB (default %(default)s: "
                        "$HANDPROP_MEMORY_MB, else 1024)")
    p.add_argument("--db", nargs="?", const="", default=None, metavar="PATH",
                   help="also keep the run in the Train page's run database: --db alone uses "
                        "$HANDPROP_DB (else the default file), --db PATH that one. Off by "
                        "default: without it the records only go to standard output")
    p.add_argument("--blas-threads", type=int, default=1,
                   help="BLAS threads; 1 (the default, as the page uses) is fastest for these "
                        "small matrices and on a busy machine; 0 = the BLAS library's own choice")
    return p


def config_from_args(a: argparse.Namespace) -> TrainConfig:
    """The TrainConfig of parsed arguments (validated)."""
    values = {name: getattr(a, name) for name in SETTINGS}
    values["hidden"] = tuple(h for group in a.hidden for h in group)
    if a.csv is not None and a.dataset == SETTINGS["dataset"].default:
        values["dataset"] = "csv"  # --csv PATH --label COLUMN is the whole of it
    elif a.csv is not None and a.dataset != "csv":
        raise ValueError(f"--csv trains on a CSV file, but --dataset {a.dataset} was asked for: "
                         "leave --dataset out (or give --dataset csv)")
    return TrainConfig(**values).validate()


def main(argv: Sequence[str] | None = None, *, blas_threads_set: int | None = None) -> int:
    """Run the command line on argv (default sys.argv[1:]); the exit code.

    blas_threads_set: the BLAS threads the caller fixed before NumPy loaded OpenBLAS
    (`python -m core.train` does, through OPENBLAS_NUM_THREADS); when they are what was asked,
    threadpoolctl, which costs start-up time, is not needed.
    """
    parser = build_parser()
    a = parser.parse_args(argv)
    if a.blas_threads < 0:
        parser.error(f"--blas-threads must be 0 or more, got {a.blas_threads}")
    if a.memory_mb < 1:
        parser.error(f"--memory-mb must be 1 or more, got {a.memory_mb}")
    if a.blas_threads != blas_threads_set:
        from core.mlp.jobs import limit_blas_threads

        limit_blas_threads(a.blas_threads)
    try:
        config = config_from_args(a)
        check_config(config, budget_mb=a.memory_mb)  # before any data is loaded
    except ValueError as e:
        parser.error(str(e).replace("`", "'"))

    def progress(done: int, total: int) -> None:
        print(f"downloaded {done:,} of {total:,} bytes", file=sys.stderr)

    try:
        data = config.load_data(download=a.download, progress=progress if a.download else None)
    except DataUnavailable as e:
        print(f"error: data unavailable: {e}".replace("`", "'"), file=sys.stderr)
        return 2
    except (ValueError, OSError, MemoryError) as e:  # a file that reads but does not fit
        print(f"error: the data cannot be used: {e}", file=sys.stderr)
        return 2
    try:
        run = TrainingRun(config, data, budget_mb=a.memory_mb)
    except ValueError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    if a.db is None:
        for record in run.run():
            print(json.dumps(record), flush=True)
    else:
        # Imported only here: sqlite3 costs the plain command line a tenth of a second.
        from core.mlp.jobs import record_run
        from core.mlp.runstore import RunStore, RunStoreError

        try:
            store = RunStore(a.db or None)
        except (RunStoreError, OSError) as e:
            print(f"error: {e}", file=sys.stderr)
            return 2
        run_id = record_run(store, run, label="command line",
                            on_record=lambda r: print(json.dumps(r), flush=True))
        print(f"stored as run #{run_id} in {store.db}", file=sys.stderr)
    print(json.dumps({"summary": run.summary()}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
