import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gmm_core.families import COVARIANCE_TYPES
from gmm_core.fit import INIT_METHODS, fit_gmm
from gmm_core.em_trace import em_trace, initial_means

TYPES = pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
INITS = pytest.mark.parametrize("init_params", INIT_METHODS)


def assert_monotone(log_likelihood):
    gains = np.diff(log_likelihood)
    assert (gains >= -1e-9 * np.abs(log_likelihood[1:])).all(), gains.min()


@INITS
@TYPES
def test_log_likelihood_never_decreases_on_old_faithful(faithful, covariance_type, init_params):
    trace = em_trace(faithful, n_components=3, covariance_type=covariance_type, init_params=init_params)
    assert_monotone(trace.log_likelihood)
    assert trace.log_likelihood[-1] > trace.log_likelihood[0]


@settings(max_examples=40)
@given(
    data_seed=st.integers(0, 2**32 - 1),
    random_state=st.integers(0, 2**32 - 1),
    n=st.integers(40, 120),
    d=st.integers(1, 3),
    n_components=st.integers(1, 3),
    covariance_type=st.sampled_from(COVARIANCE_TYPES),
    init_params=st.sampled_from(INIT_METHODS),
)
def test_log_likelihood_never_decreases_on_random_data(
    data_seed, random_state, n, d, n_components, covariance_type, init_params
):
    rng = np.random.default_rng(data_seed)
    # Clusters of random position and spread, in units far from 1, so the scaling matters.
    centers = rng.normal(scale=5.0, size=(3, d))
    X = 1e3 * (centers[rng.integers(0, 3, n)] + rng.gamma(2.0, 0.5, size=(3, 1))[rng.integers(0, 3, n)]
               * rng.normal(size=(n, d)))
    trace = em_trace(
        X, n_components=n_components, covariance_type=covariance_type, init_params=init_params,
        random_state=random_state,
    )
    assert_monotone(trace.log_likelihood)


@TYPES
def test_final_frame_is_the_fit_gmm_model(faithful, covariance_type):
    # Under mclust's stopping rule fit_gmm runs plain EM too: the same path, step for step.
    options = dict(n_components=3, covariance_type=covariance_type, init_params="hc", stopping="mclust", tol=1e-8,
                   max_iter=1000)
    trace = em_trace(faithful, **options)
    fit = fit_gmm(faithful, n_init=1, **options)
    assert (trace.n_iter, trace.converged) == (fit.n_iter, fit.converged)
    assert trace.log_likelihood[-1] == pytest.approx(fit.log_likelihood, rel=1e-12)
    np.testing.assert_allclose(trace.weights[-1], fit.weights, rtol=1e-10)
    np.testing.assert_allclose(trace.means[-1], fit.means, rtol=1e-10)
    np.testing.assert_allclose(trace.covariances[-1], fit.covariances, rtol=1e-10, atol=1e-12)
    np.testing.assert_array_equal(trace.labels[-1], fit.labels)
    assert trace.settings == fit.settings


@TYPES
def test_an_accelerated_fit_reaches_the_traced_optimum(faithful, covariance_type):
    # From a random start fit_gmm runs SQUAREM, the trace plain EM: the same optimum, within tol.
    options = dict(n_components=3, covariance_type=covariance_type, init_params="k-means++", random_state=4)
    trace = em_trace(faithful, max_iter=1000, **options)
    fit = fit_gmm(faithful, n_init=1, **options)
    assert fit.converged and trace.converged
    assert fit.log_likelihood == pytest.approx(trace.log_likelihood[-1], abs=2e-3)
    assert fit.n_iter < trace.n_iter


def test_frames_have_one_row_per_iteration_and_are_read_only(faithful):
    trace = em_trace(faithful, n_components=2, covariance_type="diag")
    t, n = trace.n_frames, len(faithful)
    assert t == trace.n_iter + 1
    assert trace.weights.shape == (t, 2)
    assert trace.means.shape == (t, 2, 2)
    assert trace.covariances.shape == (t, 2, 2, 2)
    assert trace.labels.shape == (t, n)
    assert trace.log_likelihood.shape == (t,)
    np.testing.assert_allclose(trace.weights.sum(axis=1), 1.0)
    np.testing.assert_array_equal(trace.covariances[:, :, 0, 1], 0.0)  # diagonal in every frame
    for array in (trace.weights, trace.means, trace.covariances, trace.labels, trace.log_likelihood):
        assert not array.flags.writeable


def test_a_short_run_stops_at_max_iter_unconverged(faithful):
    trace = em_trace(faithful, n_components=3, max_iter=4)
    assert (trace.n_frames, trace.n_iter, trace.converged) == (5, 4, False)
    longer = em_trace(faithful, n_components=3, max_iter=10)
    np.testing.assert_array_equal(longer.means[:5], trace.means)


@pytest.mark.parametrize("init_params", ["kmeans", "random"])
def test_the_same_start_is_replayed_under_every_covariance_type(faithful, init_params):
    start = initial_means(faithful, n_components=3, init_params=init_params, random_state=7)
    plain = {c: em_trace(faithful, n_components=3, covariance_type=c, init_params=init_params,
                         random_state=7) for c in COVARIANCE_TYPES}
    replayed = {c: em_trace(faithful, n_components=3, covariance_type=c, init_params=init_params,
                            random_state=7, means_init=start) for c in COVARIANCE_TYPES}
    for c in COVARIANCE_TYPES:
        np.testing.assert_array_equal(plain[c].means[0], plain["full"].means[0])
        np.testing.assert_allclose(plain[c].means[0], start, rtol=1e-12)
        np.testing.assert_allclose(replayed[c].means[0], start, rtol=1e-12)
        # Same start, same path.
        np.testing.assert_allclose(replayed[c].log_likelihood[-1], plain[c].log_likelihood[-1], rtol=1e-9)
    assert len({plain[c].log_likelihood[-1] for c in COVARIANCE_TYPES}) == 4


def test_entered_means_are_the_first_frame(faithful):
    clicked = [[2.0, 50.0], [3.0, 70.0], [4.5, 85.0]]
    trace = em_trace(faithful, n_components=3, covariance_type="tied", means_init=clicked)
    np.testing.assert_allclose(trace.means[0], clicked, rtol=1e-12)
    fit = fit_gmm(faithful, n_components=3, covariance_type="tied", means_init=clicked, max_iter=200)
    # fit_gmm takes the rest of its start from the nearest-mean partition and runs SQUAREM: the same optimum.
    assert trace.log_likelihood[-1] == pytest.approx(fit.log_likelihood, abs=2e-3)
    np.testing.assert_allclose(trace.means[-1], fit.means, rtol=1e-2)


def test_bad_settings_are_refused_with_their_reason(faithful):
    with pytest.raises(ValueError, match=r"means_init must have shape \(3, 2\); got \(2, 2\)\."):
        em_trace(faithful, n_components=3, means_init=[[1, 2], [3, 4]])
    with pytest.raises(ValueError, match="init_params must be one of"):
        em_trace(faithful, n_components=3, init_params="kmeans+")
    with pytest.raises(ValueError, match="max_iter must be an int >= 1; got 0."):
        em_trace(faithful, n_components=3, max_iter=0)
    with pytest.raises(ValueError, match="n_components must be an int >= 1"):
        initial_means(faithful, n_components=0)
