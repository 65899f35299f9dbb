"""The Train page's formulas and words: the parameter count as lines that fit their column."""

from __future__ import annotations

import re

import pytest

from core.mlp.describe import formula_tex, markdown_table
from core.mlp.model import n_params_of, param_formula


def test_formula_tex_matches_the_engines_count() -> None:
    sizes = (784, 64, 64, 64, 10)
    formula = param_formula(sizes)
    assert formula.endswith(f"= {784 * 64 + 64 + 2 * (64 * 64 + 64) + 64 * 10 + 10:,}")
    assert formula_tex(param_formula((784, 64, 10))) == (
        r"\begin{aligned} N &= 784 \cdot 64 + 64 \\ &\quad + 64 \cdot 10 + 10 "
        r"\\ &= 50{,}890 \end{aligned}")
    tex = formula_tex(formula)
    assert r"&\quad + 2 \cdot (64 \cdot 64 + 64)" in tex and r"&= 59{,}210" in tex


def _shown_lines(tex: str) -> list[str]:
    """The lines of an aligned formula as they read: "N=784·64+64", "+64·10+10", "=50,890"."""
    plain = re.sub(r"\\(begin|end)\{aligned\}", "", tex)
    for a, b in ((r"\cdot", "·"), (r"\quad", ""), ("{,}", ","), ("&", ""), ("$", ""),
                 (" ", ""), ("\n", "")):
        plain = plain.replace(a, b)
    return plain.split("\\\\")


@pytest.mark.parametrize("hidden", [(64,), (64,) * 10, (4096, 4096), (100, 50, 25, 12, 6)])
def test_formula_lines_fit_the_column(hidden) -> None:
    """The right column holds about 20 characters of display math (the old one-line
    "N = 784·64 + 64 + 64·10 + 10 = 50,890" was cut to "50,89"), and a 10-hidden-layer net
    must not become 22 terms."""
    sizes = (784, *hidden, 10)
    tex = formula_tex(param_formula(sizes))
    lines = _shown_lines(tex)
    assert max(len(line) for line in lines) <= 22, lines
    assert len(lines) <= len(set(hidden)) + 3
    assert lines[-1] == f"={n_params_of(sizes):,}"


def test_page_shows_the_formula_in_lines(open_page, run_store) -> None:
    """The page's own LaTeX for mnist5k's 784-64-10 net."""
    at = open_page("pages/train.py", timeout=60)
    at.selectbox(key="f_dataset").set_value("mnist5k").run()
    # The formula is display math ($$ … $$) in the Markdown element that heads it.
    (tex,) = [e.value.split("$$")[1] for e in at.markdown if "50{,}890" in e.value]
    assert _shown_lines(tex) == ["N=784·64+64", "+64·10+10", "=50,890"]


def test_markdown_table_escapes_what_markdown_would_read() -> None:
    """Header from the keys; a "|" would start a new cell, "*x*" emphasis and "$...$" math, a
    line break would end the row: each is escaped or made a space (worked by hand)."""
    table = markdown_table([{"run": "a|b", "settings": "*x* $1$"}, {"run": "two\nlines"}])
    assert table.split("\n") == [
        "| run | settings |",
        "|---|---|",
        r"| a\|b | \*x\* \$1\$ |",
        "| two lines |  |",
    ]
    assert markdown_table([]) == ""
