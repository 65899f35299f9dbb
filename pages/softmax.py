"""Softmax proofs: shift invariance, the Jacobian diag(p) − ppᵀ and the gradient p − t, each
derived line by line with every line checked by SymPy, then each shown live on scores you type.

Every number and sentence comes from `core.softmax`; this page lays them out. SymPy checks the
proofs in the background (`core.softmax.check_ahead`, started by app.py) and the page reads its
verdicts from `core.softmax.digest`, without importing SymPy: until they exist a line says
"checking…", and the live SymPy oracles say "differentiating…" until the background thread has
built them (`core.softmax.live_oracles`). What waits for SymPy is drawn by a polling fragment of
its own (`verdicts_arriving`, `oracles_arriving`) that fills it in where it stands: never a
whole-page re-run, which could swallow a click made at the moment SymPy is done.

Drawn cheaply on purpose (the browser's time is most of a visit): each proof is one Markdown
element, its lines and verdicts together; few elements (the five presets are one widget, the six
downloads one choice and one button, headings inside the Markdown they head); tables are Markdown
(no pandas or Arrow); prose math that reads as well in Unicode is Unicode; the overflow demo
(which opens by itself when the naive softmax breaks), the heat maps, the gradient and the wrong
line run when their toggle is on, so that the first visit needs neither SymPy nor more than one
chart; proofs the browser has not scrolled to are not laid out (`content-visibility: auto`).
(About 450 lines: three proofs, the overflow, the Jacobian and the gradient live, each a named
section called in order.)
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import streamlit as st

from core.numbers import NumberError, parse_number
from core.softmax import check_ahead, live_oracles, oracles_soon
from core.softmax.digest import Shown, ShownProof, from_results, load
from core.softmax.figures import bar_chart, heat_map
from core.softmax.numerics import (
    cross_entropy,
    cross_entropy_grad,
    float32_rounding,
    naive_breakdown,
    naive_fails,
    one_hot,
    overflow_threshold,
    parse_score,
    softmax,
    softmax_jacobian,
    softmax_naive,
    three_ways,
)
from pages import lazy_formulas, through_app

through_app("pages/softmax.py")
ss = st.session_state

DEFAULT_SCORES = ["1.0", "2.0", "3.0", "0.5", "-1.0", "2.5", "0.0", "1.5", "-2.0", "4.0"]
PRESETS = {"[1, 2, 3]": ["1", "2", "3"], "[1000, 1001, 1002]": ["1000", "1001", "1002"],
           "[-5, 0, 5, 10]": ["-5", "0", "5", "10"], "[90, 89, 0]": ["90", "89", "0"],
           "[88.7, 88.7, 0]": ["88.7", "88.7", "0"]}
SHIFT_MIN, SHIFT_MAX = -1000.0, 1000.0
CHECKING = ":gray-badge[⏳ SymPy is checking this line…]"
CHECKING_CAPTION = ("⏳ SymPy is checking the proofs in the background (once per server); the "
                    "verdicts fill in by themselves.")
DIFFERENTIATING = "⏳ SymPy is differentiating the definition (once per server)…"
# Off-screen proofs are not laid out until scrolled to (a proof is about 900 px tall).
LAZY_DRAWING = lazy_formulas(900)
NAIVE, SHIFTED, LSE = ("naive: exp(s) / Σ exp(s)", "max-shifted: exp(s − m) / Σ exp(s − m)",
                       "log-sum-exp: exp(s − logsumexp(s))")


# ---------------------------------------------------------------- the lesson's sections
def introduction() -> None:
    st.html(LAZY_DRAWING)  # style only: Streamlit puts it in the page's head, not its flow
    st.title("Softmax proofs")
    st.markdown(
        "Softmax turns K scores into K probabilities. Three facts about it carry every "
        "classifier's backward pass; below each is derived line by line as you would on paper, "
        "**every line checked by SymPy**, and then shown live on scores you choose.\n\n"
        r"$$p_k(\mathbf{s}) = \frac{e^{s_k}}{\sum_{i=1}^{K} e^{s_i}},\qquad k = 1,\dots,K$$"
        "\n\n### Your scores")


def your_scores() -> np.ndarray:
    """The K score boxes; while a box holds no number, the last valid scores stay on screen."""
    ss.setdefault("sm_K", 3)
    for k, text in enumerate(DEFAULT_SCORES):
        ss.setdefault(f"sm_s{k}", text)
    ss.setdefault("sm_last_good", [float(x) for x in DEFAULT_SCORES[:3]])
    left, right = st.columns([1, 4], vertical_alignment="bottom")
    k_classes = int(left.number_input("classes K (2 to 10)", 2, 10, key="sm_K"))
    # One widget for the five presets (five buttons were five elements to draw on every run).
    right.pills("try these scores", list(PRESETS), key="sm_preset", on_change=apply_preset)
    values, problems = [], []
    for k, box in enumerate(st.columns(k_classes)):
        text = box.text_input(f"s{subscript(k + 1)}", key=f"sm_s{k}")
        try:
            values.append(parse_score(text))
        except NumberError as err:
            problems.append(f"s{subscript(k + 1)} {err.markdown}")
    if problems:
        st.error("Some scores cannot be used:  \n" + "  \n".join(problems))
        st.warning("Showing the last valid scores until every box holds a number.")
        return np.asarray(ss.sm_last_good, dtype=np.float64)
    ss.sm_last_good = values
    return np.asarray(values, dtype=np.float64)


def proof(shown: Shown, key: str) -> None:
    """The claim, every line with its rule and SymPy's verdicts, in one element, then what SymPy
    checked (on demand); while SymPy is at it, the lines fill in by themselves."""
    st.header(f"Proof {number(shown, key)}. {shown.proofs[key].title}")
    if shown.proofs[key].checked:
        proof_lines(shown, key)
    else:
        verdicts_arriving(proof_lines, key)


def proof_lines(shown: Shown, key: str) -> None:
    d = shown.proofs[key]
    st.markdown(proof_markdown(d))
    if not d.checked:
        st.caption(CHECKING_CAPTION)
        return
    if not d.decided:
        st.warning("Some lines could not be checked for a symbolic K in stock SymPy (orange): "
                   "for those, only the exact checks for K = 2…6 stand behind the line.")
    # On demand: SymPy's own LaTeX of every line is two dozen formulas more to typeset.
    if st.toggle("What SymPy checked, line by line", key=f"twins_{key}"):
        st.markdown(twins_markdown(d))


def shift_alive(scores: np.ndarray) -> np.ndarray:
    """Proof 1 live: the shift c by slider or typed, the two bar charts; returns s + c."""
    st.markdown("**Alive.** Shift every score by the same $c$ (slide it, or type it in the box "
                "beside): the bars do not move.")
    ss.setdefault("sm_c", 0.0)
    ss.setdefault("sm_c_text", "0")
    slide, typed = st.columns([5, 1], vertical_alignment="bottom")
    slide.slider("shift c added to every score", SHIFT_MIN, SHIFT_MAX, step=0.5, key="sm_c",
                 on_change=shift_slid)
    typed.text_input("or type c", key="sm_c_text", on_change=shift_typed)
    if ss.get("sm_c_error"):
        st.error(ss.sm_c_error + " The shift stays at " + f"`{ss.sm_c:g}`.")
    c = float(ss.sm_c)
    shifted = scores + c
    chart_col, table_col = st.columns([1, 1])
    chart_col.vega_lite_chart(bar_chart(scores, c), width="stretch")
    p, q = softmax(scores), softmax(shifted)
    rows = [[f"{a:.10g}", f"{b:.6f}", f"{e:.6f}", fmt(n)]
            for a, b, e, n in zip(shifted, p, q, softmax_naive(shifted), strict=True)]
    table_col.markdown(
        markdown_table(["", "s + c", "softmax(s)", "softmax(s + c)", "naive, s + c"],
                       classes(scores.size), rows)
        + f"\n\nsoftmax(s) = `{vector(p)}`  \nsoftmax(s + c) = `{vector(q)}`  \n"
        f"largest $|p_k(\\mathbf{{s}}) - p_k(\\mathbf{{s}} + c)|$ = "
        f"`{np.abs(p - q).max():.2e}` (rounding of $s + c$ only)")
    return shifted


def overflow(shifted: np.ndarray) -> None:
    """Why proof 1 matters: the naive softmax breaks in float32 and float64, the shifted one not.
    The demo runs when asked for, and by itself when the naive softmax breaks on s + c."""
    st.markdown(
        "## Why it matters: overflow\n\n"
        "Straight from the definition, pₖ = exp(sₖ) / Σᵢ exp(sᵢ) breaks in two ways:\n"
        "1. **A term overflows.** exp(s) is `inf` once a score passes log(largest float) "
        "(88.72 in float32, 709.78 in float64), and `inf / inf = nan`: you see it.\n"
        "2. **Only the sum overflows, silently.** Every exp(sₖ) fits, but their sum does not: "
        "then every pₖ is `finite / inf = 0`, and the naive softmax returns zeros without a "
        "single `nan` to warn you. In float32, [88.7, 88.7, 0] gives [0, 0, 0]: "
        "exp(88.7) ≈ 3.3 × 10³⁸ fits below float32's largest 3.4 × 10³⁸, twice that does not.\n\n"
        "Proof 1 lets us subtract m = maxᵢ sᵢ first, so every exponent is ≤ 0 and one term of "
        "the sum is exactly 1: neither can happen. The same trick gives the log-sum-exp form. "
        "The demo takes the scores s + c from above: try [1000, 1001, 1002] or [88.7, 88.7, 0], "
        "or slide c past 88.7 (float32) or 709.78 (float64), and it opens by itself.")
    fails = naive_fails(shifted)
    if not st.toggle("Show the naive, max-shifted and log-sum-exp softmax of s + c in float32 "
                     "and float64", key="sm_overflow") and not fails:
        return
    if fails and not ss.sm_overflow:
        st.caption("Shown because the naive softmax breaks on these scores.")
    st.markdown(r"$$p_k = \frac{e^{s_k - m}}{\sum_i e^{s_i - m}},\qquad "
                r"\log\sum_i e^{s_i} = m + \log\sum_i e^{s_i - m},\qquad "
                r"p_k = \exp\Big(s_k - \log\sum_i e^{s_i}\Big)$$")
    col32, col64 = st.columns(2)
    with col32:
        lse32 = overflow_column(shifted, np.float32)
    with col64:
        overflow_column(shifted, np.float64)
    st.caption(float32_rounding(lse32))


def jacobian_alive(scores: np.ndarray) -> None:
    if not st.toggle("**Alive.** The Jacobian at your scores as heat maps: SymPy's derivative "
                     "beside diag(p) − ppᵀ", key="sm_jacobian"):
        return
    st.markdown("SymPy differentiates the definition, evaluated at $\\mathbf{s} - \\max "
                "\\mathbf{s}$ (allowed by proof 1), beside $\\operatorname{diag}(\\mathbf{p}) - "
                "\\mathbf{p}\\mathbf{p}^\\top$ computed directly.")
    if live_oracles() is None:
        oracles_arriving(heat_maps, scores)
    else:
        heat_maps(scores)


def heat_maps(scores: np.ndarray) -> None:
    oracles = live_oracles()
    by_formula = softmax_jacobian(softmax(scores))
    left, right = st.columns(2)
    right.vega_lite_chart(heat_map(by_formula, "diag(p) − ppᵀ"), width="stretch")
    rows = (f"every row sums to 0 (largest |row sum| `{np.abs(by_formula.sum(1)).max():.1e}`) "
            "because the probabilities always sum to 1.")
    if oracles is None:
        left.info(DIFFERENTIATING)
        st.markdown(rows.capitalize())
        return
    by_sympy = oracles.jacobian_by_sympy(scores)
    left.vega_lite_chart(heat_map(by_sympy, "∂p_i/∂s_j by SymPy diff"), width="stretch")
    st.markdown(f"largest entry-wise difference: `{np.abs(by_sympy - by_formula).max():.2e}`; "
                + rows)


def gradient_alive(scores: np.ndarray) -> None:
    if not st.toggle("**Alive.** The gradient p − t for a target class you pick, beside SymPy's",
                     key="sm_gradient"):
        return
    if ss.get("sm_target", 1) > scores.size:
        ss.sm_target = 1
    pick, _ = st.columns([1, 3])
    target = pick.selectbox("target class", range(1, scores.size + 1), key="sm_target",
                            format_func=lambda k: f"k = {k}")
    if live_oracles() is None:
        oracles_arriving(gradient_table, scores, target)
    else:
        gradient_table(scores, target)


def gradient_table(scores: np.ndarray, target: int) -> None:
    t = one_hot(target - 1, scores.size)
    oracles = live_oracles()
    rows = {"p": [f"{v:.6f}" for v in softmax(scores)], "t": [f"{v:.0f}" for v in t],
            "p − t": [f"{v:.6f}" for v in cross_entropy_grad(scores, t)],
            "∂L/∂s by SymPy diff": ([f"{v:.6f}" for v in oracles.ce_grad_by_sympy(scores, t)]
                                   if oracles else ["…"] * scores.size)}
    st.markdown(
        markdown_table(["", *classes(scores.size)], list(rows), list(rows.values()))
        + f"\n\nloss $L = -\\log p_{{{target}}}$ = `{cross_entropy(scores, t):.6f}`; the "
        "gradient pushes the target's score up ($p - 1 < 0$) and every other score down "
        "($p > 0$)." + ("" if oracles else f"  \n{DIFFERENTIATING}"))


def wrong_line(shown: Shown) -> None:
    """A typical slip in place of a correct line: the same checks reject it."""
    st.markdown("## Can a wrong line get through?\n\n"
                "Pick a slip students make: it replaces one line of a proof above and the same "
                "checks run on it. A wrong line fails the exact check for every K; for symbolic K "
                "SymPy can only say *not decided*, never a pass.")
    if not st.toggle("Show a wrong line and its checks", key="sm_wrong"):
        return
    if shown.checked:
        wrong_line_checked(shown)
    else:
        verdicts_arriving(wrong_line_checked)


def wrong_line_checked(shown: Shown) -> None:
    pick, _ = st.columns([2, 3])
    index = pick.selectbox(
        "wrong line", range(len(shown.mistakes)), key="sm_mistake",
        format_func=lambda i: f"Proof {number(shown, shown.mistakes[i].proof)}, line "
                              f"{shown.mistakes[i].line}: {shown.mistakes[i].label}")
    mistake = shown.mistakes[index]
    right = shown.proofs[mistake.proof].lines[mistake.line - 1]
    good_col, bad_col = st.columns(2)
    good_col.markdown(f"**Correct line {mistake.line}**  \n{right.verdict or CHECKING}\n\n"
                      f"$$\n{right.latex}\n$$")
    bad_col.markdown(f"**Wrong line {mistake.line}**  \n{mistake.verdict or CHECKING}\n\n"
                     f"$$\n{mistake.latex}\n$$")


def downloads(shown: Shown) -> None:
    """Each proof as Markdown-with-LaTeX or .tex: one choice and one button (six buttons were
    six elements more to draw on every run)."""
    if not shown.checked:
        verdicts_arriving(download_row)
    else:
        download_row(shown)


def download_row(shown: Shown) -> None:
    if not all(d.checked for d in shown.proofs.values()):
        st.caption("The downloads appear when SymPy has checked every line (once per server).")
        return
    files = {f"{key}.{kind}": f"Proof {number(shown, key)} as {label}" for key in shown.proofs
             for kind, label in (("md", "Markdown"), ("tex", ".tex"))}
    row = st.container(horizontal=True, vertical_alignment="bottom")
    chosen = row.selectbox("Download a proof", list(files), format_func=files.get,
                           key="sm_download", width=260)
    key, kind = chosen.split(".")
    d = shown.proofs[key]
    row.download_button(
        "Download", d.markdown if kind == "md" else d.tex, file_name=f"softmax_{chosen}",
        mime="text/markdown" if kind == "md" else "application/x-tex", key="sm_download_file",
        icon=":material/download:", on_click="ignore")


def until_checked() -> None:
    check_ahead()  # after the page is on its way: a no-op once started or done
    oracles_soon()  # a reader of the proofs is idle time: the heat maps are ready when wanted


# ---------------------------------------------------------------- helpers
def the_proofs() -> Shown:
    """The proofs as shown: from the digest without SymPy, else as far as SymPy has got."""
    return load() or from_results()


@st.fragment(run_every=1.0)
def verdicts_arriving(draw: Callable[..., None], *args: object) -> None:
    """`draw(shown, *args)` again every second with the proofs as SymPy has checked them so far,
    here, never by re-running the whole page (a whole-page run at the moment SymPy's verdicts
    arrive could swallow a click made in that moment). Called only while verdicts were pending
    at the page's last run: its next run draws them directly, and this poll stops."""
    draw(the_proofs(), *args)


@st.fragment(run_every=1.0)
def oracles_arriving(draw: Callable[..., None], *args: object) -> None:
    """`draw(*args)` again every second until the live SymPy oracles exist, as
    `verdicts_arriving` does for the verdicts."""
    draw(*args)


def number(shown: Shown, key: str) -> int:
    return list(shown.proofs).index(key) + 1


def proof_markdown(d: ShownProof) -> str:
    """The claim, then every line as display math with its number, rule and verdict."""
    parts = [f"**Claim.** {d.intro}", f"$$\n{d.statement}\n$$"]
    for n, line in enumerate(d.lines, start=1):
        parts += [f"$$\n{line.latex}\n$$", f"**{n}.** {line.rule}  \n{line.verdict or CHECKING}"]
    parts.append("**∎** The last line is the right side of the claim: "
                 f"{d.conclusion.verdict or CHECKING}")
    return "\n\n".join(parts)


def twins_markdown(d: ShownProof) -> str:
    lines = "\n\n".join(f"Line {n}: {r.details}\n\n$$\n{r.twin}\n$$"
                        for n, r in enumerate((*d.lines, d.conclusion), start=1))
    return (
        "Each line is a SymPy expression built next to the LaTeX above. **Symbolic K**: "
        "`simplify(line − previous) == 0` with sums kept as `Sum(…, (m, 1, K))` and scores "
        "`s[m]` (IndexedBase), after `.doit()` and `refine` with every index in 1…K; "
        "the last line of proof 3 may also substitute $\\sum_k t_k = 1$. **K = 2…6**: "
        "scores are the symbols $s_1, …, s_K$; with $u_q = e^{s_q}$ both lines are rational "
        "functions and `cancel(difference) == 0` is exact, for every index pair. Checked in "
        f"{d.seconds:.1f} s, once per server.\n\n" + lines)


def markdown_table(header: list[str], labels: list[str], rows: list[list[str]]) -> str:
    """A Markdown table: `header`, then one row per label (bold) with its cells, right-aligned."""
    lines = ["| " + " | ".join(header) + " |", "|---" + "|---:" * (len(header) - 1) + "|"]
    lines += [f"| **{label}** | " + " | ".join(row) + " |"
              for label, row in zip(labels, rows, strict=True)]
    return "\n".join(lines)


def classes(k: int) -> list[str]:
    return [f"k = {n + 1}" for n in range(k)]


def apply_preset() -> None:
    """The chosen preset's scores, unshifted: the overflow demo below then shows exactly them.
    The pill is cleared again, so that choosing the same preset twice applies it twice."""
    if ss.sm_preset is None:
        return
    values, ss.sm_preset = PRESETS[ss.sm_preset], None
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


def subscript(n: int) -> str:
    """n in Unicode subscript digits: s₁ … s₁₀ in a label, without typesetting math."""
    return str(n).translate(str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉"))


def vector(v: np.ndarray) -> str:
    return "[" + ", ".join(f"{x:.6f}" for x in v) + "]"


def fmt(v: float) -> str:
    return f"{v:.6f}" if np.isfinite(v) and abs(v) < 1e6 else f"{v:.4g}"


def overflow_column(scores: np.ndarray, dtype: type) -> float | None:
    """One dtype's column of the overflow demo; returns its logsumexp (None: scores don't fit)."""
    name = np.dtype(dtype).name
    head = f"**{name}**: $e^x$ overflows past $x = {overflow_threshold(dtype):.2f}$"
    ways = three_ways(scores, dtype)
    if isinstance(ways["naive"], str):
        st.markdown(head)
        st.warning(ways["naive"].capitalize() + ".")
        return None
    rows = [[fmt(float(v)) for v in ways[key]] for key in ("naive", "max-shifted", "log-sum-exp")]
    st.markdown(f"{head}  \n$e^{{\\max s}}$ = `{ways['e^max'][0]:.4g}`, "
                f"$\\log\\sum_i e^{{s_i}}$ = `{ways['logsumexp'][0]:.6g}`\n\n"
                + markdown_table(["p", *classes(scores.size)], [NAIVE, SHIFTED, LSE], rows))
    if (why := naive_breakdown(scores, dtype)) is not None:
        # The failure is what this demo is for, not a fault of the page: no red.
        st.warning(why)
    return float(ways["logsumexp"][0])


# ---------------------------------------------------------------- the lesson
shown = the_proofs()
introduction()
scores = your_scores()
proof(shown, "shift")
shifted = shift_alive(scores)
overflow(shifted)
proof(shown, "jacobian")
jacobian_alive(scores)
proof(shown, "cross_entropy")
gradient_alive(scores)
wrong_line(shown)
downloads(shown)
until_checked()
