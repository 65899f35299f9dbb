"""The formula of every backprop step as SymPy builds and prints it, once per shape.

Each quantity is a SymPy symbol whose name is the key of its value (core.backprop.names: "w|0|1|2"
= weights[0][1][2], "z|l|j", "a|l|j", "d|l|j" = δ, "gw"/"gb" gradients, "nw"/"nb" updates). A step's
right-hand side is printed twice by `sympy.latex`: with the paper names (w^{(1)}_{11}), and with
placeholders ⟨w|0|0|0⟩ that the tracer replaces by numbers. Expressions are built unevaluated so
the printed order is the order of the sum on paper. f, f' and the loss come from
core.backprop.functions.

Printing is the slow part (20–60 ms a shape, the expressions themselves take a few): the printed
templates are remembered on disk by core.backprop.shapecache, and the expressions are built
again only when marking needs them (`step_expressions`).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, fields
from functools import lru_cache
from pathlib import Path

import sympy as sp

from core.backprop import shapecache
from core.backprop.functions import ACTIVATIONS, LOSSES, Add, Mul, softmax_formula
from core.backprop.names import plain_name, tex_name
from core.backprop.network import Shape

# A step's right-hand side: (lhs symbol, rhs, kind, layer, unit, source) in the order on paper.
Built = tuple[sp.Symbol, sp.Expr, str, int, int | None, int | None]


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
    # The value keys of the right-hand side's symbols, sorted: the arguments of its function
    # (core.backprop.marking evaluates a step at the student's own numbers).
    inputs: tuple[str, ...] = ()


def _build(shape: Shape, activation: str, loss: str) -> tuple[list[Built], dict[str, sp.Symbol]]:
    """Every step's right-hand side as an unevaluated SymPy expression, and the symbols by key."""
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
    return out, syms


@lru_cache(maxsize=32)
def step_expressions(shape: Shape, activation: str, loss: str) -> tuple[sp.Expr, ...]:
    """Each step's right-hand side in symbols named by value keys ("w|0|1|2"), in the order of
    `step_templates`; its free symbols are the template's `inputs`."""
    return tuple(rhs for _, rhs, *_ in _build(shape, activation, loss)[0])


def _printed(shape: Shape, activation: str, loss: str) -> tuple[StepTemplate, ...]:
    out, syms = _build(shape, activation, loss)
    n_layers = len(shape) - 1
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
            source=source, inputs=tuple(sorted(s.name for s in rhs.free_symbols))))
    return tuple(templates)


def value_keys(shape: Shape) -> set[str]:
    """Every value key of a shape (core.backprop.names): inputs, targets, η, L, and per layer
    the parameters, z, a, δ, gradients and updates."""
    keys = {"lr", "L", *(f"x|{i}" for i in range(shape[0])),
            *(f"y|{k}" for k in range(shape[-1]))}
    for ell in range(len(shape) - 1):
        for j in range(shape[ell + 1]):
            keys.update(f"{kind}|{ell}|{j}" for kind in ("b", "z", "a", "d", "gb", "nb"))
            keys.update(f"{kind}|{ell}|{j}|{i}" for kind in ("w", "gw", "nw")
                        for i in range(shape[ell]))
    return keys


PLACEHOLDER = re.compile(r"⟨([^⟩]+)⟩")  # ⟨key⟩ in a template, where the number goes
_FIELDS = tuple(f.name for f in fields(StepTemplate))


def _encode(templates: tuple[StepTemplate, ...]) -> list[list]:
    return [[getattr(t, name) for name in _FIELDS] for t in templates]


def _decoder(shape: Shape) -> Callable[[list], tuple[StepTemplate, ...]]:
    """Templates read back from JSON; ValueError unless they are those of `shape`: one step per
    computed value, every placeholder and input a value of the shape (so no fill can fail)."""
    def decode(rows: list) -> tuple[StepTemplate, ...]:
        keys = value_keys(shape)
        templates = []
        for row in rows:
            if not isinstance(row, list) or len(row) != len(_FIELDS):
                raise ValueError("not a step template")
            t = StepTemplate(*row[:-1], inputs=tuple(row[-1]))
            texts = (t.name, t.label, t.symbolic, t.template, t.key, t.kind, *t.inputs)
            if not all(isinstance(v, str) for v in texts) or \
                    not all(isinstance(v, int | None) for v in (t.layer, t.unit, t.source)) or \
                    not set(t.inputs) | set(PLACEHOLDER.findall(t.template)) <= keys:
                raise ValueError("not a step template of this shape")
            templates.append(t)
        computed = {k for k in keys if k.split("|")[0] not in ("x", "y", "w", "b", "lr")}
        if sorted(t.key for t in templates) != sorted(computed):
            raise ValueError("not the steps of this shape")
        return tuple(templates)

    return decode


def step_templates(shape: Shape, activation: str, loss: str,
                   where: Path | None | str = "default") -> tuple[StepTemplate, ...]:
    """Every step of one forward/backward/update pass, in the order it is done by hand: printed
    once per (shape, activation, loss) and code, then remembered (core.backprop.shapecache)."""
    shape = tuple(int(n) for n in shape)
    return shapecache.remembered("steps", (shape, activation, loss),
                                 lambda: _printed(shape, activation, loss), _encode,
                                 _decoder(shape), where)
