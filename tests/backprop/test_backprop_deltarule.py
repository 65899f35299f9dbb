"""The δ rule and the weight gradient derived line by line; SymPy checks each line, catches a
slip, and the proofs export like the Softmax ones."""

from __future__ import annotations

import pytest
import sympy as sp

from core.backprop.deltarule import CHECKED_BY, DELTA, DERIVATIONS, GRADIENT, WAYS, _dL_dnext
from core.derivations import check_derivation, check_line, falsify, sections
from core.export import compile_tex, to_markdown, to_tex

PAGE = "pages/backprop.py"


@pytest.mark.parametrize("d", DERIVATIONS, ids=lambda d: d.key)
def test_every_line_follows_from_the_one_before(d) -> None:
    result = check_derivation(d, WAYS)
    assert result.verified and result.decided
    assert len(result.lines) == len(d.steps)


def test_a_dropped_f_prime_is_caught() -> None:
    # The classic slip: δ_j = Σ_k w_kj δ_k, forgetting f'(z_j) from line 2 on.
    slip = falsify(DELTA, 2, lambda c: sum(d * c.w[k] for k, d in enumerate(_dL_dnext(c))),
                   r"= \sum_k \frac{\partial L}{\partial z^{(l+1)}_k}\, w^{(l+1)}_{kj}")
    assert not check_line(slip, 2, WAYS).verified


def test_a_gradient_with_the_wrong_activation_is_caught() -> None:
    slip = falsify(GRADIENT, 2, lambda c: sp.Subs(sp.Derivative(c.G(c.v), c.v), c.v,
                                                  c.wji * c.a + c.rest) * c.wji)
    assert not check_line(slip, 2, WAYS).verified


@pytest.mark.tex
def test_the_derivations_export_and_compile() -> None:
    for d in DERIVATIONS:
        result = check_derivation(d, WAYS)
        md = to_markdown(d.title, sections(result, checked_by=CHECKED_BY))
        assert d.steps[0].latex in md and "K = 3" in md
        ok, log = compile_tex(to_tex(d.title, sections(result, markdown=False,
                                                      checked_by=CHECKED_BY)))
        assert ok, log


def test_the_page_checks_the_lines_on_demand_and_offers_downloads(open_page) -> None:
    at = open_page(PAGE)
    labels = [b.label for b in at.button]
    if "Check every line with SymPy (a few seconds, once per server)" in labels:
        at.button[labels.index(
            "Check every line with SymPy (a few seconds, once per server)")].click().run()
    badges = [m.value for m in at.markdown if "badge[✓ SymPy, K = 3]" in m.value]
    assert len(badges) >= len(DELTA.steps) + len(GRADIENT.steps)
    downloads = [d.label for d in at.get("download_button")]
    assert downloads.count("As Markdown") == 2 and downloads.count("As .tex") == 2
