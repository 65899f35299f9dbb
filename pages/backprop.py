"""Backprop by hand: one gradient-descent step of a small network, every step symbolic, numeric
and checkable — shown by the machine (Show me) or worked by the student first (Let me try).

Lesson plan: whose problem it is → the tables per layer → the network → step through the forward
pass, loss, deltas, gradients and updates → your own numbers marked, slips carried forward → the
update of w11 in full → paste or download the problem, share its link, hand out worksheets.
All numbers come from core.backprop; the page state lives in the URL (core.backprop.linkstate)
and typed answers in SQLite (core.backprop.workstore), so a reload loses nothing.
Drawn with few elements: Streamlit's frontend redraws the whole app on every run (and again
when a Next changes the URL), so a heading sits in the Markdown it heads, a row of widgets is one
horizontal container, a derivation line is one element, and a data grid keeps its key while its
table is unchanged.

(About 1,000 lines on purpose: one lesson with two modes and two views, every section a named
function called in order at the bottom; all computing is in core.backprop.)
"""

import secrets
from functools import partial
from urllib.parse import urlencode

import numpy as np
import pandas as pd
import streamlit as st

from core import derivations
from core.backprop import (
    checking,
    deltarule,
    derivation,
    linkstate,
    mark_all,
    oracle,
    problems,
    showall,
    three_checks,
    trace_batch,
    trace_step,
)
from core.backprop import problemfile as pf
from core.backprop import worksheet as sheets
from core.backprop.batchmarking import mark_batch
from core.backprop.drawing import network_svg
from core.backprop.functions import ACTIVATIONS, LOSSES
from core.backprop.names import unit_names
from core.backprop.network import MAX_ABS, EntryError
from core.backprop.tables import edits_that_fit
from core.backprop.workstore import (
    WorkStore,
    WorkStoreError,
    browser_key,
    fingerprint,
    new_token,
    work_key,
)
from core.export import to_markdown, to_tex
from core.numbers import NumberError, code, parse_number, tex_number
from pages import lazy_formulas, through_app

NOTE = "Default weights are illustrative: the homework's Figure 1 is lost."
HOMEWORK_SETTINGS = {"activation": "sigmoid", "loss": "half_squared_error", "lr": 0.1}
MODES = {"show": "Show me", "try": "Let me try"}
VIEWS = {"one": "One example", "matrix": "Matrix form (a minibatch)"}
STATUS = {"right": "✓ right", "follows": "→ follows from your numbers", "wrong": "✗ wrong",
          "unreadable": "? not a number", "revealed": "◌ revealed", "not yet": "· not yet"}
# A caption's look inside a Markdown element that holds more (one element instead of two).
SMALL = '<p style="font-size:0.875rem;opacity:0.6;margin:0 0 0.5rem">'
# Show all is 41 steps of three typeset lines each, most of them below the window.
LAZY_DRAWING = lazy_formulas(300)
ss = st.session_state


# ----------------------------------------------------------------------------- solving
@st.cache_resource(max_entries=64, show_spinner=False)
def solve(W, b, x, y, lr, activation, loss, sympy_ready: bool):
    """Trace and three checks for one problem (tuples in, shared read-only out). SymPy's
    gradient of a new shape is not waited for: its checks are pending ("checking…") while
    core.backprop.checking builds it in the background (see `finish_checks`, `checks_arriving`)."""
    trace = trace_step(W, b, x, y, lr, activation, loss)
    return trace, three_checks(trace, wait=False)


def latest_checks() -> list:
    """The three checks of the problem on screen as they stand now: SymPy's fill in as soon as
    its background build is done, whichever run (the page's or a fragment's) asks."""
    p = ss.last_good[0].problem  # solved from ss.solved_args, in the same run
    checks = solve(*ss.solved_args, oracle.sympy_ready(p.shape, p.activation, p.loss))[1]
    ss.live["checks"] = checks  # what a download writes when clicked
    return checks


@st.fragment(run_every=1.5)
def checks_arriving(names: tuple[str, ...], as_table: bool, caption: bool) -> None:
    """While SymPy builds this shape's gradient: the checks of `names` re-read every 1.5 s, here,
    inside the step viewer, never by re-running the whole page (a whole-page re-run at the moment
    they arrive could swallow a Next clicked in that moment). Shown only while checks were pending
    at the viewer's last run; its next run shows them directly and this poll stops."""
    checks = latest_checks()
    show_checks(names, checks, as_table)
    if caption and any(c.pending for c in checks):
        st.caption("⏳ checking… SymPy is differentiating the whole loss for this shape "
                   "(a few seconds, once per server); its checks fill in by themselves.")


def checks_of(names: list[str], checks: list, as_table: bool, caption: bool = False) -> None:
    """The checks of some gradients: at once when SymPy's are in, else polled until they are."""
    if any(c.pending for c in checks):
        checks_arriving(tuple(names), as_table, caption)
    else:
        show_checks(names, checks, as_table)


def show_checks(names, checks: list, as_table: bool) -> None:
    """The checks of `names`: a table, or the one gradient's line."""
    by_name = {c.name: c for c in checks}
    if names and as_table:
        st.markdown(checks_table([by_name[n] for n in names]))
    elif names:
        three_checks_line(by_name[names[0]])


def finish_checks(checks) -> None:
    """A new shape's SymPy gradient (0.5–5 s) is built in the background, never on the way to
    the numbers, formulas and drawing: this asks for it (the step viewer polls for it)."""
    if not any(c.pending for c in checks):
        return
    p = ss.last_good[0].problem
    if (why := checking.failure(p.shape, p.activation, p.loss)) is not None:
        st.warning(f"SymPy could not differentiate this shape ({code(why)}): backprop and the "
                   "finite difference are the checks.", icon=":material/warning:")
        return
    checking.request(p.shape, p.activation, p.loss)


@st.cache_resource(max_entries=8)
def work_store() -> WorkStore:
    return WorkStore()


def this_browser() -> str:
    """The student's browser, for binding their saved work to it (see core.backprop.workstore)."""
    try:
        return browser_key(st.context.cookies)
    except (AttributeError, RuntimeError):  # no browser behind this run (AppTest)
        return ""


# ----------------------------------------------------------------------------- whose problem
def load(ex: pf.Exercise, origin: dict) -> None:
    """Put a whole problem on screen: its numbers, settings and shape boxes; step 1, no answers."""
    p = ex.params
    ss.params = problems.Params([[list(r) for r in W] for W in p.W], [list(b) for b in p.b],
                                list(p.x), list(p.y))
    ss.update(lr=float(ex.lr), lr_text=repr(float(ex.lr)), lr_error="", shape_error="",
              activation=ex.activation, loss=ex.loss, n_in=p.shape[0],
              n_hidden_layers=len(p.shape) - 2, n_out=p.shape[-1], editor_gen={},
              table_stamps={})
    ss.update({f"hidden_{h}": n for h, n in enumerate(p.shape[1:-1])})
    ss.origin, ss.version, ss.step = origin, ss.get("version", 0) + 1, 0
    ss.answers, ss.revealed = {}, set()
    for key in [k for k in ss if str(k).startswith("ans::")]:
        del ss[key]


def homework_exercise() -> pf.Exercise:
    return pf.Exercise(problems.homework(), **HOMEWORK_SETTINGS)


def homework_problem() -> None:
    load(homework_exercise(), {"kind": "homework"})


def new_practice_problem() -> None:
    seed = secrets.randbelow(10_000)
    params = problems.practice(ss.params.shape, seed, ss.loss)
    load(pf.Exercise(params, ss.lr, ss.activation, ss.loss), {"kind": "practice", "seed": seed})


def open_student(student: str, salt: str) -> None:
    try:
        seed = problems.student_seed(student, salt)
    except ValueError:
        ss.student_error = "Type your student id first."
        return
    ss.student_error = ""
    params = problems.practice(ss.params.shape, seed, ss.loss)
    load(pf.Exercise(params, ss.lr, ss.activation, ss.loss),
         {"kind": "student", "seed": seed, "student": student.strip(), "salt": salt})


def open_my_problem() -> None:
    open_student(ss.get("student_id", ""), ss.get("salt", ""))


def paste_problem() -> None:
    try:
        ex = pf.read_problem(ss.get("paste_text", ""))
    except pf.ProblemFileError as err:
        ss.paste_error = err.markdown
        return
    ss.paste_error = ""
    load(ex, {"kind": "own", "note": "pasted in"})


def origin_of_link(link: linkstate.LinkState) -> dict:
    """Believe what a link says about its numbers only when they are those numbers."""
    ex, kind = link.exercise, link.origin
    if kind == "homework" and ex.params == problems.homework():
        return {"kind": "homework"}
    if kind == "practice" and link.seed is not None and \
            ex.params == problems.practice(ex.shape, link.seed, ex.loss):
        return {"kind": "practice", "seed": link.seed}
    if kind == "student" and link.student:
        seed = problems.student_seed(link.student, link.salt)
        if ex.params == problems.practice(ex.shape, seed, ex.loss):
            return {"kind": "student", "seed": seed, "student": link.student, "salt": link.salt}
    return {"kind": "own", "note": "from a link"}


def describe(origin: dict) -> str:
    kind = origin["kind"]
    if kind == "homework":
        return "the homework problem"
    if kind == "practice":
        return f"practice problem {origin['seed']}"
    if kind == "student":
        return f"student {code(origin['student'])}'s problem"
    return "your own problem"


# ----------------------------------------------------------------------------- small helpers
def table(values, rows, cols) -> pd.DataFrame:
    """Numbers as text cells: the grid's own number cells turn a typed "1e308" into 1308 and
    "abc" into an empty cell, while text reaches core's parser and its messages."""
    # object labels: pandas 3's Arrow-backed string index makes every editor run ~2x slower
    return pd.DataFrame([[f"{v:.10g}" for v in row] for row in values],
                        index=pd.Index(rows, dtype=object), columns=pd.Index(cols, dtype=object),
                        dtype=object)


def editor(index: int, name: str) -> pd.DataFrame:
    """The data editor of table `index`. A payload that deletes or adds a row, or edits a row
    or column that is not there (a modified client), is cut to the edits that fit: the editor
    restarts under a new key from its table with those edits in."""
    gen, stamp = ss.editor_gen.get(index, 0), ss.table_stamps[index]
    key = f"{name}_{stamp}" + (f".{gen}" if gen else "")
    df = ss.tables[index]
    fitting, extra = edits_that_fit(ss.get(key), len(df), list(df.columns))
    if extra:
        df = df.copy()
        for row, cells in fitting.items():
            for col, value in cells.items():
                df.iat[row, df.columns.get_loc(col)] = value
        ss.tables[index], ss.editor_gen[index] = df, gen + 1
        key = f"{name}_{stamp}.{gen + 1}"
        st.caption("An edit that did not fit this table (a row added or deleted, or a cell "
                   "that is not there) was ignored.")
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


def sup(n: int) -> str:
    """A layer's number as on paper, in plain text: 2 → ⁽²⁾."""
    return "⁽" + str(n).translate(str.maketrans("0123456789", "⁰¹²³⁴⁵⁶⁷⁸⁹")) + "⁾"


def dfrac(tex: str) -> str:
    """Full-size fractions: inline math in a table cell would shrink ∂a/∂z to unreadable."""
    return tex.replace(r"\frac", r"\dfrac")


def save_answer(name: str, key: str, version: int) -> None:
    # A box of an earlier problem can still report a change in the run that replaced it (typed,
    # then the shape changed): its answer belongs to no step of this problem.
    if version == ss.version and key in ss:
        ss.answers[name] = ss[key]


def reveal(name: str, version: int) -> None:
    if version == ss.version:
        ss.revealed.add(name)


def read_lr() -> None:
    """η as typed, through the one number parser: "1,5" or "abc" get a message, never 15 or 0."""
    try:
        lr = parse_number(ss.lr_text, "Learning rate η")
        if not 0 < lr <= MAX_ABS:
            raise NumberError("Learning rate η", f"must be above 0 and at most {MAX_ABS:g}, "
                              "not {typed}", ss.lr_text)
    except NumberError as err:
        ss.lr_error = f"{err.markdown}. η stays {ss.lr:g}."
        return
    ss.lr, ss.lr_error = lr, ""


def go_to(step: int) -> None:
    ss.step = max(0, min(step, ss.n_steps - 1))


def jumped() -> None:
    """The step picked in Go to step. Its labels carry the steps' marks, and the browser sends
    the label it drew: one drawn before a mark changed matches no option, and Streamlit passes
    that text on as it is. Its number still says which step was meant."""
    picked = ss.jump
    if isinstance(picked, str):
        number = picked.split(".", 1)[0].strip()
        picked = int(number) - 1 if number.isdigit() else ss.step
    go_to(picked)


def status(i: int, steps, marking) -> str:
    verdict = marking.marks[i].verdict
    if verdict in ("right", "follows", "wrong", "unreadable"):
        return verdict
    return "revealed" if steps[i].name in ss.revealed else "not yet"


def opened(i: int, steps, marking) -> bool:
    """In Let me try, a step's numbers show once answered right (or carried) or revealed."""
    return ss.mode == "show" or status(i, steps, marking) in ("right", "follows", "revealed")


# ----------------------------------------------------------------------------- sections
def start() -> None:
    """The first run of a session: the problem, mode and step from the URL; saved answers."""
    if "params" in ss:
        return
    link = linkstate.from_query(ss.pop("link_query", None) or st.query_params.to_dict())
    ss.link_messages, ss.work = link.messages, link.work or new_token()
    ss.work_key = work_key(ss.work, this_browser())
    ss.student_error = ss.paste_error = ss.store_problem = ""
    ss.live = {}  # what a download reads when clicked (see with_marks)
    if link.exercise is not None:
        load(link.exercise, origin_of_link(link))
    else:
        homework_problem()
        if link.student:
            ss.update(student_id=link.student, salt=link.salt)
            open_student(link.student, link.salt)
    ss.mode, ss.step = link.mode, link.step
    try:
        work = work_store().load(ss.work_key)
    except WorkStoreError as err:
        ss.store_problem, work = str(err), None
    if work is not None and link.exercise is not None and \
            work.fingerprint == fingerprint(link.exercise):
        ss.answers, ss.revealed = dict(work.answers), set(work.revealed)
    ss.saved = (fingerprint(link.exercise) if link.exercise else "", dict(ss.answers),
                set(ss.revealed))


def introduction() -> None:
    st.html(LAZY_DRAWING)  # style only: Streamlit puts it in the page's head, not its flow
    st.title("Backprop by hand")
    homework = ss.origin["kind"] == "homework"
    st.markdown(
        # Plain text, not $…$: each inline formula is typeset apart, and this page has to open
        # quickly (the formulas that teach are the display lines below and in the steps).
        "Do one forward and backward pass of a small network by hand, up to the update of "
        "w₁₁. Every step is a SymPy formula, the same formula with the numbers in, and its "
        "value. In **Show me** the machine shows each step; in **Let me try** you type each "
        "value first, and it is marked: one slip is marked once, and later work done right "
        "from your own numbers counts. "
        + ("The problem is the pen-and-paper part of the homework: x = [0.5, 0.1, 0.3], "
           "y = [0.9, 0.1], η = 0.1, sigmoid everywhere." if homework else
           "The box below says whose problem is on screen.")
        # The layer's three formulas in the same element: each element costs every re-run a
        # render of its own, a Next too (Streamlit's frontend redraws the whole app for the URL).
        + "\n\n$$\n"
        r"z^{(l)}_j = \sum_i w^{(l)}_{ji}\, a^{(l-1)}_i + b^{(l)}_j,\qquad "
        r"a^{(l)}_j = f\big(z^{(l)}_j\big),\qquad "
        r"\delta^{(l)}_j = f'\big(z^{(l)}_j\big) \sum_k w^{(l+1)}_{kj}\,\delta^{(l+1)}_k"
        "\n$$")
    for message in ss.link_messages:
        st.warning(f"The link was not used as it is: {message}.", icon=":material/link_off:")


def network_settings() -> tuple[int, ...]:
    """The sidebar: shape, activation, loss, η, a new problem, a student's own; returns the
    shape. A new shape keeps every number that still fits (core.backprop.problems.reshape)."""
    now = ss.params.shape
    with st.sidebar:
        st.subheader("Network")
        # No bounds and value=None: Streamlit would turn a cleared or out-of-range box into its
        # minimum (a 1-input net); here it stays what was typed and the problem stays.
        n_in = st.number_input("Inputs", value=None, step=1, key="n_in")
        n_hidden = st.number_input("Hidden layers", value=None, step=1, key="n_hidden_layers")
        hidden_ok = n_hidden is not None and 0 <= n_hidden <= problems.MAX_HIDDEN
        hidden = []
        for h in range(n_hidden if hidden_ok else len(now) - 2):
            ss.setdefault(f"hidden_{h}", 2)
            hidden.append(st.number_input(f"Units in hidden layer {h + 1}", value=None, step=1,
                                          key=f"hidden_{h}"))
        n_out = st.number_input("Outputs", value=None, step=1, key="n_out")
        boxes = {"Inputs": n_in, "Hidden layers": n_hidden, "Outputs": n_out,
                 **{f"Units in hidden layer {h + 1}": n for h, n in enumerate(hidden)}}
        shape, ss.shape_error = boxes_shape(n_in, n_hidden, hidden, n_out, boxes), ""
        if shape is None:
            ss.shape_error = (f"{next(k for k, v in boxes.items() if v is None)} is empty"
                              if None in boxes.values() else ss.bad_shape)
            st.error(f"{ss.shape_error}: the problem stays {'-'.join(map(str, now))}, and no "
                     "other shape box takes effect until every one holds a valid number.",
                     icon=":material/error:")
            shape = now
        activation = st.selectbox("Activation", list(ACTIVATIONS), key="activation",
                                  format_func=lambda a: ACTIVATIONS[a].label)
        loss = st.selectbox("Loss", list(LOSSES), format_func=lambda lo: LOSSES[lo].label,
                            key="loss")
        if LOSSES[loss].softmax_output:
            st.caption(f"Softmax + cross-entropy: the **output** layer is a softmax; the hidden "
                       f"layers use {ACTIVATIONS[activation].label}. L = −Σ y log p.")
        if ACTIVATIONS[activation].note:
            st.caption(ACTIVATIONS[activation].note)
        st.text_input("Learning rate η", key="lr_text", on_change=read_lr, max_chars=40)
        if ss.lr_error:
            st.error(ss.lr_error, icon=":material/error:")
        st.button("New practice problem", on_click=new_practice_problem, width="stretch")
        st.button("Back to the homework problem", on_click=homework_problem, width="stretch")
        student_box()
    if shape != ss.params.shape:
        old = ss.get("current", ss.params)
        seed = ss.origin.get("seed") or 0
        note = (f"{describe(ss.origin)} in a new shape: every number that still fits is kept, "
                f"new cells come from practice problem {seed}")
        params = problems.reshape(old, shape, seed, loss)
        ss.params, ss.origin = params, {"kind": "own", "note": note, "seed": seed}
        ss.version, ss.step = ss.version + 1, 0
    return shape


def boxes_shape(n_in, n_hidden, hidden, n_out, boxes: dict) -> tuple[int, ...] | None:
    """The shape the boxes ask for, or None (and ss.bad_shape saying why) if they cannot."""
    if None in boxes.values():
        return None
    if not 0 <= n_hidden <= problems.MAX_HIDDEN:
        ss.bad_shape = f"Hidden layers must be 0 to {problems.MAX_HIDDEN}, not {n_hidden}"
        return None
    bad = next(((k, v) for k, v in boxes.items() if k != "Hidden layers"
                and not 1 <= v <= problems.MAX_UNITS), None)
    if bad:
        ss.bad_shape = f"{bad[0]} must be 1 to {problems.MAX_UNITS}, not {bad[1]}"
        return None
    return (int(n_in), *(int(h) for h in hidden), int(n_out))


def student_box() -> None:
    with st.expander("Your own numbers (student id)"):
        st.text_input("Student id", key="student_id", max_chars=64)
        st.text_input("Course code", key="salt", max_chars=64,
                      help="The code your instructor gave with the worksheets; empty if none.")
        st.button("Open my problem", on_click=open_my_problem, width="stretch")
        st.caption("The same numbers as your worksheet: the practice problem of your id, in "
                   "the shape, activation and loss chosen above.")
        if ss.student_error:
            st.error(ss.student_error)


def banner(trace) -> None:
    """Whose problem is on screen, and whether its numbers have been edited since."""
    origin, p = ss.origin, trace.problem
    act, loss = ACTIVATIONS[p.activation].label, LOSSES[p.loss].label
    setup = (f"{'-'.join(map(str, p.shape))} network, {act} hidden units, "
             f"{'softmax output, ' if LOSSES[p.loss].softmax_output else ''}loss {loss}, "
             f"η = {p.lr:g}")
    edited = ss.current != ss.params
    tail = " You have edited its numbers since: it is now your own problem." if edited else ""
    if origin["kind"] == "homework":
        now = {"activation": f"activation {act}", "loss": f"loss {loss}", "lr": f"η = {p.lr:g}"}
        changed = [text for key, text in now.items() if ss[key] != HOMEWORK_SETTINGS[key]]
        st.info("**The homework problem**"
                + (f", changed in the sidebar: {', '.join(changed)}" if changed else "") + ". "
                "Its weights and biases are **illustrative**: the homework's Figure 1 with the "
                "original weights is lost." + tail, icon=":material/info:")
    elif origin["kind"] == "practice":
        st.info(f"**Practice problem, seed {origin['seed']}**: {setup}. Weights and biases "
                "drawn uniformly from [−1, 1], one decimal." + tail, icon=":material/casino:")
    elif origin["kind"] == "student":
        course = f", course code {code(origin['salt'])}" if origin["salt"] else ""
        st.info(f"**The problem of student {code(origin['student'])}** (seed {origin['seed']}"
                f"{course}): {setup} — the numbers of your worksheet." + tail,
                icon=":material/badge:")
    else:
        st.info(f"**Your own problem**: {setup}; {origin.get('note', 'typed in')}." + tail,
                icon=":material/edit:")


def mode_switch() -> None:
    ss.setdefault("view", "one")
    row = st.container(horizontal=True, gap="large")  # one block, not three (columns)
    row.radio("Mode", list(MODES), format_func=MODES.get, key="mode", horizontal=True,
               help="Let me try: each step shows its formula; type the value, or reveal it.")
    row.radio("View", list(VIEWS), format_func=VIEWS.get, key="view", horizontal=True,
               help="The matrix form works the same step for B examples at once.")


def problem_tables(shape: tuple[int, ...]) -> tuple:
    """The editable tables: x and y beside W and b per layer. Returns the trace and its checks."""
    params, v, unit, n_layers = ss.params, ss.version, unit_names(shape), len(shape) - 1
    if ss.get("tables_version") != v:  # the editors' starting tables, built once per problem
        tables = [table([params.x], ["x"], unit[0]), table([params.y], ["y"], unit[-1])] + [
            table([row + [bj] for row, bj in zip(params.W[ell], params.b[ell], strict=True)],
                  unit[ell + 1], [*unit[ell], "b"]) for ell in range(n_layers)]
        # A table that a new shape leaves as it was keeps its editor's key, so the browser keeps
        # its data grid: re-creating the grids was most of a reshape's drawing. A new problem
        # (load) empties the stamps, so that every editor starts afresh, without old edits.
        old, stamps, gens = ss.get("tables", []), ss.table_stamps, ss.editor_gen
        kept = {i for i, df in enumerate(tables) if i in stamps and i < len(old)
                and df.equals(old[i]) and df.index.equals(old[i].index)
                and df.columns.equals(old[i].columns)}
        ss.table_stamps = {i: stamps[i] if i in kept else v for i in range(len(tables))}
        ss.editor_gen = {i: g for i, g in gens.items() if i in kept}
        ss.tables_version, ss.tables = v, tables
    inputs, weights = st.columns([2, 3])
    with inputs:
        st.subheader("Inputs and targets")
        x_df = editor(0, "x")
        error_for_x = st.empty()
        y_df = editor(1, "y")
        error_for_y = st.empty()
    with weights:
        layer_dfs, layer_errors = [], []
        for ell in range(n_layers):
            name = f"Layer {ell + 1}: W{sup(ell + 1)} and b{sup(ell + 1)}"
            if ell == 0:  # the column's heading and caption in the same element
                name = (f"### Weights and biases\n\n{SMALL}Row = receiving unit j, column = "
                        f"sending unit i: the cell is w_ji; last column is the bias.</p>\n\n{name}")
            st.markdown(name, unsafe_allow_html=True)
            layer_dfs.append(editor(2 + ell, f"W{ell}"))
            layer_errors.append(st.empty())

    W = tuple(tuple(tuple(r) for r in df.iloc[:, :-1].to_numpy().tolist()) for df in layer_dfs)
    b = tuple(tuple(df.iloc[:, -1].to_numpy().tolist()) for df in layer_dfs)
    x = tuple(x_df.iloc[0].tolist())
    y = tuple(y_df.iloc[0].tolist())
    try:
        ready = oracle.sympy_ready((len(x), *(len(bl) for bl in b)), ss.activation, ss.loss)
        trace, checks = solve(W, b, x, y, ss.lr, ss.activation, ss.loss, ready)
        ss.last_good = (trace, checks)
        ss.solved_args = (W, b, x, y, ss.lr, ss.activation, ss.loss)
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
    ss.current = pf.exercise_of(trace).params
    ss.live["checks"] = checks
    return trace, checks


def navigation(steps, marking) -> bool:
    """Previous / Next, show all, go to a step (with its mark in Let me try); returns whether
    all steps are shown."""
    ss.n_steps = len(steps)
    ss.step = min(ss.step, len(steps) - 1)
    # One horizontal block, not four columns: the fragment re-sends every block on each Next.
    nav = st.container(horizontal=True, vertical_alignment="center")
    nav.button("◀ Previous", on_click=go_to, args=(ss.step - 1,), disabled=ss.step == 0)
    nav.button("Next ▶", on_click=go_to, args=(ss.step + 1,), disabled=ss.step == len(steps) - 1)
    show_all = nav.toggle("Show all steps", key="show_all")
    ss.jump = ss.step

    labels = [f"{i + 1}. {s.name}"
              + (f" — {STATUS[status(i, steps, marking)]}" if ss.mode == "try" else "")
              for i, s in enumerate(steps)]
    nav.selectbox("Go to step", range(len(steps)), key="jump", label_visibility="collapsed",
                     format_func=labels.__getitem__, on_change=jumped)
    return show_all


def network_drawing(shape, trace, marking, column, show_all: bool) -> None:
    """The network with the current step's unit and edge lit, as one SVG (drawn at once; a
    Vega chart would load and compile Vega first, as long as the rest of the page)."""
    shown = None
    if ss.mode == "try":
        shown = {(s.layer, s.unit) for i, s in enumerate(trace.steps)
                 if s.kind == "a" and opened(i, trace.steps, marking)}
    current = None if show_all else trace.steps[ss.step]
    hidden = " (“?” until you answer or reveal it)" if shown is not None else ""
    with column:
        # The drawing, its title and caption in one element (each Markdown element costs a Next a
        # render of its own; st.html would be cheaper still, but its sanitiser drops the SVG).
        # Numbers and the units' own names only, escaped: no user text reaches this HTML.
        st.markdown(
            network_svg(shape, trace.problem.W, trace.problem.b, trace.activations, current,
                        shown=shown)
            + '<p style="font-size:0.875rem;opacity:0.6;margin:0.25rem 0 0"><b>The network.</b> '
            "Blue edges: positive weights, orange: negative. Red: the unit and edge of the "
            f"current step. Under each unit: its activation{hidden} and bias. Where the edges "
            "are too many to label, hover over one to see its weight.</p>", unsafe_allow_html=True)


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


def three_checks_line(c) -> None:
    """One gradient's three checks: backprop, SymPy's diff of the whole loss, central FD."""
    # Ten digits: enough to see three values agree within 1e-9, no more.
    sym = "checking…" if c.pending else \
        "not built (shape too big for SymPy in seconds)" if c.sympy is None else f"{c.sympy:.10g}"
    text = (f"backprop {c.traced:.10g} · SymPy diff of the whole loss {sym} · central finite "
            f"difference {c.finite_difference:.10g}")
    if c.pending and c.agree:
        st.info(f"Backprop and the finite difference agree within 1e-9; SymPy is still "
                f"differentiating this shape: {text}", icon=":material/hourglass_top:")
    elif c.agree:
        st.success(f"Three checks agree within 1e-9: {text}", icon=":material/verified:")
    else:
        st.error(f"The three checks disagree: {text}. {c.note}", icon=":material/warning:")


def answer_row(steps, i: int, marking, is_open: bool) -> None:
    """The step's answer box (with Reveal while it is closed) and its mark. The box is named in
    plain text (z1^(1)): a typeset label costs as much to draw as a formula."""
    s = steps[i]
    key = f"ans::{ss.version}::{s.name}"
    if key not in ss:
        ss[key] = ss.answers.get(s.name, "")
    row = st.container(horizontal=True, vertical_alignment="bottom")  # one block, not three
    row.text_input(f"Your value for {s.name} (checked to 4 significant digits)", key=key,
                   on_change=save_answer, args=(s.name, key, ss.version),
                   placeholder="e.g. 0.5225", width="stretch")
    if not is_open:
        row.button("Reveal", key=f"reveal::{ss.version}::{s.name}", on_click=reveal,
                   args=(s.name, ss.version))
    elif ss.mode == "try" and s.name in ss.revealed:
        row.caption("revealed", width="content")
    verdict(s, marking.marks[i])


def show_step(steps, i: int, checks: list, marking) -> None:
    s, is_open = steps[i], opened(i, steps, marking)
    gradient = [s.name] if is_open and s.kind in ("grad_w", "grad_b") else []
    st.markdown(f"**Step {i + 1} of {len(steps)}** · {s.name}")
    # Formula, numbers and value in one aligned block, as in Show all: one element to typeset.
    st.latex(showall.aligned(steps, showall.Block(showall.STAGES[s.kind], s.layer, i, i),
                             [is_open if k == i else False for k in range(len(steps))]))
    checks_of(gradient, checks, as_table=False, caption=True)
    answer_row(steps, i, marking, is_open)


def checks_table(checks) -> str:
    """The three checks of some gradients as a Markdown table (plain names: no typesetting)."""
    rows = "\n".join(
        f"| {c.name} | {c.traced:.10g} | "
        f"{('checking…' if c.pending else '—') if c.sympy is None else f'{c.sympy:.10g}'} | "
        f"{c.finite_difference:.10g} | {'✓' if c.agree else '✗ ' + c.note} |" for c in checks)
    return ("| gradient | backprop | SymPy diff | finite difference | agree within 1e-9 |\n"
            f"|---|---|---|---|---|\n{rows}")


def all_steps(steps, checks: list, marking) -> None:
    """Every step, one aligned block per stage and layer (core.backprop.showall): each step's
    formula, numbers and value; in Let me try a box for each step still to answer."""
    is_open = [opened(i, steps, marking) for i in range(len(steps))]
    gradients = {c.name for c in checks}
    checks_of([], checks, as_table=True, caption=True)
    # One bordered box, each block's title a heading inside it: a box per block was nine layout
    # blocks more for the browser to build and style whenever Show all is switched on.
    with st.container(border=True):
        for n, block in enumerate(showall.blocks(steps)):
            hint = (f"{SMALL}Every step at once. To type your own values, go through them one "
                    "at a time (switch “Show all steps” off) or choose Let me try.</p>\n\n"
                    if n == 0 and ss.mode == "show" else "")
            st.markdown(f"{hint}#### {block.title}", unsafe_allow_html=True)
            st.latex(showall.aligned(steps, block, is_open))
            checks_of([steps[i].name for i in block.indices
                       if is_open[i] and steps[i].name in gradients], checks, as_table=True)
            if ss.mode == "try":
                for i in block.indices:
                    if not is_open[i]:
                        answer_row(steps, i, marking, is_open=False)


def step_through(trace, checks, marking, show_all: bool) -> None:
    if show_all:
        all_steps(trace.steps, checks, marking)
        return
    with st.container(border=True):
        show_step(trace.steps, ss.step, checks, marking)


@st.fragment
def step_by_step(trace) -> None:
    """Previous / Next / Go to / Show all, the step beside the network it lights, and the marks.
    A fragment: a click or an answer here re-runs this part of the page alone, not the tables,
    the derivations and the downloads around it (whose files read the marks when clicked)."""
    marking = ss.live["marking"] = mark_all(trace, ss.answers)
    checks = latest_checks()  # SymPy's may have come in since the page's run
    show_all = navigation(trace.steps, marking)
    # The step and the answers kept, also after a run of this fragment alone. First, not last: a
    # new URL makes Streamlit's frontend redraw the whole app, and sent now that redraw overlaps
    # the server's work on the step instead of following the step's own redraw.
    remember(trace)
    steps_col, drawing_col = st.columns([3, 2])
    with steps_col:
        step_through(trace, checks, marking, show_all)
    network_drawing(trace.problem.shape, trace, marking, drawing_col, show_all)
    check_my_work(trace.steps, marking)
    if ss.checks_polled:
        all_checks(checks)  # in here only while SymPy's column is to come: polled with the rest


def check_my_work(steps, marking) -> None:
    """The score, the first wrong step with the student's own numbers, and every step's mark.
    The heading, the score and the hint are as few Markdown elements as they can be: the
    fragment re-sends each of them on every Next."""
    answered = marking.count("right", "follows", "wrong")
    revealed = len(ss.revealed & {s.name for s in steps})
    hint = "" if answered else (
        f"\n\n{SMALL}Type your values into the steps above (any step, any order); they are "
        "compared with the machine's to 4 significant digits, and with what your own earlier "
        "numbers give.</p>")
    if ss.mode == "try":
        st.subheader("Check my work")
        scored = sum(m.verdict in ("right", "follows") and s.name not in ss.revealed
                     for s, m in zip(steps, marking.marks, strict=True))
        st.markdown(f"**Score: {scored} of {len(steps)}** — {marking.count('right')} right, "
                    f"{marking.count('follows')} worked right from your own numbers, "
                    f"{marking.count('wrong')} wrong, {revealed} revealed (a step revealed "
                    "before it was answered scores nothing)." + hint, unsafe_allow_html=True)
    else:
        st.markdown("### Check my work" + hint, unsafe_allow_html=True)
    if ss.store_problem:
        st.warning(f"Your answers are not being kept: {ss.store_problem}.")
    if answered and marking.first_wrong is None:
        st.success("Every value you typed is right or follows from your numbers.",
                   icon=":material/check_circle:")
    elif answered:
        s, mark = steps[marking.first_wrong], marking.marks[marking.first_wrong]
        st.error(f"First wrong step: ${s.label}$ (step {marking.first_wrong + 1}). "
                 f"{mark.message} With your numbers:", icon=":material/cancel:")
        st.latex(mark.substituted)
    if ss.mode == "try":
        with st.expander("Every step and its mark"):
            st.dataframe(pd.DataFrame(
                {"step": range(1, len(steps) + 1), "name": [s.name for s in steps],
                 "your value": [m.typed for m in marking.marks],
                 "mark": [STATUS[status(i, steps, marking)] for i in range(len(steps))]}),
                hide_index=True, width="stretch")


def w11_in_full(trace, unit) -> None:
    ch = trace.w11
    if ss.mode == "try":
        st.markdown(f"### The update of w₁₁ in full\n\n{SMALL}In Let me try this section is "
                    "shown in Show me only: it holds every value.</p>", unsafe_allow_html=True)
        return
    st.subheader("The update of w₁₁ in full")
    # Dozens of typeset factors: built when the student asks for them, not on every open.
    if not st.toggle(f"Show the chain rule along all {len(ch.paths)} path(s) from w₁₁⁽¹⁾ to the "
                     "loss, every factor on paper and in numbers", key="show_w11"):
        return
    st.markdown(f"w₁₁⁽¹⁾ feeds z₁⁽¹⁾, which reaches the loss along {len(ch.paths)} path(s). "
                "The chain rule sums one product per path:")
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


def check_the_derivations() -> None:
    for d in deltarule.DERIVATIONS:
        derivations.checked(d, deltarule.WAYS)


def delta_rule() -> None:
    """δ_j = f'(z_j) Σ_k w_kj δ_k and ∂L/∂w_ji = δ_j a_i derived, each line checked by SymPy
    against the line before (core.derivations, as on the Softmax page)."""
    results = [derivations.remembered(d, deltarule.WAYS) for d in deltarule.DERIVATIONS]
    st.markdown(f"### Where the δ rule comes from\n\n{SMALL}δⱼ = f′(zⱼ) Σₖ wₖⱼ δₖ and ∂L/∂wⱼᵢ = "
                "δⱼ aᵢ, derived line by line, each line checked by SymPy against the line "
                "before.</p>", unsafe_allow_html=True)
    # Closed until opened: a browser typesets hidden lines but need not lay them out.
    for d, result in zip(deltarule.DERIVATIONS, results, strict=True):
        with st.expander(d.title):
            for line in derivation_markdowns(d, result):
                st.markdown(line)
            if result is None:
                continue
            title = d.title
            buttons = st.container(horizontal=True)
            buttons.download_button(
                "As Markdown", partial(to_markdown, title, derivations.sections(
                    result, checked_by=deltarule.CHECKED_BY)), f"backprop_{d.key}.md",
                "text/markdown", key=f"md_{d.key}", on_click="ignore")
            buttons.download_button(
                "As .tex", partial(to_tex, title, derivations.sections(
                    result, markdown=False, checked_by=deltarule.CHECKED_BY)),
                f"backprop_{d.key}.tex", "application/x-tex", key=f"tex_{d.key}",
                on_click="ignore")
    if None in results:
        st.button("Check every line with SymPy (a few seconds, once per server)",
                  on_click=check_the_derivations)
    else:
        st.caption(f"Checked by {deltarule.CHECKED_BY}.")


def derivation_markdowns(d, result) -> list[str]:
    """One Markdown element per line of `d`: the line, its number, rule and SymPy's verdicts
    (what it was checked against), the claim before the first and the conclusion after the
    last. A line's formula above its rule, as on the Softmax page: in two columns each line was
    five elements (a row, two columns, a formula, a text) for every re-run to redraw."""
    out = []
    for n, step in enumerate(d.steps, start=1):
        r = result.lines[n - 1] if result else None
        verdict = f"{r.badges} :gray[vs {r.against_words}]" if r else \
            ":gray-badge[not checked yet]"
        out.append(f"$$\n{step.latex}\n$$\n\n**{n}.** {step.rule}  \n{verdict}")
    out[0] = f"**Claim.** {d.intro}\n\n$$\n{d.statement}\n$$\n\n{out[0]}"
    if result is not None:
        out[-1] += ("\n\n**∎** The last line is the right side of the claim: "
                    f"{result.conclusion.badges}")
    return out


def all_checks(checks) -> None:
    if ss.mode == "try":
        return  # every gradient's value: Show me only
    n_agree = sum(c.agree for c in checks)
    # While SymPy's column is to come, a count would be of two ways only: say so instead.
    verdict = ("SymPy's column follows" if any(c.pending for c in checks)
               else f"{n_agree} agree within 1e-9")
    with st.expander(f"All {len(checks)} gradients, three ways: {verdict}"):
        # ✓ and ✗ rather than emoji: fonts without colour emoji draw those as empty boxes.
        checks_of([c.name for c in checks], checks, as_table=True)


# ----------------------------------------------------------------------------- matrix form
def batch_tables(trace, B: int) -> list[pd.DataFrame]:
    """X and Y with B rows: row 1 the example on screen, further rows practice examples."""
    p, unit = trace.problem, unit_names(trace.problem.shape)
    key = (ss.version, B, p.shape)
    if ss.get("batch_key") != key:
        rows = [(list(p.x), list(p.y))] + [
            (q.x, q.y) for q in (problems.practice(p.shape, 100 + r, p.loss) for r in
                                 range(1, B))]
        ss.batch_key, ss.batch_gen = key, 0
        ss.batch_base = [table([r[0] for r in rows], [f"{b + 1}" for b in range(B)], unit[0]),
                         table([r[1] for r in rows], [f"{b + 1}" for b in range(B)], unit[-1])]
    return ss.batch_base


def grid_size(shape: tuple[int, ...]) -> tuple[int, int]:
    """Rows and columns of a step's grid: a bias vector is a column, L a single cell."""
    return shape if len(shape) == 2 else ((shape[0], 1) if shape else (1, 1))


def fitted_key(base: str, n_rows: int, columns: list[str]) -> str:
    """The key of a grid whose payload fits it: a modified client's payload that does not (a row
    deleted, row 99) makes the grid start afresh under a new key instead of raising."""
    gens = ss.setdefault("key_gen", {})
    key = f"{base}.{gens[base]}" if gens.get(base) else base
    if edits_that_fit(ss.get(key), n_rows, columns)[1]:
        gens[base] = gens.get(base, 0) + 1
        key = f"{base}.{gens[base]}"
    return key


def matrix_answers(step, key: str) -> dict:
    """The student's entries of one matrix step, read from its grid's edits."""
    rows, cols = grid_size(step.shape)
    fitting, _ = edits_that_fit(ss.get(key), rows, [str(c + 1) for c in range(cols)])
    out = {}
    for r, cells in fitting.items():
        for c, text in cells.items():
            idx = (r, int(c) - 1) if len(step.shape) == 2 else ((r,) if step.shape else ())
            out[(step.name, idx)] = "" if text is None else str(text)
    return out


def grid(values, shape) -> pd.DataFrame:
    m = np.atleast_2d(np.asarray(values, dtype=object))
    if len(shape) == 1:
        m = m.reshape(-1, 1)
    return pd.DataFrame(m, index=pd.Index([str(r + 1) for r in range(m.shape[0])], dtype=object),
                        columns=pd.Index([str(c + 1) for c in range(m.shape[1])], dtype=object))


def answer_key(bt, step) -> str:
    rows, cols = grid_size(step.shape)
    return fitted_key(f"mans::{ss.version}::{bt.batch_size}::{step.name}", rows,
                      [str(c + 1) for c in range(cols)])


def matrix_step(bt, i: int, marking) -> None:
    s = bt.steps[i]
    st.markdown(f"**Matrix step {i + 1} of {len(bt.steps)}: ${s.label}$**, shape "
                f"{' × '.join(map(str, s.shape)) or 'a number'}")
    st.latex(s.shaped)
    st.caption("Under each operand its shape (rows × columns): " + "; ".join(
        f"${name}$ is {' × '.join(map(str, shape))}" for name, shape in s.operand_shapes))
    marks = marking.marks[s.name]
    is_open = ss.mode == "show" or s.name in ss.batch_revealed or all(
        m.verdict in ("right", "follows") for m in marks.values())
    if is_open:
        st.latex(s.substituted)
        value = np.atleast_1d(s.value)
        if value.ndim == 1:
            value = value.reshape(-1, 1) if s.kind in ("grad_b", "new_b") else value.reshape(1, -1)
        rows = r" \\ ".join(" & ".join(tex_number(float(v)) for v in row) for row in value)
        st.latex(rf"{s.label} = \begin{{bmatrix}} {rows} \end{{bmatrix}}")
    if ss.mode == "try":
        key = answer_key(bt, s)
        empty = grid(np.full(s.shape or (1,), "", dtype=object), s.shape or (1,))
        st.caption("Your entries (4 significant digits), then the marks:")
        st.data_editor(empty, key=key, width="content",
                       column_config={c: st.column_config.TextColumn(c) for c in empty.columns})
        shape = s.shape or (1,)
        status_grid = np.full(shape, "", dtype=object)
        for idx, m in marks.items():
            status_grid[idx if s.shape else (0,)] = STATUS.get(m.verdict, "· not yet") \
                if m.verdict != "blank" else "· not yet"
        st.dataframe(grid(status_grid, shape), width="content")
        if not is_open:
            st.button("Reveal this matrix", key=f"mreveal::{s.name}",
                      on_click=lambda: ss.batch_revealed.add(s.name))


def matrix_form(trace) -> None:
    """Z = A Wᵀ + 1 bᵀ … for B examples at once, step by step, with shapes and entry marks."""
    st.subheader("Matrix form: one step on a minibatch")
    st.markdown(
        r"The rows of $X$ and $Y$ are the examples. $Z^{(l)} = A^{(l-1)} W^{(l)\top} + "
        r"\mathbf{1} b^{(l)\top}$, $A^{(l)} = f(Z^{(l)})$, $\Delta^{(l)} = (\Delta^{(l+1)} "
        r"W^{(l+1)}) \odot f'(Z^{(l)})$, $\partial L/\partial W^{(l)} = \tfrac{1}{B}"
        r"\Delta^{(l)\top} A^{(l-1)}$. The batch loss is the mean of the examples' losses, so "
        r"its gradients are the mean of theirs.")
    st.info(r"**The homework reports' convention.** They write $W$ as $I \times J$ (inputs × "
            r"units) with $x$ a $1 \times I$ row, so $z = xW$ and $\partial L/\partial W = "
            r"x^\top \delta$. Here $W^{(l)}$ is $J \times I$ (a row per receiving unit, as in "
            r"the tables above): their $W$ is this $W^{(l)\top}$, and their gradient $x^\top "
            r"\delta$ is the transpose of $\partial L/\partial W^{(l)} = \delta^\top x$ here.",
            icon=":material/swap_horiz:")
    B = st.number_input("Examples in the batch, B", 1, 8, 2, key="batch_B")
    X_df, Y_df = batch_tables(trace, int(B))
    if B > 1:
        st.caption(f"Row 1 is the example on screen above; rows 2–{int(B)} are practice "
                   f"examples (the inputs and targets of practice seeds 101–{99 + int(B)}), "
                   "there so that the batch has more than one. Edit any cell; B = 1 is the "
                   "example above alone.")
    c1, c2 = st.columns(2)
    with c1:
        st.caption("X: one example per row")
        X_in = st.data_editor(X_df, key=fitted_key(f"bX_{ss.batch_key}", len(X_df),
                                                    list(X_df.columns)))
    with c2:
        st.caption("Y: one target per row")
        Y_in = st.data_editor(Y_df, key=fitted_key(f"bY_{ss.batch_key}", len(Y_df),
                                                    list(Y_df.columns)))
    p = trace.problem
    try:
        bt = trace_batch([W.tolist() for W in p.W], [b.tolist() for b in p.b],
                         X_in.to_numpy().tolist(), Y_in.to_numpy().tolist(), p.lr, p.activation,
                         p.loss)
    except ValueError as err:
        text = f"{err.name}{''.join(f'[{i}]' for i in err.index)} {err.markdown_complaint}" \
            if isinstance(err, EntryError) else str(err)
        st.error(text, icon=":material/error:")
        return
    ss.setdefault("batch_revealed", set())
    answers = {}
    for s in bt.steps:
        answers.update(matrix_answers(s, answer_key(bt, s)))
    marking = mark_batch(bt, answers)
    ss.setdefault("mstep", 0)
    ss.mstep = min(ss.mstep, len(bt.steps) - 1)
    nav = st.columns([1.3, 1.1, 5])
    nav[0].button("◀ Previous", key="mprev", disabled=ss.mstep == 0,
                  on_click=lambda: ss.update(mstep=ss.mstep - 1), width="stretch")
    nav[1].button("Next ▶", key="mnext", disabled=ss.mstep == len(bt.steps) - 1,
                  on_click=lambda: ss.update(mstep=ss.mstep + 1), width="stretch")
    names = [f"{i + 1}. {s.name}" for i, s in enumerate(bt.steps)]
    ss.mjump = ss.mstep
    nav[2].selectbox("Go to matrix step", range(len(names)), key="mjump",
                     format_func=names.__getitem__, label_visibility="collapsed",
                     on_change=lambda: ss.update(mstep=ss.mjump))
    with st.container(border=True):
        matrix_step(bt, ss.mstep, marking)
    if ss.mode == "try":
        right, follows = marking.count("right"), marking.count("follows")
        st.markdown(f"Entries marked: {right} right, {follows} worked right from your own "
                    f"numbers, {marking.count('wrong')} wrong.")
        if marking.first_wrong is not None:
            name, idx = marking.first_wrong
            m = marking.marks[name][idx]
            st.error(f"First wrong entry: {name}, entry {tuple(i + 1 for i in idx)}: "
                     f"{m.message}", icon=":material/cancel:")
    if bt.batch_size >= 2 and ss.mode == "show":
        batch_is_the_mean(bt)


def batch_is_the_mean(bt) -> None:
    """The B examples' own ∂L/∂W^{(1)} (the one-example view's numbers), and their mean."""
    st.markdown("**The batch gradient is the mean of the examples'**: each example's "
                "$\\partial L/\\partial w^{(1)}_{ji}$ from the one-example view, and the batch's.")
    singles = [trace_step(bt.weights, bt.biases, bt.X[b], bt.Y[b], bt.lr, bt.activation,
                          bt.loss_name) for b in range(bt.batch_size)]
    rows = []
    for j, i in np.ndindex(bt.weights[0].shape):
        each = [t.grad_weights[0][j, i] for t in singles]
        rows.append({"weight": f"w{j + 1}{i + 1}^(1)",
                     **{f"example {b + 1}": f"{g:.6g}" for b, g in enumerate(each)},
                     "mean of the examples": f"{sum(each) / len(each):.6g}",
                     "batch ∂L/∂W^(1)": f"{bt.grad_weights[0][j, i]:.6g}"})
    st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch")


def paste_a_problem() -> None:
    st.subheader("Your own problem")
    # The sections from here on are built only when opened: most visits never use them, and
    # their code blocks and grids cost more to draw than the lesson above.
    if st.toggle("Paste a whole problem (JSON)", key="show_paste"):
        st.caption("Shape, x, y, every weight and bias, η, activation and loss in one go; "
                   "weights[l][j][i] connects unit i of layer l to unit j of layer l+1. The JSON "
                   "download below pastes back too. Matt Mazur's 2-2-2 example:")
        st.code(pf.EXAMPLE, language="json")
        st.text_area("Problem as JSON", key="paste_text", height=160)
        st.button("Load this problem", on_click=paste_problem)
        if ss.paste_error:
            st.error(f"Not loaded: {ss.paste_error}", icon=":material/error:")


def share_link(trace) -> None:
    query = linkstate.to_query(pf.exercise_of(trace), ss.mode, ss.step, **origin_query())
    base = (st.context.url or "").split("?")[0] or "/backprop"
    if st.toggle("Link to this problem", key="show_link"):
        st.caption("Opens exactly this problem, mode and step, on any server running handprop "
                   "(your answers stay with you: the link does not carry them).")
        st.code(f"{base}?{urlencode(query)}", language=None, wrap_lines=True)


def with_marks(make, *args):
    """`make(*args, marks)` when clicked, with the marks of that moment (None in Show me): the
    step viewer is a fragment, so answers typed since this run are only in `ss.live`. The file is
    written at the click, outside any run, where st.session_state cannot be read."""
    live, in_try = ss.live, ss.mode == "try"
    return lambda: make(*args, live["marking"] if in_try else None)


def downloads(trace) -> None:
    st.subheader("Download")
    origin = describe(ss.origin).replace("`", "")
    row = st.container(horizontal=True)  # one block, not five (four columns)
    # Written when clicked, not on every re-run: most runs never download.
    # The checks as they stand at the click: SymPy's may have come in since this run.
    live = ss.live
    row.download_button("Markdown (with LaTeX)",
                        with_marks(lambda m: derivation.markdown(trace, live["checks"], NOTE, m)),
                        "backprop_step.md", "text/markdown", width="stretch", on_click="ignore")
    row.download_button("LaTeX (.tex, compiles with pdflatex)",
                        with_marks(lambda m: derivation.tex(trace, live["checks"], NOTE, m)),
                        "backprop_step.tex", "application/x-tex", width="stretch",
                        on_click="ignore")
    row.download_button("Problem and trace (.json)", with_marks(pf.trace_json, trace, origin),
                        "backprop_problem.json", "application/json", width="stretch",
                        on_click="ignore")
    row.download_button("Step values (.csv)", with_marks(pf.steps_csv, trace),
                        "backprop_steps.csv", "text/csv", width="stretch", on_click="ignore")
    if ss.mode == "try":
        st.caption("In Let me try the downloads carry your answers and their marks.")


def make_worksheets(trace) -> None:
    p = trace.problem
    try:
        options = sheets.WorksheetOptions(
            shape=p.shape, activation=p.activation, loss=p.loss, lr=p.lr,
            blanks=tuple(ss.sheet_blanks) or sheets.DEFAULT_BLANKS, salt=ss.sheet_salt,
            count=int(ss.sheet_count))
        roster = ss.sheet_roster if ss.sheet_roster.strip() else None
        ss.sheet_zip, ss.sheet_error = sheets.zip_of(sheets.build_worksheets(options, roster)), ""
    except sheets.WorksheetError as err:
        ss.sheet_zip, ss.sheet_error = None, err.markdown


def worksheets_for_a_class(trace) -> None:
    st.subheader("Worksheets for a class")
    if st.toggle("Problem sheets and an answer key, one problem per student",
                 key="show_sheets"):
        st.caption("In this network's shape, activation, loss and η. With a roster (one student "
                   "id per line) each student gets the numbers they see here under "
                   "“Your own numbers”; without one, practice problems 1, 2, …. Also from the "
                   "command line: python -m core.worksheet --roster FILE --out DIR.")
        st.text_area("Roster (one student id per line; empty for numbered practice sheets)",
                     key="sheet_roster", height=100)
        c1, c2 = st.columns(2)
        c1.number_input("Sheets without a roster", 1, 200, 5, key="sheet_count")
        c2.text_input("Course code (salt)", key="sheet_salt", max_chars=64)
        st.multiselect("Steps left blank", list(sheets.BLANK_GROUPS), key="sheet_blanks",
                       default=list(sheets.DEFAULT_BLANKS),
                       format_func=lambda g: f"{g}: {sheets.BLANK_GROUPS[g]}")
        st.button("Make worksheets", on_click=make_worksheets, args=(trace,))
        if ss.get("sheet_error"):
            st.error(ss.sheet_error, icon=":material/error:")
        if ss.get("sheet_zip"):
            st.download_button("Worksheets and key (.zip)", ss.sheet_zip, "worksheets.zip",
                               "application/zip", on_click="ignore")


def origin_query() -> dict:
    """Where the numbers came from, for the URL; edited numbers are the student's own."""
    o = ss.origin
    kind = "own" if ss.current != ss.params else o["kind"]
    return {"origin": kind, "seed": o.get("seed") if kind != "own" else None,
            "student": o.get("student", ""), "salt": o.get("salt", "")}


def remember(trace) -> None:
    """The page state into the URL, the answers into the store (only when they changed)."""
    ex = pf.exercise_of(trace)
    query = linkstate.to_query(ex, ss.mode, ss.step, **origin_query(), work=ss.work)
    if query != st.query_params.to_dict():
        st.query_params.from_dict(query)
    snapshot = (fingerprint(ex), dict(ss.answers), set(ss.revealed))
    if snapshot != ss.saved:
        try:
            work_store().save(ss.work_key, snapshot[0], snapshot[1], snapshot[2])
            ss.saved, ss.store_problem = snapshot, ""
        except WorkStoreError as err:
            ss.store_problem = str(err)


# ----------------------------------------------------------------------------- the lesson
if "params" not in ss and "link_query" not in ss:
    # A link's first visit on a fresh server detours through app.py (pages.through_app), which
    # does not carry the query along: keep it for start().
    ss.link_query = st.query_params.to_dict()
through_app("pages/backprop.py")
start()
shape = network_settings()
introduction()
whose = st.container()  # the banner, filled once the tables have given the numbers
mode_switch()
trace, checks = problem_tables(shape)
with whose:
    banner(trace)
if ss.view == "matrix":
    ss.live["marking"] = mark_all(trace, ss.answers)
    network_drawing(shape, trace, ss.live["marking"], st.container(), show_all=True)
    matrix_form(trace)
else:
    st.subheader("Step by step")  # outside the fragment: a heading costs a Next ~10 ms to redraw
    ss.checks_polled = any(c.pending for c in checks)
    step_by_step(trace)
    if not ss.checks_polled:
        all_checks(checks)  # in the same place, but not re-sent with every Next
    w11_in_full(trace, unit_names(shape))
    delta_rule()
paste_a_problem()
share_link(trace)
downloads(trace)
worksheets_for_a_class(trace)
remember(trace)
finish_checks(checks)
