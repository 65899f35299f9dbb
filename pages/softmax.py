"""Softmax proofs: three derivations, every line checked by SymPy, and each one shown live."""

from __future__ import annotations

import altair as alt
import numpy as np
import pandas as pd
import streamlit as st

from core.derivations import DerivationResult, LineResult
from core.export import to_markdown, to_tex
from core.numbers import NumberError
from core.softmax.mistakes import MISTAKES, check_mistake
from core.softmax.numerics import (
    cross_entropy,
    cross_entropy_grad,
    one_hot,
    overflow_threshold,
    parse_score,
    softmax,
    softmax_jacobian,
    softmax_naive,
    three_ways,
)
from core.softmax.oracles import ce_grad_by_sympy, jacobian_by_sympy
from core.softmax.proofs import PROOFS, sections, verify
from pages import through_app

through_app("pages/softmax.py")

DEFAULT_SCORES = ["1.0", "2.0", "3.0", "0.5", "-1.0", "2.5", "0.0", "1.5", "-2.0", "4.0"]
PRESETS = {"[1, 2, 3]": ["1", "2", "3"], "[1000, 1001, 1002]": ["1000", "1001", "1002"],
           "[-5, 0, 5, 10]": ["-5", "0", "5", "10"], "[90, 89, 0]": ["90", "89", "0"]}
SERIES = ["softmax(s)", "softmax(s + c)"]
# Past 4 classes the value labels on the bars run into each other; the table beside has them.
MAX_K_BAR_LABELS = 4
# Streamlit fits title, axes and rows into the height: about 120 px of frame, the rest rows.
HEAT_FRAME_PX, HEAT_ROW_PX = 120, 28


@st.cache_resource(show_spinner="SymPy is checking every line (once per server)…")
def checked(key: str) -> DerivationResult:
    return verify(key)


@st.cache_data(show_spinner=False)
def documents(key: str) -> tuple[str, str]:
    result = checked(key)
    secs = sections(result)
    plain_secs = sections(result, markdown=False)
    return to_markdown(result.derivation.title, secs), to_tex(result.derivation.title, plain_secs)


@st.cache_data(show_spinner="SymPy is checking the wrong line…")
def mistake_result(index: int) -> LineResult:
    return check_mistake(index)


def show_proof(number: int, key: str) -> None:
    result = checked(key)
    proof = result.derivation
    st.header(f"Proof {number}. {proof.title}")
    st.markdown(f"**Claim.** {proof.intro}")
    st.latex(proof.statement)
    for r in result.lines:
        math, why = st.columns([3, 2], vertical_alignment="center")
        math.latex(r.latex)
        why.markdown(f"**{r.number}.** {r.rule}  \n{r.badges} :gray[vs {r.against_words}]")
    end = result.conclusion
    st.markdown(f"**∎** The last line is the right side of the claim: {end.badges}")
    if not result.decided:
        st.warning("Some lines could not be checked for a symbolic K in stock SymPy (orange): "
                   "for those, only the exact checks for K = 2…6 stand behind the line.")
    with st.expander("What SymPy checked, line by line"):
        st.markdown(
            "Each line is a SymPy expression built next to the LaTeX above. **Symbolic K**: "
            "`simplify(line − previous) == 0` with sums kept as `Sum(…, (m, 1, K))` and scores "
            "`s[m]` (IndexedBase), after `.doit()` and `refine` with every index in 1…K; "
            "the last line of proof 3 may also substitute $\\sum_k t_k = 1$. **K = 2…6**: "
            "scores are the symbols $s_1, …, s_K$; with $u_q = e^{s_q}$ both lines are rational "
            "functions and `cancel(difference) == 0` is "
            f"exact, for every index pair. Checked in {result.seconds:.1f} s, once per server.")
        for r in result.every_line:
            st.markdown(f"Line {r.number}: {r.details}")
            st.latex(r.twin)
    md, tex = documents(key)
    buttons = st.container(horizontal=True)
    buttons.download_button(f"Proof {number} as Markdown", md, file_name=f"softmax_{key}.md",
                         mime="text/markdown", key=f"md_{key}", icon=":material/download:",
                             on_click="ignore")
    buttons.download_button(f"Proof {number} as .tex", tex, file_name=f"softmax_{key}.tex",
                          mime="application/x-tex", key=f"tex_{key}", icon=":material/download:",
                             on_click="ignore")


def apply_preset(values: list[str]) -> None:
    st.session_state.sm_K = len(values)
    for k, text in enumerate(values):
        st.session_state[f"sm_s{k}"] = text


def read_scores() -> np.ndarray:
    """The K score boxes, parsed with float(); bad boxes keep the last valid scores on screen."""
    st.session_state.setdefault("sm_K", 3)
    for k, text in enumerate(DEFAULT_SCORES):
        st.session_state.setdefault(f"sm_s{k}", text)
    st.session_state.setdefault("sm_last_good", [float(x) for x in DEFAULT_SCORES[:3]])
    left, right = st.columns([1, 4], vertical_alignment="bottom")
    k_classes = int(left.number_input("classes K (2 to 10)", 2, 10, key="sm_K"))
    with right.container(horizontal=True, vertical_alignment="center"):
        st.markdown("try")
        for label, values in PRESETS.items():
            st.button(label, on_click=apply_preset, args=(values,), key=f"preset_{label}")
    boxes = st.columns(k_classes)
    values, problems = [], []
    for k, box in enumerate(boxes):
        text = box.text_input(f"$s_{{{k + 1}}}$", key=f"sm_s{k}")
        try:
            values.append(parse_score(text))
        except NumberError as err:
            problems.append(f"$s_{{{k + 1}}}$ {err.markdown}")
    if problems:
        st.error("Some scores cannot be used:  \n" + "  \n".join(problems))
        st.warning("Showing the last valid scores until every box holds a number.")
        return np.asarray(st.session_state.sm_last_good, dtype=np.float64)
    st.session_state.sm_last_good = values
    return np.asarray(values, dtype=np.float64)


def vector(v: np.ndarray) -> str:
    return "[" + ", ".join(f"{x:.6f}" for x in v) + "]"


def fmt(v: float) -> str:
    return f"{v:.6f}" if np.isfinite(v) and abs(v) < 1e6 else f"{v:.4g}"


def bar_chart(s: np.ndarray, c: float) -> alt.Chart:
    p, q = softmax(s), softmax(s + c)
    df = pd.DataFrame({
        "class": [f"k = {k + 1}" for k in range(s.size)] * 2,
        "scores": [SERIES[0]] * s.size + [SERIES[1]] * s.size,
        "p": np.concatenate([p, q]),
    })
    base = alt.Chart(df).encode(
        x=alt.X("class:N", title=None, sort=None, axis=alt.Axis(labelAngle=0)),
        xOffset=alt.XOffset("scores:N", sort=SERIES),
        y=alt.Y("p:Q", title="probability", scale=alt.Scale(domain=[0, 1])),
        color=alt.Color("scores:N", title=None, legend=alt.Legend(orient="top"),
                        scale=alt.Scale(domain=SERIES, range=["#4c78a8", "#f58518"])),
        tooltip=["class", "scores", alt.Tooltip("p:Q", format=".6f")],
    )
    bars = base.mark_bar()
    if s.size > MAX_K_BAR_LABELS:
        return bars.properties(height=300)
    text = base.mark_text(dy=-7, fontSize=11).encode(text=alt.Text("p:Q", format=".4f"))
    return (bars + text).properties(height=300)


def heat_map(matrix: np.ndarray, title: str) -> alt.Chart:
    k = matrix.shape[0]
    # Integer classes with an explicit order: as strings, K = 10 sorts as 1, 10, 2, …, 9.
    df = pd.DataFrame([(i + 1, j + 1, matrix[i, j]) for i in range(k) for j in range(k)],
                      columns=["i", "j", "value"])
    order = list(range(1, k + 1))
    limit = float(np.abs(matrix).max()) or 1.0
    base = alt.Chart(df, title=title).encode(
        x=alt.X("j:O", title="j (score s_j)", sort=order, axis=alt.Axis(labelAngle=0)),
        y=alt.Y("i:O", title="i (probability p_i)", sort=order,
                axis=alt.Axis(labelOverlap=False)))
    rect = base.mark_rect().encode(
        color=alt.Color("value:Q", scale=alt.Scale(scheme="redblue", domain=[-limit, limit],
                                                   reverse=True), title=None),
        tooltip=["i", "j", alt.Tooltip("value:Q", format=".6f")])
    chart = rect
    if k <= 6:
        chart = rect + base.mark_text(fontSize=11).encode(text=alt.Text("value:Q", format=".3f"))
    # A fixed height squeezes the rows as K grows until their labels overlap.
    return chart.properties(height=max(260, HEAT_FRAME_PX + HEAT_ROW_PX * k))


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
    table = pd.DataFrame(rows, index=[f"p_{k + 1}" for k in range(scores.size)]).T
    st.dataframe(table, width="stretch")
    if not np.isfinite(ways["naive"]).all():
        # The overflow is what this demo is for, not a fault of the page: no red.
        st.warning(f"The naive softmax in {name} gives inf/nan: $e^{{s}}$ overflowed.")
    return float(ways["logsumexp"][0])


def float32_caption(lse: float | None) -> str:
    if lse is None:
        return "float32 cannot store these scores, so none of the three ways can run in it."
    spacing = abs(float(np.spacing(np.float32(lse))))
    return (f"exp(s − logsumexp) in float32 loses digits as the scores grow: here logsumexp = "
            f"{lse:.6g} is stored only to the float32 spacing at that size, {spacing:.2g}, and "
            "every $p_k$ inherits a relative error of that size.")


# ---------------------------------------------------------------- the lesson
st.title("Softmax proofs")
st.markdown(
    "Softmax turns K scores into K probabilities. Three facts about it carry every classifier's "
    "backward pass; below each is derived line by line as you would on paper, **every line "
    "checked by SymPy**, and then shown live on scores you choose."
)
st.latex(r"p_k(\mathbf{s}) = \frac{e^{s_k}}{\sum_{i=1}^{K} e^{s_i}},\qquad k = 1,\dots,K")

st.subheader("Your scores")
scores = read_scores()

show_proof(1, "shift")
st.markdown("**Alive.** Shift every score by the same $c$: the bars do not move.")
c = st.slider("shift $c$ added to every score", -1000.0, 1000.0, 0.0, step=0.5, key="sm_c")
shifted = scores + c
chart_col, table_col = st.columns([1, 1])
chart_col.altair_chart(bar_chart(scores, c), width="stretch")
p, q = softmax(scores), softmax(shifted)
table_col.dataframe(
    pd.DataFrame({"s + c": shifted, "softmax(s)": p, "softmax(s + c)": q,
                  "naive, s + c": [fmt(v) for v in softmax_naive(shifted)]},
                 index=[f"k = {k + 1}" for k in range(scores.size)]),
    column_config={name: st.column_config.NumberColumn(format="%.6f")
                   for name in ("softmax(s)", "softmax(s + c)")},
    width="stretch",
)
table_col.markdown(f"softmax(s) = `{vector(p)}`  \nsoftmax(s + c) = `{vector(q)}`")
table_col.markdown(f"largest $|p_k(\\mathbf{{s}}) - p_k(\\mathbf{{s}} + c)|$ = "
                   f"`{np.abs(p - q).max():.2e}` (rounding of $s + c$ only)")

st.header("Why it matters: overflow")
st.markdown(
    "Straight from the definition, $e^{s}$ overflows to `inf` once a score passes "
    "$\\log(\\text{largest float})$, and `inf / inf = nan`. Proof 1 lets us subtract "
    "$m = \\max_i s_i$ first, so every exponent is $\\le 0$. The same trick gives the "
    "log-sum-exp form. Below: the scores $\\mathbf{s} + c$ from above, try "
    "[1000, 1001, 1002] or slide $c$ past 88.7 (float32) or 709.78 (float64)."
)
st.latex(r"p_k = \frac{e^{s_k - m}}{\sum_i e^{s_i - m}},\qquad "
         r"\log\sum_i e^{s_i} = m + \log\sum_i e^{s_i - m},\qquad "
         r"p_k = \exp\Big(s_k - \log\sum_i e^{s_i}\Big)")
col32, col64 = st.columns(2)
with col32:
    lse32 = overflow_column(shifted, np.float32)
with col64:
    overflow_column(shifted, np.float64)
st.caption(float32_caption(lse32))

show_proof(2, "jacobian")
st.markdown("**Alive.** The Jacobian at your scores: SymPy differentiates the definition, "
            "evaluated at $\\mathbf{s} - \\max \\mathbf{s}$ (allowed by proof 1), beside "
            "$\\operatorname{diag}(\\mathbf{p}) - \\mathbf{p}\\mathbf{p}^\\top$ computed directly.")
by_sympy, by_formula = jacobian_by_sympy(scores), softmax_jacobian(p)
left, right = st.columns(2)
left.altair_chart(heat_map(by_sympy, "∂p_i/∂s_j by SymPy diff"), width="stretch")
right.altair_chart(heat_map(by_formula, "diag(p) − ppᵀ"), width="stretch")
st.markdown(f"largest entry-wise difference: `{np.abs(by_sympy - by_formula).max():.2e}`; "
            f"every row sums to 0 (largest |row sum| `{np.abs(by_formula.sum(1)).max():.1e}`) "
            "because the probabilities always sum to 1.")

show_proof(3, "cross_entropy")
st.markdown("**Alive.** Pick the target class: the gradient is $\\mathbf{p} - \\mathbf{t}$.")
if st.session_state.get("sm_target", 1) > scores.size:
    st.session_state.sm_target = 1
pick, _ = st.columns([1, 3])
target = pick.selectbox("target class", range(1, scores.size + 1), key="sm_target",
                        format_func=lambda k: f"k = {k}")
t = one_hot(target - 1, scores.size)
classes = [f"k = {k + 1}" for k in range(scores.size)]
gradient = pd.DataFrame({"p": p, "t": t, "p − t": cross_entropy_grad(scores, t),
                         "∂L/∂s by SymPy diff": ce_grad_by_sympy(scores, t)}, index=classes).T
# One format per row (the table is transposed): the one-hot t reads 0 and 1, the rest 6 decimals.
st.dataframe(gradient.style.format("{:.6f}").format("{:.0f}", subset=pd.IndexSlice[["t"], :]),
             width="stretch")
st.markdown(f"loss $L = -\\log p_{{{target}}}$ = `{cross_entropy(scores, t):.6f}`; the gradient "
            "pushes the target's score up ($p - 1 < 0$) and every other score down ($p > 0$).")

st.header("Can a wrong line get through?")
st.markdown("Pick a slip students make: it replaces one line of a proof above and the same "
            "checks run on it. A wrong line fails the exact check for every K; for symbolic K "
            "SymPy can only say *not decided*, never a pass.")
numbers = {key: n for n, key in enumerate(PROOFS, start=1)}
pick, _ = st.columns([2, 3])
index = pick.selectbox(
    "wrong line", range(len(MISTAKES)), key="sm_mistake",
    format_func=lambda i: f"Proof {numbers[MISTAKES[i].proof]}, line {MISTAKES[i].line}: "
                          f"{MISTAKES[i].label}")
mistake, wrong = MISTAKES[index], mistake_result(index)
right_line = checked(mistake.proof).lines[mistake.line - 1]
good_col, bad_col = st.columns(2)
with good_col:
    st.markdown(f"**Correct line {mistake.line}**  \n{right_line.badges}")
    st.latex(right_line.latex)
with bad_col:
    st.markdown(f"**Wrong line {mistake.line}**  \n{wrong.badges}")
    st.latex(wrong.latex)
