"""The formula of every backprop step as SymPy builds and prints it, once per shape.

Each quantity is a SymPy symbol whose name is the key of its value ("w|0|1|2" = weights[0][1][2],
"z|l|j", "a|l|j", "d|l|j" = δ, "gw"/"gb" = gradients, "nw"/"nb" = updated parameters). A step's
right-hand side is printed twice by `sympy.latex`: with the paper names (w^{(1)}_{11}), and with
placeholders ⟨w|0|0|0⟩ that the tracer replaces by numbers. Expressions are built unevaluated so
the printed order is the order of the sum on paper.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import sympy as sp

from core.backprop.network import Shape

Add = lambda *a: sp.Add(*a, evaluate=False)  # noqa: E731 - short names keep formulas readable
Mul = lambda *a: sp.Mul(*a, evaluate=False)  # noqa: E731
Pow = lambda b, e: sp.Pow(b, e, evaluate=False)  # noqa: E731


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


def tex_name(key: str, n_layers: int) -> str:
    """LaTeX for a value key; layers and units print 1-based, the output activation as ŷ."""
    kind, *idx = key.split("|")
    ix = [int(v) for v in idx]
    if kind == "lr":
        return r"\eta"
    if kind == "L":
        return "L"
    if kind in ("x", "y"):
        return f"{kind}_{{{ix[0] + 1}}}"
    ell, j = ix[0] + 1, ix[1] + 1
    ji = f"{j}{ix[2] + 1}" if len(ix) == 3 else f"{j}"
    return {
        "w": f"w^{{({ell})}}_{{{ji}}}",
        "b": f"b^{{({ell})}}_{{{ji}}}",
        "z": f"z^{{({ell})}}_{{{ji}}}",
        "a": rf"\hat{{y}}_{{{ji}}}" if ell == n_layers else f"a^{{({ell})}}_{{{ji}}}",
        "d": rf"\delta^{{({ell})}}_{{{ji}}}",
        "gw": rf"\frac{{\partial L}}{{\partial w^{{({ell})}}_{{{ji}}}}}",
        "gb": rf"\frac{{\partial L}}{{\partial b^{{({ell})}}_{{{ji}}}}}",
        "nw": rf"w^{{({ell})\,\mathrm{{new}}}}_{{{ji}}}",
        "nb": rf"b^{{({ell})\,\mathrm{{new}}}}_{{{ji}}}",
    }[kind]


def plain_name(key: str, n_layers: int) -> str:
    """The step name students read in messages: "z1^(1)", "δ2^(2)", "∂L/∂w11^(1)", "new b1^(2)"."""
    kind, *idx = key.split("|")
    if kind == "L":
        return "L"
    ix = [int(v) for v in idx]
    ell, units = ix[0] + 1, "".join(str(v + 1) for v in ix[1:])
    if kind == "a" and ell == n_layers:
        return f"ŷ{units}"
    base = {"z": "z", "a": "a", "d": "δ", "gw": "∂L/∂w", "gb": "∂L/∂b", "nw": "new w",
            "nb": "new b"}[kind]
    return f"{base}{units}^({ell})"


def activation_prime(activation: str, a: sp.Symbol, z: sp.Symbol) -> sp.Expr:
    """f'(z) as written on paper: σ' = a(1 − a), tanh' = 1 − a², ReLU' = [z > 0]."""
    if activation == "sigmoid":
        return Mul(a, Add(1, Mul(-1, a)))
    if activation == "tanh":
        return Add(1, Mul(-1, Pow(a, 2)))
    return sp.Piecewise((1, sp.StrictGreaterThan(z, 0)), (0, True))


def activation_of(activation: str, z: sp.Symbol) -> sp.Expr:
    if activation == "sigmoid":
        return Pow(Add(1, sp.exp(Mul(-1, z), evaluate=False)), -1)
    if activation == "tanh":
        return sp.tanh(z, evaluate=False)
    return sp.Max(0, z, evaluate=False)


@lru_cache(maxsize=32)
def step_templates(shape: Shape, activation: str, loss: str) -> tuple[StepTemplate, ...]:
    """Every step of one forward/backward/update pass, in the order it is done by hand."""
    n_layers = len(shape) - 1
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
        softmax = ell == n_layers - 1 and loss == "cross_entropy"
        for j in range(shape[ell + 1]):
            if softmax:
                rhs = Mul(sp.exp(zs[j], evaluate=False),
                          Pow(Add(*[sp.exp(z, evaluate=False) for z in zs]), -1))
            else:
                rhs = activation_of(activation, zs[j])
            out.append((S("a", ell, j), rhs, "a", ell + 1, j, None))

    L_ = n_layers - 1
    yhat = [S("a", L_, k) for k in range(shape[-1])]
    ys = [S("y", k) for k in range(shape[-1])]
    if loss == "cross_entropy":
        loss_rhs = Mul(-1, Add(*[Mul(y, sp.log(p, evaluate=False)) for y, p in zip(ys, yhat,
                                                                                  strict=True)]))
    else:
        squares = Add(*[Pow(Add(y, Mul(-1, p)), 2) for y, p in zip(ys, yhat, strict=True)])
        half_or_mean = sp.Rational(1, 2) if loss == "half_squared_error" else sp.Rational(
            1, shape[-1])
        loss_rhs = Mul(half_or_mean, squares)
    out.append((S("L"), loss_rhs, "loss", 0, None, None))

    for k in range(shape[-1]):
        if loss == "cross_entropy":
            rhs = Add(Mul(yhat[k], Add(*ys)) if len(ys) > 1 else Mul(yhat[k], ys[0]),
                      Mul(-1, ys[k]))
        else:
            err = Add(yhat[k], Mul(-1, ys[k]))
            if loss == "mean_squared_error":
                err = Mul(sp.Rational(2, shape[-1]), err)
            rhs = Mul(err, activation_prime(activation, yhat[k], S("z", L_, k)))
        out.append((S("d", L_, k), rhs, "delta", n_layers, k, None))
    for ell in range(n_layers - 2, -1, -1):
        for j in range(shape[ell + 1]):
            back = Add(*[Mul(S("w", ell + 1, k, j), S("d", ell + 1, k))
                         for k in range(shape[ell + 2])])
            if shape[ell + 2] == 1:
                back = Mul(S("w", ell + 1, 0, j), S("d", ell + 1, 0))
            rhs = Mul(activation_prime(activation, S("a", ell, j), S("z", ell, j)), back)
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
            source=source))
    return tuple(templates)
