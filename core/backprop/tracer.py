"""One step of gradient descent, traced the way it is done on paper.

`trace_step` runs the forward pass, the loss, the deltas (output first, then back through the
hidden layers), every gradient and every update, and records each as a `Step`: its formula as
SymPy prints it, the same formula with the numbers in, and the value.

    forward    z^{(l)}_j = Σ_i w^{(l)}_{ji} a^{(l-1)}_i + b^{(l)}_j,      a^{(l)}_j = f(z^{(l)}_j)
    output     δ^{(L)}_k = ∂L/∂z^{(L)}_k
    hidden     δ^{(l)}_j = f'(z^{(l)}_j) Σ_k w^{(l+1)}_{kj} δ^{(l+1)}_k
    gradient   ∂L/∂w^{(l)}_{ji} = δ^{(l)}_j a^{(l-1)}_i,               ∂L/∂b^{(l)}_j = δ^{(l)}_j
    update     w ← w − η ∂L/∂w

The formulas are SymPy expressions printed once per (shape, activation, loss) and cached; the
numbers are filled into the printed template on every call, so editing a weight is cheap.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from core.backprop import network as net
from core.backprop import oracle
from core.backprop.chainrule import ChainRule, w11_chain_rule
from core.backprop.formulas import PLACEHOLDER, StepTemplate, step_templates
from core.backprop.functions import ACTIVATIONS, LOSSES
from core.numbers import paren, tex_number

__all__ = ["Step", "Trace", "GradientCheck", "trace_step", "three_checks"]

AGREE_TOL = 1e-9


@dataclass(frozen=True)
class Step:
    """One line of the hand derivation: `symbolic` and `substituted` are LaTeX `lhs = rhs`."""

    name: str
    symbolic: str
    substituted: str
    value: float
    label: str  # LaTeX of the left-hand side, e.g. z^{(1)}_{1}
    kind: str  # z, a, loss, delta, grad_w, grad_b, new_w, new_b
    layer: int  # l of the unit or edge (1..L); 0 for the loss
    unit: int | None = None  # j, 0-based, in layer l
    source: int | None = None  # i, 0-based, in layer l-1 (edges only)


@dataclass(frozen=True)
class Trace:
    """Everything one step of gradient descent computes; list entries are NumPy arrays.

    activations[l] has shape (n_l,) with activations[0] = x; grad_weights[l] and new_weights[l]
    have the shape of weights[l], i.e. (n_{l+1}, n_l).
    """

    problem: net.Problem
    loss: float
    pre_activations: list[np.ndarray]
    activations: list[np.ndarray]
    deltas: list[np.ndarray]
    grad_weights: list[np.ndarray]
    grad_biases: list[np.ndarray]
    new_weights: list[np.ndarray]
    new_biases: list[np.ndarray]
    steps: list[Step]
    w11: ChainRule


def _backward(p: net.Problem, zs, acts) -> list[np.ndarray]:
    """δ^{(l)} = ∂L/∂z^{(l)} for l = 1..L, returned in layer order."""
    f, loss = ACTIVATIONS[p.activation], LOSSES[p.loss]
    grad = loss.grad(p.y, acts[-1])  # ∂L/∂z^{(L)} itself under softmax, else ∂L/∂ŷ
    deltas = [grad if loss.softmax_output else grad * f.prime(zs[-1], acts[-1])]
    for ell in range(len(p.W) - 1, 0, -1):
        back = p.W[ell].T @ deltas[0]
        deltas.insert(0, f.prime(zs[ell - 1], acts[ell]) * back)
    return deltas


def _values(p: net.Problem, zs, acts, deltas, gW, gb, nW, nb, loss: float) -> dict[str, float]:
    """Every number a template can ask for, by the key of its placeholder."""
    v: dict[str, float] = {"lr": p.lr, "L": loss}
    v.update({f"x|{i}": float(xi) for i, xi in enumerate(p.x)})
    v.update({f"y|{k}": float(yk) for k, yk in enumerate(p.y)})
    for ell in range(len(p.W)):
        for j in range(p.W[ell].shape[0]):
            for key, arr in (("z", zs), ("a", acts[1:]), ("d", deltas), ("b", p.b), ("gb", gb),
                             ("nb", nb)):
                v[f"{key}|{ell}|{j}"] = float(arr[ell][j])
            for i in range(p.W[ell].shape[1]):
                for key, arr in (("w", p.W), ("gw", gW), ("nw", nW)):
                    v[f"{key}|{ell}|{j}|{i}"] = float(arr[ell][j, i])
    return v


def fill(template: str, values: dict[str, float], printed: dict[str, str] | None = None) -> str:
    """A template with each ⟨key⟩ replaced by its number; `printed` keeps the numbers printed
    so far (one value goes into many steps: a trace prints each once)."""
    printed = {} if printed is None else printed

    def number(m: re.Match) -> str:
        key = m.group(1)
        if key not in printed:
            printed[key] = paren(tex_number(values[key]))
        return printed[key]

    return PLACEHOLDER.sub(number, template)


def _finite_or_raise(steps: list[Step]) -> None:
    for s in steps:
        if not np.isfinite(s.value):
            raise ValueError(
                f"{s.name} is {s.value} (overflow): make the weights, inputs or learning rate "
                "smaller")


def trace_step(weights, biases, x, y, lr, activation: str = "sigmoid",
               loss: str = "half_squared_error") -> Trace:
    """Forward pass, loss, deltas, gradients and updates of one gradient-descent step.

    weights[l][j][i] connects unit i of layer l to unit j of layer l+1 (w11 = weights[0][0][0]);
    biases[l][j] belongs to unit j of layer l+1. Raises ValueError naming any bad entry.
    """
    p = net.validate(weights, biases, x, y, lr, activation, loss)
    with np.errstate(all="ignore"):
        zs, acts = net.forward(p.W, p.b, p.x, p.activation, p.loss)
        L = LOSSES[p.loss].value(p.y, acts[-1])
        deltas = _backward(p, zs, acts)
        gW = [np.outer(d, a) for d, a in zip(deltas, acts[:-1], strict=True)]
        gb = [d.copy() for d in deltas]
        nW = [W - p.lr * g for W, g in zip(p.W, gW, strict=True)]
        nb = [b - p.lr * g for b, g in zip(p.b, gb, strict=True)]
    values = _values(p, zs, acts, deltas, gW, gb, nW, nb, L)
    templates: tuple[StepTemplate, ...] = step_templates(p.shape, p.activation, p.loss)
    printed: dict[str, str] = {}
    steps = [
        Step(name=t.name, symbolic=t.symbolic, substituted=fill(t.template, values, printed),
             value=values[t.key], label=t.label, kind=t.kind, layer=t.layer, unit=t.unit,
             source=t.source)
        for t in templates
    ]
    _finite_or_raise(steps)
    chain = w11_chain_rule(p, zs, acts, gW[0][0, 0], nW[0][0, 0])
    return Trace(p, L, zs, acts, deltas, gW, gb, nW, nb, steps, chain)


# ----------------------------------------------------------------------------- three checks
@dataclass(frozen=True)
class GradientCheck:
    """One gradient three ways; `sympy` is None when that shape is too big to differentiate, or
    (`pending`) when SymPy's gradient was not built yet and the caller asked not to wait."""

    name: str
    label: str
    traced: float
    sympy: float | None
    finite_difference: float
    note: str = ""
    pending: bool = False

    @property
    def agree(self) -> bool:
        vals = [self.traced, self.finite_difference] + ([] if self.sympy is None else [self.sympy])
        scale = max(1.0, *(abs(v) for v in vals))
        return all(np.isfinite(v) for v in vals) and max(vals) - min(vals) <= AGREE_TOL * scale


def three_checks(trace: Trace, wait: bool = True) -> list[GradientCheck]:
    """Traced backprop vs SymPy's diff of the whole loss vs a central finite difference.

    Agreement means all three within 1e-9·max(1, |value|). SymPy's gradient is built once per
    shape; for shapes where that would take more than a few seconds it is reported as None.
    With wait=False a gradient not built yet is not built now: sympy is None, pending True.
    """
    p = trace.problem
    feasible = oracle.sympy_feasible(p.shape, p.loss)
    pending = feasible and not wait and not oracle.sympy_ready(p.shape, p.activation, p.loss)
    sym = oracle.sympy_gradient(p) if feasible and not pending else None
    with np.errstate(all="ignore"):
        fdW, fdb = oracle.finite_difference(p)
    # The softmax output has no ReLU: only the hidden pre-activations can sit on the kink.
    hidden = trace.pre_activations[:-1] if LOSSES[p.loss].softmax_output else \
        trace.pre_activations
    kinks = p.activation == "relu" and any(np.any(np.abs(z) < 1e-3) for z in hidden)
    note = ("a ReLU input is within 0.001 of its kink at 0: the finite difference straddles it, "
            "while backprop and SymPy take ReLU'(0) = 0") if kinks else ""
    checks = []
    for step in trace.steps:
        if step.kind not in ("grad_w", "grad_b"):
            continue
        ell, j, i = step.layer - 1, step.unit, step.source
        if step.kind == "grad_w":
            s_val = None if sym is None else float(sym[0][ell][j, i])
            fd = float(fdW[ell][j, i])
        else:
            s_val = None if sym is None else float(sym[1][ell][j])
            fd = float(fdb[ell][j])
        checks.append(GradientCheck(step.name, step.label, step.value, s_val, fd, note, pending))
    return checks
