"""The background SymPy build of a new shape (core.backprop.checking) and the page around it:
numbers at once, "checking…" meanwhile, the three checks once SymPy is done."""

from __future__ import annotations

import time

from core.backprop import checking, oracle

PAGE = "pages/backprop.py"


def test_a_new_shape_is_drawn_at_once_and_its_sympy_checks_fill_in(open_page) -> None:
    at = open_page(PAGE)
    at.number_input(key="n_in").set_value(2).run()  # 2-2-2: not built in this process yet
    shape = (2, 2, 2)
    at.selectbox(key="loss").set_value("mean_squared_error").run()
    assert not oracle.sympy_ready(shape, "sigmoid", "mean_squared_error")
    # Numbers, formulas and the drawing are there; SymPy's check is said to be on its way.
    assert any("checking… SymPy is differentiating" in c.value for c in at.caption)
    # No count of agreement while only two of the three ways are in.
    assert any("three ways: SymPy's column follows" in e.label for e in at.expander)
    assert not any("agree within 1e-9" in e.label for e in at.expander)
    deadline = time.monotonic() + 120
    while not checking.ready(shape, "sigmoid", "mean_squared_error"):
        assert time.monotonic() < deadline, "SymPy's build did not finish in 2 minutes"
        time.sleep(0.2)
    at.run()  # in a browser the step viewer's poll (a fragment) re-reads them meanwhile
    assert not any("checking…" in c.value for c in at.caption)
    # 2-2-2: (2·2 weights + 2 biases) per layer, two layers: 12 gradients.
    assert any("All 12 gradients, three ways: 12 agree within 1e-9" in e.label
               for e in at.expander)
    jump = at.selectbox(key="jump")
    jump.set_value(next(i for i, o in enumerate(jump.options) if "∂L/∂w11^(1)" in o)).run()
    assert any("Three checks agree within 1e-9" in s.value for s in at.success)


def test_only_the_shape_asked_for_last_is_built_first() -> None:
    """Asked for two shapes in a row, the worker starts on the later one: the first (seconds of
    SymPy) is still waiting when the second (a fraction of one) is done."""
    first, second = ((2, 3, 2), "tanh", "cross_entropy"), ((1, 2, 1), "tanh",
                                                            "half_squared_error")
    checking.request(*first)
    checking.request(*second)
    deadline = time.monotonic() + 120
    while not checking.ready(*second):
        assert time.monotonic() < deadline
        time.sleep(0.05)
    assert not oracle.sympy_ready(*first)
