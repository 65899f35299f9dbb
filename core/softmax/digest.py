"""What the Softmax page shows of the checked proofs, kept as one JSON file read without SymPy.

SymPy's verdicts are remembered on disk per proof (`core.derivations.checked`), but finding them
means fingerprinting the proofs' builders, which needs `core.softmax.proofs` and so SymPy's import
(0.6 s on a quiet machine, seconds on a busy one): too slow for the first visit on a fresh server.
So once every proof and typical mistake is checked, `write()` (called by `core.softmax.check_ahead`)
keeps everything the page shows of them — each proof's text, every line with its rule, verdict
badges, what it was checked against, SymPy's own LaTeX of it, the conclusion, and both downloads
already written out — in `cache_dir()/softmax-page-<key>.json`. `load()` reads it back, or returns
None when there is none for `source_key()`: a digest of the source of every module that decides
the checks or the text shown (the same modules `core.derivations.fingerprint` reads, and
core/export.py for the downloads), SymPy's and Python's versions. Any change there gives a new
key, the page falls back on `core.softmax.proofs` ("checking…" until SymPy is done), and the file
is written again. JSON only, every field type-checked on reading: a damaged file counts as none.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import json
import sys
import threading
from dataclasses import asdict, dataclass
from functools import cache
from pathlib import Path
from typing import Any

from core.cache import digest_of, write_json
from core.derivations import cache_dir

__all__ = ["ShownLine", "ShownProof", "ShownMistake", "Shown", "source_key", "load", "write",
           "from_results"]

FORMAT = 1
# Whatever decides a verdict or a word the page shows of the proofs (see the module docstring;
# the standard library's `abc`, which fingerprints also read, goes with Python's full version).
SOURCES = ("core.derivations", "core.export", "core.softmax.proofs", "core.softmax.proofcheck",
           "core.softmax.mistakes", "core.softmax.digest")


@dataclass(frozen=True)
class ShownLine:
    """A proof line as shown: `verdict` is Streamlit Markdown (badges, then what the line was
    checked against), None while SymPy has not checked it; `details` and `twin` (SymPy's LaTeX of
    the line) are "" until then."""

    latex: str
    rule: str
    verdict: str | None = None
    details: str = ""
    twin: str = ""


@dataclass(frozen=True)
class ShownProof:
    """One proof as shown. `lines` then `conclusion` (the last line against the claim's right
    side); `markdown` and `tex` are the two downloads ("" until checked); `decided`: no line was
    left "not decided"; `seconds`: how long SymPy took when it checked the proof."""

    key: str
    title: str
    statement: str
    intro: str
    lines: tuple[ShownLine, ...]
    conclusion: ShownLine
    markdown: str = ""
    tex: str = ""
    decided: bool = True
    seconds: float = 0.0

    @property
    def checked(self) -> bool:
        return all(r.verdict is not None for r in (*self.lines, self.conclusion))


@dataclass(frozen=True)
class ShownMistake:
    """A typical wrong line (`core.softmax.mistakes`): it replaces line `line` of proof `proof`;
    `verdict` is its badges, None while unchecked."""

    proof: str
    line: int
    label: str
    latex: str
    verdict: str | None = None


@dataclass(frozen=True)
class Shown:
    proofs: dict[str, ShownProof]
    mistakes: tuple[ShownMistake, ...]

    @property
    def checked(self) -> bool:
        return (all(p.checked for p in self.proofs.values())
                and all(m.verdict is not None for m in self.mistakes))


def _module_source(name: str) -> str:
    """A module's source, read from its file without importing it."""
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.has_location or spec.origin is None:
        raise ImportError(f"no source for {name}")
    return Path(spec.origin).read_text(encoding="utf-8")


@cache
def source_key() -> str:
    """Hex digest of everything that decides the digest's content (once per process: a server
    runs one version of the code)."""
    parts = [f"format {FORMAT}", importlib.metadata.version("sympy"), sys.version,
             *(_module_source(name) for name in SOURCES)]
    return digest_of(parts)


def _path(folder: Path | None = None) -> Path:
    return (folder or cache_dir()) / f"softmax-page-{source_key()}.json"


# ---------------------------------------------------------------- reading
def _text(data: dict, key: str) -> str:
    value = data[key]
    if not isinstance(value, str):
        raise ValueError(f"{key}: expected text")
    return value


def _verdict(data: dict) -> str | None:
    value = data["verdict"]
    if value is not None and not isinstance(value, str):
        raise ValueError("verdict: expected text or null")
    return value


def _line(data: Any) -> ShownLine:
    if not isinstance(data, dict):
        raise ValueError("a line must be an object")
    return ShownLine(_text(data, "latex"), _text(data, "rule"), _verdict(data),
                     _text(data, "details"), _text(data, "twin"))


def _proof(data: Any) -> ShownProof:
    if not isinstance(data, dict) or not isinstance(data.get("lines"), list):
        raise ValueError("a proof must be an object with lines")
    if not isinstance(data["decided"], bool) or not isinstance(data["seconds"], int | float):
        raise ValueError("decided, seconds: expected a bool and a number")
    return ShownProof(_text(data, "key"), _text(data, "title"), _text(data, "statement"),
                      _text(data, "intro"), tuple(_line(x) for x in data["lines"]),
                      _line(data["conclusion"]), _text(data, "markdown"), _text(data, "tex"),
                      data["decided"], float(data["seconds"]))


def _mistake(data: Any) -> ShownMistake:
    if not isinstance(data, dict) or not isinstance(data.get("line"), int):
        raise ValueError("a mistake must be an object with a line number")
    return ShownMistake(_text(data, "proof"), data["line"], _text(data, "label"),
                        _text(data, "latex"), _verdict(data))


_loaded: dict[Path, Shown] = {}
_lock = threading.Lock()


def load(folder: Path | None = None) -> Shown | None:
    """The digest for this code in `folder` (default `cache_dir()`), every proof and mistake
    checked; None if there is none, or it is damaged (then it is written again)."""
    path = _path(folder)
    if (shown := _loaded.get(path)) is not None:
        return shown
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(data, dict) or data.get("format") != FORMAT \
                or not isinstance(data.get("proofs"), list) \
                or not isinstance(data.get("mistakes"), list):
            raise ValueError("not a digest of this format")
        proofs = [_proof(x) for x in data["proofs"]]
        shown = Shown({p.key: p for p in proofs}, tuple(_mistake(x) for x in data["mistakes"]))
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if not shown.checked:
        return None
    with _lock:
        _loaded[path] = shown
    return shown


def write(shown: Shown, folder: Path | None = None) -> None:
    """Keep `shown` (every proof and mistake checked) where `load` finds it; a cache folder that
    cannot be written only costs the next start SymPy's import."""
    if not shown.checked:
        raise ValueError("only a fully checked digest is kept")
    path = _path(folder)
    data = {"format": FORMAT, "proofs": [asdict(p) for p in shown.proofs.values()],
            "mistakes": [asdict(m) for m in shown.mistakes]}
    if not write_json(path, data):
        return
    with _lock:
        _loaded[path] = shown


# ---------------------------------------------------------------- from SymPy's results
def from_results() -> Shown:
    """The digest from `core.softmax.proofs` and `core.softmax.mistakes` as they stand: what
    SymPy has checked so far (remembered in the process or on disk), None verdicts for the rest.
    Imports SymPy (with the proofs' builders)."""
    from core.export import to_markdown, to_tex
    from core.softmax.mistakes import MISTAKES, mistake_ready
    from core.softmax.proofs import PROOFS, ready, sections

    proofs = {}
    for key, d in PROOFS.items():
        result = ready(key)
        if result is None:
            lines = tuple(ShownLine(s.latex, s.rule) for s in d.steps)
            conclusion = ShownLine(d.statement, "the last line is the right side of the claim")
            proofs[key] = ShownProof(key, d.title, d.statement, d.intro, lines, conclusion)
            continue
        shown = [ShownLine(r.latex, r.rule, f"{r.badges} :gray[vs {r.against_words}]",
                           r.details, r.twin) for r in result.every_line]
        proofs[key] = ShownProof(
            key, d.title, d.statement, d.intro, tuple(shown[:-1]), shown[-1],
            to_markdown(d.title, sections(result)), to_tex(d.title, sections(result, False)),
            result.decided, result.seconds)
    mistakes = []
    for index, m in enumerate(MISTAKES):
        wrong = mistake_ready(index)
        mistakes.append(ShownMistake(m.proof, m.line, m.label, m.latex,
                                     wrong.badges if wrong else None))
    return Shown(proofs, tuple(mistakes))
