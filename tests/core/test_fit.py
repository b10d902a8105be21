import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats
from scipy.special import logsumexp
from sklearn.mixture import GaussianMixture

from gmm_core import COVARIANCE_TYPES, DataError, FitError, fit_gmm, n_parameters

TYPES = pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)


def independent_log_likelihood(X, result):
    """log p(x) summed over rows, from scipy's densities, not from scikit-learn."""
    log_densities = np.column_stack(
        [
            np.log(w) + stats.multivariate_normal(mean=m, cov=c).logpdf(X)
            for w, m, c in zip(result.weights, result.means, result.covariances)
        ]
    )
    return logsumexp(log_densities, axis=1).sum()


@TYPES
def test_criteria_equal_scikit_learn_on_the_same_model(blobs, covariance_type):
    result = fit_gmm(blobs, n_components=3, covariance_type=covariance_type)
    model = result.to_sklearn()
    n = len(blobs)
    assert result.log_likelihood == pytest.approx(model.score(blobs) * n, rel=1e-10)
    assert result.log_likelihood == pytest.approx(independent_log_likelihood(blobs, result), rel=1e-10)
    assert result.bic == pytest.approx(model.bic(blobs), rel=1e-10)
    assert result.aic == pytest.approx(model.aic(blobs), rel=1e-10)
    assert result.n_parameters == model._n_parameters()
    np.testing.assert_allclose(result.responsibilities, model.predict_proba(blobs), atol=1e-10)


@TYPES
def test_responsibilities_are_a_distribution_whose_argmax_is_the_label(blobs, covariance_type):
    result = fit_gmm(blobs, n_components=4, covariance_type=covariance_type, n_init=1)
    np.testing.assert_allclose(result.responsibilities.sum(axis=1), 1.0, atol=1e-12)
    np.testing.assert_array_equal(result.responsibilities.argmax(axis=1), result.labels)
    np.testing.assert_allclose(result.uncertainty, 1 - result.responsibilities.max(axis=1))
    assert result.weights.sum() == pytest.approx(1.0)
    assert result.covariances.shape == (4, 2, 2)


@TYPES
def test_icl_is_bic_plus_the_classification_entropy(blobs, covariance_type):
    result = fit_gmm(blobs, n_components=3, covariance_type=covariance_type, n_init=1)
    expected = result.bic - 2 * np.log(result.responsibilities.max(axis=1)).sum()
    assert result.icl == pytest.approx(expected, rel=1e-12)
    assert result.icl >= result.bic


@given(
    k=st.integers(1, 8),
    d=st.integers(1, 6),
    covariance_type=st.sampled_from(COVARIANCE_TYPES),
)
def test_parameter_counts_equal_scikit_learn(k, d, covariance_type):
    model = GaussianMixture(n_components=k, covariance_type=covariance_type)
    model.means_ = np.zeros((k, d))
    assert n_parameters(k, d, covariance_type) == model._n_parameters()


@TYPES
def test_covariance_structure_matches_the_family(blobs, covariance_type):
    covariances = fit_gmm(blobs, n_components=3, covariance_type=covariance_type, n_init=1).covariances
    off_diagonal = covariances[:, 0, 1]
    if covariance_type == "tied":
        np.testing.assert_array_equal(covariances, covariances[[0, 0, 0]])
    if covariance_type in ("diag", "spherical"):
        np.testing.assert_array_equal(off_diagonal, 0.0)
    if covariance_type == "spherical":
        np.testing.assert_array_equal(covariances[:, 0, 0], covariances[:, 1, 1])


@TYPES
def test_permuting_the_components_only_relabels(blobs, covariance_type):
    first = fit_gmm(blobs, n_components=3, covariance_type=covariance_type)
    order = np.array([2, 0, 1])
    permuted = fit_gmm(
        blobs,
        n_components=3,
        covariance_type=covariance_type,
        means_init=first.means[order],
        weights_init=first.weights[order],
    )
    assert permuted.log_likelihood == pytest.approx(first.log_likelihood, rel=1e-9)
    np.testing.assert_allclose(permuted.means, first.means[order], rtol=1e-5, atol=1e-8)
    np.testing.assert_array_equal(order[permuted.labels], first.labels)


@TYPES
def test_a_warm_start_resumes_the_model_it_came_from(faithful, covariance_type):
    first = fit_gmm(faithful, n_components=3, covariance_type=covariance_type)
    resumed = fit_gmm(faithful, n_components=3, covariance_type=covariance_type, **first.as_start())
    # Already at tol: EM confirms it within two steps, which can only gain likelihood, and little.
    assert resumed.converged and resumed.n_iter <= 2
    assert 0 <= resumed.log_likelihood - first.log_likelihood < 1e-5 * len(faithful)
    for name, value in first.as_start().items():
        np.testing.assert_array_equal(resumed.start[name], value)


@TYPES
def test_a_warm_start_follows_scikit_learns_em_from_the_same_model(faithful, covariance_type):
    # A model of half the data, resumed on all of it: our fit (scaled data) and scikit-learn's
    # (raw data, the same start) take the same EM steps to the same optimum.
    start = fit_gmm(faithful[::2], n_components=3, covariance_type=covariance_type, n_init=1).as_start()
    ours = fit_gmm(faithful, n_components=3, covariance_type=covariance_type, reg_covar=0.0, **start)
    theirs = GaussianMixture(
        n_components=3, covariance_type=covariance_type, tol=1e-6, reg_covar=0.0, max_iter=1000, **start
    ).fit(faithful)
    assert ours.n_iter == theirs.n_iter_
    assert ours.bic == pytest.approx(theirs.bic(faithful), rel=1e-8)
    np.testing.assert_allclose(ours.means, theirs.means_, rtol=1e-6)


@settings(max_examples=12)
@given(
    log_scale=st.floats(np.log10(1e-6), np.log10(1e9)),
    shift=st.floats(-1e3, 1e3),
    covariance_type=st.sampled_from(COVARIANCE_TYPES),
)
def test_fit_is_invariant_to_units(blobs, log_scale, shift, covariance_type):
    a = 10.0**log_scale
    b = shift * a  # a shift in the new units
    base = fit_gmm(blobs, n_components=3, covariance_type=covariance_type, n_init=2)
    scaled = fit_gmm(a * blobs + b, n_components=3, covariance_type=covariance_type, n_init=2)
    # Component order may differ (k-means breaks ties in rounding); match by mean.
    mapped = (scaled.means - b) / a
    order = np.argmin(np.linalg.norm(mapped[:, None] - base.means[None], axis=2), axis=1)
    assert sorted(order) == [0, 1, 2]
    np.testing.assert_array_equal(order[scaled.labels], base.labels)
    n, d = blobs.shape
    # The density of aX + b is the density of X divided by a**d.
    assert scaled.log_likelihood == pytest.approx(base.log_likelihood - n * d * np.log(a), rel=1e-6, abs=1e-5)
    assert scaled.bic - base.bic == pytest.approx(2 * n * d * np.log(a), rel=1e-6, abs=1e-5)
    np.testing.assert_allclose(scaled.means, a * base.means[order] + b, rtol=1e-6, atol=1e-6 * a)
    np.testing.assert_allclose(scaled.covariances, a**2 * base.covariances[order], rtol=1e-6, atol=1e-8 * a**2)
    assert not scaled.degenerate and not scaled.warnings


# mclust's BIC table for faithful (mclustBIC, negated to scikit-learn's orientation).
MCLUST_BIC = {
    (1, "full"): 2607.623, (1, "tied"): 2607.623, (1, "diag"): 3055.835, (1, "spherical"): 4024.721,
    (2, "full"): 2322.192, (2, "tied"): 2325.220, (2, "diag"): 2346.065, (2, "spherical"): 3458.305,
}


@pytest.mark.parametrize(("k", "covariance_type"), sorted(MCLUST_BIC))
def test_old_faithful_criteria_equal_mclust(faithful, k, covariance_type):
    result = fit_gmm(faithful, n_components=k, covariance_type=covariance_type)
    assert result.bic == pytest.approx(MCLUST_BIC[k, covariance_type], abs=0.01)


def test_old_faithful_tied_three_components_is_at_least_as_good_as_mclust(faithful):
    # mclust 6: EEE,3 log-likelihood -1126.361, BIC -2314.386, ICL -2360.865, df 11.
    result = fit_gmm(faithful, n_components=3, covariance_type="tied")
    assert result.n_parameters == 11
    assert result.converged and not result.degenerate
    assert -1126.361 <= result.log_likelihood < -1126.3
    assert result.bic == pytest.approx(2314.386, abs=0.1)
    # The likelihood is flat here: mclust stops 0.044 short of our optimum, where the
    # third component sits slightly elsewhere, which moves the entropy term by ~2.
    assert result.icl == pytest.approx(2360.865, abs=2.5)


def test_collapsed_component_marks_the_fit_degenerate(faithful):
    # waiting is whole minutes, so a diag component can shrink onto one value.
    result = fit_gmm(faithful, n_components=5, covariance_type="diag", n_init=5)
    assert result.degenerate
    assert any("collapsed onto a line or point" in w for w in result.warnings)


def test_not_converged_is_said_in_plain_words(blobs):
    result = fit_gmm(blobs, n_components=3, max_iter=2, n_init=1)
    assert not result.converged
    assert any("did not converge within 2 iterations" in w for w in result.warnings)


def test_defaults_converge_without_warnings(blobs):
    result = fit_gmm(blobs, n_components=3)
    assert result.converged and not result.degenerate and result.warnings == ()


def test_results_are_read_only(blobs):
    result = fit_gmm(blobs, n_components=2, n_init=1)
    with pytest.raises(ValueError, match="read-only"):
        result.means[0, 0] = 0.0
    with pytest.raises(AttributeError):
        result.bic = 0.0


def test_more_components_than_distinct_points_is_a_fit_error():
    X = np.repeat([[0.0, 0.0], [1.0, 2.0]], 50, axis=0)
    with pytest.raises(FitError, match=re.escape("only 2 distinct point(s), so 3 components")):
        fit_gmm(X, n_components=3)
    assert fit_gmm(X, n_components=2).n_components == 2


def test_more_components_than_rows_is_a_fit_error():
    with pytest.raises(FitError, match="5 components cannot be fitted to 4 rows"):
        fit_gmm(np.arange(8.0).reshape(4, 2), n_components=5)


@pytest.mark.parametrize(
    ("X", "message"),
    [
        (np.ones((10, 2)), "All rows are identical"),
        (np.array([[1.0, np.nan], [2.0, 3.0], [1.0, 1.0]]), "missing or infinite values"),
        (np.array([[1.0, 2.0]]), "At least 2 rows"),
        (np.array([["a", "b"], ["c", "d"]]), "numbers only"),
        (np.arange(5.0), "got 1 dimension"),
    ],
)
def test_unusable_data_is_a_data_error(X, message):
    with pytest.raises(DataError, match=re.escape(message)):
        fit_gmm(X, n_components=1)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"covariance_type": "VVV"}, "covariance_type must be one of 'full', 'tied', 'diag', 'spherical'; got 'VVV'."),
        ({"n_components": 0}, "n_components must be an int >= 1; got 0."),
        ({"n_init": 1.5}, "n_init must be an int >= 1; got 1.5."),
        ({"tol": 0}, "tol must be a finite float > 0; got 0."),
        ({"reg_covar": -1.0}, "reg_covar must be a finite float >= 0; got -1.0."),
        ({"init_params": "hc"}, "init_params must be one of 'kmeans', 'k-means++', 'random', 'random_from_data'; got 'hc'."),
        ({"means_init": np.zeros((3, 3))}, "means_init must have shape (2, 2); got (3, 3)."),
        ({"precisions_init": np.ones((2, 2))}, "precisions_init must have shape (2, 2, 2); got (2, 2)."),
        ({"covariance_type": "spherical", "precisions_init": [1.0, np.inf]}, "precisions_init must be finite."),
        ({"covariance_type": "tied", "precisions_init": [[1.0, 2.0], [2.0, 1.0]]},
         "precisions_init must be positive definite."),
        ({"covariance_type": "diag", "precisions_init": [[1.0, 1.0], [0.0, 1.0]]},
         "precisions_init must be positive definite."),
    ],
)
def test_invalid_settings_have_exact_messages(blobs, options, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        fit_gmm(blobs, **{"n_components": 2} | options)


def test_components_on_single_points_are_degenerate_or_a_fit_error():
    X = np.repeat([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0]], 30, axis=0)
    result = fit_gmm(X, n_components=3)
    assert result.degenerate and len(result.warnings) == 3
    with pytest.raises(FitError, match=r"shrank onto a single point or line\. .*larger reg_covar \(now 0\)"):
        fit_gmm(X, n_components=3, reg_covar=0.0)


@pytest.mark.parametrize(
    ("column", "message"),
    [
        (lambda x: 2 * x + 1, "exact linear functions of each other"),
        (lambda x: np.full_like(x, 3.0), "Feature column 2 has the same value in every row"),
    ],
)
def test_flat_data_make_every_fit_degenerate(blobs, column, message):
    X = np.column_stack([blobs[:, 0], column(blobs[:, 0])])
    result = fit_gmm(X, n_components=2, n_init=1)
    assert result.degenerate
    assert [w for w in result.warnings if message in w]


@pytest.mark.parametrize("magnitude", [1e-200, 1e200])
def test_data_beyond_double_precision_covariances_are_refused(blobs, magnitude):
    with pytest.raises(DataError, match=r"outside what covariances can hold .* Rescale the columns"):
        fit_gmm(blobs * magnitude, n_components=2)
