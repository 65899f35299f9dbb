"""Softmax proofs: shift invariance, the Jacobian diag(p) − ppᵀ and the gradient p − t, each
derived line by line with every line checked by SymPy, then each shown live on scores you type.

Every number and sentence comes from `core.softmax` (the proofs' verdicts and badges from
`core.derivations`); this page lays them out. SymPy checks the proofs in the background
(`core.softmax.check_ahead`, started by app.py): until it is done the lines show "checking…".
Tables are static (st.table): an interactive grid loads and compiles a large script in the
browser, seconds on a busy machine, for a few numbers.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st

from core.export import to_markdown, to_tex
from core.numbers import NumberError, parse_number
from core.softmax import check_ahead
from core.softmax.figures import bar_chart, heat_map
from core.softmax.mistakes import MISTAKES, mistake_ready
from core.softmax.numerics import (
    cross_entropy,
    cross_entropy_grad,
    float32_rounding,
    naive_breakdown,
    one_hot,
    overflow_threshold,
    parse_score,
    softmax,
    softmax_jacobian,
    softmax_naive,
    three_ways,
)
from core.softmax.oracles import ce_grad_by_sympy, jacobian_by_sympy
from core.softmax.proofs import PROOFS, ready, sections
from pages import derivation_lines, through_app

# Usually started by app.py already; a fresh server's deep link runs this page first, alone.
check_ahead()
through_app("pages/softmax.py")
ss = st.session_state

DEFAULT_SCORES = ["1.0", "2.0", "3.0", "0.5", "-1.0", "2.5", "0.0", "1.5", "-2.0", "4.0"]
PRESETS = {"[1, 2, 3]": ["1", "2", "3"], "[1000, 1001, 1002]": ["1000", "1001", "1002"],
           "[-5, 0, 5, 10]": ["-5", "0", "5", "10"], "[90, 89, 0]": ["90", "89", "0"],
           "[88.7, 88.7, 0]": ["88.7", "88.7", "0"]}
SHIFT_MIN, SHIFT_MAX = -1000.0, 1000.0
CHECKING = ":gray-badge[⏳ SymPy is checking this line…]"
NUMBERS = {key: n for n, key in enumerate(PROOFS, start=1)}


# ---------------------------------------------------------------- the lesson's sections
def introduction() -> None:
    st.title("Softmax proofs")
    st.markdown(
        "Softmax turns K scores into K probabilities. Three facts about it carry every "
        "classifier's backward pass; below each is derived line by line as you would on paper, "
        "**every line checked by SymPy**, and then shown live on scores you choose.")
    st.latex(r"p_k(\mathbf{s}) = \frac{e^{s_k}}{\sum_{i=1}^{K} e^{s_i}},\qquad k = 1,\dots,K")


def your_scores() -> np.ndarray:
    """The K score boxes; while a box holds no number, the last valid scores stay on screen."""
    st.subheader("Your scores")
    ss.setdefault("sm_K", 3)
    for k, text in enumerate(DEFAULT_SCORES):
        ss.setdefault(f"sm_s{k}", text)
    ss.setdefault("sm_last_good", [float(x) for x in DEFAULT_SCORES[:3]])
    left, right = st.columns([1, 4], vertical_alignment="bottom")
    k_classes = int(left.number_input("classes K (2 to 10)", 2, 10, key="sm_K"))
    with right.container(horizontal=True, vertical_alignment="center"):
        st.markdown("try")
        for label, values in PRESETS.items():
            st.button(label, on_click=apply_preset, args=(values,), key=f"preset_{label}")
    values, problems = [], []
    for k, box in enumerate(st.columns(k_classes)):
        text = box.text_input(f"$s_{{{k + 1}}}$", key=f"sm_s{k}")
        try:
            values.append(parse_score(text))
        except NumberError as err:
            problems.append(f"$s_{{{k + 1}}}$ {err.markdown}")
    if problems:
        st.error("Some scores cannot be used:  \n" + "  \n".join(problems))
        st.warning("Showing the last valid scores until every box holds a number.")
        return np.asarray(ss.sm_last_good, dtype=np.float64)
    ss.sm_last_good = values
    return np.asarray(values, dtype=np.float64)


def proof(key: str) -> None:
    """The claim, every line with its rule and SymPy's verdicts, what SymPy checked, downloads."""
    d, result = PROOFS[key], ready(key)
    number = NUMBERS[key]
    st.header(f"Proof {number}. {d.title}")
    st.markdown(f"**Claim.** {d.intro}")
    st.latex(d.statement)
    derivation_lines(d, result, CHECKING)
    if result is None:
        st.markdown(f"**∎** The last line is the right side of the claim: {CHECKING}")
        st.caption("The downloads appear when SymPy has checked every line (once per server).")
        return
    st.markdown("**∎** The last line is the right side of the claim: "
                f"{result.conclusion.badges}")
    if not result.decided:
        st.warning("Some lines could not be checked for a symbolic K in stock SymPy (orange): "
                   "for those, only the exact checks for K = 2…6 stand behind the line.")
    # On demand: SymPy's own LaTeX of every line is two dozen formulas more to typeset.
    if st.toggle("What SymPy checked, line by line", key=f"twins_{key}"):
        st.markdown(
            "Each line is a SymPy expression built next to the LaTeX above. **Symbolic K**: "
            "`simplify(line − previous) == 0` with sums kept as `Sum(…, (m, 1, K))` and scores "
            "`s[m]` (IndexedBase), after `.doit()` and `refine` with every index in 1…K; "
            "the last line of proof 3 may also substitute $\\sum_k t_k = 1$. **K = 2…6**: "
            "scores are the symbols $s_1, …, s_K$; with $u_q = e^{s_q}$ both lines are rational "
            "functions and `cancel(difference) == 0` is exact, for every index pair. Checked in "
            f"{result.seconds:.1f} s, once per server.")
        for r in result.every_line:
            st.markdown(f"Line {r.number}: {r.details}")
            st.latex(r.twin)
    title = result.derivation.title
    buttons = st.container(horizontal=True)
    buttons.download_button(
        f"Proof {number} as Markdown", to_markdown(title, sections(result)),
        file_name=f"softmax_{key}.md", mime="text/markdown", key=f"md_{key}",
        icon=":material/download:", on_click="ignore")
    buttons.download_button(
        f"Proof {number} as .tex", to_tex(title, sections(result, markdown=False)),
        file_name=f"softmax_{key}.tex", mime="application/x-tex", key=f"tex_{key}",
        icon=":material/download:", on_click="ignore")


def shift_alive(scores: np.ndarray) -> np.ndarray:
    """Proof 1 live: the shift c by slider or typed, the two bar charts; returns s + c."""
    st.markdown("**Alive.** Shift every score by the same $c$: the bars do not move.")
    ss.setdefault("sm_c", 0.0)
    ss.setdefault("sm_c_text", "0")
    slide, typed = st.columns([5, 1], vertical_alignment="bottom")
    slide.slider("shift $c$ added to every score", SHIFT_MIN, SHIFT_MAX, step=0.5, key="sm_c",
                 on_change=shift_slid)
    typed.text_input("or type $c$", key="sm_c_text", on_change=shift_typed)
    if ss.get("sm_c_error"):
        st.error(ss.sm_c_error + " The shift stays at " + f"`{ss.sm_c:g}`.")
    c = float(ss.sm_c)
    shifted = scores + c
    chart_col, table_col = st.columns([1, 1])
    chart_col.vega_lite_chart(bar_chart(scores, c), width="stretch")
    p, q = softmax(scores), softmax(shifted)
    table = pd.DataFrame({"s + c": shifted, "softmax(s)": p, "softmax(s + c)": q,
                          "naive, s + c": [fmt(v) for v in softmax_naive(shifted)]},
                         index=[f"k = {k + 1}" for k in range(scores.size)])
    table_col.table(table.style.format("{:.6f}", subset=["softmax(s)", "softmax(s + c)"])
                    .format("{:g}", subset=["s + c"]))
    table_col.markdown(f"softmax(s) = `{vector(p)}`  \nsoftmax(s + c) = `{vector(q)}`")
    table_col.markdown(f"largest $|p_k(\\mathbf{{s}}) - p_k(\\mathbf{{s}} + c)|$ = "
                       f"`{np.abs(p - q).max():.2e}` (rounding of $s + c$ only)")
    return shifted


def overflow(shifted: np.ndarray) -> None:
    """Why proof 1 matters: the naive softmax breaks in float32 and float64, the shifted one not."""
    st.header("Why it matters: overflow")
    st.markdown(
        "Straight from the definition, $e^{s}$ overflows to `inf` once a score passes "
        "$\\log(\\text{largest float})$, and `inf / inf = nan`. Worse, the *sum* can overflow "
        "while every term fits: then every $p_k$ is `finite / inf = 0` and the naive softmax "
        "returns zeros without a single `nan` to warn you (try [88.7, 88.7, 0] in float32). "
        "Proof 1 lets us subtract $m = \\max_i s_i$ first, so every exponent is $\\le 0$ and "
        "one term of the sum is exactly 1. The same trick gives the log-sum-exp form. Below: the "
        "scores $\\mathbf{s} + c$ from above; try [1000, 1001, 1002] or slide $c$ past 88.7 "
        "(float32) or 709.78 (float64).")
    st.latex(r"p_k = \frac{e^{s_k - m}}{\sum_i e^{s_i - m}},\qquad "
             r"\log\sum_i e^{s_i} = m + \log\sum_i e^{s_i - m},\qquad "
             r"p_k = \exp\Big(s_k - \log\sum_i e^{s_i}\Big)")
    col32, col64 = st.columns(2)
    with col32:
        lse32 = overflow_column(shifted, np.float32)
    with col64:
        overflow_column(shifted, np.float64)
    st.caption(float32_rounding(lse32))


def jacobian_alive(scores: np.ndarray) -> None:
    st.markdown("**Alive.** The Jacobian at your scores: SymPy differentiates the definition, "
                "evaluated at $\\mathbf{s} - \\max \\mathbf{s}$ (allowed by proof 1), beside "
                "$\\operatorname{diag}(\\mathbf{p}) - \\mathbf{p}\\mathbf{p}^\\top$ computed "
                "directly.")
    by_sympy, by_formula = jacobian_by_sympy(scores), softmax_jacobian(softmax(scores))
    left, right = st.columns(2)
    left.vega_lite_chart(heat_map(by_sympy, "∂p_i/∂s_j by SymPy diff"), width="stretch")
    right.vega_lite_chart(heat_map(by_formula, "diag(p) − ppᵀ"), width="stretch")
    st.markdown(f"largest entry-wise difference: `{np.abs(by_sympy - by_formula).max():.2e}`; "
                "every row sums to 0 (largest |row sum| "
                f"`{np.abs(by_formula.sum(1)).max():.1e}`) because the probabilities always sum "
                "to 1.")


def gradient_alive(scores: np.ndarray) -> None:
    st.markdown("**Alive.** Pick the target class: the gradient is $\\mathbf{p} - \\mathbf{t}$.")
    if ss.get("sm_target", 1) > scores.size:
        ss.sm_target = 1
    pick, _ = st.columns([1, 3])
    target = pick.selectbox("target class", range(1, scores.size + 1), key="sm_target",
                            format_func=lambda k: f"k = {k}")
    t = one_hot(target - 1, scores.size)
    classes = [f"k = {k + 1}" for k in range(scores.size)]
    gradient = pd.DataFrame({"p": softmax(scores), "t": t, "p − t": cross_entropy_grad(scores, t),
                             "∂L/∂s by SymPy diff": ce_grad_by_sympy(scores, t)},
                            index=classes).T
    # One format per row (the table is transposed): the one-hot t reads 0 and 1, the rest 6
    # decimals.
    st.table(gradient.style.format("{:.6f}").format("{:.0f}", subset=pd.IndexSlice[["t"], :]))
    st.markdown(f"loss $L = -\\log p_{{{target}}}$ = `{cross_entropy(scores, t):.6f}`; the "
                "gradient pushes the target's score up ($p - 1 < 0$) and every other score down "
                "($p > 0$).")


def wrong_line() -> None:
    """A typical slip in place of a correct line: the same checks reject it."""
    st.header("Can a wrong line get through?")
    st.markdown("Pick a slip students make: it replaces one line of a proof above and the same "
                "checks run on it. A wrong line fails the exact check for every K; for symbolic K "
                "SymPy can only say *not decided*, never a pass.")
    pick, _ = st.columns([2, 3])
    index = pick.selectbox(
        "wrong line", range(len(MISTAKES)), key="sm_mistake",
        format_func=lambda i: f"Proof {NUMBERS[MISTAKES[i].proof]}, line {MISTAKES[i].line}: "
                              f"{MISTAKES[i].label}")
    mistake, wrong = MISTAKES[index], mistake_ready(index)
    right = ready(mistake.proof)
    step = PROOFS[mistake.proof].steps[mistake.line - 1]
    good_col, bad_col = st.columns(2)
    with good_col:
        verdict = right.lines[mistake.line - 1].badges if right else CHECKING
        st.markdown(f"**Correct line {mistake.line}**  \n{verdict}")
        st.latex(step.latex)
    with bad_col:
        st.markdown(f"**Wrong line {mistake.line}**  \n{wrong.badges if wrong else CHECKING}")
        st.latex(mistake.latex)


def until_checked() -> None:
    """While SymPy is still checking in the background, look again every second."""
    if not (all(ready(key) for key in PROOFS) and mistake_ready(ss.get("sm_mistake", 0))):
        check_ahead()
        waiting()


# ---------------------------------------------------------------- helpers
@st.fragment(run_every=1.0)
def waiting() -> None:
    if all(ready(key) for key in PROOFS) and mistake_ready(ss.get("sm_mistake", 0)):
        st.rerun()  # the whole page, now with every verdict
    st.caption("⏳ SymPy is checking the proofs in the background (once per server)…")


def apply_preset(values: list[str]) -> None:
    """These scores, unshifted: the overflow demo below then shows exactly them."""
    ss.sm_K = len(values)
    for k, text in enumerate(values):
        ss[f"sm_s{k}"] = text
    ss.sm_c = 0.0
    shift_slid()


def shift_slid() -> None:
    ss.sm_c_text = f"{ss.sm_c:g}"
    ss.pop("sm_c_error", None)


def shift_typed() -> None:
    """A typed shift, read by the one number parser; out of range or not a number keeps c."""
    try:
        c = parse_number(ss.sm_c_text, "The shift $c$")
        if not SHIFT_MIN <= c <= SHIFT_MAX:
            raise NumberError("The shift $c$", f"must be between {SHIFT_MIN:g} and {SHIFT_MAX:g}, "
                              "got {typed}", ss.sm_c_text)
    except NumberError as err:
        ss.sm_c_error = err.markdown + "."
        return
    ss.sm_c = c
    ss.pop("sm_c_error", None)


def vector(v: np.ndarray) -> str:
    return "[" + ", ".join(f"{x:.6f}" for x in v) + "]"


def fmt(v: float) -> str:
    return f"{v:.6f}" if np.isfinite(v) and abs(v) < 1e6 else f"{v:.4g}"


def overflow_column(scores: np.ndarray, dtype: type) -> float | None:
    """One dtype's column of the overflow demo; returns its logsumexp (None: scores don't fit)."""
    name = np.dtype(dtype).name
    st.markdown(f"**{name}**: $e^x$ overflows past $x = {overflow_threshold(dtype):.2f}$")
    ways = three_ways(scores, dtype)
    if isinstance(ways["naive"], str):
        st.warning(ways["naive"].capitalize() + ".")
        return None
    st.markdown(f"$e^{{\\max s}}$ = `{ways['e^max'][0]:.4g}`, "
                f"$\\log\\sum_i e^{{s_i}}$ = `{ways['logsumexp'][0]:.6g}`")
    rows = {label: [fmt(float(v)) for v in ways[key]] for label, key in (
        ("naive e^s / Σe^s", "naive"), ("max-shifted", "max-shifted"),
        ("exp(s − logsumexp)", "log-sum-exp"))}
    st.table(pd.DataFrame(rows, index=[f"p_{k + 1}" for k in range(scores.size)]).T)
    if (why := naive_breakdown(scores, dtype)) is not None:
        # The failure is what this demo is for, not a fault of the page: no red.
        st.warning(why)
    return float(ways["logsumexp"][0])


# ---------------------------------------------------------------- the lesson
introduction()
scores = your_scores()
proof("shift")
shifted = shift_alive(scores)
overflow(shifted)
proof("jacobian")
jacobian_alive(scores)
proof("cross_entropy")
gradient_alive(scores)
wrong_line()
until_checked()
