"""The formula of every backprop step as SymPy builds and prints it, once per shape.

Each quantity is a SymPy symbol whose name is the key of its value (core.backprop.names: "w|0|1|2"
= weights[0][1][2], "z|l|j", "a|l|j", "d|l|j" = δ, "gw"/"gb" gradients, "nw"/"nb" updates). A step's
right-hand side is printed twice by `sympy.latex`: with the paper names (w^{(1)}_{11}), and with
placeholders ⟨w|0|0|0⟩ that the tracer replaces by numbers. Expressions are built unevaluated so
the printed order is the order of the sum on paper. f, f' and the loss come from
core.backprop.functions.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import sympy as sp

from core.backprop.functions import ACTIVATIONS, LOSSES, Add, Mul, softmax_formula
from core.backprop.names import plain_name, tex_name
from core.backprop.network import Shape


@dataclass(frozen=True)
class StepTemplate:
    name: str  # plain text, e.g. "z1^(1)", "∂L/∂w11^(1)"
    label: str  # LaTeX left-hand side
    symbolic: str  # LaTeX "lhs = rhs" with symbols
    template: str  # LaTeX "lhs = rhs" with ⟨key⟩ placeholders for the numbers
    key: str  # key of the step's own value
    kind: str
    layer: int
    unit: int | None = None
    source: int | None = None
    rhs: sp.Expr | None = None  # the right-hand side in symbols named by value keys (marking)


@lru_cache(maxsize=32)
def step_templates(shape: Shape, activation: str, loss: str) -> tuple[StepTemplate, ...]:
    """Every step of one forward/backward/update pass, in the order it is done by hand."""
    n_layers = len(shape) - 1
    f, lo = ACTIVATIONS[activation], LOSSES[loss]
    syms: dict[str, sp.Symbol] = {}

    def S(*parts) -> sp.Symbol:  # noqa: N802 - a symbol, as in the math
        key = "|".join(str(p) for p in parts)
        if key not in syms:
            syms[key] = sp.Symbol(key)
        return syms[key]

    def a_prev(ell: int, i: int) -> sp.Symbol:
        return S("x", i) if ell == 0 else S("a", ell - 1, i)

    out: list[tuple[sp.Symbol, sp.Expr, str, int, int | None, int | None]] = []
    for ell in range(n_layers):
        zs = []
        for j in range(shape[ell + 1]):
            terms = [Mul(S("w", ell, j, i), a_prev(ell, i)) for i in range(shape[ell])]
            out.append((S("z", ell, j), Add(*terms, S("b", ell, j)), "z", ell + 1, j, None))
            zs.append(S("z", ell, j))
        softmax = ell == n_layers - 1 and lo.softmax_output
        for j in range(shape[ell + 1]):
            rhs = softmax_formula(zs, j) if softmax else f.formula(zs[j])
            out.append((S("a", ell, j), rhs, "a", ell + 1, j, None))

    L_ = n_layers - 1
    yhat = [S("a", L_, k) for k in range(shape[-1])]
    ys = [S("y", k) for k in range(shape[-1])]
    out.append((S("L"), lo.formula(ys, yhat), "loss", 0, None, None))
    for k in range(shape[-1]):
        rhs = lo.grad_formula(ys, yhat, k)
        if not lo.softmax_output:
            rhs = Mul(rhs, f.derivative(yhat[k], S("z", L_, k)))
        out.append((S("d", L_, k), rhs, "delta", n_layers, k, None))
    for ell in range(n_layers - 2, -1, -1):
        for j in range(shape[ell + 1]):
            back = Add(*[Mul(S("w", ell + 1, k, j), S("d", ell + 1, k))
                         for k in range(shape[ell + 2])])
            if shape[ell + 2] == 1:
                back = Mul(S("w", ell + 1, 0, j), S("d", ell + 1, 0))
            rhs = Mul(f.derivative(S("a", ell, j), S("z", ell, j)), back)
            out.append((S("d", ell, j), rhs, "delta", ell + 1, j, None))

    for ell in range(n_layers):
        for j in range(shape[ell + 1]):
            for i in range(shape[ell]):
                grad = Mul(S("d", ell, j), a_prev(ell, i))
                out.append((S("gw", ell, j, i), grad, "grad_w", ell + 1, j, i))
        for j in range(shape[ell + 1]):
            out.append((S("gb", ell, j), S("d", ell, j), "grad_b", ell + 1, j, None))
    for ell in range(n_layers):
        for j in range(shape[ell + 1]):
            for i in range(shape[ell]):
                rhs = Add(S("w", ell, j, i), Mul(-1, Mul(S("lr"), S("gw", ell, j, i))))
                out.append((S("nw", ell, j, i), rhs, "new_w", ell + 1, j, i))
        for j in range(shape[ell + 1]):
            rhs = Add(S("b", ell, j), Mul(-1, Mul(S("lr"), S("gb", ell, j))))
            out.append((S("nb", ell, j), rhs, "new_b", ell + 1, j, None))

    names = {s: tex_name(k, n_layers) for k, s in syms.items()}
    holders = {s: f"⟨{k}⟩" for k, s in syms.items()}
    templates = []
    for lhs, rhs, kind, layer, unit, source in out:
        label = names[lhs]
        symbolic = sp.latex(rhs, order="none", symbol_names=names)
        filled = sp.latex(rhs, order="none", symbol_names=holders, mul_symbol="dot")
        templates.append(StepTemplate(
            name=plain_name(lhs.name, n_layers), label=label, symbolic=f"{label} = {symbolic}",
            template=f"{label} = {filled}", key=lhs.name, kind=kind, layer=layer, unit=unit,
            source=source, rhs=rhs))
    return tuple(templates)
