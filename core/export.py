"""Derivations as documents: Markdown-with-LaTeX for notes, and a `.tex` file that compiles.

A derivation is a list of `Section`s, each a heading, an optional paragraph of plain text, and
`Line`s of display math with an optional justification ("factor e^c out of the sum"). Pages build
these from `core` results; this module only writes them out, so both formats always agree.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["Line", "Section", "to_markdown", "to_tex", "compile_tex"]

# Plain text goes into LaTeX verbatim only after these are escaped; backslash first.
_TEX_SPECIALS = {
    "\\": r"\textbackslash{}",
    "&": r"\&",
    "%": r"\%",
    "$": r"\$",
    "#": r"\#",
    "_": r"\_",
    "{": r"\{",
    "}": r"\}",
    "~": r"\textasciitilde{}",
    "^": r"\textasciicircum{}",
}
# Text fed to pdflatex must be ASCII-safe without extra packages (no inputenc/fontenc needed).
_TEXT_UNICODE = {
    "−": "-", "–": "--", "—": "---", "·": r"$\cdot$", "×": r"$\times$", "η": r"$\eta$",
    "δ": r"$\delta$", "σ": r"$\sigma$", "Σ": r"$\Sigma$", "∂": r"$\partial$", "≈": r"$\approx$",
    "≤": r"$\le$", "≥": r"$\ge$", "→": r"$\to$", "’": "'", "‘": "`", "“": "``", "”": "''",
    "…": r"\ldots{}", "✓": "[ok]", "✗": "[x]", "ŷ": r"$\hat{y}$", "λ": r"$\lambda$",
}


@dataclass
class Line:
    """One displayed formula (LaTeX, no surrounding `$$`) and the rule that justifies it."""

    math: str
    note: str = ""


@dataclass
class Section:
    """A heading, an optional plain-text paragraph, then the lines of the derivation."""

    heading: str
    intro: str = ""
    lines: list[Line] = field(default_factory=list)


def _escape_text(text: str) -> str:
    out = "".join(_TEX_SPECIALS.get(ch, ch) for ch in text)
    for uni, tex in _TEXT_UNICODE.items():
        out = out.replace(uni, tex)
    return out.encode("ascii", "replace").decode("ascii")


def _math_ascii(math: str) -> str:
    """Math-mode LaTeX with the few Unicode symbols a formula may carry spelled as macros."""
    for uni, tex in {"−": "-", "·": r"\cdot ", "×": r"\times ", "η": r"\eta ", "δ": r"\delta ",
                     "σ": r"\sigma ", "λ": r"\lambda "}.items():
        math = math.replace(uni, tex)
    return math


def to_markdown(title: str, sections: list[Section]) -> str:
    """Markdown with `$$...$$` display math (renders on GitHub, in Jupyter and in Streamlit)."""
    parts = [f"# {title}", ""]
    for sec in sections:
        parts += [f"## {sec.heading}", ""]
        if sec.intro:
            parts += [sec.intro, ""]
        for line in sec.lines:
            parts += ["$$", line.math, "$$", ""]
            if line.note:
                parts += [f"*{line.note}*", ""]
    return "\n".join(parts).rstrip() + "\n"


def to_tex(title: str, sections: list[Section]) -> str:
    """A standalone LaTeX article using only amsmath and amssymb: `pdflatex file.tex` builds it."""
    body = []
    for sec in sections:
        body.append(rf"\section*{{{_escape_text(sec.heading)}}}")
        if sec.intro:
            body.append(_escape_text(sec.intro) + "\n")
        for line in sec.lines:
            body.append(r"\begin{equation*}" + "\n" + _math_ascii(line.math) + "\n" +
                        r"\end{equation*}")
            if line.note:
                body.append(r"\noindent\emph{" + _escape_text(line.note) + "}\n")
    return "\n".join([
        r"\documentclass[11pt]{article}",
        r"\usepackage{amsmath,amssymb}",
        r"\usepackage[margin=2.5cm]{geometry}",
        r"\allowdisplaybreaks",
        rf"\title{{{_escape_text(title)}}}",
        r"\author{handprop}",
        r"\date{}",
        r"\begin{document}",
        r"\maketitle",
        *body,
        r"\end{document}",
        "",
    ])


def compile_tex(source: str, timeout: float = 60.0) -> tuple[bool, str]:
    """Run `pdflatex` on `source` in a temporary folder; return (built a PDF, log tail).

    Raises FileNotFoundError when pdflatex is not installed, so a test can never pass by skipping
    the compile.
    """
    exe = shutil.which("pdflatex")
    if exe is None:
        raise FileNotFoundError("pdflatex not found: install Debian's texlive-latex-base")
    with tempfile.TemporaryDirectory() as tmp:
        tex = Path(tmp) / "doc.tex"
        tex.write_text(source, encoding="utf-8")
        proc = subprocess.run(
            [exe, "-interaction=nonstopmode", "-halt-on-error", "-no-shell-escape", tex.name],
            cwd=tmp, capture_output=True, text=True, timeout=timeout, check=False,
        )
        ok = proc.returncode == 0 and (Path(tmp) / "doc.pdf").exists()
        return ok, proc.stdout[-3000:]
