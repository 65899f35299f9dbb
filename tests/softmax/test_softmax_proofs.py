"""The three softmax proofs: every line verified by SymPy, and every wrong line caught."""

from __future__ import annotations

from dataclasses import replace

import pytest
import sympy as sp

from core.derivations import falsify
from core.export import compile_tex, to_markdown, to_tex
from core.softmax.mistakes import MISTAKES, check_mistake
from core.softmax.proofcheck import ConcreteK, SymbolicK, equal_concrete, equal_symbolic
from core.softmax.proofs import (
    KS,
    PROOFS,
    check_proof,
    check_step,
    sections,
    verify,
    verify_all,
)

STEPS = [(key, n) for key, proof in PROOFS.items() for n in range(1, len(proof.steps) + 1)]


@pytest.mark.parametrize("key", PROOFS)
def test_every_line_of_every_proof_is_verified(key: str) -> None:
    result = check_proof(PROOFS[key])  # checked now, never read from the disk cache
    assert result.verified, key
    for r in result.every_line:
        concrete = r.check("concrete K")
        assert concrete.passed is True, (key, r.number, concrete)
        assert concrete.badge == f"✓ K = {KS[0]}…{KS[-1]}, exact"
        # Stock SymPy 1.13/1.14 decides every line for symbolic K too; if a SymPy release
        # stops doing so, this fails loudly (the page would then show "not decided").
        assert r.check("symbolic K").passed is True, (key, r.number, r.check("symbolic K"))
        assert r.latex and r.rule and r.twin
    # What the page shows (remembered in the process and on disk) is what SymPy says now.
    assert verify(key).every_line == result.every_line
    assert verify(key) is verify(key), "verification is cached per process"


def test_statements_and_structure() -> None:
    assert list(PROOFS) == ["shift", "jacobian", "cross_entropy"]
    jac = PROOFS["jacobian"]
    # The two cases are only compared on their own index pairs; "both cases" meets both.
    assert [s.cases for s in jac.steps[5:7]] == ["i=j", "i!=j"]
    assert jac.steps[7].against == (6, 7)
    ce = PROOFS["cross_entropy"]
    assert [s.hypothesis for s in ce.steps] == [False] * 6 + [True]
    assert all(not s.hypothesis for p in PROOFS.values() if p.key != "cross_entropy"
               for s in p.steps)


@pytest.mark.parametrize("key,n", STEPS)
def test_a_line_changed_to_something_false_fails(key: str, n: int) -> None:
    """Every line, made false by adding 1 (the same slip anywhere), is rejected exactly."""
    proof = PROOFS[key]
    good = proof.steps[n - 1].build
    wrong = falsify(proof, n, lambda x, *idx: good(x, *idx) + 1)
    result = check_step(wrong, n, ks=(2, 3), symbolic=False)
    assert result.check("concrete K").detail == "fails for K = 2, 3"
    assert result.check("concrete K").passed is False and not result.verified
    # The line after it no longer follows either (it is compared with the wrong line).
    if n < len(proof.steps) and (proof.steps[n].against or (n,)) == (n,):
        after = check_step(wrong, n + 1, ks=(2,), symbolic=False)
        assert after.check("concrete K").passed is False


@pytest.mark.parametrize("index", range(len(MISTAKES)), ids=[m.label for m in MISTAKES])
def test_typical_mistakes_fail_both_checks(index: int) -> None:
    mistake = MISTAKES[index]
    result = check_mistake(index)
    assert result.number == mistake.line and result.latex == mistake.latex
    assert result.latex != PROOFS[mistake.proof].steps[mistake.line - 1].latex
    assert result.check("concrete K").badge == "✗ fails for K = 2, 3, 4, 5, 6"
    # For symbolic K a nonzero simplify is "not decided", never a pass.
    assert result.check("symbolic K").passed is not True
    assert not result.verified
    # What the page shows, remembered on disk, is what SymPy says now.
    m = mistake
    assert check_step(falsify(PROOFS[m.proof], m.line, m.build, m.latex), m.line) == result


def test_a_correct_but_differently_written_line_passes() -> None:
    """The check is about equality, not spelling: p_i - p_i^2 instead of p_i (1 - p_i)."""
    proof = PROOFS["jacobian"]
    other = falsify(proof, 6, lambda x, i, j: x.softmax(i) - x.softmax(i) ** 2)
    assert check_step(other, 6).verified


def test_the_last_step_needs_the_targets_to_sum_to_one() -> None:
    proof = PROOFS["cross_entropy"]
    steps = list(proof.steps)
    steps[-1] = replace(steps[-1], hypothesis=False)
    result = check_step(replace(proof, steps=tuple(steps)), len(steps))
    assert result.check("concrete K").passed is False
    assert result.check("symbolic K").passed is not True


def test_concrete_check_is_exact_not_numeric() -> None:
    ctx = ConcreteK(3)
    p1 = ctx.softmax(1)
    assert equal_concrete(p1, 1 / (1 + sp.exp(ctx.s(2) - ctx.s(1)) + sp.exp(ctx.s(3) - ctx.s(1))),
                          ctx)
    # Off by 1e-30: no tolerance hides it.
    assert not equal_concrete(p1, p1 * (1 + sp.Rational(1, 10**30)), ctx)
    sym = SymbolicK()
    k = sym.idx["k"]
    assert equal_symbolic(sym.softmax(k, sym.c), sym.softmax(k), sym, "k")[0] is True
    assert equal_symbolic(sym.softmax(k, sym.c), 2 * sym.softmax(k), sym, "k")[0] is None


def test_plain_notes_have_no_math_markup() -> None:
    for result in verify_all():
        for sec in sections(result, markdown=False):
            for line in sec.lines:
                assert "$" not in line.note and "\\" not in line.note, line.note


def test_markdown_export_has_every_line_and_verdict() -> None:
    for result in verify_all():
        md = to_markdown(result.derivation.title, sections(result))
        for step in result.derivation.steps:
            assert step.latex in md
        assert "symbolic K: yes" in md and f"K = {KS[0]}..{KS[-1]}: yes" in md


@pytest.mark.tex
def test_tex_exports_compile() -> None:
    for result in verify_all():
        ok, log = compile_tex(to_tex(result.derivation.title, sections(result, markdown=False)))
        assert ok, log
