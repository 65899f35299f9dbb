"""The activations and losses of the Backprop page, each declared once.

A spec holds everything the lesson needs about one function: its name (the API value), the label
the page shows, the NumPy f and f' the tracer steps through, and the formula and its derivative as
printed on paper (SymPy, built unevaluated so the printed order is the order written by hand). The
tracer, the step formulas, the chain rule and the page labels all read these specs.

The SymPy *oracle* (core.backprop.oracle) does not: it builds the loss from the definitions on its
own, so a mistake here cannot make both sides agree.

    sigmoid   σ(z) = 1 / (1 + e^{−z}),   σ'(z) = a (1 − a)
    tanh      tanh(z),                   tanh'(z) = 1 − a²
    relu      max(0, z),                 ReLU'(z) = [z > 0]   (ReLU'(0) = 0, as SymPy's Piecewise)

    half_squared_error  L = ½ Σ_k (y_k − ŷ_k)²,   ∂L/∂ŷ_k = ŷ_k − y_k
    mean_squared_error  L = (1/K) Σ_k (y_k − ŷ_k)², ∂L/∂ŷ_k = (2/K)(ŷ_k − y_k)
    cross_entropy       ŷ = softmax(z), L = −Σ_k y_k log ŷ_k, ∂L/∂z_k = ŷ_k Σ_m y_m − y_k
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import sympy as sp

Add = lambda *a: sp.Add(*a, evaluate=False)  # noqa: E731 - short names keep formulas readable
Mul = lambda *a: sp.Mul(*a, evaluate=False)  # noqa: E731
Pow = lambda b, e: sp.Pow(b, e, evaluate=False)  # noqa: E731


@dataclass(frozen=True)
class Activation:
    """f of the hidden units (and of the outputs, except under softmax + cross-entropy)."""

    name: str
    label: str
    f: Callable[[np.ndarray], np.ndarray]
    prime: Callable[[np.ndarray, np.ndarray], np.ndarray]  # f'(z) from (z, a = f(z))
    formula: Callable[[sp.Expr], sp.Expr]  # f(z), printed
    derivative: Callable[[sp.Expr, sp.Expr], sp.Expr]  # f'(z) written with (a, z), printed
    derivative_tex: Callable[[str, str], str]  # the same from LaTeX names of a and z
    # f'(Z) of a whole matrix, elementwise, as pieces of LaTeX where "a" and "z" stand for the
    # operands A and Z (the matrix form prints each operand with its numbers and its shape).
    matrix_derivative: tuple[str, ...] = ()
    note: str = ""  # what the page says beside the choice


@dataclass(frozen=True)
class Loss:
    """L(y, ŷ) and the gradient that starts the backward pass.

    `grad` is ∂L/∂ŷ for the squared errors and ∂L/∂z^{(L)} when `softmax_output` (the softmax
    mixes every output, so ∂L/∂z is the simple one): δ^{(L)} = grad · f'(z^{(L)}) or grad.
    """

    name: str
    label: str
    value: Callable[[np.ndarray, np.ndarray], float]
    grad: Callable[[np.ndarray, np.ndarray], np.ndarray]  # from (y, ŷ), shape (K,)
    formula: Callable[[Sequence[sp.Expr], Sequence[sp.Expr]], sp.Expr]  # L from (ys, ŷs)
    grad_formula: Callable[[Sequence[sp.Expr], Sequence[sp.Expr], int], sp.Expr]  # entry k
    grad_tex: Callable[[int, int], str]  # entry k (0-based) of K outputs, on paper
    softmax_output: bool = False


def _sigmoid(z: np.ndarray) -> np.ndarray:
    e = np.exp(-np.abs(z))  # the form that never overflows
    return np.where(z >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


# a carries a superscript (a^{(1)}_{1}), so its square needs brackets: a^{..}^{2} is a "double
# superscript" error in KaTeX and LaTeX alike.
ACTIVATIONS: dict[str, Activation] = {a.name: a for a in (
    Activation(
        "sigmoid", "sigmoid", _sigmoid, lambda z, a: a * (1.0 - a),
        lambda z: Pow(Add(1, sp.exp(Mul(-1, z), evaluate=False)), -1),
        lambda a, z: Mul(a, Add(1, Mul(-1, a))),
        lambda a, z: rf"{a}\left(1 - {a}\right)",
        ("a", r" \odot \left(1 - ", "a", r"\right)")),
    Activation(
        "tanh", "tanh", np.tanh, lambda z, a: 1.0 - a**2,
        lambda z: sp.tanh(z, evaluate=False),
        lambda a, z: Add(1, Mul(-1, Pow(a, 2))),
        lambda a, z: rf"1 - \left({a}\right)^{{2}}",
        (r"\left(1 - ", "a", r" \odot ", "a", r"\right)")),
    Activation(
        "relu", "ReLU", lambda z: np.where(z > 0, z, 0.0), lambda z, a: (z > 0).astype(float),
        lambda z: sp.Max(0, z, evaluate=False),
        lambda a, z: sp.Piecewise((1, sp.StrictGreaterThan(z, 0)), (0, True)),
        lambda a, z: rf"\mathbf{{1}}\left[{z} > 0\right]",
        (r"\left[", "z", r" > 0\right]"),
        note="ReLU is not differentiable at 0; here ReLU′(0) = 0."),
)}


def _squared(ys, yhats) -> sp.Expr:
    return Add(*[Pow(Add(y, Mul(-1, p)), 2) for y, p in zip(ys, yhats, strict=True)])


def _cross_entropy(y: np.ndarray, yhat: np.ndarray) -> float:
    with np.errstate(divide="ignore"):
        return float(-np.sum(y * np.log(yhat)))


def _ce_grad_formula(ys, yhats, k: int) -> sp.Expr:
    total = Add(*ys) if len(ys) > 1 else ys[0]
    return Add(Mul(yhats[k], total), Mul(-1, ys[k]))


LOSSES: dict[str, Loss] = {lo.name: lo for lo in (
    Loss(
        "half_squared_error", "½ Σ (y − ŷ)²",
        lambda y, yhat: float(0.5 * np.sum((y - yhat) ** 2)),
        lambda y, yhat: yhat - y,
        lambda ys, yhats: Mul(sp.Rational(1, 2), _squared(ys, yhats)),
        lambda ys, yhats, k: Add(yhats[k], Mul(-1, ys[k])),
        lambda k, n: rf"\left(\hat{{y}}_{{{k + 1}}} - y_{{{k + 1}}}\right)"),
    Loss(
        "mean_squared_error", "mean squared error",
        lambda y, yhat: float(np.mean((y - yhat) ** 2)),
        lambda y, yhat: 2.0 * (yhat - y) / len(y),
        lambda ys, yhats: Mul(sp.Rational(1, len(ys)), _squared(ys, yhats)),
        lambda ys, yhats, k: Mul(sp.Rational(2, len(ys)), Add(yhats[k], Mul(-1, ys[k]))),
        lambda k, n: rf"\tfrac{{2}}{{{n}}}\left(\hat{{y}}_{{{k + 1}}} - y_{{{k + 1}}}\right)"),
    Loss(
        "cross_entropy", "softmax + cross-entropy", _cross_entropy,
        lambda y, yhat: yhat * y.sum() - y,
        lambda ys, yhats: Mul(-1, Add(*[Mul(y, sp.log(p, evaluate=False))
                                        for y, p in zip(ys, yhats, strict=True)])),
        _ce_grad_formula,
        lambda k, n: rf"\hat{{y}}_{{{k + 1}}}\sum_m y_m - y_{{{k + 1}}}",
        softmax_output=True),
)}


def softmax(z: np.ndarray) -> np.ndarray:
    """exp(z) / Σ exp(z) along the last axis (a row of scores, or one per row)."""
    e = np.exp(z - z.max(axis=-1, keepdims=True))  # shift by max: same p, no overflow
    return e / e.sum(axis=-1, keepdims=True)


def softmax_formula(zs: Sequence[sp.Expr], j: int) -> sp.Expr:
    """e^{z_j} / Σ_k e^{z_k}, printed."""
    return Mul(sp.exp(zs[j], evaluate=False),
               Pow(Add(*[sp.exp(z, evaluate=False) for z in zs]), -1))
