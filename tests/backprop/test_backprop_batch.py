"""core.backprop.batch.trace_batch against two independent oracles and bad input.

Oracle 1 is trace_step run example by example: the batch loss is the mean of the examples' losses,
so every batch gradient must be the mean of theirs (to 1e-12), and a batch of one must be
trace_step's numbers exactly. Oracle 2 is SymPy's diff of the mean loss of a B = 2 batch, built
here from scalar symbols without core's network code, so a mistake shared with trace_step cannot
make it agree.
"""

from __future__ import annotations

import itertools
import zlib

import numpy as np
import pytest
import sympy as sp

from core.backprop import problems
from core.backprop.batch import trace_batch
from core.backprop.network import EntryError
from core.backprop.tracer import trace_step

ACTS = ("sigmoid", "tanh", "relu")
LOSSES = ("half_squared_error", "mean_squared_error", "cross_entropy")
PAIRS = list(itertools.product(ACTS, LOSSES))
HW = problems.homework()


def rng_for(*key) -> np.random.Generator:
    return np.random.default_rng(zlib.crc32("/".join(map(str, key)).encode()))


def random_batch(rng, shape, B, loss, normalised=True):
    W = [rng.uniform(-1, 1, (shape[k + 1], shape[k])) for k in range(len(shape) - 1)]
    b = [rng.uniform(-1, 1, shape[k + 1]) for k in range(len(shape) - 1)]
    X = rng.uniform(-1, 1, (B, shape[0]))
    if loss == "cross_entropy" and normalised:
        Y = rng.dirichlet(np.ones(shape[-1]), size=B)
    else:  # for cross-entropy too: rows that do not sum to 1 test δ = p·Σy − y
        Y = rng.uniform(0, 1, (B, shape[-1]))
    return W, b, X, Y


# ----------------------------------------------------------------------------- oracle 1
@pytest.mark.parametrize("act,loss", PAIRS)
def test_batch_of_one_is_trace_step_exactly(act: str, loss: str) -> None:
    t = trace_batch(HW.W, HW.b, [HW.x], [HW.y], 0.1, act, loss)
    s = trace_step(HW.W, HW.b, HW.x, HW.y, 0.1, act, loss)
    assert t.loss == s.loss
    for name in ("grad_weights", "grad_biases", "new_weights", "new_biases"):
        for got, want in zip(getattr(t, name), getattr(s, name), strict=True):
            assert np.array_equal(got, want), name
    for got, want in zip(t.deltas, s.deltas, strict=True):
        assert np.array_equal(got[0], want)


@pytest.mark.parametrize("act,loss", PAIRS)
@pytest.mark.parametrize("shape,B", [((3, 2, 2), 2), ((2, 3, 2, 3), 5), ((4, 2), 3)])
def test_batch_gradient_is_the_mean_of_the_examples_gradients(act, loss, shape, B) -> None:
    rng = rng_for(act, loss, shape, B)
    for _ in range(50):  # redraw a ReLU net that is dead on the whole batch (fixed seed: stable)
        W, b, X, Y = random_batch(rng, shape, B, loss, normalised=B != 5)
        t = trace_batch(W, b, X, Y, 0.05, act, loss)
        if all(np.abs(g).max() > 1e-3 for g in t.grad_weights):
            break
    each = [trace_step(W, b, x, y, 0.05, act, loss) for x, y in zip(X, Y, strict=True)]
    assert t.loss == pytest.approx(np.mean([e.loss for e in each]), rel=0, abs=1e-12)
    np.testing.assert_allclose(t.example_losses, [e.loss for e in each], rtol=0, atol=1e-12)
    for k in range(len(shape) - 1):
        mean_gw = np.mean([e.grad_weights[k] for e in each], axis=0)
        mean_gb = np.mean([e.grad_biases[k] for e in each], axis=0)
        np.testing.assert_allclose(t.grad_weights[k], mean_gw, rtol=0, atol=1e-12)
        np.testing.assert_allclose(t.grad_biases[k], mean_gb, rtol=0, atol=1e-12)
        np.testing.assert_allclose(t.new_weights[k], W[k] - 0.05 * mean_gw, rtol=0, atol=1e-12)
        np.testing.assert_allclose(t.new_biases[k], b[k] - 0.05 * mean_gb, rtol=0, atol=1e-12)
        # row b of Z^{(l)} and Δ^{(l)} is example b's z^{(l)} and δ^{(l)}
        np.testing.assert_allclose(t.pre_activations[k], [e.pre_activations[k] for e in each],
                                   rtol=0, atol=1e-12)
        np.testing.assert_allclose(t.deltas[k], [e.deltas[k] for e in each], rtol=0, atol=1e-12)
    assert all(np.abs(g).max() > 1e-3 for g in t.grad_weights)  # not a vacuous zero gradient


# ----------------------------------------------------------------------------- oracle 2: SymPy
def sympy_batch_oracle(shape, W, b, X, Y, act, loss):
    """Mean loss over the rows of X and its gradient, from scalar symbols and sympy.diff."""
    Ws = [[[sp.Symbol(f"W{k}_{j}_{i}", real=True) for i in range(shape[k])]
           for j in range(shape[k + 1])] for k in range(len(shape) - 1)]
    bs = [[sp.Symbol(f"B{k}_{j}", real=True) for j in range(shape[k + 1])]
          for k in range(len(shape) - 1)]
    f = {"sigmoid": lambda z: 1 / (1 + sp.exp(-z)), "tanh": sp.tanh,
         "relu": lambda z: (z + sp.Abs(z)) / 2}[act]
    total = 0
    for x, y in zip(X, Y, strict=True):
        a = [sp.Float(v, 30) for v in x]
        for k in range(len(shape) - 1):
            z = [sum(Ws[k][j][i] * a[i] for i in range(len(a))) + bs[k][j]
                 for j in range(shape[k + 1])]
            if k == len(shape) - 2 and loss == "cross_entropy":
                den = sum(sp.exp(zj) for zj in z)
                a = [sp.exp(zj) / den for zj in z]
            else:
                a = [f(zj) for zj in z]
        if loss == "cross_entropy":
            total += -sum(yk * sp.log(ak) for yk, ak in zip(y, a, strict=True))
        else:
            sq = sum((yk - ak) ** 2 for yk, ak in zip(y, a, strict=True))
            total += sq / 2 if loss == "half_squared_error" else sq / len(y)
    L = total / len(X)
    syms = [s for Wk in Ws for row in Wk for s in row] + [s for bk in bs for s in bk]
    vals = [v for Wk in W for row in Wk for v in row] + [v for bk in b for v in bk]
    fn = sp.lambdify(syms, [L, *(sp.diff(L, s) for s in syms)], modules="math")
    out = [float(v) for v in fn(*vals)]
    return out[0], out[1:]


@pytest.mark.parametrize("act,loss", PAIRS)
def test_batch_matches_sympy_diff_of_the_mean_loss(act: str, loss: str) -> None:
    shape = (2, 2, 2)
    # Hand-picked so that with ReLU each hidden unit is on for one example and off for the other:
    # z1 = 0.8·x1 − 0.5·x2 + 0.1 is 0.51 for x = (0.7, 0.4) and −0.21 for x = (−0.2, 0.3).
    W = [[[0.8, -0.5], [-0.6, 0.9]], [[0.7, -0.4], [0.3, 0.5]]]
    b = [[0.1, -0.05], [0.2, -0.1]]
    X = [[0.7, 0.4], [-0.2, 0.3]]
    Y = [[0.9, 0.1], [0.3, 1.2]] if loss != "cross_entropy" else [[1.0, 0.0], [0.4, 0.9]]
    t = trace_batch(W, b, X, Y, 0.1, act, loss)
    if act == "relu":
        on = t.pre_activations[0] > 0
        assert on.any(axis=0).all() and (~on).any(axis=0).all()
    L, grad = sympy_batch_oracle(shape, W, b, X, Y, act, loss)
    got = [v for g in t.grad_weights for v in g.ravel()] + [v for g in t.grad_biases for v in g]
    assert t.loss == pytest.approx(L, rel=1e-12)
    np.testing.assert_allclose(got, grad, rtol=1e-10, atol=1e-13)
    assert max(abs(v) for v in grad) > 1e-3


# ----------------------------------------------------------------------------- the steps
def test_steps_are_the_matrix_formulas_in_order_with_their_shapes() -> None:
    X, Y = [HW.x, [0.2, 0.4, 0.9]], [HW.y, [0.1, 0.9]]
    t = trace_batch(HW.W, HW.b, X, Y, 0.1)
    names = [s.name for s in t.steps]
    assert names == ["Z^(1)", "A^(1)", "Z^(2)", "Ŷ", "L", "Δ^(2)", "Δ^(1)", "∂L/∂W^(1)",
                     "∂L/∂b^(1)", "∂L/∂W^(2)", "∂L/∂b^(2)", "new W^(1)", "new b^(1)",
                     "new W^(2)", "new b^(2)"]
    by = {s.name: s for s in t.steps}
    z1 = by["Z^(1)"]
    assert z1.symbolic == r"Z^{(1)} = X W^{(1)\top} + \mathbf{1} b^{(1)\top}"
    assert z1.operand_shapes == (("X", (2, 3)), (r"W^{(1)\top}", (3, 2)), (r"\mathbf{1}", (2, 1)),
                                 (r"b^{(1)\top}", (1, 2)))
    assert r"\underset{2\times 3}{X}" in z1.shaped
    # 0.5·0.2 + 0.1·0.4 + 0.3·(−0.5) + 0.1 = 0.09 (the homework's z1); row 2:
    # 0.2·0.2 + 0.4·0.4 + 0.9·(−0.5) + 0.1 = 0.04 + 0.16 − 0.45 + 0.1 = −0.15
    assert z1.value[:, 0] == pytest.approx([0.09, -0.15], abs=1e-15)
    assert r"\begin{bmatrix} 0.5 & 0.1 & 0.3 \\ 0.2 & 0.4 & 0.9 \end{bmatrix}" in z1.substituted
    assert by["L"].shape == () and float(by["L"].value) == t.loss
    assert by["∂L/∂W^(1)"].symbolic.endswith(r"= \frac{1}{B} \Delta^{(1)\top} X")
    assert by["∂L/∂W^(1)"].substituted.split("=")[1].startswith(r" \frac{1}{2}")
    assert by["∂L/∂b^(2)"].shape == (2,) and by["new W^(1)"].shape == (2, 3)
    for s in t.steps:
        assert s.shape == np.shape(s.value)
        # every product in the formula is conformable: the shapes written under it add up
        if s.kind in ("grad_w", "grad_b"):
            (_, left), (_, right) = s.operand_shapes
            assert left[1] == right[0] == 2
            assert (left[0], right[1]) == (s.shape + (1,))[:2]


def test_cross_entropy_delta_is_written_with_the_row_sums_of_y() -> None:
    t = trace_batch(HW.W, HW.b, [HW.x, HW.x], [[1, 0], [0.5, 1.5]], 0.1, loss="cross_entropy")
    d = next(s for s in t.steps if s.name == "Δ^(2)")
    assert d.symbolic == r"\Delta^{(2)} = \operatorname{diag}(Y\mathbf{1}) \hat{Y} - Y"
    p = t.activations[-1]
    # row 2 sums to 2: δ = 2p − y
    np.testing.assert_allclose(d.value, [p[0] - [1, 0], 2 * p[1] - [0.5, 1.5]], atol=1e-15)


# ----------------------------------------------------------------------------- bad input
@pytest.mark.parametrize("X,Y,message", [
    ([[0.5, 0.1, 0.3], [0.2, 0.4]], [HW.y, HW.y], "X[1] has 2 entries, expected 3"),
    ([HW.x], [[0.9, float("nan")]], "Y[0][1] is NaN"),
    ([], [], "X is empty"),
    ([[]], [HW.y], "X[0] is empty"),
    ([[0.5, 0.1]], [HW.y], "X[0] has 2 entries, expected 3"),
    ([HW.x, HW.x], [[0.9, 0.1, 0.0], [0.1, 0.2, 0.3]], "Y[0] has 3 entries, expected 2"),
    ([HW.x, HW.x], [HW.y], "Y has 1 rows, expected 2"),
    (HW.x, [HW.y], "X[0] must be a list of numbers"),
    ([HW.x], "0.9 0.1", "Y must be a table"),
    ([[0.5, "abc", 0.3]], [HW.y], "X[0][1] is not a number"),
    ([[0.5, float("inf"), 0.3]], [HW.y], "X[0][1] is infinite"),
    ([[0.5, 1e300, 0.3]], [HW.y], "X[0][1] = 1e+300 is too large"),
    ([HW.x], [[0.9, 0.1], [0.1]], "Y[1] has 1 entries, expected 2"),
])
def test_bad_x_or_y_is_refused_naming_the_entry(X, Y, message) -> None:
    with pytest.raises(ValueError) as err:
        trace_batch(HW.W, HW.b, X, Y, 0.1)
    assert message in str(err.value)
    assert isinstance(err.value, EntryError)


def test_bad_weights_and_lr_are_named_as_in_trace_step() -> None:
    with pytest.raises(EntryError, match=r"weights\[1\]\[0\] has 3 entries, expected 2"):
        trace_batch([HW.W[0], [[0.5, -0.3, 1.0], [0.2, 0.7]]], HW.b, [HW.x], [HW.y], 0.1)
    with pytest.raises(EntryError, match="lr = -0.1 must be positive"):
        trace_batch(HW.W, HW.b, [HW.x], [HW.y], -0.1)
    with pytest.raises(ValueError, match="activation 'gelu'"):
        trace_batch(HW.W, HW.b, [HW.x], [HW.y], 0.1, activation="gelu")


def test_overflow_is_a_message_not_an_inf() -> None:
    # 60 ReLU layers of weight 1e6 (the largest allowed): z grows by 1e6 a layer, past 1e308
    W, b = [[[1e6]]] * 60, [[0.0]] * 60
    with pytest.raises(ValueError, match="overflows"):
        trace_batch(W, b, [[1.0]], [[0.5]], 0.1, "relu")
