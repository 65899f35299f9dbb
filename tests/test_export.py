"""core.export writes the same derivation as Markdown and as a .tex file that pdflatex builds."""

import pytest

from core.export import Line, Section, compile_tex, to_markdown, to_tex

SECTIONS = [
    Section(
        "Shift invariance: 100% of the $ & # _ cases",
        intro="For any c in R, with η = 0.1 and δ_j — the usual ∂L/∂z_j…",
        lines=[
            Line(r"\frac{e^{s_k+c}}{\sum_i e^{s_i+c}}", "multiply out e^{s_k+c} = e^{s_k}e^{c}"),
            Line(r"= \frac{e^{s_k}}{\sum_i e^{s_i}}"),
        ],
    )
]


def test_markdown_has_every_line_and_note() -> None:
    md = to_markdown("Proof", SECTIONS)
    assert md.startswith("# Proof\n")
    assert "$$\n\\frac{e^{s_k+c}}{\\sum_i e^{s_i+c}}\n$$" in md
    assert "*multiply out e^{s_k+c} = e^{s_k}e^{c}*" in md


def test_tex_escapes_text() -> None:
    assert r"100\% of the \$ \& \# \_ cases" in to_tex("Proof", SECTIONS)


@pytest.mark.tex
def test_tex_compiles() -> None:
    ok, log = compile_tex(to_tex("Proof", SECTIONS))
    assert ok, log


@pytest.mark.tex
def test_broken_tex_does_not_compile() -> None:
    src = to_tex("Proof", [Section("x", lines=[Line(r"\frac{1}{")])])
    ok, _ = compile_tex(src)
    assert not ok


@pytest.mark.tex
@pytest.mark.parametrize("bad", [r"\undefinedmacro x"])
def test_undefined_macro_fails(bad: str) -> None:
    ok, log = compile_tex(to_tex("t", [Section("s", lines=[Line(bad)])]))
    assert not ok and "Undefined control sequence" in log
