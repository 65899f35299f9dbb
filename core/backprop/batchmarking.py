"""Matrix form, marked entry by entry with the rules of core.backprop.marking.

`mark_batch(bt, answers)` takes a `trace_batch` result and answers keyed by (step name, entry),
the entry a 0-based index tuple into the step's value ((b, j) for Z, A, Ŷ, Δ; (j, i) for a weight
gradient or update; (j,) for a bias; () for L), and judges every entry of every step:

* Z, A, Ŷ and Δ row b are example b's z, a, ŷ and δ, so they are marked by `mark_all` on that
  example's own `trace_step`, carried forward within the example;
* L = (1/B) Σ_b L_b from the student's own Ŷ; ∂L/∂W^{(l)}_{ji} = (1/B) Σ_b Δ_bj A_bi and
  ∂L/∂b_j = (1/B) Σ_b Δ_bj from their own Δ and A; an update by the change it makes,
  W − W⁺ = η ∂L/∂W — each with the inputs' 4-digit rounding propagated, as in marking.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np

from core.backprop.batch import BatchTrace
from core.backprop.functions import LOSSES
from core.backprop.marking import agrees, half_unit, mark_all, read_answer
from core.backprop.tracer import trace_step

Entry = tuple[int, ...]


@dataclass(frozen=True)
class EntryMark:
    step: str
    entry: Entry
    verdict: str  # right, follows, wrong, blank, unreadable
    expected: float  # from the student's own numbers
    typed: str = ""
    message: str = ""


@dataclass(frozen=True)
class BatchMarking:
    marks: dict[str, dict[Entry, EntryMark]]  # step name → entry → mark
    first_wrong: tuple[str, Entry] | None

    def verdicts(self, step: str) -> dict[Entry, str]:
        return {e: m.verdict for e, m in self.marks[step].items()}

    def count(self, *verdicts: str) -> int:
        return sum(m.verdict in verdicts for ms in self.marks.values() for m in ms.values())


def _scalar_name(kind: str, layer: int, n_layers: int, j: int) -> str:
    if kind == "z":
        return f"z{j + 1}^({layer})"
    if kind == "a":
        return f"ŷ{j + 1}" if layer == n_layers else f"a{j + 1}^({layer})"
    return f"δ{j + 1}^({layer})"


def _judge(fn: Callable[[list[float]], float], machine: list[float], own: list[float],
           rounded: list[bool], answer: float, base: float | None) -> tuple[str, float]:
    """right / follows / wrong for one batch-level entry; `base` makes it an update (w − w⁺)."""
    def judged(inputs: list[float], value: float) -> float:
        return value if base is None else base - value

    def slack(inputs: list[float]) -> float:
        total = 0.0
        for i, r in enumerate(rounded):
            h = half_unit(inputs[i]) if r else 0.0
            if h:
                up, down = list(inputs), list(inputs)
                up[i] += h
                down[i] -= h
                total += abs(fn(up) - fn(down)) / 2
        return total

    expected_machine, expected_own = fn(machine), fn(own)
    if agrees(judged(machine, answer), judged(machine, expected_machine), slack(machine)):
        return "right", expected_own
    if own != machine and agrees(judged(own, answer), judged(own, expected_own), slack(own)):
        return "follows", expected_own
    return "wrong", expected_own


def mark_batch(bt: BatchTrace, answers: Mapping[tuple[str, Entry], object]) -> BatchMarking:
    """Every entry of every step of `bt.steps`, marked (see the module docstring)."""
    n_layers, B = len(bt.weights), bt.batch_size
    per_example = [trace_step(bt.weights, bt.biases, bt.X[b], bt.Y[b], bt.lr, bt.activation,
                              bt.loss_name) for b in range(B)]
    by_example: list[dict[str, object]] = [{} for _ in range(B)]
    for step in bt.steps:
        if step.kind in ("z", "a", "delta"):
            for (b, j) in np.ndindex(step.shape):
                if (step.name, (b, j)) in answers:
                    name = _scalar_name(step.kind, step.layer, n_layers, j)
                    by_example[b][name] = answers[(step.name, (b, j))]
    example_marks = [{m.name: m for m in mark_all(t, a).marks}
                     for t, a in zip(per_example, by_example, strict=True)]

    def own_matrix(step, machine: np.ndarray) -> np.ndarray:
        """The student's numbers where readable, the machine's elsewhere."""
        out = machine.astype(float).copy()
        for idx in np.ndindex(machine.shape):
            _, value, _ = read_answer(answers.get((step.name, idx)))
            if value is not None:
                out[idx] = value
        return out

    steps = {s.name: s for s in bt.steps}
    own: dict[str, np.ndarray] = {s.name: own_matrix(s, s.value) for s in bt.steps}
    a_names = {s.layer: s.name for s in bt.steps if s.kind == "a"}
    d_names = {s.layer: s.name for s in bt.steps if s.kind == "delta"}
    grad_names = {(s.kind, s.layer): s.name for s in bt.steps if s.kind in ("grad_w", "grad_b")}
    loss = LOSSES[bt.loss_name]
    marks: dict[str, dict[Entry, EntryMark]] = {}
    first_wrong = None
    for step in bt.steps:
        marks[step.name] = {}
        for idx in np.ndindex(step.shape):
            text, answer, problem = read_answer(answers.get((step.name, idx)))
            if step.kind in ("z", "a", "delta"):
                m = example_marks[idx[0]][_scalar_name(step.kind, step.layer, n_layers, idx[1])]
                verdict, expected, message = m.verdict, m.expected, m.message
            elif answer is None:
                verdict, expected, message = ("unreadable" if problem else "blank"), \
                    float(step.value[idx]), problem
            else:
                fn, machine, mine, rounded, base = _recipe(step, idx, bt, steps, own, a_names,
                                                           d_names, grad_names, loss, B)
                verdict, expected = _judge(fn, machine, mine, rounded, answer, base)
                message = "" if verdict != "wrong" else \
                    f"from your own numbers this entry is {expected:.6g}"
            marks[step.name][idx] = EntryMark(step.name, idx, verdict, expected, text, message)
            if verdict == "wrong" and first_wrong is None:
                first_wrong = (step.name, idx)
    return BatchMarking(marks, first_wrong)


def _recipe(step, idx, bt, steps, own, a_names, d_names, grad_names, loss, B):
    """(f, machine inputs, own inputs, which inputs a student rounds, update base or None)."""
    if step.kind == "loss":
        yhat = a_names[len(bt.weights)]
        shape = steps[yhat].shape

        def fn(v: list[float]) -> float:
            Yhat = np.array(v).reshape(shape)
            with np.errstate(all="ignore"):
                return float(np.mean([loss.value(bt.Y[b], Yhat[b]) for b in range(B)]))

        return (fn, list(steps[yhat].value.ravel()), list(own[yhat].ravel()),
                [True] * int(np.prod(shape)), None)
    ell = step.layer
    D_m, D_o = steps[d_names[ell]].value, own[d_names[ell]]
    prev_m = bt.X if ell == 1 else steps[a_names[ell - 1]].value
    prev_o = bt.X if ell == 1 else own[a_names[ell - 1]]
    if step.kind == "grad_w":
        j, i = idx
        return (lambda v: float(sum(v[b] * v[B + b] for b in range(B)) / B),
                [*D_m[:, j], *prev_m[:, i]], [*D_o[:, j], *prev_o[:, i]],
                [True] * B + [ell > 1] * B, None)
    if step.kind == "grad_b":
        (j,) = idx
        return (lambda v: float(sum(v) / B), list(D_m[:, j]), list(D_o[:, j]), [True] * B,
                None)
    grad = grad_names[("grad_w" if step.kind == "new_w" else "grad_b", ell)]
    old = bt.weights[ell - 1] if step.kind == "new_w" else bt.biases[ell - 1]
    base = float(old[idx])
    return (lambda v: base - bt.lr * v[0], [float(steps[grad].value[idx])],
            [float(own[grad][idx])], [True], base)

