"""core.softmax.numerics against a 50-digit mpmath reference, on random and extreme scores."""

from __future__ import annotations

import mpmath
import numpy as np
import pytest

from core.softmax.numerics import (
    cross_entropy,
    cross_entropy_grad,
    float32_rounding,
    log_softmax,
    logsumexp,
    naive_breakdown,
    naive_fails,
    one_hot,
    overflow_threshold,
    parse_score,
    softmax,
    softmax_jacobian,
    softmax_naive,
    softmax_via_logsumexp,
    three_ways,
)
from core.softmax.oracles import ce_grad_by_sympy, central_differences, jacobian_by_sympy

mpmath.mp.dps = 50
RNG = np.random.default_rng(20191122)
RTOL = {np.float32: 2e-6, np.float64: 5e-15}  # a few ulps, for plain comparisons

EXTREME = [
    [1000.0, 1001.0, 1002.0],
    [-1000.0, -1001.0, -1002.0],
    [88.0, 89.0, 0.0],                 # past the float32 overflow point
    [709.0, 710.0, -5.0],              # past the float64 overflow point
    [1e4, -1e4, 0.0, 3.0],
    [0.0, 0.0, 0.0, 0.0, 0.0],
    [30.0, -30.0],
    [1e30, 1e30 + 1e15, -1e30],
    [3e38, -3e38, 1.0],                # near float32's largest value
    [1.7e308, 1.6e308, -1.7e308],      # near float64's largest value
]


def exact_softmax(s) -> list[mpmath.mpf]:
    """p_k = e^{s_k} / sum e^{s_i} in 50 digits, from the exact binary value of every score."""
    xs = [mpmath.mpf(float(v)) for v in s]
    m = max(xs)
    e = [mpmath.exp(x - m) for x in xs]
    total = mpmath.fsum(e)
    return [v / total for v in e]


def exact_log_softmax(s) -> list[mpmath.mpf]:
    xs = [mpmath.mpf(float(v)) for v in s]
    lse = mpmath.log(mpmath.fsum(mpmath.exp(x) for x in xs))
    return [x - lse for x in xs]


def assert_close_to_exact(got: np.ndarray, scores: np.ndarray, exact: list[mpmath.mpf]) -> None:
    """Relative error within a few ulps times the condition number of e^{s_k - m}, which is
    |s_k - m| (e^z amplifies a relative error in z by |z|), plus the K terms of the sum."""
    eps = np.finfo(got.dtype).eps
    with np.errstate(over="ignore"):  # 1.7e308 - (-1.7e308) is inf: condition number inf
        z = np.abs(scores.astype(np.float64) - scores.astype(np.float64).max())
    for g, e, zk in zip(got, exact, z, strict=True):
        e_float = float(e)
        if abs(e_float) < np.finfo(got.dtype).tiny:
            # Underflow: the exact value is below the smallest normal float of this dtype.
            assert abs(float(g)) <= np.finfo(got.dtype).tiny, (g, e)
        else:
            rtol = 4 * eps * (1.0 + zk + len(got))
            assert abs(float(g) - e_float) <= rtol * abs(e_float), (float(g), e_float)


def random_scores(n: int) -> list[np.ndarray]:
    cases = []
    for _ in range(n):
        k = int(RNG.integers(2, 11))
        scale = 10.0 ** RNG.uniform(-2, 3)
        cases.append(RNG.normal(0.0, scale, size=k) + RNG.uniform(-1e3, 1e3))
    return cases


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_softmax_and_log_softmax_match_mpmath_on_random_scores(dtype) -> None:
    for s in random_scores(60):
        x = s.astype(dtype)
        p = softmax(x)
        assert p.dtype == dtype
        assert_close_to_exact(p, x, exact_softmax(x))
        lp = log_softmax(x)
        for got, exact in zip(lp, exact_log_softmax(x), strict=True):
            # log p is compared in absolute terms: its size is |s_k - max s| + O(log K).
            scale = max(1.0, abs(float(exact)), float(np.abs(x).max()))
            assert abs(float(got) - float(exact)) <= 8 * np.finfo(dtype).eps * scale


@pytest.mark.filterwarnings("error::RuntimeWarning")
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("s", EXTREME, ids=lambda s: str(s[:2]))
def test_softmax_is_stable_on_extreme_scores(dtype, s) -> None:
    with np.errstate(over="ignore"):
        x = np.asarray(s, dtype=np.float64).astype(dtype)
    if not np.isfinite(x).all():
        # 1.7e308 is +inf in float32: refused with a message rather than a wrong answer.
        with pytest.raises(ValueError, match="inf"):
            softmax(x)
        return
    p = softmax(x)
    assert np.isfinite(p).all() and (p >= 0).all() and (p <= 1).all()
    assert abs(float(p.sum()) - 1.0) <= 4 * len(x) * np.finfo(dtype).eps
    assert_close_to_exact(p, x, exact_softmax(x))


def test_naive_softmax_overflows_where_the_page_says() -> None:
    assert overflow_threshold(np.float32) == pytest.approx(88.72, abs=0.01)
    assert overflow_threshold(np.float64) == pytest.approx(709.78, abs=0.01)
    # Just below the threshold the naive formula still works, just above it gives nan.
    assert np.isfinite(softmax_naive(np.array([88.7, 0.0], dtype=np.float32))).all()
    assert np.isnan(softmax_naive(np.array([88.8, 0.0], dtype=np.float32))).any()
    assert np.isfinite(softmax_naive(np.array([709.7, 0.0]))).all()
    assert np.isnan(softmax_naive(np.array([709.8, 0.0]))).any()
    big = [1000.0, 1001.0, 1002.0]
    assert np.isnan(softmax_naive(big)).all()
    exact = [float(v) for v in exact_softmax(big)]
    np.testing.assert_allclose(softmax(big), exact, rtol=1e-15)
    np.testing.assert_allclose(softmax_via_logsumexp(big), exact, rtol=1e-13)
    assert float(logsumexp(big)) == pytest.approx(
        float(mpmath.log(mpmath.fsum(mpmath.exp(mpmath.mpf(v)) for v in big))), rel=1e-15)


def test_three_ways_for_the_overflow_demo() -> None:
    for dtype in (np.float32, np.float64):
        ways = three_ways([1000.0, 1001.0, 1002.0], dtype)
        assert np.isinf(ways["e^max"][0])
        assert np.isnan(ways["naive"]).all()
        exact = [float(v) for v in exact_softmax([1000.0, 1001.0, 1002.0])]
        np.testing.assert_allclose(ways["max-shifted"], exact, rtol=RTOL[dtype] * 3)
        # exp(s - lse) in float32 inherits lse's rounding near 1000 (spacing 6e-5).
        np.testing.assert_allclose(ways["log-sum-exp"], exact, rtol=1e-4 if dtype is np.float32
                                   else 1e-13)
    too_big = three_ways([1.0, 2.0, 1e308], np.float32)
    assert all(isinstance(v, str) and "float32" in v for v in too_big.values())
    fine = three_ways([1.0, 2.0, 1e308], np.float64)
    np.testing.assert_array_equal(fine["max-shifted"], [0.0, 0.0, 1.0])


# (scores, dtype, what the naive e^s / Σe^s gives, the start of the sentence, words in it).
# By hand: log(float32 max 3.4028e38) = 88.7228, log(float64 max 1.7977e308) = 709.7827.
BREAKDOWNS = [
    # e^88.7 = 3.33e38 fits, 2·e^88.7 = 6.66e38 does not: Σ = inf, every p = finite / inf = 0.
    ([88.7, 88.7, 0.0], np.float32, [0.0, 0.0, 0.0], "gives all zeros, and no warning",
     ["the largest is 3.33e+38", "float32's largest 3.4e+38", "sum overflows to inf"]),
    # e^709.5 = 1.35e308 fits, twice that does not.
    ([709.5, 709.5], np.float64, [0.0, 0.0], "gives all zeros", ["float64's largest 1.8e+308"]),
    # e^90 and e^89 are inf in float32: inf / inf = nan for both, 1 / inf = 0 for the third.
    ([90.0, 89.0, 0.0], np.float32, [np.nan, np.nan, 0.0], "gives nan",
     ["overflowed to inf for k = 1, 2 (scores past 88.72)"]),
    # e^-800 underflows to 0 in float64 (smallest subnormal 4.9e-324 = e^-744.4): 0 / 0 = nan.
    ([-800.0, -801.0], np.float64, [np.nan, np.nan], "gives nan",
     ["underflowed to 0", "below about -744.4"]),
    ([-110.0, -111.0], np.float32, [np.nan, np.nan], "gives nan", ["below about -103.3"]),
]


@pytest.mark.parametrize("scores,dtype,naive,start,words", BREAKDOWNS)
def test_naive_breakdown_names_each_way_the_definition_fails(scores, dtype, naive, start,
                                                             words) -> None:
    np.testing.assert_array_equal(softmax_naive(np.asarray(scores, dtype=dtype)), naive)
    said = naive_breakdown(scores, dtype)
    assert said.startswith(f"The naive softmax in {np.dtype(dtype).name} {start}"), said
    for w in words:
        assert w in said, (w, said)
    # The max-shifted softmax has none of these problems.
    p = softmax(np.asarray(scores, dtype=dtype))
    assert np.isfinite(p).all() and float(p.sum()) == pytest.approx(1.0, rel=1e-6)


@pytest.mark.parametrize("scores,dtype", [([1.0, 2.0, 3.0], np.float32),
                                          ([88.7, 88.7, 0.0], np.float64),
                                          ([88.0, 0.0], np.float32),  # e^88 = 1.65e38 fits
                                          ([-700.0, 0.0], np.float64),  # one term underflows
                                          ([1.0, 1e308], np.float32)])  # not even storable
def test_naive_breakdown_is_none_where_the_definition_works(scores, dtype) -> None:
    assert naive_breakdown(scores, dtype) is None


@pytest.mark.parametrize("scores,fails", [
    ([1.0, 2.0, 3.0], False), ([88.0, 0.0], False),  # e^88 = 1.65e38 fits float32 (3.4e38)
    ([-700.0, 0.0], False),  # one term underflows, the sum does not
    ([1000.0, 1001.0, 1002.0], True),  # e^1000 is inf in both
    ([88.7, 88.7, 0.0], True),  # float32 only: the sum 6.6e38 overflows
    ([-110.0, -111.0], True),  # float32 only: every term underflows (below -103.3)
    ([1.0, 1e308], True)])  # float64 overflows, and float32 cannot even store 1e308
def test_naive_fails_is_the_overflow_demos_cases(scores, fails) -> None:
    assert naive_fails(scores) is fails
    said = [naive_breakdown(scores, d) for d in (np.float32, np.float64)]
    assert fails == (any(said) or not np.isfinite(np.float32(max(scores))))


def test_float32_rounding_sentence() -> None:
    # Near 1002.4 float32 numbers are 2^-14 = 6.1e-05 apart (2^9 <= x < 2^10, 23 fraction bits).
    said = float32_rounding(1002.4076)
    assert "logsumexp = 1002.41 is stored only to the float32 spacing at that size, 6.1e-05" \
        in said
    assert float32_rounding(None).startswith("float32 cannot store these scores")


@pytest.mark.parametrize("c", [-1e4, -777.5, -1.0, 0.25, 88.8, 709.9, 1e4])
def test_shift_invariance_numerically(c: float) -> None:
    for s in random_scores(20):
        # s + c is rounded to the float spacing near |c| (1.8e-12 at 1e4); p moves by that much.
        tol = 4 * np.spacing(abs(c) + np.abs(s).max())
        np.testing.assert_allclose(softmax(s + c), softmax(s), rtol=0, atol=tol)
        np.testing.assert_allclose(log_softmax(s + c), log_softmax(s), rtol=0, atol=4 * tol)
    # Exactly representable shifts of small integers change nothing at all.
    s = np.array([1.0, 2.0, 3.0])
    assert np.array_equal(softmax(s + 1024.0), softmax(s))


def test_rows_sum_to_one_along_any_axis() -> None:
    batch = RNG.normal(0, 50, size=(40, 7))
    for dtype in (np.float32, np.float64):
        x = batch.astype(dtype)
        tol = 8 * np.finfo(dtype).eps
        np.testing.assert_allclose(softmax(x).sum(axis=-1), 1.0, atol=tol)
        np.testing.assert_allclose(softmax(x, axis=0).sum(axis=0), 1.0, atol=tol * 5)
        np.testing.assert_allclose(np.exp(log_softmax(x)).sum(axis=-1), 1.0, atol=tol * 5)
        # Each row is the softmax of that row alone.
        np.testing.assert_allclose(softmax(x)[3], softmax(x[3]), rtol=1e-6)


def test_bad_scores_raise_value_error() -> None:
    for f in (softmax, log_softmax, logsumexp):
        with pytest.raises(ValueError, match="NaN"):
            f([1.0, np.nan, 2.0])
        with pytest.raises(ValueError, match="NaN"):
            f(np.array([[1.0, 2.0], [np.nan, 0.0]], dtype=np.float32))
        with pytest.raises(ValueError, match=r"\+inf"):
            f([1.0, np.inf])
        with pytest.raises(ValueError, match="-inf"):
            f([-np.inf, -np.inf])
        with pytest.raises(ValueError):
            f([])
    # -inf is a masked class: probability 0, the others renormalised.
    np.testing.assert_allclose(softmax([-np.inf, 0.0, 0.0]), [0.0, 0.5, 0.5])


def test_dtypes() -> None:
    assert softmax([1, 2, 3]).dtype == np.float64
    assert softmax(np.array([1, 2], dtype=np.float32)).dtype == np.float32
    assert log_softmax(np.array([1, 2], dtype=np.float32)).dtype == np.float32


def test_parse_score_uses_float_only_and_explains() -> None:
    assert parse_score(" 2.5 ") == 2.5
    assert parse_score("1e308") == 1e308
    assert parse_score("-7") == -7.0
    for text, words in [("abc", "not a number"), ("", "empty"), ("nan", "NaN"),
                        ("inf", "infinite"), ("1e309", "infinite"),
                        ("__import__('os').getcwd()", "not a number"), ("2+3", "not a number")]:
        with pytest.raises(ValueError, match=words):
            parse_score(text)


@pytest.mark.filterwarnings("error::RuntimeWarning")
def test_extreme_scores_are_quiet_and_finite_where_the_math_is() -> None:
    s = np.array([-1.7e308, 1.7e308, 0.0])
    np.testing.assert_array_equal(softmax(s), [0.0, 1.0, 0.0])
    assert log_softmax(s)[1] == 0.0 and np.isneginf(log_softmax(s)[0])
    np.testing.assert_array_equal(jacobian_by_sympy(s), np.zeros((3, 3)))
    np.testing.assert_array_equal(ce_grad_by_sympy(s, [1.0, 0.0, 0.0]), [-1.0, 1.0, 0.0])
    assert cross_entropy(s, [1.0, 0.0, 0.0]) == np.inf  # -log 0
    assert cross_entropy(s, [0.0, 1.0, 0.0]) == 0.0


def test_jacobian_formula_against_sympy_diff_and_finite_differences() -> None:
    for s in random_scores(8) + [np.array([1000.0, 1001.0, 1002.0])]:
        p = softmax(s)
        jac = softmax_jacobian(p)
        np.testing.assert_allclose(jac, jacobian_by_sympy(s), atol=1e-15)
        np.testing.assert_allclose(jac, central_differences(softmax, s, h=1e-5), atol=1e-8)
        np.testing.assert_allclose(jac.sum(axis=1), 0.0, atol=1e-15)  # probabilities sum to 1
        np.testing.assert_allclose(jac, jac.T, atol=1e-17)


def test_cross_entropy_gradient_against_sympy_diff_and_finite_differences() -> None:
    for s in random_scores(8):
        k = s.size
        for t in (one_hot(int(RNG.integers(k)), k), RNG.dirichlet(np.ones(k))):
            grad = cross_entropy_grad(s, t)
            np.testing.assert_allclose(grad, ce_grad_by_sympy(s, t), atol=1e-14)
            numeric = central_differences(lambda x, t=t: cross_entropy(x, t), s, h=1e-5)
            np.testing.assert_allclose(grad, numeric, atol=1e-7)
            assert abs(grad.sum()) < 1e-14
    # Hand values: s = [0, 0], t = [1, 0]: p = [1/2, 1/2], L = log 2, gradient [-1/2, 1/2].
    assert cross_entropy([0.0, 0.0], [1.0, 0.0]) == pytest.approx(np.log(2.0), rel=1e-15)
    np.testing.assert_array_equal(cross_entropy_grad([0.0, 0.0], [1.0, 0.0]), [-0.5, 0.5])
    with pytest.raises(ValueError):
        one_hot(3, 3)
