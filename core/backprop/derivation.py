"""The whole traced step as an exportable derivation (Markdown-with-LaTeX and .tex via core.export).

Sections follow the page: the problem, forward pass, loss, deltas, gradients (each with its three
checks), updates, then ∂L/∂w11 in full as the chain rule over every path.
"""

from __future__ import annotations

from core.backprop.marking import Marking
from core.backprop.tracer import GradientCheck, Trace
from core.export import Line, Section, to_markdown, to_tex
from core.numbers import paren, tex_number

TITLE = "Backprop by hand: one gradient-descent step"
GROUPS = [
    ("Forward pass", ("z", "a"), "z = sum of w a + b for every unit, then its activation."),
    ("Loss", ("loss",), ""),
    ("Deltas", ("delta",), "Output deltas first, then back through the hidden layers: "
                           "delta_j = f'(z_j) times the sum over k of w_kj delta_k."),
    ("Gradients", ("grad_w", "grad_b"), "dL/dw_ji = delta_j a_i and dL/db_j = delta_j. Each is "
                                        "checked three ways: traced backprop, SymPy's diff of the "
                                        "whole loss, and a central finite difference."),
    ("Updates", ("new_w", "new_b"), "w := w - eta dL/dw."),
]
MAX_EXPORTED_PATHS = 36


def _vec(name: str, values) -> str:
    return rf"{name} = \left[{', '.join(tex_number(float(v)) for v in values)}\right]"


VERDICT_TEXT = {"right": "right", "follows": "follows from your own numbers", "wrong": "wrong",
                "unreadable": "not a number", "blank": "not answered"}


def answers_section(trace: Trace, marking: Marking) -> Section:
    """The student's sheet: each answered step, its number, the mark. Typed text that is not a
    number is never copied into the document (it could be anything)."""
    lines = []
    for s, m in zip(trace.steps, marking.marks, strict=True):
        if m.verdict == "blank":
            continue
        typed = "?" if m.value is None else tex_number(m.value, 10)
        note = VERDICT_TEXT[m.verdict]
        if m.verdict in ("follows", "wrong"):
            note += f"; from your numbers {m.expected:.6g}"
        lines.append(Line(rf"{s.label} = {typed}", note))
    scored = sum(m.verdict in ("right", "follows") for m in marking.marks)
    intro = (f"{scored} of {len(marking.marks)} steps right or worked right from your own "
             "numbers.")
    if marking.first_wrong is not None:
        intro += f" First wrong step: {trace.steps[marking.first_wrong].name}."
    return Section("Your answers", intro, lines)


def sections(trace: Trace, checks: list[GradientCheck] | None = None,
             note: str = "", marking: Marking | None = None) -> list[Section]:
    p = trace.problem
    checks_by_name = {c.name: c for c in checks or []}
    out_act = "softmax" if p.loss == "cross_entropy" else p.activation
    intro = (f"Shape {'-'.join(map(str, p.shape))}; hidden activation {p.activation}, output "
             f"{out_act}; loss {p.loss.replace('_', ' ')}. {note}").strip()
    problem = [Line(_vec("x", p.x)), Line(_vec("y", p.y)), Line(rf"\eta = {tex_number(p.lr)}")]
    for ell, (W, b) in enumerate(zip(p.W, p.b, strict=True), start=1):
        rows = r" \\ ".join(" & ".join(tex_number(float(v)) for v in row) for row in W)
        problem.append(Line(rf"W^{{({ell})}} = \begin{{bmatrix}} {rows} \end{{bmatrix}},\quad "
                            + _vec(f"b^{{({ell})}}", b)))
    secs = [Section("Problem", intro, problem)]
    for heading, kinds, text in GROUPS:
        lines = []
        for s in trace.steps:
            if s.kind not in kinds:
                continue
            lines.append(Line(s.symbolic))
            note_ = ""
            if s.name in checks_by_name:
                c = checks_by_name[s.name]
                sym = "not built for this shape" if c.sympy is None else f"{c.sympy:.12g}"
                verdict = "agree" if c.agree else "DISAGREE"
                note_ = (f"checks {verdict}: backprop {c.traced:.12g}, SymPy {sym}, finite "
                         f"difference {c.finite_difference:.12g}")
            lines.append(Line(rf"{s.substituted} = {tex_number(s.value, 10)}", note_))
        secs.append(Section(heading, text, lines))
    ch = trace.w11
    paths = []
    for path in ch.paths[:MAX_EXPORTED_PATHS]:
        factors = r" \cdot ".join(f"{f.symbol}" for f in path.factors)
        values = r" \cdot ".join(paren(tex_number(f.value)) for f in path.factors)
        route = " -> ".join(str(u + 1) for u in path.units)
        paths.append(Line(rf"{factors} = {values} = {tex_number(path.value, 10)}",
                          f"path through units {route}"))
    more = len(ch.paths) - MAX_EXPORTED_PATHS
    w11_lines = [Line(ch.expression), *paths]
    if more > 0:
        w11_lines.append(Line(r"\cdots", f"{more} more paths, same pattern"))
    w11_lines += [
        Line(rf"\frac{{\partial L}}{{\partial w^{{(1)}}_{{11}}}} = {tex_number(ch.total, 10)}",
             "sum over all paths"),
        Line(ch.update_symbolic),
        Line(rf"{ch.update_substituted} = {tex_number(ch.new_value, 10)}"),
    ]
    secs.append(Section("The update of w11 in full", "The chain rule summed over every path "
                        "from w11 to the outputs; each factor evaluated.", w11_lines))
    if marking is not None:
        secs.append(answers_section(trace, marking))
    return secs


def markdown(trace: Trace, checks=None, note: str = "", marking: Marking | None = None) -> str:
    return to_markdown(TITLE, sections(trace, checks, note, marking))


def tex(trace: Trace, checks=None, note: str = "", marking: Marking | None = None) -> str:
    return to_tex(TITLE, sections(trace, checks, note, marking))
