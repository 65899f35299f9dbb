"""Every step at once, as a few aligned LaTeX blocks: one per stage of the pass and layer.

A browser typesets one large formula far faster than forty small ones (each formula is a page
element of its own, with its own layout), so "Show all steps" groups the 41 steps of the 3-2-2
net into 9 blocks. Within a block each step keeps its three lines, aligned at the equals sign:

    z^{(1)}_1 &= w^{(1)}_{11} x_1 + … + b^{(1)}_1     (the formula)
              &= 0.2 · 0.5 + … + 0.1                  (the numbers in)
              &= 0.09                                 (the value)

A step not opened yet (Let me try, not answered or revealed) shows its formula only.
"""

from __future__ import annotations

from dataclasses import dataclass

from core.backprop.tracer import Step
from core.numbers import tex_number

STAGES = {"z": "forward", "a": "forward", "loss": "loss", "delta": "delta", "grad_w": "gradient",
          "grad_b": "gradient", "new_w": "update", "new_b": "update"}
TITLES = {"forward": "Forward pass, layer {l}", "loss": "The loss", "delta": "Deltas, layer {l}",
          "gradient": "Gradients, layer {l}", "update": "Updates, layer {l}"}


@dataclass(frozen=True)
class Block:
    """Consecutive steps of one stage and layer: `first`..`last` are 0-based step indices."""

    stage: str
    layer: int
    first: int
    last: int

    @property
    def title(self) -> str:
        n = self.last - self.first + 1
        steps = f"step {self.first + 1}" if n == 1 else f"steps {self.first + 1}–{self.last + 1}"
        return f"{TITLES[self.stage].format(l=self.layer)} ({steps})"

    @property
    def indices(self) -> range:
        return range(self.first, self.last + 1)


def blocks(steps: list[Step]) -> list[Block]:
    """The steps cut wherever the stage or the layer changes, in the trace's order."""
    out: list[Block] = []
    for i, s in enumerate(steps):
        stage = STAGES[s.kind]
        if out and out[-1].stage == stage and out[-1].layer == s.layer:
            out[-1] = Block(stage, s.layer, out[-1].first, i)
        else:
            out.append(Block(stage, s.layer, i, i))
    return out


def right_side(equation: str, label: str) -> str:
    """`label = rhs` → `rhs` (a step's LaTeX always starts with its own label)."""
    head = f"{label} = "
    return equation[len(head):] if equation.startswith(head) else equation


def aligned(steps: list[Step], block: Block, opened: list[bool]) -> str:
    """The block as one `aligned` environment; `opened[i]` says whether step i shows numbers."""
    rows = []
    for i in block.indices:
        s = steps[i]
        lines = [f"{s.label} &= {right_side(s.symbolic, s.label)}"]
        if opened[i]:
            lines += [f"&= {right_side(s.substituted, s.label)}", f"&= {tex_number(s.value)}"]
        rows.append(r" \\ ".join(lines))
    # A little air between steps, so that each step's three lines read as one.
    return r"\begin{aligned}" + r" \\[0.6em] ".join(rows) + r"\end{aligned}"
