"""Every name a value or unit goes by, in one place: LaTeX for formulas, plain text for messages.

A value is named by a key: "x|i", "y|k", "lr", "L", and "kind|l|j" or "kind|l|j|i" with l the
0-based index of the weight layer (layer l+1 on paper) and j, i 0-based units; kind is w, b, z, a,
d (δ), gw, gb (gradients), nw, nb (updated parameters). Printed names are 1-based as on paper:
"w|0|1|2" is w^{(1)}_{23}, plain "w23^(1)"; the output activation is ŷ.
"""

from __future__ import annotations

PLAIN = {"z": "z", "a": "a", "d": "δ", "gw": "∂L/∂w", "gb": "∂L/∂b", "nw": "new w", "nb": "new b",
         "w": "w", "b": "b"}


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
    if kind in ("L", "lr"):
        return {"L": "L", "lr": "η"}[kind]
    ix = [int(v) for v in idx]
    if kind in ("x", "y"):
        return f"{kind}{ix[0] + 1}"
    ell, units = ix[0] + 1, "".join(str(v + 1) for v in ix[1:])
    if kind == "a" and ell == n_layers:
        return f"ŷ{units}"
    return f"{PLAIN[kind]}{units}^({ell})"


def unit_tex(kind: str, layer: int, unit: int, n_layers: int) -> str:
    """LaTeX of z or a of a unit, `layer` 1-based (as on paper), `unit` 0-based."""
    return tex_name(f"{kind}|{layer - 1}|{unit}", n_layers)


def unit_names(shape) -> list[list[str]]:
    """Names of the units layer by layer: x1 …, then h1 … (h1.1 … with several hidden layers),
    then ŷ1 …; the drawing, the tables and the messages all use them."""
    n_layers = len(shape) - 1

    def name(ell: int, j: int) -> str:
        if ell == 0:
            return f"x{j + 1}"
        if ell == n_layers:
            return f"ŷ{j + 1}"
        return f"h{j + 1}" if n_layers == 2 else f"h{ell}.{j + 1}"

    return [[name(ell, j) for j in range(n)] for ell, n in enumerate(shape)]
