"""One gradient-descent step on a minibatch, in matrix form: the rows of X are the examples.

With B examples, X of shape (B, n_0) and Y of shape (B, n_L), W^{(l)} of shape (n_l, n_{l-1}) and
b^{(l)} of shape (n_l,) exactly as `trace_step` takes them, 1 the B×1 column of ones:

    forward    Z^{(l)} = A^{(l-1)} W^{(l)ᵀ} + 1 b^{(l)ᵀ}        (B, n_l),   A^{(l)} = f(Z^{(l)}),
               A^{(0)} = X, Ŷ = A^{(L)} (row-wise softmax for the cross-entropy loss)
    loss       L = (1/B) Σ_b L_b, the mean of the examples' losses
    output     Δ^{(L)} = ∂(B·L)/∂Z^{(L)}: (Ŷ − Y) ⊙ f'(Z^{(L)}), (2/n_L)(Ŷ − Y) ⊙ f'(Z^{(L)}), or
               diag(Y 1) Ŷ − Y for cross-entropy (row b is p_b Σ_k y_bk − y_b, as in trace_step)
    hidden     Δ^{(l)} = (Δ^{(l+1)} W^{(l+1)}) ⊙ f'(Z^{(l)})                   (B, n_l)
    gradient   ∂L/∂W^{(l)} = (1/B) Δ^{(l)ᵀ} A^{(l-1)},   ∂L/∂b^{(l)} = (1/B) Δ^{(l)ᵀ} 1
    update     W ← W − η ∂L/∂W,  b ← b − η ∂L/∂b

Row b of Δ^{(l)} is example b's δ^{(l)}, so the batch gradient is the mean of the examples'
gradients. The homework reports write W as I×J with x a 1×I row (∂L/∂W = xᵀδ there): their W is
this module's W^{(l)ᵀ}, and their gradient is the transpose of ∂L/∂W^{(l)} here.

Each row goes through trace_step's own forward pass and f, f', losses (core.backprop.network,
core.backprop.functions), so a batch of one is trace_step's numbers bit for bit whatever the BLAS
kernel; the gradients are the matrix products above.

(Just over 300 lines: each step's numbers and its LaTeX with shapes are written side by side.)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from core.backprop import network as net
from core.backprop.functions import ACTIVATIONS, LOSSES
from core.numbers import tex_number

__all__ = ["BatchTrace", "MatrixStep", "trace_batch"]


@dataclass(frozen=True)
class MatrixStep:
    """One matrix line of the derivation.

    `symbolic` and `substituted` are LaTeX "lhs = rhs"; `shaped` is `symbolic` with each operand's
    shape set under it (\\underset{2\\times 3}{X}); `operand_shapes` lists (operand LaTeX, shape)
    in the order they appear, each once. `value` is the result, `shape` its shape: (B, n) for
    Z, A, Ŷ and Δ, () for L, (n_l, n_{l-1}) for weight gradients and updates, (n_l,) for biases.
    """

    name: str  # "Z^(1)", "A^(1)", "Ŷ", "L", "Δ^(2)", "∂L/∂W^(1)", "∂L/∂b^(1)", "new W^(1)", …
    symbolic: str
    substituted: str
    value: np.ndarray
    shape: tuple[int, ...]
    operand_shapes: tuple[tuple[str, tuple[int, ...]], ...]
    shaped: str
    label: str  # LaTeX left-hand side
    kind: str  # z, a, loss, delta, grad_w, grad_b, new_w, new_b (as trace_step's Step.kind)
    layer: int  # l (1..L); 0 for the loss


@dataclass(frozen=True)
class BatchTrace:
    """Everything one minibatch step computes. activations[0] = X; lists are in layer order."""

    X: np.ndarray
    Y: np.ndarray
    weights: tuple[np.ndarray, ...]
    biases: tuple[np.ndarray, ...]
    lr: float
    activation: str
    loss_name: str
    loss: float  # mean of example_losses
    example_losses: np.ndarray  # (B,)
    pre_activations: list[np.ndarray]  # Z^{(l)}, (B, n_l)
    activations: list[np.ndarray]  # A^{(0)} = X … A^{(L)} = Ŷ
    deltas: list[np.ndarray]  # Δ^{(l)}, (B, n_l)
    grad_weights: list[np.ndarray]
    grad_biases: list[np.ndarray]
    new_weights: list[np.ndarray]
    new_biases: list[np.ndarray]
    steps: list[MatrixStep]

    @property
    def batch_size(self) -> int:
        return len(self.X)


# ----------------------------------------------------------------------------- validation
def _matrix(values, name: str) -> np.ndarray:
    """A non-empty table of finite numbers with rows of one length, or EntryError naming a cell."""
    if isinstance(values, str | bytes):
        raise net.EntryError(name, (), "must be a table: a list of rows, one per example")
    try:
        rows = list(values)
    except TypeError:
        raise net.EntryError(name, (), "must be a table: a list of rows, one per example") from None
    if not rows:
        raise net.EntryError(name, (), "is empty: give at least one example (one row)")
    first = net._vector(rows[0], name, (0,))  # the cells as trace_step reads x and y
    return np.array([first, *(net._vector(row, name, (r,), len(first))
                              for r, row in enumerate(rows[1:], start=1))])


def _input_width(weights) -> int | None:
    """n_0 as the first weight table says, when its rows agree (else validate names the row)."""
    try:
        widths = {len(row) for row in weights[0] if not isinstance(row, str | bytes)}
    except (TypeError, IndexError, KeyError):
        return None
    return widths.pop() if len(widths) == 1 else None


def _validate(weights, biases, X, Y, lr, activation, loss) -> tuple[net.Problem, np.ndarray,
                                                                     np.ndarray]:
    Xm, Ym = _matrix(X, "X"), _matrix(Y, "Y")
    n_in = _input_width(weights)
    if n_in is not None and Xm.shape[1] != n_in:
        raise net.EntryError("X", (0,), f"has {Xm.shape[1]} entries, expected {n_in} (one per "
                             "input of the network)")
    if len(Ym) != len(Xm):
        raise net.EntryError("Y", (), f"has {len(Ym)} rows, expected {len(Xm)} (one per row of X)")
    try:
        p = net.validate(weights, biases, Xm[0], Ym[0], lr, activation, loss)
    except net.EntryError as err:
        if err.name not in ("x", "y"):
            raise
        # Only a row length can be wrong here (the cells are checked): say it of the matrix.
        where = " (one per output of the network)" if err.name == "y" else ""
        raise net.EntryError(err.name.upper(), (0, *err.index), err.complaint + where) from None
    return p, Xm, Ym


# ----------------------------------------------------------------------------- NumPy, row by row
def _pass(p: net.Problem, X: np.ndarray, Y: np.ndarray):
    """Z, A, per-example losses and Δ for every layer, each example as trace_step works it."""
    n_layers = len(p.W)
    Zs: list[list[np.ndarray]] = [[] for _ in range(n_layers)]
    As: list[list[np.ndarray]] = [[] for _ in range(n_layers)]
    Ds: list[list[np.ndarray]] = [[] for _ in range(n_layers)]
    losses = []
    f, lo = ACTIVATIONS[p.activation], LOSSES[p.loss]
    for x, y in zip(X, Y, strict=True):
        zs, acts = net.forward(p.W, p.b, x, p.activation, p.loss)
        losses.append(lo.value(y, acts[-1]))
        grad = lo.grad(y, acts[-1])  # ∂L/∂z^{(L)} itself under softmax, else ∂L/∂ŷ
        d = grad if lo.softmax_output else grad * f.prime(zs[-1], acts[-1])
        ds = [d]
        for ell in range(n_layers - 1, 0, -1):
            d = f.prime(zs[ell - 1], acts[ell]) * (p.W[ell].T @ d)
            ds.insert(0, d)
        for ell in range(n_layers):
            Zs[ell].append(zs[ell])
            As[ell].append(acts[ell + 1])
            Ds[ell].append(ds[ell])
    return ([np.vstack(z) for z in Zs], [X, *(np.vstack(a) for a in As)], np.array(losses),
            [np.vstack(d) for d in Ds])


# ----------------------------------------------------------------------------- LaTeX
@dataclass(frozen=True)
class _Op:
    """An operand: its LaTeX name, its numbers as LaTeX, its shape."""

    tex: str
    num: str
    shape: tuple[int, ...]


def _bmatrix(m: np.ndarray) -> str:
    m = np.atleast_2d(m)
    rows = r" \\ ".join(" & ".join(tex_number(float(v)) for v in row) for row in m)
    return rf"\begin{{bmatrix}} {rows} \end{{bmatrix}}"


def _op(tex: str, m: np.ndarray, column: bool = False) -> _Op:
    """Operand for a matrix; a 1-D vector is a row unless `column` (biases are columns)."""
    m = np.asarray(m, dtype=float)
    if m.ndim == 1:
        m = m.reshape(-1, 1) if column else m.reshape(1, -1)
    return _Op(tex, _bmatrix(m), m.shape)


def _scalar(tex: str, num: str) -> _Op:
    return _Op(tex, num, ())


def _shape_tex(shape: tuple[int, ...]) -> str:
    return r"\times ".join(str(n) for n in shape)


def _step(name: str, label: str, parts: list, value, kind: str, layer: int) -> MatrixStep:
    """parts mixes _Op operands and literal LaTeX (operators, brackets)."""
    def text(pick) -> str:
        return "".join(pick(p) if isinstance(p, _Op) else p for p in parts)

    ops = [p for p in parts if isinstance(p, _Op) and p.shape]
    unique = tuple(dict.fromkeys((o.tex, o.shape) for o in ops))
    value = np.array(value, dtype=float)
    return MatrixStep(
        name=name, symbolic=f"{label} = {text(lambda o: o.tex)}",
        substituted=f"{label} = {text(lambda o: o.num)}", value=value, shape=value.shape,
        operand_shapes=unique,
        shaped=f"{label} = " + text(lambda o: rf"\underset{{{_shape_tex(o.shape)}}}{{{o.tex}}}"
                                    if o.shape else o.tex),
        label=label, kind=kind, layer=layer)


def _a_name(ell: int, n_layers: int) -> tuple[str, str]:
    """(plain name, LaTeX) of A^{(ell)}: X for the inputs, Ŷ for the outputs."""
    if ell == 0:
        return "X", "X"
    if ell == n_layers:
        return "Ŷ", r"\hat{Y}"
    return f"A^({ell})", f"A^{{({ell})}}"


def _f_prime_parts(activation: str, a: _Op, z: _Op) -> list:
    """f'(Z) elementwise, from the activation's own spec, with the operands put in."""
    return [{"a": a, "z": z}.get(part, part)
            for part in ACTIVATIONS[activation].matrix_derivative]


def _steps(p: net.Problem, X, Y, Zs, As, Ds, gW, gb, nW, nb, L: float) -> list[MatrixStep]:
    n_layers, B = len(p.W), len(X)
    ones = _op(r"\mathbf{1}", np.ones(B), column=True)
    inv_b = _scalar(r"\frac{1}{B}", rf"\frac{{1}}{{{B}}}")
    eta = _scalar(r"\eta", tex_number(p.lr))
    a_ops = [_op(_a_name(ell, n_layers)[1], As[ell]) for ell in range(n_layers + 1)]
    z_ops = [_op(f"Z^{{({ell + 1})}}", Zs[ell]) for ell in range(n_layers)]
    d_ops = [_op(rf"\Delta^{{({ell + 1})}}", Ds[ell]) for ell in range(n_layers)]
    y_op = _op("Y", Y)
    steps = []
    for ell in range(n_layers):
        lay = ell + 1
        wt = _op(rf"W^{{({lay})\top}}", p.W[ell].T)
        bt = _op(rf"b^{{({lay})\top}}", p.b[ell])
        steps.append(_step(f"Z^({lay})", z_ops[ell].tex, [a_ops[ell], " ", wt, " + ", ones, " ",
                                                           bt], Zs[ell], "z", lay))
        name, label = _a_name(lay, n_layers)
        if lay == n_layers and p.loss == "cross_entropy":
            rhs = [r"\operatorname{softmax}_{\mathrm{rows}}\left(", z_ops[ell], r"\right)"]
        else:
            f = {"sigmoid": r"\sigma", "tanh": r"\tanh", "relu": r"\operatorname{ReLU}"}
            rhs = [f[p.activation] + r"\left(", z_ops[ell], r"\right)"]
        steps.append(_step(name, label, rhs, As[lay], "a", lay))
    yhat = a_ops[-1]
    n_out = Y.shape[1]
    if p.loss == "half_squared_error":
        loss_rhs = [_scalar(r"\frac{1}{2B}", rf"\frac{{1}}{{{2 * B}}}"), r" \sum_{b,k} \left(",
                    y_op, " - ", yhat, r"\right)_{bk}^{2}"]
    elif p.loss == "mean_squared_error":
        loss_rhs = [_scalar(rf"\frac{{1}}{{{n_out}B}}", rf"\frac{{1}}{{{n_out * B}}}"),
                    r" \sum_{b,k} \left(", y_op, " - ", yhat, r"\right)_{bk}^{2}"]
    else:
        loss_rhs = ["-", inv_b, r" \sum_{b,k} \left(", y_op, r" \odot \log ", yhat,
                    r"\right)_{bk}"]
    steps.append(_step("L", "L", loss_rhs, L, "loss", 0))
    out = n_layers - 1
    if p.loss == "cross_entropy":
        diag = _op(r"\operatorname{diag}(Y\mathbf{1})", np.diag(Y.sum(axis=1)))
        rhs = [diag, " ", yhat, " - ", y_op]
    else:
        scale = [] if p.loss == "half_squared_error" else [
            _scalar(rf"\frac{{2}}{{{n_out}}}", rf"\frac{{2}}{{{n_out}}}"), " "]
        rhs = [*scale, r"\left(", yhat, " - ", y_op, r"\right) \odot ",
               *_f_prime_parts(p.activation, yhat, z_ops[out])]
    steps.append(_step(f"Δ^({n_layers})", d_ops[out].tex, rhs, Ds[out], "delta", n_layers))
    for ell in range(n_layers - 2, -1, -1):
        w_next = _op(f"W^{{({ell + 2})}}", p.W[ell + 1])
        rhs = [r"\left(", d_ops[ell + 1], " ", w_next, r"\right) \odot ",
               *_f_prime_parts(p.activation, a_ops[ell + 1], z_ops[ell])]
        steps.append(_step(f"Δ^({ell + 1})", d_ops[ell].tex, rhs, Ds[ell], "delta", ell + 1))
    for ell in range(n_layers):
        lay = ell + 1
        dt = _op(rf"\Delta^{{({lay})\top}}", Ds[ell].T)
        steps.append(_step(f"∂L/∂W^({lay})", rf"\frac{{\partial L}}{{\partial W^{{({lay})}}}}",
                           [inv_b, " ", dt, " ", a_ops[ell]], gW[ell], "grad_w", lay))
        steps.append(_step(f"∂L/∂b^({lay})", rf"\frac{{\partial L}}{{\partial b^{{({lay})}}}}",
                           [inv_b, " ", dt, " ", ones], gb[ell], "grad_b", lay))
    for ell in range(n_layers):
        lay = ell + 1
        for sym, old, grad, new, kind in (("W", p.W[ell], gW[ell], nW[ell], "new_w"),
                                          ("b", p.b[ell], gb[ell], nb[ell], "new_b")):
            col = sym == "b"
            rhs = [_op(f"{sym}^{{({lay})}}", old, col), " - ", eta, " ",
                   _op(rf"\frac{{\partial L}}{{\partial {sym}^{{({lay})}}}}", grad, col)]
            steps.append(_step(f"new {sym}^({lay})", rf"{sym}^{{({lay})\,\mathrm{{new}}}}", rhs,
                               new, kind, lay))
    return steps


def trace_batch(weights, biases, X, Y, lr, activation: str = "sigmoid",
                loss: str = "half_squared_error") -> BatchTrace:
    """Forward pass, mean loss, Δs, gradients and updates of one step on the minibatch (X, Y).

    weights[l] (n_{l+1}, n_l) and biases[l] (n_{l+1},) as for trace_step; X (B, n_in), Y
    (B, n_out), one example per row. Raises ValueError naming the first bad entry ("X[1] has 2
    entries, expected 3", "Y[0][1] is NaN …"), an EntryError when it is one cell of the problem,
    and ValueError when a result overflows.
    """
    p, Xm, Ym = _validate(weights, biases, X, Y, lr, activation, loss)
    B = len(Xm)
    with np.errstate(all="ignore"):
        Zs, As, losses, Ds = _pass(p, Xm, Ym)
        L = float(np.mean(losses))
        gW = [D.T @ A / B for D, A in zip(Ds, As[:-1], strict=True)]
        gb = [D.sum(axis=0) / B for D in Ds]
        nW = [W - p.lr * g for W, g in zip(p.W, gW, strict=True)]
        nb = [b - p.lr * g for b, g in zip(p.b, gb, strict=True)]
    steps = _steps(p, Xm, Ym, Zs, As, Ds, gW, gb, nW, nb, L)
    for s in steps:
        if not np.all(np.isfinite(s.value)):
            raise ValueError(f"{s.name} overflows: make the weights, inputs or learning rate "
                             "smaller")
    return BatchTrace(Xm, Ym, p.W, p.b, p.lr, p.activation, p.loss, L, losses, Zs, As, Ds, gW,
                      gb, nW, nb, steps)
