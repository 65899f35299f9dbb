"""Backprop by hand: the homework's network, every step symbolic, numeric and checkable.

Lesson plan: set up the problem (tables per layer) → see the network → step through the forward
pass, loss, deltas, gradients and updates → type your own numbers and get them checked → the update
of w11 in full → download the derivation. All numbers come from core.backprop.
"""

import secrets
from functools import partial

import pandas as pd
import streamlit as st

from core.backprop import derivation, mark_all, problems, three_checks, trace_step
from core.backprop.drawing import network_spec
from core.backprop.functions import ACTIVATIONS, LOSSES
from core.backprop.names import unit_names
from core.backprop.network import EntryError
from core.numbers import code, tex_number
from pages import through_app

NOTE = "Default weights are illustrative: the homework's Figure 1 is lost."
HOMEWORK_SETTINGS = {"n_in": 3, "n_hidden_layers": 1, "n_out": 2, "activation": "sigmoid",
                     "loss": "half_squared_error", "lr": 0.1}
ss = st.session_state


# ----------------------------------------------------------------------------- helpers
@st.cache_resource(max_entries=64, show_spinner="SymPy is differentiating the whole loss…")
def solve(W, b, x, y, lr, activation, loss):
    """Trace and three checks for one problem (tuples in, shared read-only out)."""
    trace = trace_step(W, b, x, y, lr, activation, loss)
    return trace, three_checks(trace)


def reset_problem(shape, seed, keep_data: bool = False) -> None:
    """A new problem: fresh tables (new editor keys), step 1, and the old answers cleared.

    keep_data keeps x and y where they still fit (the shape changed, the exercise did not)."""
    if seed is None and tuple(shape) != problems.DEFAULT_SHAPE:
        seed = 0  # the homework only fixes the 3-2-2 net; other shapes are practice problems
    ss.params = problems.fresh(shape, seed, ss.get("loss", "half_squared_error"),
                               keep=ss.get("params") if keep_data else None)
    ss.seed, ss.version, ss.step = seed, ss.get("version", 0) + 1, 0
    ss.answers = {}
    for key in [k for k in ss if str(k).startswith("ans::")]:
        del ss[key]


def new_practice_problem() -> None:
    reset_problem(ss.params.shape, secrets.randbelow(10_000))


def homework_problem() -> None:
    ss.update(HOMEWORK_SETTINGS, hidden_0=2)
    reset_problem(problems.DEFAULT_SHAPE, None)


def table(values, rows, cols) -> pd.DataFrame:
    """Numbers as text cells: the grid's own number cells turn a typed "1e308" into 1308 and
    "abc" into an empty cell, while text reaches core's parser and its messages."""
    # object labels: pandas 3's Arrow-backed string index makes every editor run ~2x slower
    return pd.DataFrame([[f"{v:.10g}" for v in row] for row in values],
                        index=pd.Index(rows, dtype=object), columns=pd.Index(cols, dtype=object),
                        dtype=object)


def editor(df: pd.DataFrame, key: str) -> pd.DataFrame:
    # Narrow fixed columns so that 6 inputs and the bias still fit without scrolling sideways.
    width = "small" if len(df.columns) <= 4 else 52
    columns = {c: st.column_config.TextColumn(c, width=width) for c in df.columns}
    return st.data_editor(df, key=key, column_config=columns)


def cell(err: EntryError, unit: list[list[str]]) -> str:
    """The bad entry as the student sees it, e.g. "Layer 1, row h2, column x3 (w23)"."""
    idx = err.index
    if err.name in ("x", "y") and len(idx) == 1:
        return f"{err.name}, column {unit[0 if err.name == 'x' else -1][idx[0]]}"
    if err.name == "weights" and len(idx) == 3:
        ell, j, i = idx
        return f"Layer {ell + 1}, row {unit[ell + 1][j]}, column {unit[ell][i]} (w{j + 1}{i + 1})"
    if err.name == "biases" and len(idx) == 2:
        return f"Layer {idx[0] + 1}, row {unit[idx[0] + 1][idx[1]]}, column b"
    return str(err).removesuffix(f" {err.complaint}")  # a whole row or table: core's own name


def dfrac(tex: str) -> str:
    """Full-size fractions: inline math in a table cell would shrink ∂a/∂z to unreadable."""
    return tex.replace(r"\frac", r"\dfrac")


def save_answer(name: str, key: str, version: int) -> None:
    # A box of an earlier problem can still report a change in the run that replaced it (typed,
    # then the shape changed): its answer belongs to no step of this problem.
    if version == ss.version and key in ss:
        ss.answers[name] = ss[key]


def go_to(step: int) -> None:
    ss.step = max(0, min(step, ss.n_steps - 1))


# ----------------------------------------------------------------------------- sections
def start() -> None:
    for key, default in {**HOMEWORK_SETTINGS, "hidden_0": 2, "hidden_1": 2, "hidden_2": 2}.items():
        ss.setdefault(key, default)  # widgets read their value from here (no value= argument)
    if "params" not in ss:
        reset_problem(problems.DEFAULT_SHAPE, None)


def introduction() -> None:
    st.title("Backprop by hand")
    st.markdown(
        "Do one forward and backward pass of a small network by hand, up to the update of "
        "$w_{11}$. Every step below is a SymPy formula, the same formula with the numbers in, "
        "and its value; type your own values to have them checked. It starts from the "
        "pen-and-paper part of the homework: $x = [0.5, 0.1, 0.3]$, $y = [0.9, 0.1]$, "
        "$\\eta = 0.1$, sigmoid everywhere.")
    st.latex(r"z^{(l)}_j = \sum_i w^{(l)}_{ji}\, a^{(l-1)}_i + b^{(l)}_j,\qquad "
             r"a^{(l)}_j = f\big(z^{(l)}_j\big),\qquad "
             r"\delta^{(l)}_j = f'\big(z^{(l)}_j\big) \sum_k w^{(l+1)}_{kj}\,\delta^{(l+1)}_k")


def network_settings() -> tuple[int, ...]:
    """The sidebar: shape, activation, loss, η, and a new problem; returns the shape."""
    with st.sidebar:
        st.subheader("Network")
        n_in = st.number_input("Inputs", 1, 6, key="n_in")
        n_hidden = st.number_input("Hidden layers", 0, 3, key="n_hidden_layers")
        hidden = []
        for h in range(n_hidden):
            ss.setdefault(f"hidden_{h}", 2)
            hidden.append(st.number_input(f"Units in hidden layer {h + 1}", 1, 6,
                                          key=f"hidden_{h}"))
        n_out = st.number_input("Outputs", 1, 6, key="n_out")
        activation = st.selectbox("Activation", list(ACTIVATIONS), key="activation",
                                  format_func=lambda a: ACTIVATIONS[a].label)
        loss = st.selectbox("Loss", list(LOSSES), format_func=lambda lo: LOSSES[lo].label,
                            key="loss")
        if LOSSES[loss].softmax_output:
            st.caption(f"Softmax + cross-entropy: the **output** layer is a softmax; the hidden "
                       f"layers use {ACTIVATIONS[activation].label}. L = −Σ y log p.")
        if ACTIVATIONS[activation].note:
            st.caption(ACTIVATIONS[activation].note)
        st.number_input("Learning rate η", format="%.4g", key="lr")
        st.button("New practice problem", on_click=new_practice_problem, width="stretch")
        st.button("Back to the homework problem", on_click=homework_problem, width="stretch")
    shape = (int(n_in), *(int(h) for h in hidden), int(n_out))
    if shape != ss.params.shape:
        reset_problem(shape, ss.seed, keep_data=True)
    return shape


def banner(shape: tuple[int, ...]) -> None:
    """Whose problem is on screen."""
    act, loss = ACTIVATIONS[ss.activation].label, LOSSES[ss.loss].label
    if ss.seed is None:
        now = {"activation": f"activation {act}", "loss": f"loss {loss}", "lr": f"η = {ss.lr:g}"}
        changed = [text for key, text in now.items() if ss[key] != HOMEWORK_SETTINGS[key]]
        st.info("**The homework problem**"
                + (f", changed in the sidebar: {', '.join(changed)}" if changed else "") + ". "
                "Its weights and biases are **illustrative**: the homework's Figure 1 with the "
                "original weights is lost.", icon=":material/info:")
        return
    setup = (f"{'-'.join(map(str, shape))} network, {act} hidden units, "
             f"{'softmax output, ' if LOSSES[ss.loss].softmax_output else ''}loss {loss}, "
             f"η = {ss.lr:g}")
    st.info(f"**Practice problem, seed {ss.seed}**: {setup}. Weights and biases drawn uniformly "
            "from [−1, 1], one decimal.", icon=":material/casino:")


def problem_tables(shape: tuple[int, ...], column) -> tuple:
    """The editable tables: x, y, then W and b per layer. Returns the trace and its checks."""
    params, v, unit, n_layers = ss.params, ss.version, unit_names(shape), len(shape) - 1
    if ss.get("tables_version") != v:  # the editors' starting tables, built once per problem
        ss.tables_version = v
        ss.tables = [table([params.x], ["x"], unit[0]), table([params.y], ["y"], unit[-1])] + [
            table([row + [bj] for row, bj in zip(params.W[ell], params.b[ell], strict=True)],
                  unit[ell + 1], [*unit[ell], "b"]) for ell in range(n_layers)]
    with column:
        st.subheader("Inputs and targets")
        x_df = editor(ss.tables[0], key=f"x_{v}")
        error_for_x = st.empty()
        y_df = editor(ss.tables[1], key=f"y_{v}")
        error_for_y = st.empty()
        st.subheader("Weights and biases")
        st.caption("Row = receiving unit j, column = sending unit i: the cell is w_ji; last "
                   "column is the bias.")
        layer_dfs, layer_errors = [], []
        for ell in range(n_layers):
            st.markdown(f"Layer {ell + 1}: $W^{{({ell + 1})}}$ and $b^{{({ell + 1})}}$")
            layer_dfs.append(editor(ss.tables[2 + ell], key=f"W{ell}_{v}"))
            layer_errors.append(st.empty())

    W = tuple(tuple(tuple(r) for r in df.iloc[:, :-1].to_numpy().tolist()) for df in layer_dfs)
    b = tuple(tuple(df.iloc[:, -1].to_numpy().tolist()) for df in layer_dfs)
    x = tuple(x_df.iloc[0].tolist())
    y = tuple(y_df.iloc[0].tolist())
    try:
        trace, checks = solve(W, b, x, y, ss.lr, ss.activation, ss.loss)
        ss.last_good = (trace, checks)
    except ValueError as err:
        # A bad entry is shown under its own table; anything else (η, say) at the top.
        text, box = str(err), None
        if isinstance(err, EntryError):
            text = f"{cell(err, unit)} {err.markdown_complaint}"
            box = {"x": error_for_x, "y": error_for_y}.get(err.name)
            if err.name in ("weights", "biases"):
                box = layer_errors[err.index[0]]
        (box or st).error(text, icon=":material/error:")
        if "last_good" not in ss:
            st.stop()
        st.warning("Fix the entry above; below is the last problem that worked.")
        trace, checks = ss.last_good
    if ss.lr > 10:
        st.warning(f"η = {ss.lr:g} is very large: one step will overshoot wildly.")
    return trace, checks


def navigation(steps) -> bool:
    """Previous / Next, show all, go to a step; returns whether all steps are shown."""
    ss.n_steps = len(steps)
    ss.step = min(ss.step, len(steps) - 1)
    st.subheader("Step by step")
    nav = st.columns([1.3, 1.1, 1.6, 3.5])
    nav[0].button("◀ Previous", on_click=go_to, args=(ss.step - 1,), disabled=ss.step == 0,
                  width="stretch")
    nav[1].button("Next ▶", on_click=go_to, args=(ss.step + 1,),
                  disabled=ss.step == len(steps) - 1, width="stretch")
    show_all = nav[2].toggle("Show all steps", key="show_all")
    ss.jump = ss.step
    nav[3].selectbox("Go to step", range(len(steps)), key="jump", label_visibility="collapsed",
                     format_func=lambda i: f"{i + 1}. {steps[i].name}",
                     on_change=lambda: go_to(ss.jump))
    return show_all


def network_drawing(shape, trace, column, show_all: bool) -> None:
    with column:
        st.subheader("The network")
        current = None if show_all else trace.steps[ss.step]
        st.vega_lite_chart(network_spec(shape, trace.problem.W, trace.problem.b,
                                        trace.activations, current), width="stretch")
        st.caption("Blue edges: positive weights, orange: negative. Red: the unit and edge of "
                   "the current step. Under each unit: its activation and bias. Where the edges "
                   "are too many to label, hover over one to see its weight.")


def show_step(steps, i: int, checks_by_name: dict, marking) -> None:
    s = steps[i]
    st.markdown(f"**Step {i + 1} of {len(steps)}: ${s.label}$**")
    st.latex(s.symbolic)
    st.latex(s.substituted)
    st.latex(rf"{s.label} = {tex_number(s.value)}")
    if s.name in checks_by_name:
        # Ten digits: enough to see three values agree within 1e-9, no more.
        c = checks_by_name[s.name]
        sym = "not built (shape too big for SymPy in seconds)" if c.sympy is None else \
            f"{c.sympy:.10g}"
        text = (f"backprop {c.traced:.10g} · SymPy diff of the whole loss {sym} · central finite "
                f"difference {c.finite_difference:.10g}")
        if c.agree:
            st.success(f"Three checks agree within 1e-9: {text}", icon=":material/verified:")
        else:
            st.error(f"The three checks disagree: {text}. {c.note}", icon=":material/warning:")
    key = f"ans::{ss.version}::{s.name}"
    if key not in ss:
        ss[key] = ss.answers.get(s.name, "")
    st.text_input(f"Your value for ${s.label}$ (checked to 4 significant digits)", key=key,
                  on_change=save_answer, args=(s.name, key, ss.version),
                  placeholder="e.g. 0.5225")
    verdict(s, marking.marks[i])


def verdict(s, mark) -> None:
    """The mark of one step; typed text only ever as inline code."""
    if mark.verdict == "right":
        st.success(f"${s.label}$: {code(mark.typed)} is right.", icon=":material/check:")
    elif mark.verdict == "follows":
        st.success(f"${s.label}$: {code(mark.typed)} follows from your own earlier numbers "
                   f"(with the machine's: {tex_number(s.value)}).", icon=":material/east:")
    elif mark.verdict == "wrong":
        st.error(f"${s.label}$: {mark.message}", icon=":material/close:")
        st.latex(mark.substituted)
    elif mark.verdict == "unreadable":
        st.warning(mark.message, icon=":material/keyboard:")


def step_through(trace, checks, marking, show_all: bool) -> None:
    checks_by_name = {c.name: c for c in checks}
    for i in range(len(trace.steps)) if show_all else [ss.step]:
        with st.container(border=True):
            show_step(trace.steps, i, checks_by_name, marking)


def check_my_work(steps, marking) -> None:
    st.subheader("Check my work")
    answered = marking.count("right", "follows", "wrong")
    if not answered:
        st.caption("Type your values into the steps above (any step, any order); they are "
                   "compared with the machine's to 4 significant digits, and with what your own "
                   "earlier numbers give.")
        return
    st.markdown(f"{marking.count('right')} right and {marking.count('follows')} worked right "
                f"from your own numbers, of {answered} answered steps.")
    if marking.first_wrong is None:
        st.success("Every value you typed is right or follows from your numbers.",
                   icon=":material/check_circle:")
        return
    s, mark = steps[marking.first_wrong], marking.marks[marking.first_wrong]
    st.error(f"First wrong step: ${s.label}$ (step {marking.first_wrong + 1}). {mark.message} "
             "With your numbers:", icon=":material/cancel:")
    st.latex(mark.substituted)


def w11_in_full(trace, unit) -> None:
    ch = trace.w11
    st.subheader("The update of $w_{11}$ in full")
    st.markdown(f"$w^{{(1)}}_{{11}}$ feeds $z^{{(1)}}_1$, which reaches the loss along "
                f"{len(ch.paths)} path(s). The chain rule sums one product per path:")
    st.latex(ch.expression)
    for n, path in enumerate(ch.paths[:12]):
        route = " → ".join(unit[ell + 1][u] for ell, u in enumerate(path.units))
        rows = "\n".join(f"| ${dfrac(f.symbol)}$ | ${f.equals}$ | {f.value:.6g} |"
                         for f in path.factors)
        st.markdown(f"**Path {n + 1}** (x1 → {route}): product = {path.value:.6g}\n\n"
                    f"| factor | on paper | value |\n|---|---|---|\n{rows}")
    if len(ch.paths) > 12:
        st.caption(f"… and {len(ch.paths) - 12} more paths (all in the download).")
    st.latex(rf"\frac{{\partial L}}{{\partial w^{{(1)}}_{{11}}}} = \sum_{{\text{{paths}}}}"
             rf"\prod \text{{factors}} = {tex_number(ch.total)}\quad"
             rf"(\text{{backprop: }}{tex_number(ch.traced)})")
    st.latex(ch.update_symbolic)
    st.latex(rf"{ch.update_substituted} = {tex_number(ch.new_value)}")


def all_checks(checks) -> None:
    n_agree = sum(c.agree for c in checks)
    with st.expander(f"All {len(checks)} gradients, three ways: {n_agree} agree within 1e-9"):
        # ✓ and ✗ rather than emoji: fonts without colour emoji draw those as empty boxes.
        rows = "\n".join(
            f"| ${dfrac(c.label)}$ | {c.traced:.10g} | "
            f"{'—' if c.sympy is None else f'{c.sympy:.10g}'} | {c.finite_difference:.10g} | "
            f"{'✓' if c.agree else '✗ ' + c.note} |" for c in checks)
        st.markdown("| gradient | backprop | SymPy diff | finite difference | agree |\n"
                    f"|---|---|---|---|---|\n{rows}")


def downloads(trace, checks) -> None:
    st.subheader("Download the derivation")
    d1, d2 = st.columns(2)
    # Written when clicked, not on every re-run: most runs never download.
    d1.download_button("Markdown (with LaTeX)", partial(derivation.markdown, trace, checks, NOTE),
                       "backprop_step.md", "text/markdown", width="stretch", on_click="ignore")
    d2.download_button("LaTeX (.tex, compiles with pdflatex)",
                       partial(derivation.tex, trace, checks, NOTE), "backprop_step.tex",
                       "application/x-tex", width="stretch", on_click="ignore")


# ----------------------------------------------------------------------------- the lesson
through_app("pages/backprop.py")
start()
introduction()
shape = network_settings()
banner(shape)
left, right = st.columns([5, 6] if max(shape) <= 4 else [6, 5])
trace, checks = problem_tables(shape, left)
show_all = navigation(trace.steps)
network_drawing(shape, trace, right, show_all)
marking = mark_all(trace, ss.answers)
step_through(trace, checks, marking, show_all)
check_my_work(trace.steps, marking)
w11_in_full(trace, unit_names(shape))
all_checks(checks)
downloads(trace, checks)
