"""The digest the Softmax page reads without SymPy: the same text and verdicts as SymPy's own
results, refused when damaged or made for other code, and a first run that imports neither SymPy
nor pandas when it is on disk."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import threading
import time
from dataclasses import replace
from pathlib import Path

import pytest

import core.softmax
from core.softmax import digest
from core.softmax.mistakes import MISTAKES, check_mistake
from core.softmax.proofs import PROOFS, verify

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def shown() -> digest.Shown:
    core.softmax.checked_ahead(timeout=300)
    return digest.from_results()


def test_the_digest_says_what_sympys_results_say(shown) -> None:
    assert shown.checked and list(shown.proofs) == list(PROOFS)
    for key, d in PROOFS.items():
        result, got = verify(key), shown.proofs[key]
        assert (got.title, got.statement, got.intro) == (d.title, d.statement, d.intro)
        for line, r in zip((*got.lines, got.conclusion), result.every_line, strict=True):
            assert (line.latex, line.rule, line.details, line.twin) == (
                r.latex, r.rule, r.details, r.twin)
            assert line.verdict == f"{r.badges} :gray[vs {r.against_words}]"
        assert got.markdown.startswith(f"# {d.title}") and "\\documentclass" in got.tex
    for index, m in enumerate(shown.mistakes):
        assert (m.proof, m.line, m.latex) == (MISTAKES[index].proof, MISTAKES[index].line,
                                              MISTAKES[index].latex)
        assert m.verdict == check_mistake(index).badges and "red-badge" in m.verdict


def test_written_then_read_back_from_another_folder(shown, tmp_path) -> None:
    assert digest.load(tmp_path) is None
    digest.write(shown, tmp_path)
    digest._loaded.clear()  # as a fresh process would: from the file
    assert digest.load(tmp_path) == shown


@pytest.mark.parametrize("damage", [
    lambda text: text[: len(text) // 2],                        # cut short
    lambda text: text.replace('"decided": true', '"decided": "yes"', 1),  # a wrong type
    lambda text: json.dumps({"format": 99}),                     # another format
    lambda text: text.replace('"verdict": ":green', '"verdict": null, "x": ":green', 1),
])
def test_a_damaged_digest_counts_as_none(shown, tmp_path, damage) -> None:
    digest.write(shown, tmp_path)
    digest._loaded.clear()
    (path,) = tmp_path.glob("softmax-page-*.json")
    path.write_text(damage(path.read_text(encoding="utf-8")), encoding="utf-8")
    assert digest.load(tmp_path) is None  # "checking…" and SymPy again, never a traceback


def test_only_a_fully_checked_digest_is_kept(shown, tmp_path) -> None:
    unchecked = replace(shown, mistakes=(replace(shown.mistakes[0], verdict=None),
                                         *shown.mistakes[1:]))
    with pytest.raises(ValueError):
        digest.write(unchecked, tmp_path)


def test_the_key_follows_the_code_that_decides_the_checks() -> None:
    assert digest.source_key() == digest.source_key()
    assert {"core.derivations", "core.export", "core.softmax.proofs", "core.softmax.proofcheck",
            "core.softmax.mistakes"} <= set(digest.SOURCES)
    sources = [digest._module_source(name) for name in digest.SOURCES]
    assert "SHIFT = Derivation(" in sources[digest.SOURCES.index("core.softmax.proofs")]


def test_the_first_run_with_the_digest_on_disk_imports_neither_sympy_nor_pandas(shown,
                                                                               tmp_path) -> None:
    """What a fresh server pays on its first Softmax visit: the page from the digest, complete in
    that one run (nothing on by default waits for SymPy, so no second run follows); the live
    oracles, once turned on, say "differentiating…" (the background thread, held back here,
    builds them)."""
    digest.write(shown, tmp_path)
    script = textwrap.dedent(f"""
        import os, sys, threading
        os.environ["HANDPROP_CACHE"] = {str(tmp_path.parent / "cache")!r}
        import core.derivations
        core.derivations.cache_dir = lambda: __import__("pathlib").Path({str(tmp_path)!r})
        import core.softmax
        core.softmax.check_ahead = lambda: threading.Thread(target=lambda: None)
        from streamlit.testing.v1 import AppTest
        at = AppTest.from_file("app.py", default_timeout=60)
        at.switch_page("pages/softmax.py").run()
        assert not at.exception, at.exception
        text = "\\n".join(m.value for m in at.markdown)
        assert "checking this line" not in text and ":green-badge[✓ symbolic K]" in text, text
        assert len(at.get("download_button")) == 1  # one choice of proof and format, one button
        assert len(at.selectbox(key="sm_download").options) == 6
        assert not any("in the background" in c.value for c in at.caption), "no waiting rerun"
        at.toggle(key="sm_jacobian").set_value(True).run()
        assert any("differentiating" in i.value for i in at.info)
        print(sorted(m for m in ("sympy", "pandas", "pyarrow", "altair") if m in sys.modules))
    """)
    out = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True,
                         text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-3000:]
    assert out.stdout.strip().splitlines()[-1] == "[]", out.stdout


@pytest.fixture
def fresh_server(monkeypatch) -> None:
    """core.softmax as on a freshly started server whose digest is on disk (SymPy is imported in
    this test process already, and the K = 3 oracles cached: without a wait they would be built
    within a fraction of a second)."""
    core.softmax.checked_ahead(timeout=300)
    monkeypatch.setattr(digest, "load", lambda folder=None: object())  # "on disk"
    for name in ("_all_done", "_oracles_built", "_oracles_wanted"):
        monkeypatch.setattr(core.softmax, name, threading.Event())
    monkeypatch.setattr(core.softmax, "_ahead", None)
    monkeypatch.setattr(core.softmax, "_soon", None)


def test_with_the_digest_on_disk_sympy_waits_until_a_page_asks(fresh_server) -> None:
    """Nothing a first visit shows needs SymPy when the digest is on disk, so the background
    thread does not import it (it would hold the interpreter's lock in the middle of a Backprop
    click or a training run) until a page asks for the live oracles (a heat map or the gradient
    turned on): that ends the wait at once."""
    thread = core.softmax.check_ahead()
    time.sleep(0.5)  # without the wait, the cached oracles would be built well within this
    assert thread.is_alive() and not core.softmax._oracles_built.is_set()
    assert core.softmax.live_oracles() is None  # a page asks
    thread.join(timeout=120)
    assert not thread.is_alive() and core.softmax.live_oracles() is not None


def test_a_softmax_visit_asks_for_the_oracles_a_while_later(fresh_server, monkeypatch) -> None:
    """`oracles_soon`, called by the Softmax page after each run, wants the oracles once, after
    AHEAD_DELAY_S: by the time a reader of the proofs turns a heat map on they exist."""
    monkeypatch.setattr(core.softmax, "AHEAD_DELAY_S", 0.5)
    thread = core.softmax.check_ahead()
    core.softmax.oracles_soon()
    timer = core.softmax._soon
    core.softmax.oracles_soon()  # a second run of the page: the same timer
    assert core.softmax._soon is timer and not core.softmax._oracles_wanted.is_set()
    assert thread.is_alive() and not core.softmax._oracles_built.is_set()
    thread.join(timeout=120)
    assert core.softmax._oracles_wanted.is_set() and core.softmax._oracles_built.is_set()
