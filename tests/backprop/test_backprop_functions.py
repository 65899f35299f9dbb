"""Each activation and loss spec against SymPy's own calculus of its printed formula, and against
the oracle's definitions (built apart from the specs)."""

from __future__ import annotations

import numpy as np
import pytest
import sympy as sp

from core.backprop.functions import ACTIVATIONS, LOSSES, softmax, softmax_formula
from core.backprop.names import plain_name, tex_name, unit_names
from core.backprop.oracle import sym_act

Z = np.array([-2.5, -0.3, 0.0, 0.4, 3.0])


@pytest.mark.parametrize("name", list(ACTIVATIONS))
def test_activation_numpy_f_and_prime_match_the_printed_formula_and_sympy_diff(name) -> None:
    spec, z, a = ACTIVATIONS[name], sp.Symbol("z", real=True), sp.Symbol("a", real=True)
    f = sp.lambdify(z, spec.formula(z).doit(), "math")
    oracle = sp.lambdify(z, sym_act(name, z), "math")
    fprime = sp.lambdify(z, sp.diff(sym_act(name, z), z), "math")
    written = sp.lambdify([a, z], spec.derivative(a, z), "math")
    for zi in Z:
        ai = float(spec.f(np.array(zi)))
        assert ai == pytest.approx(f(zi), rel=1e-14) == pytest.approx(oracle(zi), rel=1e-14)
        # f'(z) written with a = f(z) (σ' = a(1 − a)) is SymPy's derivative of the definition.
        assert float(spec.prime(np.array(zi), np.array(ai))) == pytest.approx(fprime(zi),
                                                                               abs=1e-14)
        assert written(ai, zi) == pytest.approx(fprime(zi), abs=1e-14)


@pytest.mark.parametrize("name", list(LOSSES))
def test_loss_value_and_grad_match_sympy(name) -> None:
    spec = LOSSES[name]
    ys, zs = sp.symbols("y0:3", real=True), sp.symbols("z0:3", real=True)
    y, zv = np.array([0.2, 0.7, 0.1]), np.array([0.3, -1.2, 0.8])
    if spec.softmax_output:
        # L as a function of z through the softmax: grad is ∂L/∂z.
        p = [softmax_formula(zs, k).doit() for k in range(3)]
        yhat, wrt = softmax(zv), zs
    else:
        p = wrt = sp.symbols("p0:3", real=True)
        yhat = np.array([0.55, 0.4, 0.3])
    L = spec.formula(ys, p).doit()
    at = {**dict(zip(ys, y, strict=True)),
          **dict(zip(wrt, zv if spec.softmax_output else yhat, strict=True))}
    assert spec.value(y, yhat) == pytest.approx(float(L.subs(at)), rel=1e-12)
    want = [float(sp.diff(L, v).subs(at)) for v in wrt]
    np.testing.assert_allclose(spec.grad(y, yhat), want, rtol=1e-12)


def test_names_print_one_based_as_on_paper() -> None:
    assert tex_name("w|0|1|2", 2) == "w^{(1)}_{23}" and plain_name("w|0|1|2", 2) == "w23^(1)"
    assert tex_name("a|1|0", 2) == r"\hat{y}_{1}" and plain_name("a|1|0", 2) == "ŷ1"
    assert plain_name("d|0|1", 2) == "δ2^(1)" and plain_name("nw|0|0|0", 2) == "new w11^(1)"
    assert unit_names((3, 2, 2)) == [["x1", "x2", "x3"], ["h1", "h2"], ["ŷ1", "ŷ2"]]
    assert unit_names((1, 1, 1, 1))[2] == ["h2.1"]
