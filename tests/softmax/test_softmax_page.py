"""The softmax page under AppTest: proofs, charts, shift slider, bad input, overflow demo."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest

import core.derivations
import core.softmax
from core.softmax.mistakes import MISTAKES
from core.softmax.numerics import softmax
from core.softmax.proofs import PROOFS, ready

PAGE = "pages/softmax.py"


@pytest.fixture
def at(open_page):
    # What app.py starts on a server's first run; here it is waited for, so that the page shows
    # every verdict (reading them from disk when SymPy has checked these very proofs before).
    core.softmax.checked_ahead(timeout=300)
    return open_page(PAGE, timeout=90)


NAIVE, SHIFTED = "naive: exp(s) / Σ exp(s)", "max-shifted: exp(s − m) / Σ exp(s − m)"


def tables(app) -> list[dict[str, list[str]]]:
    """Every Markdown table on the page, in page order, as {row label: cells} with the header
    under "" (the page's tables are Markdown: no pandas, no Arrow)."""
    found = []
    for m in app.markdown:
        rows = [line for line in m.value.splitlines() if line.startswith("|")]
        if not rows:
            continue
        cells = [[c.strip().strip("*") for c in row.strip("|").split("|")] for row in rows]
        assert all(set(c) <= set("-:") for c in cells[1]), rows[1]  # the alignment row
        found.append({"": cells[0][1:], **{row[0]: row[1:] for row in cells[2:]}})
    return found


def column(table: dict[str, list[str]], name: str) -> np.ndarray:
    """One column of a table whose rows are the classes k = 1..K, as floats."""
    at = table[""].index(name)
    return np.array([float(cells[at]) for label, cells in table.items() if label])


def probabilities(app) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(s + c, softmax(s), softmax(s + c)) from the table beside the bar chart."""
    table = tables(app)[0]
    return column(table, "s + c"), column(table, "softmax(s)"), column(table, "softmax(s + c)")


def markdown_text(app) -> str:
    return "\n".join(m.value for m in app.markdown)


def chart_specs(app) -> list[dict]:
    """Vega-Lite specs of the bar chart and the two heat maps, in page order (data inline)."""
    return [json.loads(c.proto.spec) for c in app.get("vega_lite_chart")]


def warnings(app) -> str:
    return " ".join(w.value for w in app.warning)


def marks(spec: dict) -> list[str]:
    layers = spec.get("layer", [spec])
    return [m["type"] if isinstance(m, dict) else m for m in (layer["mark"] for layer in layers)]


def turn_on(app, *keys: str):
    """The live parts that run only on demand (the overflow demo also by itself when the naive
    softmax breaks): sm_overflow, sm_jacobian, sm_gradient, sm_wrong."""
    for key in keys:
        app.toggle(key=key).set_value(True)
    return app.run()


def preset(app, label: str):
    """Choose a preset of scores: one pill of the page's "try these scores" row."""
    return app.button_group(key="sm_preset").set_value(label).run()


def downloads(app) -> list[str]:
    """The media URL of every download the page offers (named by a hash of the file's content
    and ending in its type), each chosen in turn as a student would (one choice of proof and
    format, then one button)."""
    names = []
    assert len(app.selectbox(key="sm_download").options) == 2 * len(PROOFS)
    for choice in (f"{key}.{kind}" for key in PROOFS for kind in ("md", "tex")):
        app.selectbox(key="sm_download").set_value(choice).run()
        (button,) = app.get("download_button")
        names.append(button.proto.url)
    return names


def overflow_warnings(app) -> str:
    return " ".join(w.value for w in app.warning if w.value.startswith("The naive softmax"))


def test_renders_all_three_proofs_with_badges_and_charts(at) -> None:
    headers = [h.value for h in at.header]
    for n, proof in enumerate(PROOFS.values(), start=1):
        assert f"Proof {n}. {proof.title}" in headers
    text = markdown_text(at)
    for proof in PROOFS.values():  # display math inside each proof's one Markdown element
        assert f"$$\n{proof.statement}\n$$" in text
        for step in proof.steps:
            assert f"$$\n{step.latex}\n$$" in text, step.latex
    n_lines = sum(len(p.steps) + 1 for p in PROOFS.values())
    # Every line and conclusion.
    assert text.count(":green-badge[✓ symbolic K]") == n_lines
    assert text.count(":green-badge[✓ K = 2…6, exact]") == n_lines
    assert not at.warning, "no line is left unchecked for symbolic K"
    assert "checking" not in text
    # On opening, one chart: the bars of softmax(s) and softmax(s + c); the shift slider.
    (bar,) = [json.dumps(spec) for spec in chart_specs(at)]
    assert '"bar"' in bar and '"xOffset"' in bar
    assert at.slider(key="sm_c").value == 0.0
    files = downloads(at)  # six different files: each proof as Markdown and as .tex
    assert len(set(files)) == 6 and [f.rsplit(".")[-1] for f in files] == ["md", "tex"] * 3
    # The rest on demand: the Jacobian's two heat maps, and the correct line beside a wrong one.
    turn_on(at, "sm_jacobian", "sm_wrong")
    specs = [json.dumps(spec) for spec in chart_specs(at)]
    assert len(specs) == 3 and specs[0] == bar
    assert all('"rect"' in m for m in specs[1:])
    assert markdown_text(at).count(":green-badge[✓ symbolic K]") == n_lines + 1


def test_live_parts_wait_for_their_toggle_and_the_overflow_demo_opens_itself(at) -> None:
    """Scores [1, 2, 3] break nothing: the overflow is explained (in text) but its demo, the heat
    maps, the gradient and the wrong line run only when turned on; scores that break the naive
    softmax open the demo at once."""
    text = markdown_text(at)
    assert "**Only the sum overflows, silently.**" in text and NAIVE not in text
    assert len(tables(at)) == 1  # the table beside the bar chart
    assert [t.key for t in at.toggle if not t.value] == [
        "twins_shift", "sm_overflow", "twins_jacobian", "sm_jacobian", "twins_cross_entropy",
        "sm_gradient", "sm_wrong"]
    turn_on(at, "sm_overflow")
    assert NAIVE in markdown_text(at) and len(tables(at)) == 3  # float32, float64
    assert not any("breaks on these scores" in c.value for c in at.caption)
    at.toggle(key="sm_overflow").set_value(False).run()
    assert len(tables(at)) == 1
    preset(at, "[1000, 1001, 1002]")  # the toggle still off
    assert len(tables(at)) == 3 and "float64 gives nan" in overflow_warnings(at)
    assert any(c.value == "Shown because the naive softmax breaks on these scores."
               for c in at.caption)


def test_what_sympy_checked_is_shown_on_demand(at) -> None:
    result = ready("jacobian")
    # Two dozen formulas fewer to typeset on opening.
    assert f"$$\n{result.lines[0].twin}\n$$" not in markdown_text(at)
    at.toggle(key="twins_jacobian").set_value(True).run()
    text = markdown_text(at)
    assert all(f"$$\n{r.twin}\n$$" in text for r in result.every_line)
    assert f"Line 1: {result.lines[0].details}" in text
    assert "cancel(a − b) = 0 in $u_q = e^{s_q}$, every index, K = 2…6" in text


def test_moving_the_shift_slider_leaves_the_probabilities_unchanged(at) -> None:
    s0, p0, q0 = probabilities(at)
    # Shown to 6 decimals (the table and the vectors below it).
    np.testing.assert_allclose(p0, softmax([1.0, 2.0, 3.0]), rtol=0, atol=5e-7)
    np.testing.assert_array_equal(p0, q0)
    for c in (250.0, -1000.0, 1000.0):
        at.slider(key="sm_c").set_value(c).run()
        s1, p1, q1 = probabilities(at)
        np.testing.assert_array_equal(s1, s0 + c)
        np.testing.assert_array_equal(p1, p0)
        np.testing.assert_allclose(q1, p0, rtol=0, atol=1e-13)
        assert f"softmax(s + c) = `[{', '.join(f'{v:.6f}' for v in p0)}]`" in markdown_text(at)
    # At c = 1000 every score is past 709.78: the naive softmax broke, the page says so, in
    # a warning: the overflow is the lesson, not a fault of the page.
    assert "The naive softmax in float64 gives nan: $e^{s_k}$ overflowed to inf for k = 1, 2, " \
           "3 (scores past 709.78)" in overflow_warnings(at)
    assert not at.error
    assert at.text_input(key="sm_c_text").value == "1000"  # the box follows the slider


def test_preset_1000_1001_1002_shows_the_overflow(at) -> None:
    preset(at, "[1000, 1001, 1002]")
    assert [at.text_input(key=f"sm_s{k}").value for k in range(3)] == ["1000", "1001", "1002"]
    said = overflow_warnings(at)
    assert "float32 gives nan" in said and "float64 gives nan" in said
    assert not at.error
    float32, float64 = tables(at)[1:3]
    expected = [f"{v:.6f}" for v in softmax([1000.0, 1001.0, 1002.0])]
    assert float64[SHIFTED] == expected
    assert float32[SHIFTED] == expected
    assert float64[NAIVE] == ["nan"] * 3


@pytest.mark.parametrize("bad,words", [("abc", "not a number"), ("nan", "NaN"),
                                       ("1e999", "infinite"), ("", "empty")])
def test_bad_scores_give_a_message_and_keep_the_last_valid_ones(at, bad, words) -> None:
    _, p0, _ = probabilities(at)
    at.text_input(key="sm_s1").input(bad).run()
    assert any(words in e.value for e in at.error), [e.value for e in at.error]
    assert any("last valid scores" in w.value for w in at.warning)
    np.testing.assert_array_equal(probabilities(at)[1], p0)


def test_huge_but_finite_score_works_in_float64_and_is_refused_in_float32(at) -> None:
    at.text_input(key="sm_s2").input("1e308").run()
    assert not at.error  # 1e308 is a valid score
    assert "float64 gives nan" in overflow_warnings(at)  # the naive e^1e308 = inf
    _, p, _ = probabilities(at)
    np.testing.assert_array_equal(p, [0.0, 0.0, 1.0])
    assert any("does not fit in float32" in w.value for w in at.warning)


def test_ten_classes_jacobian_and_gradient(at) -> None:
    turn_on(at, "sm_jacobian", "sm_gradient")
    at.number_input(key="sm_K").set_value(10).run()
    scores = np.array([1.0, 2.0, 3.0, 0.5, -1.0, 2.5, 0.0, 1.5, -2.0, 4.0])
    _, p, _ = probabilities(at)
    np.testing.assert_allclose(p, softmax(scores), rtol=0, atol=5e-7)
    at.selectbox(key="sm_target").set_value(10).run()
    grad = {label: np.array([float(v) for v in cells])
            for label, cells in tables(at)[-1].items() if label}
    # Six decimals shown: the formula's p − t and SymPy's gradient agree to the last digit.
    np.testing.assert_allclose(grad["p − t"], softmax(scores) - np.eye(10)[9], atol=5e-7)
    np.testing.assert_array_equal(grad["∂L/∂s by SymPy diff"], grad["p − t"])
    text = markdown_text(at)
    assert "largest entry-wise difference" in text
    # Back to 3 classes: the target (10) no longer exists and is reset, no exception.
    at.number_input(key="sm_K").set_value(3).run()
    assert at.selectbox(key="sm_target").value == 1


def test_a_wrong_line_is_shown_rejected(at) -> None:
    index = next(i for i, m in enumerate(MISTAKES) if m.label == "p + t instead of p - t")
    turn_on(at, "sm_wrong")
    at.selectbox(key="sm_mistake").set_value(index).run()
    text = markdown_text(at)
    assert "$$\n= p_j + t_j\n$$" in text
    assert "**Wrong line 7**" in text and ":red-badge[✗ fails for K = 2, 3, 4, 5, 6]" in text
    assert ":orange-badge[symbolic K: not decided by stock SymPy]" in text


def test_heat_maps_order_classes_numerically_and_grow_with_k(at) -> None:
    turn_on(at, "sm_jacobian")
    short = chart_specs(at)[1]["height"]
    at.number_input(key="sm_K").set_value(10).run()
    order = list(range(1, 11))
    for spec in chart_specs(at)[1:]:
        for axis in ("x", "y"):
            enc = spec["encoding"][axis]
            assert enc["type"] == "ordinal" and enc.get("sort") == order, enc
        for layer in spec["layer"]:  # the data goes inline, as JSON, into every layer
            rows = layer["data"]["values"]
            assert sorted({row["i"] for row in rows}) == order  # integers, not "1", "10", …
            assert len(rows) == 100
        # Ten rows of labels need room: about 25 px each beyond title and axes (~100 px).
        assert spec["height"] >= 100 + 25 * 10 and spec["height"] > short, spec["height"]


def test_bar_value_labels_only_when_they_fit(at) -> None:
    bar = chart_specs(at)[0]
    assert marks(bar) == ["bar", "text"]  # K = 3: the values sit on the bars
    (chart,) = [c for c in at.get("vega_lite_chart")][:1]
    assert not chart.proto.datasets and not chart.proto.data.data, "no Arrow: JSON only"
    for k in (5, 10):
        at.number_input(key="sm_K").set_value(k).run()
        bar = chart_specs(at)[0]
        assert marks(bar) == ["bar"], k  # too narrow: the labels would overlap
        tooltip = bar["encoding"]["tooltip"]
        assert any(t.get("field") == "p" and t.get("format") == ".6f" for t in tooltip)


@pytest.mark.parametrize("c", [0.0, 1000.0, -750.0])
def test_float32_caption_states_the_logsumexp_on_the_page(at, c) -> None:
    turn_on(at, "sm_overflow")
    at.slider(key="sm_c").set_value(c).run()
    shown = re.findall(r"\$\\log\\sum_i e\^\{s_i\}\$ = `([^`]+)`", markdown_text(at))
    assert len(shown) == 2, shown  # float32, float64
    lse32 = float(shown[0])
    assert lse32 == pytest.approx(np.log(np.exp([1.0, 2.0, 3.0]).sum()) + c, rel=1e-5, abs=1e-5)
    caption = " ".join(x.value for x in at.caption)
    spacing = abs(float(np.spacing(np.float32(lse32))))
    assert f"logsumexp = {shown[0]} " in caption, caption
    assert f"{spacing:.2g}" in caption, (spacing, caption)


def test_one_hot_target_reads_0_and_1(at) -> None:
    turn_on(at, "sm_gradient")
    at.number_input(key="sm_K").set_value(4).run()
    at.selectbox(key="sm_target").set_value(2).run()
    shown = tables(at)[-1]
    assert shown[""] == ["k = 1", "k = 2", "k = 3", "k = 4"]
    assert shown["t"] == ["0", "1", "0", "0"]
    for row in ("p", "p − t", "∂L/∂s by SymPy diff"):
        assert all(re.fullmatch(r"-?\d\.\d{6}", v) for v in shown[row]), shown[row]


def test_no_raw_tex_outside_math_in_markdown(at) -> None:
    preset(at, "[1000, 1001, 1002]")  # the overflow warnings too
    texts = [e.value for kind in ("markdown", "caption", "warning", "error")
             for e in getattr(at, kind)]
    for text in texts:
        plain = re.sub(r"\$\$.+?\$\$|\$[^$]+\$|`[^`]*`|:\w+(-\w+)?\[", "", text, flags=re.S)
        assert not re.search(r"\^|_\{|\\[a-z]", plain), text


def test_float32_sum_overflow_is_named_not_silent(at) -> None:
    """[88.7, 88.7, 0] in float32: e^88.7 = 3.3e38 fits (float32's largest is 3.4e38, e^88.72),
    but e^88.7 + e^88.7 = 6.6e38 does not: the sum is inf and every p_k = finite / inf = 0."""
    at.slider(key="sm_c").set_value(250.0).run()
    preset(at, "[88.7, 88.7, 0]")
    assert at.slider(key="sm_c").value == 0.0  # a preset's scores are shown unshifted
    assert at.text_input(key="sm_c_text").value == "0"
    float32, float64 = tables(at)[1:3]
    assert float32[NAIVE] == ["0.000000"] * 3  # no nan to warn anyone
    # Max-shifted: s - m = [0, 0, -88.7], so p = [1, 1, e^-88.7] / (2 + e^-88.7) = [0.5, 0.5, ~0].
    assert float32[SHIFTED] == ["0.500000", "0.500000", "0.000000"]
    assert float64[NAIVE] == ["0.500000", "0.500000", "0.000000"]
    # The page explains this case beside the exp overflow, before any scores are typed.
    assert "**Only the sum overflows, silently.**" in markdown_text(at)
    said = overflow_warnings(at)
    assert said.startswith("The naive softmax in float32 gives all zeros, and no warning")
    assert "their sum overflows to inf" in said and "float32's largest 3.4e+38" in said
    assert "float64" not in said  # float64 holds 6.6e38 easily: no warning there
    assert not at.error


def test_the_shift_can_be_typed(at) -> None:
    _, p0, _ = probabilities(at)
    at.text_input(key="sm_c_text").input("86.25").run()  # between the slider's 0.5 steps
    assert at.slider(key="sm_c").value == 86.25
    s1, p1, q1 = probabilities(at)
    np.testing.assert_array_equal(s1, np.array([1.0, 2.0, 3.0]) + 86.25)
    np.testing.assert_allclose(q1, p0, rtol=0, atol=1e-13)
    # s + c = [87.25, 88.25, 89.25]: only 89.25 passes float32's 88.72, and the page says so.
    assert "float32 gives nan: $e^{s_k}$ overflowed to inf for k = 3 (" in overflow_warnings(at)
    assert not at.error


@pytest.mark.parametrize("typed,words", [
    ("abc", "The shift $c$ is not a number (`abc`)"), ("1,5", "use a point for decimals"),
    ("5000", "must be between -1000 and 1000, got `5000`"), ("nan", "NaN"),
    ("![x](http://example.invalid/a.png)", "is not a number (`![x](http://example.inv…`)")])
def test_a_bad_typed_shift_says_why_and_keeps_c(at, typed, words) -> None:
    at.text_input(key="sm_c_text").input("12.5").run()
    at.text_input(key="sm_c_text").input(typed).run()
    (error,) = at.error
    assert words in error.value and error.value.endswith("The shift stays at `12.5`.")
    assert at.slider(key="sm_c").value == 12.5
    np.testing.assert_array_equal(probabilities(at)[0], np.array([1.0, 2.0, 3.0]) + 12.5)
    at.slider(key="sm_c").set_value(3.0).run()  # moving the slider clears the complaint
    assert not at.error and at.text_input(key="sm_c_text").value == "3"


def test_before_sympy_has_checked_the_lines_say_checking(open_page, tmp_path,
                                                          monkeypatch) -> None:
    """A server whose disk cache is empty: the page opens at once with every line and "checking…"
    badges, then shows the verdicts when the background check is done."""
    monkeypatch.setenv("HANDPROP_CACHE", str(tmp_path))
    monkeypatch.setattr(core.derivations, "_memo", {})
    monkeypatch.setattr(core.softmax, "_ahead", None)
    monkeypatch.setattr(core.softmax, "_all_done", __import__("threading").Event())
    # Hold the background check back while the page opens: on a busy machine it could finish a
    # line before the first run reads them, and this test is about the lines it has not done.
    check_ahead = core.softmax.check_ahead
    monkeypatch.setattr(core.softmax, "check_ahead",
                        lambda: __import__("threading").Thread(target=lambda: None))
    at = open_page(PAGE, timeout=90)
    text = markdown_text(at)
    lines = sum(len(p.steps) + 1 for p in PROOFS.values())
    assert text.count("⏳ SymPy is checking this line…") == lines
    assert ":green-badge" not in text and not at.get("download_button")
    assert any("SymPy is checking the proofs in the background" in c.value for c in at.caption)
    monkeypatch.setattr(core.softmax, "check_ahead", check_ahead)
    check_ahead().join(timeout=300)
    at.run()
    text = markdown_text(at)
    assert "checking" not in text and text.count(":green-badge[✓ symbolic K]") == lines
    assert len(downloads(at)) == 6
    kept = {p.name for p in tmp_path.glob("derivations/*.json")}
    digests = {name for name in kept if name.startswith("softmax-page-")}
    assert len(digests) == 1 and len(kept - digests) == len(PROOFS) + len(MISTAKES)
