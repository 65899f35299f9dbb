"""core.backprop.trace_step against independent oracles: hand values, SymPy, finite differences.

The SymPy oracle here is built separately from core.backprop.network (matrices, `Max` for ReLU,
the log of the softmax written out), so a shared mistake cannot make both sides agree.
"""

from __future__ import annotations

import copy
import itertools
import zlib

import numpy as np
import pytest
import sympy as sp

from core.backprop import problems
from core.backprop.network import EntryError
from core.backprop.oracle import sympy_cost
from core.backprop.tracer import trace_step

ACTS = ("sigmoid", "tanh", "relu")
LOSSES = ("half_squared_error", "mean_squared_error", "cross_entropy")
HW = problems.homework()


def homework_with(activation: str, loss: str):
    return trace_step(HW.W, HW.b, HW.x, HW.y, 0.1, activation, loss)


# ----------------------------------------------------------------------------- hand values
def test_default_network_matches_hand_computation(homework_trace) -> None:
    t = homework_trace
    # Forward, layer 1 (x = [0.5, 0.1, 0.3]):
    #   z1 = 0.2*0.5 + 0.4*0.1 + (-0.5)*0.3 + 0.1 = 0.1 + 0.04 - 0.15 + 0.1 = 0.09
    #   z2 = 0.3*0.5 + (-0.1)*0.1 + 0.6*0.3 - 0.2 = 0.15 - 0.01 + 0.18 - 0.2 = 0.12
    #   a1 = 1/(1 + e^-0.09) = 1/1.913931 = 0.522485,  a2 = 1/(1 + e^-0.12) = 1/1.886920 = 0.529964
    assert t.pre_activations[0] == pytest.approx([0.09, 0.12], abs=1e-12)
    assert t.activations[1] == pytest.approx([0.522485, 0.529964], abs=1e-6)
    # Layer 2: z1 = 0.5*0.522485 - 0.3*0.529964 + 0.1 = 0.202253
    #          z2 = 0.2*0.522485 + 0.7*0.529964 - 0.1 = 0.375472
    #   ŷ1 = σ(0.202253) = 0.550392, ŷ2 = σ(0.375472) = 0.592780
    assert t.pre_activations[1] == pytest.approx([0.202253, 0.375472], abs=1e-6)
    assert t.activations[2] == pytest.approx([0.550392, 0.592780], abs=1e-6)
    # L = ½[(0.9 - 0.550392)² + (0.1 - 0.592780)²] = ½[0.122226 + 0.242832] = 0.182529
    assert t.loss == pytest.approx(0.182529, abs=1e-6)
    # δ1(2) = (0.550392 - 0.9)·0.550392·0.449608 = -0.349608·0.247461 = -0.086514
    # δ2(2) = (0.592780 - 0.1)·0.592780·0.407220 =  0.492780·0.241392 =  0.118953
    assert t.deltas[1] == pytest.approx([-0.086514, 0.118953], abs=1e-6)
    # δ1(1) = a1(1 - a1)·(0.5·δ1 + 0.2·δ2) = 0.249494·(-0.043257 + 0.023791) = -0.0048567
    assert t.deltas[0][0] == pytest.approx(-0.0048567, abs=1e-7)
    # ∂L/∂w11 = δ1(1)·x1 = -0.0048567·0.5 = -0.0024284;  w11 ← 0.2 - 0.1·(-0.0024284) = 0.2002428
    assert t.grad_weights[0][0][0] == pytest.approx(-0.0024284, abs=1e-7)
    assert t.new_weights[0][0][0] == pytest.approx(0.2002428, abs=1e-7)
    assert t.w11.new_value == pytest.approx(0.2002428, abs=1e-7)


def test_steps_are_ordered_and_carry_formula_substitution_and_value(homework_trace) -> None:
    t = homework_trace
    names = [s.name for s in t.steps]
    # 4 z + 4 a, the loss, 4 deltas, 10 + 4 gradients, 10 + 4 updates.
    assert len(names) == 41
    assert names[0] == "z1^(1)" and names.index("L") == 8
    assert names.index("δ1^(2)") < names.index("δ1^(1)") < names.index("∂L/∂w11^(1)")
    assert names.index("∂L/∂b2^(2)") < names.index("new w11^(1)")
    step = t.steps[0]
    assert step.symbolic == (r"z^{(1)}_{1} = w^{(1)}_{11} x_{1} + w^{(1)}_{12} x_{2} + "
                             r"w^{(1)}_{13} x_{3} + b^{(1)}_{1}")
    assert step.substituted == (r"z^{(1)}_{1} = 0.2 \cdot 0.5 + 0.4 \cdot 0.1 + "
                                r"\left(-0.5\right) \cdot 0.3 + 0.1")
    assert step.value == pytest.approx(0.09)
    update = t.steps[names.index("new w11^(1)")]
    assert r"\eta" in update.symbolic and "0.1" in update.substituted
    assert update.value == t.new_weights[0][0][0]
    by_name = {s.name: s.value for s in t.steps}
    assert by_name["L"] == t.loss and by_name["ŷ2"] == t.activations[2][1]


# ----------------------------------------------------------------------------- SymPy oracle
def sympy_oracle(shape, W, b, x, y, act, loss):
    """Loss and gradient by SymPy matrices, built independently of core."""
    Ws = [sp.Matrix(shape[k + 1], shape[k], lambda j, i, k=k: sp.Symbol(f"W{k}_{j}_{i}", real=True))
          for k in range(len(shape) - 1)]
    bs = [sp.Matrix(shape[k + 1], 1, lambda j, _, k=k: sp.Symbol(f"B{k}_{j}", real=True))
          for k in range(len(shape) - 1)]
    f = {"sigmoid": lambda z: 1 / (1 + sp.exp(-z)), "tanh": sp.tanh,
         "relu": lambda z: (z + sp.Abs(z)) / 2}[act]  # Max(0, z) makes diff take minutes
    a = sp.Matrix(x)
    for k, (Wk, bk) in enumerate(zip(Ws, bs, strict=True)):
        z = Wk * a + bk
        if k == len(Ws) - 1 and loss == "cross_entropy":
            logsum = sp.log(sum(sp.exp(zi) for zi in z))
            L = -sum(yi * (zi - logsum) for yi, zi in zip(y, z, strict=True))
            break
        a = z.applyfunc(f)
    else:
        sq = sum((yi - ai) ** 2 for yi, ai in zip(y, a, strict=True))
        L = sq / 2 if loss == "half_squared_error" else sq / len(y)
    values = {}
    for k in range(len(shape) - 1):
        values.update({Ws[k][j, i]: W[k][j][i] for j in range(shape[k + 1])
                       for i in range(shape[k])})
        values.update({bs[k][j]: b[k][j] for j in range(shape[k + 1])})
    syms = list(values)
    grad_fn = sp.lambdify(syms, [sp.diff(L, s) for s in syms], modules="math")
    grads = dict(zip(syms, grad_fn(*values.values()), strict=True))
    loss_value = float(sp.lambdify(syms, L, modules="math")(*values.values()))
    gW = [[[float(grads[Ws[k][j, i]]) for i in range(shape[k])] for j in range(shape[k + 1])]
          for k in range(len(shape) - 1)]
    gb = [[float(grads[bs[k][j]]) for j in range(shape[k + 1])] for k in range(len(shape) - 1)]
    return loss_value, gW, gb


@pytest.mark.parametrize("act,loss", list(itertools.product(ACTS, LOSSES)))
def test_gradients_match_sympy_of_a_separately_built_loss(random_problem, act: str,
                                                           loss: str) -> None:
    # A stable seed per pair (str hashes change from run to run): failures reproduce.
    rng = np.random.default_rng(zlib.crc32(f"{act}/{loss}".encode()))
    shapes = []
    while len(shapes) < 2:  # random shapes, kept small enough for SymPy to finish in seconds
        depth = int(rng.integers(0, 3))
        shape = tuple(int(n) for n in rng.integers(1, 4, size=depth + 2))
        if sympy_cost(shape, loss) <= 150:
            shapes.append(shape)
    for shape in shapes:
        W, b, x, y = random_problem(rng, shape, loss)
        t = trace_step(W, b, x, y, 0.05, act, loss)
        L, gW, gb = sympy_oracle(shape, W, b, x, y, act, loss)
        assert t.loss == pytest.approx(L, rel=1e-10, abs=1e-12), shape
        for k in range(len(shape) - 1):
            np.testing.assert_allclose(t.grad_weights[k], gW[k], rtol=1e-9, atol=1e-12)
            np.testing.assert_allclose(t.grad_biases[k], gb[k], rtol=1e-9, atol=1e-12)
            np.testing.assert_allclose(t.new_weights[k], W[k] - 0.05 * np.array(gW[k]),
                                       rtol=1e-12, atol=1e-14)


# ----------------------------------------------------------------------------- finite differences
def central_difference(W, b, x, y, act, loss, h=1e-6):
    def L(Wm, bm):
        return trace_step(Wm, bm, x, y, 0.1, act, loss).loss

    gW = []
    for k, Wk in enumerate(W):
        g = np.zeros_like(Wk)
        for idx in np.ndindex(Wk.shape):
            up = [w.copy() for w in W]
            down = [w.copy() for w in W]
            up[k][idx] += h
            down[k][idx] -= h
            g[idx] = (L(up, b) - L(down, b)) / (2 * h)
        gW.append(g)
    return gW


@pytest.mark.parametrize("act,loss", [("sigmoid", "half_squared_error"), ("tanh",
                                      "mean_squared_error"), ("relu", "cross_entropy")])
def test_gradients_match_finite_differences_on_big_shapes(random_problem, act: str,
                                                           loss: str) -> None:
    rng = np.random.default_rng(7)
    shape = (4, 5, 3, 4)
    W, b, x, y = random_problem(rng, shape, loss)
    t = trace_step(W, b, x, y, 0.1, act, loss)
    for got, want in zip(t.grad_weights, central_difference(W, b, x, y, act, loss), strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-8)


# ----------------------------------------------------------------------------- w11 in full
@pytest.mark.parametrize("shape,act,loss", [((3, 2, 2), "sigmoid", "half_squared_error"),
                                            ((2, 3, 2, 3), "tanh", "cross_entropy"),
                                            ((2, 2, 3, 2, 2), "relu", "mean_squared_error"),
                                            ((3, 4), "sigmoid", "cross_entropy")])
def test_w11_chain_rule_sums_every_path_to_the_gradient(random_problem, shape, act, loss) -> None:
    rng = np.random.default_rng(11)
    W, b, x, y = random_problem(rng, shape, loss)
    t = trace_step(W, b, x, y, 0.1, act, loss)
    assert len(t.w11.paths) == int(np.prod(shape[2:]))
    assert t.w11.total == pytest.approx(t.grad_weights[0][0][0], rel=1e-12, abs=1e-15)
    assert t.w11.paths[0].factors[-1].value == x[0]  # ∂z1/∂w11 = x1


def test_homework_w11_factors_by_hand(homework_trace) -> None:
    p1, p2 = homework_trace.w11.paths
    # Path via ŷ1: (ŷ1 - y1)·ŷ1(1-ŷ1)·w11(2)·a1(1-a1)·x1 = -0.349608·0.247461·0.5·0.249494·0.5
    assert [f.value for f in p1.factors] == pytest.approx(
        [-0.349608, 0.247461, 0.5, 0.249494, 0.5], abs=1e-6)
    # Path via ŷ2 uses w21(2) = 0.2 and ŷ2(1-ŷ2) = 0.241392.
    assert [f.value for f in p2.factors] == pytest.approx(
        [0.492780, 0.241392, 0.2, 0.249494, 0.5], abs=1e-6)


# ----------------------------------------------------------------------------- bad input
def with_entry(name, path, value):
    """The homework problem's arguments with one entry replaced."""
    args = copy.deepcopy(dict(weights=HW.W, biases=HW.b, x=HW.x, y=HW.y, lr=0.1))
    if not path:
        args[name] = value
        return args
    target = args[name]
    for p in path[:-1]:
        target = target[p]
    target[path[-1]] = value
    return args


@pytest.mark.parametrize("name,path,value,message", [
    ("weights", (0, 1, 2), float("nan"), r"weights\[0\]\[1\]\[2\] is NaN"),
    ("weights", (1, 0, 1), float("inf"), r"weights\[1\]\[0\]\[1\] is infinite"),
    ("weights", (0, 0, 0), "abc", r"weights\[0\]\[0\]\[0\] is not a number"),
    ("weights", (0, 0, 0), 1e308, r"weights\[0\]\[0\]\[0\] = 1e\+308 is too large"),
    ("biases", (1, 0), None, r"biases\[1\]\[0\] is empty"),
    ("x", (2,), "__import__('os')", r"x\[2\] is not a number"),
    ("y", (0,), float("-inf"), r"y\[0\] is infinite"),
    ("lr", (), float("nan"), r"lr is NaN"),
    ("lr", (), 0.0, r"lr = 0 must be positive"),
])
def test_bad_entries_raise_value_error_naming_them(name, path, value, message) -> None:
    with pytest.raises(ValueError, match=message) as caught:
        trace_step(**with_entry(name, path, value))
    # The page points at the cell from these fields, not by parsing the message.
    err = caught.value
    assert isinstance(err, EntryError) and (err.name, err.index) == (name, path)
    assert str(err).endswith(f" {err.complaint}")


def test_wrong_shapes_are_named() -> None:
    with pytest.raises(ValueError, match=r"weights\[0\]\[1\] has 2 entries, expected 3"):
        trace_step([[[1, 2, 3], [1, 2]], [[1, 2], [3, 4]]], HW.b, HW.x, HW.y, 0.1)
    with pytest.raises(ValueError, match=r"biases\[1\] has 3 entries, expected 2"):
        trace_step(HW.W, [[0, 0], [0, 0, 0]], HW.x, HW.y, 0.1)
    with pytest.raises(ValueError, match=r"y has 3 entries, expected 2"):
        trace_step(HW.W, HW.b, HW.x, [1, 2, 3], 0.1)
    with pytest.raises(ValueError, match="activation 'gelu'"):
        trace_step(HW.W, HW.b, HW.x, HW.y, 0.1, activation="gelu")
    with pytest.raises(ValueError, match="loss 'hinge'"):
        trace_step(HW.W, HW.b, HW.x, HW.y, 0.1, loss="hinge")


def test_numpy_arrays_are_accepted_and_give_the_same_trace(homework_trace) -> None:
    t_np = trace_step([np.array(w) for w in HW.W], [np.array(b) for b in HW.b], np.array(HW.x),
                      np.array(HW.y), np.float64(0.1))
    assert t_np.loss == homework_trace.loss
