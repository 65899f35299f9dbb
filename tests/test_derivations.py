"""core.derivations: any derivation checked line by line, its badges and sentences, its export,
and results remembered on disk only for the derivation they were made for."""

from __future__ import annotations

import doctest
import json
import os
import threading
from types import SimpleNamespace

import pytest
import sympy as sp

import core.cache as cache
import core.derivations as derivations
from core.derivations import (
    Check,
    Derivation,
    Simplify,
    Step,
    check_derivation,
    check_line,
    checked,
    checked_line,
    falsify,
    fingerprint,
    plain,
    remembered,
    remembered_line,
    sections,
)
from core.export import compile_tex, to_markdown, to_tex

X = sp.Symbol("x", real=True)
CTX = SimpleNamespace(x=X)

# d/dx x² eˣ worked by hand: product rule 2x·eˣ + x²·eˣ, then the factor eˣ: (x² + 2x)·eˣ.
PRODUCT = Derivation(
    key="product", title="The derivative of x² eˣ",
    statement=r"\frac{d}{dx}\,x^2 e^x = (x^2 + 2x)\,e^x",
    intro="The product rule, then a common factor.",
    lhs=lambda c: sp.diff(c.x**2 * sp.exp(c.x), c.x),
    rhs=lambda c: (c.x**2 + 2 * c.x) * sp.exp(c.x),
    steps=(
        Step(r"\frac{d}{dx}\,x^2 e^x = 2x\,e^x + x^2 e^x", "product rule $(fg)' = f'g + fg'$",
             lambda c: 2 * c.x * sp.exp(c.x) + c.x**2 * sp.exp(c.x)),
        Step(r"= (x^2 + 2x)\,e^x", "factor out $e^x$",
             lambda c: (c.x**2 + 2 * c.x) * sp.exp(c.x)),
    ),
)
# Forgot the product rule's second term: 2x·eˣ only, which differs from the true derivative by
# x²·eˣ, nonzero for every x ≠ 0.
SLIP = falsify(PRODUCT, 1, lambda c: 2 * c.x * sp.exp(c.x), r"= 2x\,e^x")


def test_the_module_docstring_example_runs() -> None:
    failures, tried = doctest.testmod(derivations, raise_on_error=False, verbose=False)
    assert tried >= 8 and failures == 0


def test_a_correct_two_line_derivation_is_verified_with_its_text() -> None:
    result = check_derivation(PRODUCT, [Simplify(CTX)])
    assert result.verified and result.decided
    first, second = result.lines
    assert first.against == (0,) and first.against_words == "the claim's left side"
    assert second.against == (1,) and second.against_words == "line 1"
    assert first.check("SymPy") == Check("SymPy", True, "simplify(a − b) = 0", "✓ SymPy",
                                         "SymPy: yes")
    assert first.badges == ":green-badge[✓ SymPy]"
    assert first.sentence == "against the claim's left side; SymPy: yes"
    assert first.twin == sp.latex(2 * X * sp.exp(X) + X**2 * sp.exp(X))
    assert result.conclusion.number == 3 and result.conclusion.latex == PRODUCT.statement


def test_a_slip_is_not_verified_and_the_line_after_it_fails_too() -> None:
    undecided = check_line(SLIP, 1, [Simplify(CTX)])
    assert undecided.check("SymPy").passed is None and not undecided.verified
    assert undecided.badges == ":orange-badge[not decided: SymPy]"
    wrong = check_derivation(SLIP, [Simplify(CTX, decides=True)])
    assert [r.check("SymPy").passed for r in wrong.every_line] == [False, False, True]
    assert wrong.lines[0].badges == ":red-badge[✗ SymPy]" and not wrong.verified


def test_a_way_that_is_not_required_may_be_undecided_but_never_fail() -> None:
    maybe = Simplify(CTX, "maybe", required=False)
    sure = Simplify(CTX, "sure", decides=True)
    assert check_derivation(PRODUCT, [maybe, sure]).verified
    line = check_line(SLIP, 1, [maybe, sure])
    assert line.check("maybe").ok and not line.check("sure").ok and not line.verified


def test_indices_cases_and_a_hypothesis() -> None:
    """Σ_i a_i x_i with Σ_i a_i = 1 at x_i = y for all i: = y Σ_i a_i = y, for n = 3."""
    a = sp.symbols("a1:4", real=True)
    y = sp.Symbol("y", real=True)
    ctx = SimpleNamespace(a=a, y=y)
    mean = Derivation(
        key="mean", title="A weighted mean of equal numbers", statement=r"\sum_i a_i y = y",
        intro="Weights that sum to 1.", free="i",
        lhs=lambda c, i: sum(ai * c.y for ai in c.a),
        rhs=lambda c, i: c.y + 0 * c.a[i],
        steps=(Step(r"= y\sum_i a_i", "factor out $y$", lambda c, i: c.y * sum(c.a)),
               Step("= y", r"$\sum_i a_i = 1$", lambda c, i: c.y, hypothesis=True)),
        hypothesis=r"\sum_i a_i = 1")
    way = Simplify(ctx, "n = 3", indices=lambda cases: [(0,), (1,), (2,)], decides=True,
                   assume=lambda e: e.subs(a[2], 1 - a[0] - a[1]))
    assert check_derivation(mean, [way]).verified
    # Without the hypothesis the last line does not follow.
    no_hypothesis = Derivation(**{**vars(mean), "steps": (
        mean.steps[0], Step("= y", "forgot the hypothesis", lambda c, i: c.y))})
    assert not check_line(no_hypothesis, 2, [way]).verified


def test_sections_export_markdown_and_tex() -> None:
    result = check_derivation(PRODUCT, [Simplify(CTX)])
    md = to_markdown(PRODUCT.title, sections(result, checked_by="SymPy's simplify"))
    for step in PRODUCT.steps:
        assert step.latex in md
    assert "*product rule $(fg)' = f'g + fg'$. Checked: against the claim's left side; SymPy: " \
           "yes.*" in md
    assert "by SymPy's simplify." in md and "Conclusion: against line 2; SymPy: yes." in md
    for sec in sections(result, markdown=False):
        assert all("$" not in line.note for line in sec.lines)
    assert plain(r"$\delta_{ij} = 1$ and $e^{a+b}$") == "δ_ij = 1 and e^(a+b)"


@pytest.mark.tex
def test_tex_export_compiles() -> None:
    result = check_derivation(PRODUCT, [Simplify(CTX)])
    ok, log = compile_tex(to_tex(PRODUCT.title, sections(result, markdown=False)))
    assert ok, log


def test_fingerprint_changes_with_a_line_a_way_or_a_closure() -> None:
    base = fingerprint(PRODUCT, [Simplify(CTX)])
    assert base == fingerprint(PRODUCT, [Simplify(CTX)])
    assert base != fingerprint(SLIP, [Simplify(CTX)])
    assert base != fingerprint(PRODUCT, [Simplify(CTX, decides=True)])
    assert base != fingerprint(PRODUCT, [Simplify(CTX)], "line", 1)
    # The same lambda code over different captured values is a different line.
    def times(k: int):
        return lambda c: k * c.x

    two, three = (falsify(PRODUCT, 1, times(k)) for k in (2, 3))
    assert fingerprint(two, [Simplify(CTX)]) != fingerprint(three, [Simplify(CTX)])


@pytest.fixture
def fresh_memo(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(derivations, "_memo", {})


def test_checked_writes_json_and_reads_it_back_without_sympy(tmp_path, fresh_memo,
                                                             monkeypatch) -> None:
    first = checked(PRODUCT, [Simplify(CTX)], tmp_path)
    (path,) = tmp_path.glob("*.json")
    assert path.stem == fingerprint(PRODUCT, [Simplify(CTX)])
    assert json.loads(path.read_text(encoding="utf-8"))["key"] == "product"
    monkeypatch.setattr(derivations, "_memo", {})
    # A new process would read the file: checking again would be a bug, so make it fail.
    monkeypatch.setattr(derivations, "check_derivation", lambda *a: pytest.fail("re-checked"))
    again = checked(PRODUCT, [Simplify(CTX)], tmp_path)
    assert again.every_line == first.every_line and again.verified


@pytest.mark.parametrize("content", ["", "{not json", "[]", '{"format": 1, "key": "product"}',
                                     '{"format": 1, "key": "other", "lines": [], "seconds": 0}'])
def test_a_damaged_or_foreign_file_is_checked_again_and_replaced(tmp_path, fresh_memo,
                                                                 content) -> None:
    path = tmp_path / f"{fingerprint(PRODUCT, [Simplify(CTX)])}.json"
    path.write_text(content, encoding="utf-8")
    result = checked(PRODUCT, [Simplify(CTX)], tmp_path)
    assert result.verified and len(result.lines) == 2
    assert json.loads(path.read_text(encoding="utf-8"))["key"] == "product"


def test_a_file_claiming_a_wrong_verdict_type_is_not_believed(tmp_path, fresh_memo) -> None:
    checked(PRODUCT, [Simplify(CTX)], tmp_path)
    (path,) = tmp_path.glob("*.json")
    data = json.loads(path.read_text(encoding="utf-8"))
    data["lines"][0]["checks"][0]["passed"] = "yes"
    path.write_text(json.dumps(data), encoding="utf-8")
    derivations._memo.clear()
    assert checked(PRODUCT, [Simplify(CTX)], tmp_path).lines[0].check("SymPy").passed is True


def test_an_unwritable_cache_only_costs_time(tmp_path, fresh_memo) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    assert checked(PRODUCT, [Simplify(CTX)], blocker / "derivations").verified
    assert checked_line(SLIP, 1, [Simplify(CTX)], None).check("SymPy").passed is None


def test_two_threads_asking_at_once_wait_for_one_check(tmp_path, fresh_memo,
                                                       monkeypatch) -> None:
    calls = []
    real = derivations.check_derivation
    monkeypatch.setattr(derivations, "check_derivation",
                        lambda *a: calls.append(1) or real(*a))
    results = []
    threads = [threading.Thread(target=lambda: results.append(
        checked(PRODUCT, [Simplify(CTX)], tmp_path))) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert len(calls) == 1 and len(results) == 4
    assert all(r is results[0] for r in results)


def test_a_thread_reading_the_new_file_gets_the_same_object(tmp_path, fresh_memo,
                                                           monkeypatch) -> None:
    # The race CI once hit: a reader that finds the JSON file the instant the writer has
    # replaced it must not decode a second copy. Another thread asks right after os.replace.
    seen = []
    real_replace = os.replace

    def replace_then_ask(src, dst) -> None:
        real_replace(src, dst)
        reader = threading.Thread(target=lambda: seen.append(
            checked(PRODUCT, [Simplify(CTX)], tmp_path)))
        reader.start()
        reader.join(timeout=60)

    monkeypatch.setattr(cache.os, "replace", replace_then_ask)  # core.cache.write_json
    first = checked(PRODUCT, [Simplify(CTX)], tmp_path)
    assert len(seen) == 1 and seen[0] is first


def test_checked_line_remembers_one_line(tmp_path, fresh_memo) -> None:
    line = checked_line(SLIP, 1, [Simplify(CTX, decides=True)], tmp_path)
    assert line.check("SymPy").passed is False and line.latex == r"= 2x\,e^x"
    derivations._memo.clear()
    assert checked_line(SLIP, 1, [Simplify(CTX, decides=True)], tmp_path) == line
    assert len(list(tmp_path.glob("*.json"))) == 1


def test_remembered_answers_at_once_and_never_checks(tmp_path, fresh_memo, monkeypatch) -> None:
    """What a page asks while SymPy may still be at work: the result if known, else None."""
    ways = [Simplify(CTX)]
    with monkeypatch.context() as m:
        m.setattr(derivations, "check_derivation", lambda *a: pytest.fail("checked"))
        m.setattr(derivations, "check_line", lambda *a: pytest.fail("checked"))
        assert remembered(PRODUCT, ways, tmp_path) is None
        assert remembered_line(SLIP, 1, ways, tmp_path) is None
    made = checked(PRODUCT, ways, tmp_path)
    line = checked_line(SLIP, 1, ways, tmp_path)
    assert remembered(PRODUCT, ways, tmp_path) is made
    derivations._memo.clear()  # a new process: read from disk
    assert remembered(PRODUCT, ways, tmp_path).every_line == made.every_line
    assert remembered_line(SLIP, 1, ways, tmp_path) == line
    assert remembered(SLIP, ways, tmp_path) is None  # another derivation: not confused
