"""The Backprop page's formulas as a student reads them: one equation per line.

The page typesets a step's formula, numbers and value as one aligned block (and Show all a block
per stage and layer): `z &= w x + b \\\\ &= 0.2 · 0.5 + 0.1 \\\\ &= 0.2`. `equations` splits every
block into its lines, each with its left-hand side, `z = w x + b`, `z = 0.2 · 0.5 + 0.1`,
`z = 0.2`; other formulas come through as they are.
"""

from __future__ import annotations

import re

ROW = re.compile(r"\\\\(?:\[[^\]]*\])?")  # \\ or \\[0.6em]: the end of a line


def equations(app) -> list[str]:
    out = []
    for el in app.latex:
        tex = el.value.strip().removeprefix("$$").removesuffix("$$").strip()
        if not tex.startswith(r"\begin{aligned}"):
            out.append(tex)
            continue
        lhs = ""
        for row in ROW.split(tex.removeprefix(r"\begin{aligned}").removesuffix(r"\end{aligned}")):
            left, _, right = row.partition("&=")
            lhs = left.strip() or lhs
            out.append(f"{lhs} = {right.strip()}")
    return out

