"""Command line: train an MLP and print one JSON record per line, then a JSON summary line.

    python -m core.train --dataset mnist5k --hidden 64 --activation sigmoid --init fan_in \
        --optimizer sgd --lr 0.1 --batch-size 32 --epochs 20 --seed 0

Exit codes: 0 trained (finished, early-stopped or diverged: divergence is a result),
2 bad arguments or data unavailable.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence

from core.mlp.activations import ACTIVATIONS
from core.mlp.datasets import DATASETS, PREPROCESS, DataUnavailable, load_dataset
from core.mlp.initializers import INITS
from core.mlp.jobs import limit_blas_threads
from core.mlp.optimizers import OPTIMIZERS
from core.mlp.schedules import SCHEDULES
from core.mlp.training import TrainConfig, TrainingRun


def _hidden(text: str) -> tuple[int, ...]:
    """"64", "64,64", "700 700" or "" (no hidden layer)."""
    parts = text.replace(",", " ").split()
    try:
        return tuple(int(p) for p in parts)
    except ValueError:
        raise argparse.ArgumentTypeError(f"hidden sizes must be integers, got {text!r}") from None


def build_parser() -> argparse.ArgumentParser:
    d = TrainConfig()
    p = argparse.ArgumentParser(
        prog="python -m core.train",
        description="Train a NumPy MLP; print one JSON record per evaluation and a summary line.")
    p.add_argument("--dataset", choices=list(DATASETS), default=d.dataset,
                   help="data set (default %(default)s)")
    p.add_argument("--hidden", type=_hidden, nargs="+", default=[d.hidden],
                   help="hidden layer sizes, e.g. --hidden 64 or --hidden 700 700 700")
    p.add_argument("--activation", choices=list(ACTIVATIONS), default=d.activation,
                   help="hidden activation (default %(default)s)")
    p.add_argument("--init", choices=list(INITS), default=d.init,
                   help="weight initialisation (default %(default)s)")
    p.add_argument("--optimizer", choices=list(OPTIMIZERS), default=d.optimizer,
                   help="optimiser (default %(default)s)")
    p.add_argument("--lr", type=float, default=d.lr, help="learning rate η (default %(default)s)")
    p.add_argument("--momentum", type=float, default=d.momentum,
                   help="momentum μ for momentum/nesterov (default %(default)s)")
    p.add_argument("--beta1", type=float, default=d.beta1, help="Adam β1 (default %(default)s)")
    p.add_argument("--beta2", type=float, default=d.beta2, help="Adam β2 (default %(default)s)")
    p.add_argument("--eps", type=float, default=d.eps, help="Adam ε (default %(default)s)")
    p.add_argument("--l2", type=float, default=d.l2,
                   help="L2 strength λ: adds (λ/2)Σ‖W‖² to the loss (default %(default)s)")
    p.add_argument("--schedule", choices=list(SCHEDULES), default=d.schedule,
                   help="learning-rate schedule (default %(default)s)")
    p.add_argument("--decay-k", type=float, default=d.decay_k,
                   help="k of η·e^(−kt) and η/(1+kt), t in steps (default %(default)s)")
    p.add_argument("--step-every", type=int, default=d.step_every,
                   help="step schedule: multiply η every this many epochs (default %(default)s)")
    p.add_argument("--step-factor", type=float, default=d.step_factor,
                   help="step schedule: factor γ (default %(default)s)")
    p.add_argument("--batch-size", type=int, default=d.batch_size,
                   help="minibatch size (default %(default)s)")
    p.add_argument("--epochs", type=int, default=d.epochs, help="epochs (default %(default)s)")
    p.add_argument("--seed", type=int, default=d.seed,
                   help="seed of split, init and shuffling (default %(default)s)")
    p.add_argument("--eval-every", type=int, default=d.eval_every,
                   help="also record every N steps; 0 = once per epoch (default %(default)s)")
    p.add_argument("--early-stopping", type=int, default=d.early_stopping,
                   help="patience in evaluations on validation loss; 0 = off (default %(default)s)")
    p.add_argument("--preprocess", choices=list(PREPROCESS), default=d.preprocess,
                   help="scale to [0, 1] or standardise with training mean/std")
    p.add_argument("--val-fraction", type=float, default=d.val_fraction,
                   help="fraction of training data held out for validation (default %(default)s)")
    p.add_argument("--max-train", type=int, default=None,
                   help="use at most this many training samples")
    p.add_argument("--dtype", choices=["float32", "float64"], default=d.dtype,
                   help="floating-point type (default %(default)s)")
    p.add_argument("--data-dir", default=None,
                   help="folder with MNIST IDX files or the CIFAR-10 archive (default: cache)")
    p.add_argument("--download", action="store_true",
                   help="download missing MNIST/CIFAR-10 files (checksum-verified)")
    p.add_argument("--blas-threads", type=int, default=1,
                   help="BLAS threads; 1 (the default, as the page uses) is fastest for these "
                        "small matrices and on a busy machine; 0 = the BLAS library's own choice")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    a = parser.parse_args(argv)
    hidden = tuple(h for group in a.hidden for h in group)
    if a.blas_threads < 0:
        parser.error(f"--blas-threads must be 0 or more, got {a.blas_threads}")
    limit_blas_threads(a.blas_threads)
    try:
        config = TrainConfig(
            dataset=a.dataset, hidden=hidden, activation=a.activation, init=a.init,
            optimizer=a.optimizer, lr=a.lr, momentum=a.momentum, beta1=a.beta1, beta2=a.beta2,
            eps=a.eps, l2=a.l2, schedule=a.schedule, decay_k=a.decay_k,
            step_every=a.step_every, step_factor=a.step_factor, batch_size=a.batch_size,
            epochs=a.epochs, seed=a.seed, eval_every=a.eval_every,
            early_stopping=a.early_stopping, preprocess=a.preprocess,
            val_fraction=a.val_fraction, max_train=a.max_train, dtype=a.dtype,
            data_dir=a.data_dir,
        ).validate()
    except ValueError as e:
        parser.error(str(e))

    def progress(done: int, total: int) -> None:
        print(f"downloaded {done:,} of {total:,} bytes", file=sys.stderr)

    try:
        data = load_dataset(config.dataset, seed=config.seed, preprocess=config.preprocess,
                            val_fraction=config.val_fraction, data_dir=config.data_dir,
                            max_train=config.max_train, dtype=config.dtype,
                            download=a.download, progress=progress if a.download else None)
    except DataUnavailable as e:
        print(f"error: data unavailable: {e}", file=sys.stderr)
        return 2
    run = TrainingRun(config, data)
    for record in run.run():
        print(json.dumps(record), flush=True)
    print(json.dumps({"summary": run.summary()}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
