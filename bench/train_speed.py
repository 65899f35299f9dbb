"""Epoch time of this NumPy MLP engine vs PyTorch CPU and scikit-learn, measured in one run.

    python bench/train_speed.py [--rounds 7] [--cli-epochs 50] [--only small|big]

Same architecture, data (mnist5k's training split; the big net repeats it to 18,000 rows), batch
size, plain SGD, float32. Each contender is built once; then every round times one epoch of each,
one after the other (with a short untimed pause between them), and the best epoch of each is
kept. Interleaving matters on a shared machine: a burst of load then slows one round of every
contender, not all rounds of one.
Prints samples/s, the ratio of epoch times (engine / reference, lower is better) and, for the big
net, the time its matrix products alone take (the limit), with the goals beside them.

The small net is also timed as the command line runs it: `python -m core.train` as a whole
process (start-up, data loading, every per-epoch record and its JSON line included), its wall
time divided by its epochs, against the faster PyTorch (its own threads, or one thread) of the
same rounds.
BLAS threads: the small net's engine and matmul rows run on one BLAS thread, as the command line
and the Train page's workers run them (the library's default pool on two busy cores made an
epoch up to 38x slower); the big net's rows use the library's default threads, as PyTorch CPU
does. Each case's title says which.
Needs `pip install -r requirements-bench.txt` for PyTorch; without it that column is skipped.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import subprocess
import sys
import time
import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from core.mlp.datasets import load_dataset  # noqa: E402
from core.mlp.model import MLP  # noqa: E402
from core.mlp.optimizers import SGD  # noqa: E402

Epoch = Callable[[], None]
LR = 0.01
PAUSE_S = 0.5


def engine(X, Y, y, sizes, act, batch) -> Epoch:
    """The inner step of `core.mlp.training.TrainingRun`: loss_and_grads, then the SGD update."""
    m = MLP(sizes, act, "he" if act == "relu" else "fan_in")
    opt, grads = SGD(m.params), [np.empty_like(p) for p in m.params]

    def epoch() -> None:
        for i in range(0, len(X), batch):
            m.loss_and_grads(X[i:i + batch], Y[i:i + batch], 0.0, out=grads,
                             scale=opt.grad_scale(LR))
            opt.apply(m.params, grads, LR)

    return epoch


def matmuls(X, Y, y, sizes, act, batch) -> Epoch:
    """Only the GEMMs of forward and backward (no δ for the input layer), same shapes and
    batches (the last one short, as in the engine), on realistic values."""
    rng = np.random.default_rng(0)
    pairs = list(zip(sizes[:-1], sizes[1:], strict=False))
    Ws = [rng.normal(0, 0.05, (a, b)).astype(np.float32) for a, b in pairs]
    H = [np.empty((batch, b), np.float32) for b in sizes[1:]]
    D = [rng.normal(0, 0.01, (batch, b)).astype(np.float32) for b in sizes[1:]]
    G = [np.empty_like(W) for W in Ws]

    def epoch() -> None:
        for i in range(0, len(X), batch):
            Xb = X[i:i + batch]
            n = len(Xb)
            A = Xb
            for k, W in enumerate(Ws):
                np.matmul(A, W, out=H[k][:n])
                A = H[k][:n]
            for k in range(len(Ws) - 1, -1, -1):
                np.matmul((Xb if k == 0 else H[k - 1][:n]).T, D[k][:n], out=G[k])
                if k:
                    np.matmul(D[k][:n], Ws[k].T, out=D[k - 1][:n])

    return epoch


def pytorch(X, Y, y, sizes, act, batch) -> Epoch | None:
    try:
        import torch
    except ImportError:
        return None
    torch.manual_seed(0)
    layers = []
    for k, (a, b) in enumerate(zip(sizes[:-1], sizes[1:], strict=False)):
        layers.append(torch.nn.Linear(a, b))
        if k < len(sizes) - 2:
            layers.append(torch.nn.ReLU() if act == "relu" else torch.nn.Sigmoid())
    net = torch.nn.Sequential(*layers)
    opt = torch.optim.SGD(net.parameters(), lr=LR)
    loss_fn = torch.nn.CrossEntropyLoss()
    Xt, yt = torch.from_numpy(X), torch.from_numpy(y)

    def epoch() -> None:
        for i in range(0, len(X), batch):
            opt.zero_grad(set_to_none=True)
            loss_fn(net(Xt[i:i + batch]), yt[i:i + batch]).backward()
            opt.step()

    return epoch


def pytorch_one_thread(X, Y, y, sizes, act, batch) -> Epoch | None:
    """PyTorch limited to one thread, as the engine is: faster than its default on a busy
    machine, so the fairer reference there."""
    epoch = pytorch(X, Y, y, sizes, act, batch)
    if epoch is None:
        return None
    import torch

    def one() -> None:
        threads = torch.get_num_threads()
        torch.set_num_threads(1)
        try:
            epoch()
        finally:
            torch.set_num_threads(threads)

    return one


def command_line(epochs: int) -> Callable[[], float]:
    """Seconds per epoch of `python -m core.train` on mnist5k 784-64-10 sigmoid B32, timed as a
    whole process."""
    args = [sys.executable, "-m", "core.train", "--dataset", "mnist5k", "--hidden", "64",
            "--activation", "sigmoid", "--batch-size", "32", "--epochs", str(epochs)]
    root = Path(__file__).resolve().parent.parent

    def per_epoch() -> float:
        t = time.perf_counter()
        subprocess.run(args, cwd=root, env=os.environ.copy(), stdout=subprocess.DEVNULL,
                       check=True)
        return (time.perf_counter() - t) / epochs

    return per_epoch


def sklearn(X, Y, y, sizes, act, batch) -> Epoch:
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.neural_network import MLPClassifier
    clf = MLPClassifier(hidden_layer_sizes=sizes[1:-1], activation="relu" if act == "relu"
                        else "logistic", solver="sgd", batch_size=batch, learning_rate_init=LR,
                        momentum=0.0, alpha=0.0, max_iter=1, shuffle=False, tol=0.0,
                        random_state=0)
    classes = np.arange(sizes[-1])

    def epoch() -> None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            clf.partial_fit(X, y, classes=classes)

    return epoch


# (name, title, layer sizes, activation, batch, times the 3,600 samples are repeated, the
# engine's BLAS threads (None: the library's default), goals as {reference: largest
# engine/reference ratio}); from the MLP issue and issue 14 (the command line).
CASES = [
    ("small", "784-64-10 sigmoid, batch 32", [784, 64, 10], "sigmoid", 32, 1, 1,
     {"PyTorch CPU": 0.5, "PyTorch 1 thread": 0.5, "scikit-learn": 1.0, "command line": 0.5}),
    ("big", "784-700-700-700-10 ReLU, batch 128", [784, 700, 700, 700, 10], "relu", 128, 5, None,
     {"PyTorch CPU": 0.9, "scikit-learn": 1.0, "matmuls alone": 1.15}),
]
OURS = ("engine (NumPy)", "matmuls alone")  # the rows run on the case's BLAS threads


def _load() -> str:
    """The load averages over 1, 5 and 15 minutes, as uptime prints them."""
    return ", ".join(f"{x:.2f}" for x in os.getloadavg()) + f" on {os.cpu_count()} cores"


def blas_threads(n: int | None):
    """A context running NumPy's BLAS on n threads (None: the library's default)."""
    if n is None:
        return contextlib.nullcontext()
    from threadpoolctl import threadpool_limits
    return threadpool_limits(limits=n, user_api="blas")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rounds", type=int, default=7,
                    help="timed rounds, one epoch of each contender per round (the best is kept)")
    ap.add_argument("--cli-epochs", type=int, default=50,
                    help="epochs of each timed `python -m core.train` process (small net)")
    ap.add_argument("--only", choices=[c[0] for c in CASES],
                    help="time one net only (default: both)")
    a = ap.parse_args()
    print(f"load average at the start: {_load()}")
    d = load_dataset("mnist5k")
    for case, title, sizes, act, batch, rep, threads, goals in CASES:
        if a.only not in (None, case):
            continue
        X = np.ascontiguousarray(np.tile(d.X_train, (rep, 1)), dtype=np.float32)
        y = np.tile(d.y_train, rep)
        Y = np.eye(10, dtype=np.float32)[y]
        makers = {"engine (NumPy)": engine, "PyTorch CPU": pytorch, "scikit-learn": sklearn}
        small = "command line" in goals
        if small:
            makers["PyTorch 1 thread"] = pytorch_one_thread
        if "matmuls alone" in goals:
            makers["matmuls alone"] = matmuls
        epochs = {name: make(X, Y, y, sizes, act, batch) for name, make in makers.items()}
        runnable = {name: f for name, f in epochs.items() if f is not None}
        for name, f in runnable.items():
            with blas_threads(threads if name in OURS else None):
                f()  # warm-up: first-call costs (allocation, lazy imports, BLAS threads)
        best = dict.fromkeys(runnable, float("inf"))
        cli, cli_best = command_line(a.cli_epochs), float("inf")
        one, one_best = command_line(1), float("inf")  # start-up and a single epoch
        for _ in range(a.rounds):
            if small:
                time.sleep(PAUSE_S)
                cli_best = min(cli_best, cli())
                time.sleep(PAUSE_S)
                one_best = min(one_best, one())
            for name, f in runnable.items():
                # BLAS worker threads spin for a while after their last call; a pause keeps
                # one contender's spinning threads from slowing the next one down.
                time.sleep(PAUSE_S)
                with blas_threads(threads if name in OURS else None):
                    t = time.perf_counter()
                    f()
                    best[name] = min(best[name], time.perf_counter() - t)
        n, t_engine = len(X), best["engine (NumPy)"]
        blas = "the BLAS library's default threads" if threads is None else \
            f"{threads} BLAS thread{'s' * (threads > 1)}"
        print(f"\n{title}: {n:,} samples per epoch, best of {a.rounds} interleaved rounds; "
              f"engine on {blas}")
        for name in epochs:
            if name not in best:
                print(f"  {name:16s} not installed (pip install -r requirements-bench.txt)")
                continue
            line = f"  {name:16s} {best[name]:8.3f} s  {n / best[name]:12,.0f} samples/s"
            if name in goals:
                ratio = t_engine / best[name]
                verdict = "met" if ratio <= goals[name] else "MISSED"
                line += f"   engine/{name} = {ratio:.2f}x (goal <= {goals[name]}x: " \
                        f"{verdict})"
            print(line)
        torch_best = min(best.get("PyTorch CPU", np.inf), best.get("PyTorch 1 thread", np.inf))
        if small and np.isfinite(torch_best):
            ratio, goal = cli_best / torch_best, goals["command line"]
            print(f"  python -m core.train, whole process ({a.cli_epochs} epochs): "
                  f"{cli_best:.3f} s per epoch = {ratio:.2f}x the faster PyTorch epoch "
                  f"(goal <= {goal}x: {'met' if ratio <= goal else 'MISSED'})")
        if small and a.cli_epochs > 1:
            # T(1) = start-up + e, T(N) = start-up + N·e: each epoch e as the process runs it
            # (training, shuffling, its record and JSON line), and the start-up beside it.
            whole = cli_best * a.cli_epochs
            each = (whole - one_best) / (a.cli_epochs - 1)
            # (Each is a difference of two bests, so noisy; below the engine's epoch when the
            # records' evaluation ran on the other core and the engine's best was a bad one.)
            print(f"  of which: start-up {one_best - each:.3f} s (interpreter, imports, data); "
                  f"each epoch {1000 * each:.1f} ms with its shuffle, record and JSON line "
                  f"(the engine's epoch alone: {1000 * t_engine:.1f} ms)")
    print(f"load average at the end: {_load()}")


if __name__ == "__main__":
    main()
