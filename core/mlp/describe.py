"""The Train page's words and formulas: a run's short name, the parameter count as LaTeX, a data
set in Markdown, a small table in Markdown, the runs table without "None". Formatting only; the
settings themselves are declared in `core.mlp.settings`."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from core.numbers import code

# ASCII punctuation, every character of it escaped with a backslash in a Markdown cell (CommonMark
# allows that escape for each), so no label turns into emphasis, math ($), a link or a new cell.
_PUNCTUATION = re.compile(r"([!-/:-@\[-`{-~])")

__all__ = ["describe", "formula_tex", "describe_data", "markdown_table", "blank_missing"]


def describe(settings: Mapping[str, Any]) -> str:
    """A short name for a run: "64-64 sigmoid · sgd η = 0.1 · digits"."""
    hidden = settings.get("hidden", (64,))
    arch = "-".join(str(h) for h in hidden) if hidden else "no hidden layer"
    parts = [f"{arch} {settings.get('activation', 'sigmoid')}",
             f"{settings.get('optimizer', 'sgd')} η = {settings.get('lr', 0.1):g}"]
    if settings.get("l2"):
        parts.append(f"λ = {settings['l2']:g}")
    if settings.get("schedule", "constant") != "constant":
        parts.append(f"{settings['schedule']} decay")
    parts.append(str(settings.get("dataset", "digits")))
    return " · ".join(parts)


def formula_tex(formula: str) -> str:
    r"""`core.mlp.model.param_formula`'s "784·64 + 64 + 64·10 + 10 = 50,890" as LaTeX that fits a
    third of the page: one layer's weights d_{l-1}·d_l plus biases d_l per line, m equal
    layers in a row as m·(d·d + d), the total on a line of its own.

        N &= 784 \cdot 64 + 64 \\ &\quad + 64 \cdot 10 + 10 \\ &= 50{,}890

    A 10-hidden-layer net of 64 units takes four lines, not a sum of 22 terms that the column
    would cut off.
    """
    total_sum, total = formula.rsplit(" = ", 1)
    terms = total_sum.split(" + ")
    groups: list[list] = []  # [weights term, bias term, how many equal layers in a row]
    for weights, bias in zip(terms[::2], terms[1::2], strict=True):
        if groups and groups[-1][:2] == [weights, bias]:
            groups[-1][2] += 1
        else:
            groups.append([weights, bias, 1])
    lines = []
    for weights, bias, m in groups:
        layer = weights.replace("·", r" \cdot ") + f" + {bias}"
        lines.append(layer if m == 1 else rf"{m} \cdot ({layer})")
    body = r" \\ &\quad + ".join(lines)
    total = total.replace(",", "{,}")
    return rf"\begin{{aligned}} N &= {body} \\ &= {total} \end{{aligned}}"


def describe_data(data: Any) -> str:
    """A `core.mlp.datasets.Dataset` in Markdown: source, split sizes, input, and the training set's
    mean μ and standard deviation σ before normalisation, over pixels for images (image_shape
    h×w or h×w×c) and over features for the 2-D toy sets and CSV files (image_shape (d,)). A CSV
    file's names (already quoted as code in its source) and classes are listed as code."""
    image = len(data.image_shape) >= 2
    shape = "×".join(str(s) for s in data.image_shape)
    what = "pixel" if image else "feature"
    normalised = "scaling to [0, 1]" if data.preprocess == "scale" else "(x − μ)/σ"
    classes = f"{data.n_classes} classes"
    if data.name == "csv":
        normalised = "(x_j − μ_j)/σ_j, each column with its own training mean and deviation"
        shown = ", ".join(code(c) for c in data.classes[:10])
        classes += f" ({shown}{', …' if len(data.classes) > 10 else ''})"
    return (
        f"**{data.name}** — {data.source}  \n"
        f"train / validation / test: {len(data.y_train):,} / {len(data.y_val):,} / "
        f"{len(data.y_test):,} · input "
        + (f"{shape} = {data.n_features} features" if image else f"{data.n_features} features")
        + f" · {classes}  \n"
        f"{what} mean $\\mu$ = {data.mean:.2f}, standard deviation $\\sigma$ = {data.std:.2f} "
        f"(training set, before normalisation) · normalised by {normalised}"
    )


def blank_missing(table: Any) -> Any:
    """`core.mlp.run_tables.runs_table` as the page shows it: a number column with a missing
    value (a running run's time, a failed run's accuracy, the decay k of a schedule without
    one) becomes text, blank where the value is missing, because a table shows a missing
    number as "None". Columns without a gap stay numbers."""
    out = table.copy()
    for column in out.columns:
        values = out[column]
        if all(isinstance(v, str) for v in values):
            continue  # text already (runs_table blanks its own text columns)
        missing = [v is None or (isinstance(v, float) and v != v) for v in values]
        if column == "k" or any(missing):
            out[column] = ["" if gap else f"{v:g}" if isinstance(v, float) else str(v)
                           for v, gap in zip(values, missing, strict=True)]
    return out


def markdown_table(rows: Sequence[Mapping[str, Any]]) -> str:
    """Rows of equal keys as a Markdown table, the keys as its header, every cell's punctuation
    escaped and line breaks made spaces: [{"run": "a|b"}] gives "| run |\\n|---|\\n| a\\|b |"."""
    def cell(value: Any) -> str:
        return _PUNCTUATION.sub(r"\\\1", " ".join(str(value).split()))

    if not rows:
        return ""
    keys = list(rows[0])
    lines = ["| " + " | ".join(cell(k) for k in keys) + " |", "|" + "---|" * len(keys)]
    lines += ["| " + " | ".join(cell(row.get(k, "")) for k in keys) + " |" for row in rows]
    return "\n".join(lines)
