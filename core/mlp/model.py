"""A multilayer perceptron with softmax output and cross-entropy loss, in vectorised NumPy.

Shapes for a batch of n samples and layer sizes d_0, d_1, …, d_L:

    A_0 = X                      (n, d_0)
    Z_l = A_{l-1} W_l + b_l      (n, d_l),   W_l (d_{l-1}, d_l),   b_l (d_l,)
    A_l = f(Z_l)                 hidden layers l = 1 … L−1
    P   = softmax(Z_L)           (n, K),     K = d_L
    ℒ   = −(1/n) Σ_i log P[i, y_i]  +  (λ/2) Σ_l ‖W_l‖²     (biases are not regularised)

Backward, with δ_l = ∂ℒ/∂Z_l:

    δ_L = (P − Y)/n
    ∂ℒ/∂W_l = A_{l-1}ᵀ δ_l + λ W_l,     ∂ℒ/∂b_l = Σ_i δ_l[i]
    δ_{l-1} = (δ_l W_lᵀ) ⊙ f'(Z_{l-1})

Every gradient is linear in δ_L, so starting from s·δ_L gives s·∂ℒ/∂θ everywhere: an optimiser
that only needs −η·g (SGD, momentum) gets it without a pass over the weights (`scale`).
Every intermediate lives in a buffer allocated once per batch size, so a training step is a
fixed sequence of BLAS calls and in-place ufuncs with no allocation.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from core.mlp.activations import make_activation
from core.mlp.initializers import make_weights

_sum, _max = np.add.reduce, np.maximum.reduce


def n_params_of(layer_sizes: Sequence[int]) -> int:
    """Σ_l (d_{l-1}·d_l + d_l): weights plus biases."""
    return sum(a * b + b for a, b in zip(layer_sizes[:-1], layer_sizes[1:], strict=False))


def param_formula(layer_sizes: Sequence[int]) -> str:
    """The parameter count as a sum, e.g. "784·64 + 64 + 64·10 + 10 = 50,890"."""
    terms = []
    for a, b in zip(layer_sizes[:-1], layer_sizes[1:], strict=False):
        terms += [f"{a}·{b}", f"{b}"]
    return f"{' + '.join(terms)} = {n_params_of(layer_sizes):,}"


class _Workspace:
    """Buffers for one batch size n: layer outputs, deltas, scratch, softmax row stats."""

    def __init__(self, n: int, sizes: Sequence[int], dtype: np.dtype) -> None:
        self.H = [np.empty((n, d), dtype) for d in sizes[1:]]  # A_1 … A_{L-1}, then P
        self.D = [np.empty((n, d), dtype) for d in sizes[1:]]  # δ_1 … δ_L
        self.T = [np.empty((n, d), dtype) for d in sizes[1:]]  # scratch for f'
        self.row = np.empty((n, 1), dtype)
        self.row2 = np.empty((n, 1), dtype)


class MLP:
    """Fully connected network d_0 → d_1 → … → d_L with activation f and softmax output.

    `params` is [W1, b1, W2, b2, …]: the model's own arrays, so editing one in place edits the
    model. `loss_and_grads` returns gradients in the same order.
    """

    def __init__(
        self,
        layer_sizes: Sequence[int],
        activation: str = "sigmoid",
        init: str = "fan_in",
        seed: int = 0,
        dtype: str | np.dtype = "float32",
    ) -> None:
        sizes = tuple(int(s) for s in layer_sizes)
        if len(sizes) < 2 or any(s < 1 for s in sizes):
            raise ValueError(
                "layer sizes must be at least two positive integers (inputs … classes), "
                f"got {sizes}"
            )
        self.dtype = np.dtype(dtype)
        if self.dtype not in (np.float32, np.float64):
            raise ValueError(f"dtype must be float32 or float64, got {self.dtype}")
        self.layer_sizes = sizes
        self.activation = make_activation(activation)
        rng = np.random.default_rng(seed)
        self.weights: list[np.ndarray] = []
        self.biases: list[np.ndarray] = []
        for fan_in, fan_out in zip(sizes[:-1], sizes[1:], strict=False):
            W = make_weights(init, fan_in, fan_out, rng).astype(self.dtype)
            self.weights.append(np.ascontiguousarray(W))
            self.biases.append(np.zeros(fan_out, self.dtype))
        self.params: list[np.ndarray] = [p for wb in zip(self.weights, self.biases, strict=False)
                                         for p in wb]
        self.n_params: int = n_params_of(sizes)
        self._work: dict[int, _Workspace] = {}
        self._l2_tmp: list[np.ndarray] | None = None  # λW scratch, made on first use of L2

    def snapshot(self, into: MLP | None = None) -> MLP:
        """A model holding a copy of these parameters (written into `into`'s own arrays when
        given, so a trainer can keep one): evaluated on one thread while this one trains on."""
        if into is None:
            into = object.__new__(MLP)
            into.__dict__.update(self.__dict__)
            into.weights = [W.copy() for W in self.weights]
            into.biases = [b.copy() for b in self.biases]
            into.params = [p for wb in zip(into.weights, into.biases, strict=True) for p in wb]
            into._work, into._l2_tmp = {}, None
        else:
            for mine, theirs in zip(self.params, into.params, strict=True):
                np.copyto(theirs, mine)
        return into

    @property
    def n_layers(self) -> int:
        """Number of weight layers L."""
        return len(self.weights)

    def _workspace(self, n: int) -> _Workspace:
        ws = self._work.get(n)
        if ws is None:
            if len(self._work) > 4:  # training uses ≤ 2 sizes (full and last batch)
                self._work.clear()
            ws = self._work[n] = _Workspace(n, self.layer_sizes, self.dtype)
        return ws

    def _forward(self, X: np.ndarray, ws: _Workspace) -> np.ndarray:
        """Fill ws.H with A_1 … A_{L-1} and the softmax P; return P (a view into ws)."""
        A = X
        last = len(self.weights) - 1
        for k, (W, b) in enumerate(zip(self.weights, self.biases, strict=False)):
            Z = ws.H[k]
            np.matmul(A, W, out=Z)
            Z += b
            if k < last:
                self.activation.forward(Z)
            A = Z
        # Softmax is shift invariant: subtracting the row max keeps e^z from overflowing.
        # (ufunc.reduce is what np.max/np.sum call, without their Python wrapper: the same
        # numbers, a few microseconds less per call on a (32, 10) batch.)
        _max(A, axis=1, keepdims=True, out=ws.row)
        A -= ws.row
        return A  # shifted logits; the caller exponentiates

    def _softmax_inplace(self, S: np.ndarray, ws: _Workspace) -> np.ndarray:
        np.exp(S, out=S)
        _sum(S, axis=1, keepdims=True, out=ws.row2)
        S /= ws.row2
        return S

    def predict_proba(self, X: np.ndarray, batch: int = 4096) -> np.ndarray:
        """Class probabilities P (n, K) for inputs X (n, d_0), computed in chunks."""
        X = np.asarray(X, dtype=self.dtype)
        out = np.empty((X.shape[0], self.layer_sizes[-1]), self.dtype)
        with np.errstate(over="ignore", under="ignore", invalid="ignore"):
            for i in range(0, X.shape[0], batch):
                Xb = X[i:i + batch]
                ws = _Workspace(Xb.shape[0], self.layer_sizes, self.dtype)
                out[i:i + batch] = self._softmax_inplace(self._forward(Xb, ws), ws)
        return out

    def evaluate(self, X: np.ndarray, y: np.ndarray, batch: int = 4096) -> tuple[float, float]:
        """Mean cross-entropy (without the L2 term) and accuracy on labelled data."""
        X = np.asarray(X, dtype=self.dtype)
        total, correct = 0.0, 0
        with np.errstate(over="ignore", under="ignore", invalid="ignore", divide="ignore"):
            for i in range(0, X.shape[0], batch):
                Xb, yb = X[i:i + batch], y[i:i + batch]
                ws = _Workspace(Xb.shape[0], self.layer_sizes, self.dtype)
                S = self._forward(Xb, ws)
                # log P[i, y_i] = s_{y_i} − log Σ_k e^{s_k}, with s already shifted by its max.
                s_true = S[np.arange(len(yb)), yb].astype(np.float64)
                correct += int(np.count_nonzero(S.argmax(axis=1) == yb))
                np.exp(S, out=S)
                lse = np.log(S.sum(axis=1, dtype=np.float64))
                total += float(np.sum(lse - s_true))
        n = max(len(y), 1)
        return total / n, correct / n

    def l2_penalty(self, l2: float) -> float:
        """(λ/2) Σ_l ‖W_l‖²."""
        if l2 == 0.0:
            return 0.0
        return 0.5 * l2 * float(sum(np.vdot(W, W) for W in self.weights))

    def loss_and_grads(
        self,
        X: np.ndarray,
        Y_onehot: np.ndarray,
        l2: float = 0.0,
        out: list[np.ndarray] | None = None,
        scale: float = 1.0,
    ) -> tuple[float, list[np.ndarray]]:
        """Mean cross-entropy (+ L2 term) on the batch and ∂ℒ/∂θ aligned with `params`.

        X (n, d_0), Y_onehot (n, K). Pass `out` (arrays shaped like `params`) to have the
        gradients written there instead of into new arrays. With `scale` = s the gradients
        come back as s·∂ℒ/∂θ (the loss itself is not scaled): see `core.mlp.optimizers`.
        """
        X = np.asarray(X, dtype=self.dtype)
        Y = np.asarray(Y_onehot, dtype=self.dtype)
        n = X.shape[0]
        if X.ndim != 2 or X.shape[1] != self.layer_sizes[0] or Y.shape != (n, self.layer_sizes[-1]):
            raise ValueError(
                f"expected X (n, {self.layer_sizes[0]}) and Y (n, {self.layer_sizes[-1]}), "
                f"got {X.shape} and {Y.shape}"
            )
        grads = out if out is not None else [np.empty_like(p) for p in self.params]
        ws = self._workspace(n)
        S = self._forward(X, ws)
        # ℒ_i = log Σ_k e^{s_ik} − s_{i,y_i}; both parts from the shifted logits, never log(0).
        D = ws.D[-1]
        np.multiply(S, Y, out=D)
        s_true = float(_sum(D, axis=None, dtype=np.float64))
        P = self._softmax_inplace(S, ws)
        log_norm = np.log(ws.row2, out=ws.row2)  # the row sums are not needed after P
        loss = (float(_sum(log_norm, axis=None, dtype=np.float64)) - s_true) / n
        if l2 != 0.0:
            loss += self.l2_penalty(l2)

        np.subtract(P, Y, out=D)
        D *= scale / n
        for k in range(len(self.weights) - 1, -1, -1):
            gW, gb = grads[2 * k], grads[2 * k + 1]
            A_prev = X if k == 0 else ws.H[k - 1]
            np.matmul(A_prev.T, D, out=gW)
            _sum(D, axis=0, out=gb)
            if l2 != 0.0:
                tmp = self._l2_scratch()[k]
                np.multiply(self.weights[k], scale * l2, out=tmp)
                gW += tmp
            if k > 0:
                # δ_{l-1} = (δ_l W_lᵀ) ⊙ f'(Z_{l-1}); the input layer needs no δ.
                D_prev = ws.D[k - 1]
                np.matmul(D, self.weights[k].T, out=D_prev)
                self.activation.backward(ws.H[k - 1], D_prev, ws.T[k - 1])
                D = D_prev
        return loss, grads

    def _l2_scratch(self) -> list[np.ndarray]:
        if self._l2_tmp is None:
            self._l2_tmp = [np.empty_like(W) for W in self.weights]
        return self._l2_tmp
