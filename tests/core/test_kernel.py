"""The engine's compiled E-step and its own exponential, against numpy and scipy."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from numba import njit
from scipy import stats
from scipy.special import logsumexp

from gmm_core import kernel


@njit(fastmath=kernel._FAST)
def _exp_all(v):
    out = np.empty_like(v)
    for i in range(v.shape[0]):  # a loop the compiler vectorises, as the E-step's
        out[i] = kernel._exp_negative(v[i])
    return out


@settings(max_examples=200, deadline=None)
@given(arrays(np.float64, st.integers(1, 300), elements=st.floats(-60.0, 0.0)))
def test_the_exponential_is_libms_to_16_units_in_the_last_place_and_floors_at_exp_minus_40(v):
    # 16 ulp is a relative 3.6e-15: responsibilities and log-likelihoods far below any reported digit.
    ours = _exp_all(v)
    expected = np.exp(np.maximum(v, -40.0))
    assert np.all(np.abs(ours - expected) <= 16 * np.spacing(expected))


def test_the_exponential_of_zero_is_one_exactly():
    # Each row's largest term is exp(0): its sum of exponentials lies in [1, K], as the E-step assumes.
    assert _exp_all(np.zeros(300)).tolist() == [1.0] * 300


@pytest.mark.parametrize("diagonal", [False, True])
@pytest.mark.parametrize("d", range(1, 10))
def test_the_e_step_equals_numpys_for_every_number_of_columns(d, diagonal):
    # d = 1..8 take the fused loops (d <= 4 for the sums too), d = 9 the general ones; 1,000 rows
    # end in a partial block.
    rng = np.random.default_rng(d)
    n, K = 1000, 3
    Z = rng.normal(size=(n, d)) * rng.uniform(0.5, 3.0, d)
    weights = np.array([0.5, 0.3, 0.2])
    means = rng.normal(size=(K, d))
    cov = np.array([(a @ a.T + d * np.eye(d)) / d for a in rng.normal(size=(K, d, d))])
    if diagonal:
        cov = np.einsum("kii->ki", cov)[:, :, None] * np.eye(d)
    prec, logdet = np.empty((K, d, d)), np.empty(K)
    assert kernel.factorize(cov, prec, logdet)
    nk, sx, sxx, resp = np.empty(K), np.empty((K, d)), np.empty((K, d, d)), np.empty((n, K))
    total = kernel.estep(np.ascontiguousarray(Z.T), weights, means, prec, logdet, diagonal, True, resp, nk, sx, sxx)

    terms = np.log(weights) + np.column_stack([stats.multivariate_normal(m, c).logpdf(Z) for m, c in zip(means, cov)])
    expected = np.exp(terms - logsumexp(terms, axis=1, keepdims=True))
    assert total == pytest.approx(logsumexp(terms, axis=1).sum(), rel=1e-12)
    np.testing.assert_allclose(resp, expected, rtol=1e-10, atol=1e-14)
    np.testing.assert_allclose(nk, expected.sum(axis=0), rtol=1e-12)
    centred = Z[None] - means[:, None]  # (K, n, d)
    np.testing.assert_allclose(sx, np.einsum("nk,knj->kj", expected, centred), rtol=1e-9, atol=1e-9)
    second = np.einsum("nk,knj,knl->kjl", expected, centred, centred)
    upper = np.triu(np.ones((d, d), dtype=bool)) & (np.eye(d, dtype=bool) if diagonal else True)
    np.testing.assert_allclose(sxx[:, upper], second[:, upper], rtol=1e-9, atol=1e-9)
