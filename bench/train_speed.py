"""Epoch time of this NumPy MLP engine vs PyTorch CPU and scikit-learn, measured in one run.

    python bench/train_speed.py [--epochs 3]

Same architecture, data (mnist5k training split; the big net repeats it to 20,000 rows), batch
size, plain SGD, float32. Prints samples/s, the ratio of epoch times (engine / reference, lower
is better) and, for the big net, the time its matrix products alone take (the limit).
Needs `pip install -r requirements-bench.txt` for PyTorch; without it that column is skipped.
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from core.data import load_dataset  # noqa: E402
from core.mlp import MLP  # noqa: E402
from core.optim import SGD  # noqa: E402


def engine_epoch(X, Y, sizes, act, batch, epochs) -> float:
    """The inner step of `core.training.TrainingRun`: loss_and_grads, then the SGD update."""
    m = MLP(sizes, act, "he" if act == "relu" else "fan_in")
    opt, grads = SGD(m.params), [np.empty_like(p) for p in m.params]
    lr = 0.01
    best = float("inf")
    for _ in range(epochs):
        t = time.perf_counter()
        for i in range(0, len(X), batch):
            m.loss_and_grads(X[i:i + batch], Y[i:i + batch], 0.0, out=grads,
                             scale=opt.grad_scale(lr))
            opt.apply(m.params, grads, lr)
        best = min(best, time.perf_counter() - t)
    return best


def matmul_epoch(X, sizes, batch, epochs) -> float:
    """Only the GEMMs of forward and backward (no δ for the input layer), same shapes and
    batches (the last one short, as in the engine), on realistic values."""
    rng = np.random.default_rng(0)
    pairs = list(zip(sizes[:-1], sizes[1:], strict=False))
    Ws = [rng.normal(0, 0.05, (a, b)).astype(np.float32) for a, b in pairs]
    H = [np.empty((batch, b), np.float32) for b in sizes[1:]]
    D = [rng.normal(0, 0.01, (batch, b)).astype(np.float32) for b in sizes[1:]]
    G = [np.empty_like(W) for W in Ws]
    best = float("inf")
    for _ in range(epochs):
        t = time.perf_counter()
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
        best = min(best, time.perf_counter() - t)
    return best


def torch_epoch(X, y, sizes, act, batch, epochs) -> float | None:
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
    opt = torch.optim.SGD(net.parameters(), lr=0.01)
    loss_fn = torch.nn.CrossEntropyLoss()
    Xt, yt = torch.from_numpy(X), torch.from_numpy(y)
    best = float("inf")
    for _ in range(epochs):
        t = time.perf_counter()
        for i in range(0, len(X), batch):
            opt.zero_grad(set_to_none=True)
            loss_fn(net(Xt[i:i + batch]), yt[i:i + batch]).backward()
            opt.step()
        best = min(best, time.perf_counter() - t)
    return best


def sklearn_epoch(X, y, sizes, act, batch, epochs) -> float:
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.neural_network import MLPClassifier
    clf = MLPClassifier(hidden_layer_sizes=sizes[1:-1], activation="relu" if act == "relu"
                        else "logistic", solver="sgd", batch_size=batch, learning_rate_init=0.01,
                        momentum=0.0, alpha=0.0, max_iter=1, shuffle=False, tol=0.0,
                        random_state=0)
    classes = np.arange(sizes[-1])
    best = float("inf")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        for _ in range(epochs):
            t = time.perf_counter()
            clf.partial_fit(X, y, classes=classes)
            best = min(best, time.perf_counter() - t)
    return best


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--epochs", type=int, default=3, help="timed epochs (the best is kept)")
    a = ap.parse_args()
    d = load_dataset("mnist5k")
    cases = [("784-64-10 sigmoid, batch 32", [784, 64, 10], "sigmoid", 32, 1),
             ("784-700-700-700-10 ReLU, batch 128", [784, 700, 700, 700, 10], "relu", 128, 5)]
    for title, sizes, act, batch, rep in cases:
        X = np.ascontiguousarray(np.tile(d.X_train, (rep, 1)), dtype=np.float32)
        y = np.tile(d.y_train, rep)
        Y = np.eye(10, dtype=np.float32)[y]
        n = len(X)
        t_np = engine_epoch(X, Y, sizes, act, batch, a.epochs)
        t_th = torch_epoch(X, y, sizes, act, batch, a.epochs)
        t_sk = sklearn_epoch(X, y, sizes, act, batch, a.epochs)
        print(f"\n{title}: {n:,} samples per epoch, best of {a.epochs} epochs")
        print(f"  engine (NumPy)   {t_np:8.3f} s  {n / t_np:12,.0f} samples/s")
        if t_th is None:
            print("  PyTorch CPU      not installed (pip install -r requirements-bench.txt)")
        else:
            print(f"  PyTorch CPU      {t_th:8.3f} s  {n / t_th:12,.0f} samples/s   "
                  f"engine/PyTorch = {t_np / t_th:.2f}x")
        print(f"  scikit-learn     {t_sk:8.3f} s  {n / t_sk:12,.0f} samples/s   "
              f"engine/sklearn = {t_np / t_sk:.2f}x")
        if rep > 1:
            t_mm = matmul_epoch(X, sizes, batch, a.epochs)
            print(f"  matmuls alone    {t_mm:8.3f} s  {n / t_mm:12,.0f} samples/s   "
                  f"engine/matmuls = {t_np / t_mm:.2f}x")


if __name__ == "__main__":
    main()
