import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from scipy import stats
from scipy.special import logsumexp
from sklearn.mixture import GaussianMixture

from gmm_core import COVARIANCE_TYPES, MODELS, DataError, FitError, fit_gmm, kernel, n_parameters, sweep
from gmm_core.engine import Problem, Start, run_em
from gmm_core.families import COLUMN_SCALE_EQUIVARIANT
from gmm_core.scaling import Scaling
from gmm_core.selection import DEFAULT_SWEEP_N_INIT

TYPES = pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
MCLUST_DATA = Path(__file__).resolve().parents[1] / "data" / "mclust"
ALL_MODELS = pytest.mark.parametrize("model", MODELS)


def independent_log_likelihood(X, result):
    """log p(x) summed over rows, from scipy's densities, not from our engine."""
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
    assert result.bic == pytest.approx(model.bic(blobs), rel=1e-10)
    assert result.aic == pytest.approx(model.aic(blobs), rel=1e-10)
    assert result.n_parameters == model._n_parameters()
    np.testing.assert_allclose(result.responsibilities, model.predict_proba(blobs), atol=1e-10)


@ALL_MODELS
def test_log_likelihood_equals_an_independent_density_sum(faithful, model):
    result = fit_gmm(faithful, n_components=3, covariance_type=model, n_init=2)
    assert result.log_likelihood == pytest.approx(independent_log_likelihood(faithful, result), rel=1e-10)
    assert result.bic == pytest.approx(-2 * result.log_likelihood + result.n_parameters * np.log(272), rel=1e-12)
    assert result.model == model


@ALL_MODELS
def test_responsibilities_are_a_distribution_whose_argmax_is_the_label(blobs, model):
    result = fit_gmm(blobs, n_components=4, covariance_type=model, n_init=1)
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


def _volume_shape_orientation(covariances):
    """Each component's volume (det^(1/d)), shape (eigenvalues / volume, descending) and eigenvectors."""
    values, vectors = np.linalg.eigh(covariances)
    values, vectors = values[:, ::-1], vectors[:, :, ::-1]
    volume = np.exp(np.log(values).mean(axis=1))
    return volume, values / volume[:, None], vectors


@ALL_MODELS
def test_covariances_have_the_structure_the_model_names(model):
    # Four well-separated, differently shaped clusters in 3-D, so that no constraint holds by chance.
    rng = np.random.default_rng(5)
    blocks = []
    for k in range(4):
        A = rng.normal(size=(3, 3)) * (1 + k)
        blocks.append(rng.normal(size=(80, 3)) @ A + 25 * rng.normal(size=3))
    X = np.vstack(blocks)
    covariances = fit_gmm(X, n_components=4, covariance_type=model).covariances
    volume, shape, orientation = _volume_shape_orientation(covariances)
    letters = dict(zip("vso", model))
    same = lambda a: np.allclose(a, a[:1], rtol=1e-6, atol=1e-9)  # noqa: E731
    assert same(volume) == (letters["v"] == "E")
    if letters["s"] == "I":
        np.testing.assert_allclose(shape, 1.0, rtol=1e-9)
    else:
        assert same(shape) == (letters["s"] == "E")
    off_diagonal = covariances - np.einsum("kii->ki", covariances)[:, :, None] * np.eye(3)
    if letters["o"] == "I":
        np.testing.assert_array_equal(off_diagonal, 0.0)
    elif letters["o"] == "E":
        # One orientation: every covariance is diagonal in the first one's eigenvectors.
        rotated = np.einsum("ji,kjl,lm->kim", orientation[0], covariances, orientation[0])
        np.testing.assert_allclose(rotated - np.einsum("kii->ki", rotated)[:, :, None] * np.eye(3), 0.0,
                                   atol=1e-8 * np.abs(covariances).max())
    else:
        assert not np.allclose(off_diagonal, 0.0)


@ALL_MODELS
def test_permuting_the_components_only_relabels(blobs, model):
    first = fit_gmm(blobs, n_components=3, covariance_type=model)
    order = np.array([2, 0, 1])
    permuted = fit_gmm(
        blobs,
        n_components=3,
        covariance_type=model,
        weights_init=first.weights[order],
        means_init=first.means[order],
        covariances_init=first.covariances[order],
    )
    assert permuted.log_likelihood == pytest.approx(first.log_likelihood, abs=2e-3)
    np.testing.assert_allclose(permuted.means, first.means[order], rtol=1e-4, atol=1e-8)
    np.testing.assert_array_equal(order[permuted.labels], first.labels)


@ALL_MODELS
def test_a_warm_start_resumes_the_model_it_came_from(model):
    X = pd.read_csv(MCLUST_DATA / "iris.csv").to_numpy(dtype=float)
    first = fit_gmm(X, n_components=3, covariance_type=model)
    resumed = fit_gmm(X, n_components=3, covariance_type=model, **first.as_start())
    # Already within tol of its limit and past the saddle check: EM confirms both in a few cycles
    # of two steps, which can only gain likelihood (up to rounding). EVE resumed from the identity
    # orientation, not its own, lost 5.7e-7 and took 14 steps.
    assert resumed.converged and resumed.n_iter <= 16
    assert -1e-9 < resumed.log_likelihood - first.log_likelihood < 2e-6
    for name, value in first.as_start().items():
        np.testing.assert_array_equal(resumed.start[name], value)


def test_em_does_not_stop_where_it_stalls_near_a_saddle_point(faithful):
    # Aitken's rule alone stopped EEE,4 at 2,331.10 (mclust: 2,331.22); plain EM continued from
    # there gains nothing for 400 iterations, then climbs to 2,320.14 within 200 more.
    fit = fit_gmm(faithful, n_components=4, covariance_type="EEE", n_init=2)
    assert fit.bic == pytest.approx(2320.137, abs=0.01)


def test_no_cell_of_the_iris_sweep_stops_short_of_ems_limit():
    """Plain EM continued from every cell of the default sweep gains at most 0.01 in BIC (before
    the saddle check three cells fell short, VEV,6 by 6.56 and EEV,5 by 3.13)."""
    X = pd.read_csv(MCLUST_DATA / "iris.csv").to_numpy(dtype=float)
    table = sweep(X, ks=range(1, 10), covariance_types=MODELS).table
    short = []
    for row in table[~table["degenerate"] & table["bic"].notna()].itertuples():
        cell = fit_gmm(X, n_components=row.k, covariance_type=row.model, n_init=DEFAULT_SWEEP_N_INIT)
        assert cell.bic == row.bic  # the sweep's cell
        continued = fit_gmm(X, n_components=row.k, covariance_type=row.model, **cell.as_start(),
                            stopping="sklearn", tol=1e-13, max_iter=20_000)
        if cell.bic - continued.bic > 0.01:
            short.append((row.model, row.k, cell.bic - continued.bic))
    assert short == []


def test_a_saddle_check_that_empties_a_component_leaves_the_run_where_the_rule_stopped_it():
    """EVV, K = 7 on 17 points from one k-means start: going on past Aitken's rule drains a
    component (a check of 3 steps still gains 1.5e-5); the run is not lost for that."""
    X = np.array([[1.0, -2.3], [0.5, -0.4], [-6.1, 3.8], [-0.4, 1.9], [1.0, 1.5], [-0.4, 0.3], [0.3, 1.4],
                  [2.8, 4.0], [4.2, -2.3], [3.3, -0.9], [4.0, 1.2], [-1.8, 4.5], [1.0, -0.4], [2.6, 3.4],
                  [0.1, 0.0], [2.9, -1.9], [-4.0, -2.3]])
    problem = Problem.scaled(X, Scaling.of(X))
    start = Start("partition", labels=np.array([3, 0, 1, 0, 0, 0, 0, 2, 3, 3, 6, 4, 0, 2, 0, 3, 5]))
    options = dict(code=MODELS.index("EVV"), reg_covar=1e-9, tol=1e-3, rule=kernel.AITKEN, max_iter=1000)
    at_the_rule = run_em(problem, start, **options, saddle_check=0)
    checked = run_em(problem, start, **options)
    assert checked.n_iter > at_the_rule.n_iter  # the check ran, and broke down
    assert (checked.status, checked.converged) == (kernel.OK, True)
    assert checked.log_likelihood == at_the_rule.log_likelihood
    for name in ("weights", "means", "covariances"):
        np.testing.assert_array_equal(getattr(checked, name), getattr(at_the_rule, name))
    assert run_em(problem, start, **options, saddle_check=3).log_likelihood > at_the_rule.log_likelihood + 1e-5


@settings(max_examples=25, deadline=None)
@given(
    data_seed=st.integers(0, 2**32 - 1),
    start_seed=st.integers(0, 2**32 - 1),
    k=st.integers(1, 4),
    d=st.integers(1, 6),  # the E-step's fused sums (d <= 4) and its general ones
    covariance_type=st.sampled_from(COVARIANCE_TYPES),
    log_units=st.floats(-3, 3),
)
def test_from_the_same_start_em_takes_scikit_learns_steps(data_seed, start_seed, k, d, covariance_type, log_units):
    """Our EM (scaled data, compiled kernel) and scikit-learn's (raw data), from one start and with
    scikit-learn's stopping rule: the same number of iterations and the same log-likelihood."""
    rng = np.random.default_rng(data_seed)
    centers = rng.normal(scale=4.0, size=(3, d))
    X = 10.0**log_units * (centers[rng.integers(0, 3, 200)] + rng.normal(size=(200, d)))
    # A start from random responsibilities, in the covariance type's structure.
    resp = np.random.default_rng(start_seed).dirichlet(np.ones(k), size=200)
    nk = resp.sum(axis=0)
    weights, means = nk / 200, resp.T @ X / nk[:, None]
    full = np.array([((X - m).T * r) @ (X - m) / s for m, r, s in zip(means, resp.T, nk)])
    covariances = {
        "full": full,
        "tied": np.repeat(np.einsum("k,kij->ij", weights, full)[None], k, axis=0),
        "diag": np.einsum("kii->ki", full)[:, :, None] * np.eye(d),
        "spherical": np.einsum("kii->k", full)[:, None, None] / d * np.eye(d),
    }[covariance_type]
    precisions = np.linalg.inv(covariances)
    native = {"full": precisions, "tied": precisions[0], "diag": np.einsum("kii->ki", precisions),
              "spherical": precisions[:, 0, 0]}[covariance_type]
    ours = fit_gmm(X, n_components=k, covariance_type=covariance_type, reg_covar=0.0, tol=1e-4, stopping="sklearn",
                   max_iter=500, weights_init=weights, means_init=means, covariances_init=covariances)
    theirs = GaussianMixture(n_components=k, covariance_type=covariance_type, reg_covar=0.0, tol=1e-4, max_iter=500,
                             weights_init=weights, means_init=means, precisions_init=native)
    # Without a regulariser a component may collapse; both then stop where rounding decides.
    try:
        theirs.fit(X)
    except ValueError:  # scikit-learn: "ill-defined empirical covariance"
        assume(False)
    assume(not ours.degenerate and theirs.weights_.min() > 0.01)
    assert ours.n_iter == theirs.n_iter_
    assert ours.log_likelihood == pytest.approx(theirs.score(X) * len(X), rel=1e-9)


@settings(max_examples=12, deadline=None)
@given(
    log_scale=st.floats(np.log10(1e-6), np.log10(1e9)),
    shift=st.floats(-1e3, 1e3),
    model=st.sampled_from(MODELS),
)
def test_fit_is_invariant_to_units(blobs, log_scale, shift, model):
    a = 10.0**log_scale
    b = shift * a  # a shift in the new units
    # The hc start's plain EM stops by mclust's rule, on the log-likelihood in the data's own
    # units as mclust does, so its path depends on them: the optimum must not, run to 1e-9.
    base = fit_gmm(blobs, n_components=3, covariance_type=model, n_init=2, tol=1e-9)
    scaled = fit_gmm(a * blobs + b, n_components=3, covariance_type=model, n_init=2, tol=1e-9)
    n, d = blobs.shape
    order = np.argmin(np.linalg.norm(((scaled.means - b) / a)[:, None] - base.means[None], axis=2), axis=1)
    assert sorted(order) == [0, 1, 2]
    np.testing.assert_array_equal(order[scaled.labels], base.labels)
    # The density of aX + b is the density of X divided by a**d.
    assert scaled.log_likelihood == pytest.approx(base.log_likelihood - n * d * np.log(a), rel=1e-6, abs=1e-5)
    assert scaled.bic - base.bic == pytest.approx(2 * n * d * np.log(a), rel=1e-6, abs=1e-5)
    np.testing.assert_allclose(scaled.means, a * base.means[order] + b, rtol=1e-6, atol=1e-6 * a)
    # EM run to 1e-9 in log-likelihood pins a covariance to about 1e-7 of its size in flat directions
    # (EVE at a = 1e7: an off-diagonal element 1e-7 of the diagonal apart); 1e-6 of it is the bound.
    size = np.abs(base.covariances).max()
    np.testing.assert_allclose(scaled.covariances, a**2 * base.covariances[order], rtol=1e-6, atol=1e-6 * size * a**2)
    assert not scaled.degenerate and not scaled.warnings


@settings(max_examples=12, deadline=None)
@given(
    log_scale=st.floats(np.log10(1e-6), np.log10(1e9)),
    model=st.sampled_from(sorted(COLUMN_SCALE_EQUIVARIANT - {"E", "V"})),
)
def test_the_units_of_one_column_change_nothing_for_models_that_allow_it(faithful, log_scale, model):
    a = np.array([10.0**log_scale, 1.0])
    base = fit_gmm(faithful, n_components=3, covariance_type=model, tol=1e-9)
    scaled = fit_gmm(faithful * a, n_components=3, covariance_type=model, tol=1e-9)
    # Components may come in another order (k-means breaks ties in rounding); match them by mean.
    order = np.argmin(np.linalg.norm((scaled.means / a)[:, None] - base.means[None], axis=2), axis=1)
    assert sorted(order) == [0, 1, 2]
    np.testing.assert_array_equal(order[scaled.labels], base.labels)
    assert scaled.bic - base.bic == pytest.approx(2 * len(faithful) * np.log(a[0]), rel=1e-6, abs=1e-4)
    np.testing.assert_allclose(scaled.covariances, base.covariances[order] * np.outer(a, a), rtol=1e-3)


def test_raw_wine_single_gaussian_equals_scikit_learn_and_mclust():
    """The regulariser never inflates a small-variance column: BIC 7,201.00 like both references."""
    from sklearn.datasets import load_wine

    X = load_wine().data
    ours = fit_gmm(X, n_components=1, covariance_type="VVV")
    assert ours.bic == pytest.approx(GaussianMixture(1).fit(X).bic(X), abs=0.01)
    assert round(ours.bic, 2) == 7201.00


def test_collapsed_component_marks_the_fit_degenerate():
    # 30 copies of one point beside a cloud: a full component can shrink onto them.
    rng = np.random.default_rng(0)
    X = np.vstack([rng.normal(size=(200, 2)), np.tile([[4.0, 4.0]], (30, 1))])
    result = fit_gmm(X, n_components=2, covariance_type="VVV")
    assert result.degenerate
    assert any("collapsed onto a line or point" in w for w in result.warnings)
    # A pooled covariance has no per-component count: the equal-shape model stays valid.
    assert not fit_gmm(X, n_components=2, covariance_type="EEE").degenerate


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
        (np.column_stack([np.arange(10.0), np.full(10, 3.0)]), "Feature column 2 has the same value in every row"),
        (np.column_stack([np.arange(10.0), 1e-300 * np.arange(10.0) % 3]),
         "Feature column 2's spread is 1e-300 of the columns' overall spread"),
    ],
)
def test_unusable_data_is_a_data_error(X, message):
    with pytest.raises(DataError, match=re.escape(message)):
        fit_gmm(X, n_components=1)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"covariance_type": "XYZ"}, "covariance_type must be one of mclust's models EII, VII, EEI"),
        ({"covariance_type": "E"}, "covariance_type 'E' is for one column; the data have 2."),
        ({"n_components": 0}, "n_components must be an int >= 1; got 0."),
        ({"n_init": 1.5}, "n_init must be an int >= 1; got 1.5."),
        ({"tol": 0}, "tol must be a finite float > 0; got 0."),
        ({"reg_covar": -1.0}, "reg_covar must be a finite float >= 0; got -1.0."),
        ({"init_params": "kmeans+"},
         "init_params must be one of 'hc+kmeans', 'hc', 'kmeans', 'k-means++', 'random', 'random_from_data'; "
         "got 'kmeans+'."),
        ({"stopping": "never"}, "stopping must be one of 'aitken', 'sklearn', 'mclust'; got 'never'."),
        ({"means_init": np.zeros((3, 3))}, "means_init must have shape (2, 2); got (3, 3)."),
        ({"weights_init": [0.5, 0.5]}, "A start needs means_init"),
        ({"means_init": np.zeros((2, 2)), "weights_init": [0.7, 0.7]}, "weights_init must be positive and sum to 1."),
        ({"means_init": np.zeros((2, 2)), "covariances_init": np.ones((2, 2))},
         "covariances_init must have shape (2, 2, 2); got (2, 2)."),
        ({"means_init": np.zeros((2, 2)), "weights_init": [0.5, 0.5], "covariances_init": np.ones((2, 2, 2))},
         "covariances_init must be symmetric positive definite."),
    ],
)
def test_invalid_settings_have_exact_messages(blobs, options, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        fit_gmm(blobs, **{"n_components": 2} | options)


def test_components_on_single_points_are_degenerate_or_a_fit_error():
    X = np.repeat([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0]], 30, axis=0)
    result = fit_gmm(X, n_components=3)
    assert result.degenerate and len(result.warnings) == 3
    with pytest.raises(FitError, match=r"EM broke down from every start .*larger reg_covar \(now 0\)"):
        fit_gmm(X, n_components=3, reg_covar=0.0)


def test_collinear_columns_make_every_fit_degenerate(blobs):
    X = np.column_stack([blobs[:, 0], 2 * blobs[:, 0] + 1])
    result = fit_gmm(X, n_components=2, n_init=1)
    assert result.degenerate
    assert [w for w in result.warnings if "exact linear functions of each other" in w]


@pytest.mark.parametrize("magnitude", [1e-200, 1e200])
def test_data_beyond_double_precision_covariances_are_refused(blobs, magnitude):
    with pytest.raises(DataError, match=r"outside what covariances can hold .* Rescale the columns"):
        fit_gmm(blobs * magnitude, n_components=2)


def test_one_column_data_fit_mclusts_one_dimensional_models():
    x = np.concatenate([np.random.default_rng(0).normal(0, 1, 150), np.random.default_rng(1).normal(6, 2, 150)])
    for name, model in [("V", "V"), ("E", "E"), ("full", "V"), ("tied", "E"), ("VEV", "V"), ("EII", "E")]:
        result = fit_gmm(x[:, None], n_components=2, covariance_type=name)
        assert result.model == model
        assert result.n_parameters == {"E": 4, "V": 5}[model]
        variances = result.covariances[:, 0, 0]
        assert np.isclose(variances[0], variances[1]) == (model == "E")


def test_a_regulariser_beyond_the_datas_own_covariance_is_refused_with_its_range():
    X = np.random.default_rng(0).normal(size=(50, 2))
    with pytest.raises(ValueError, match=r"^reg_covar must be at most 1: it is the fraction of the data's own covariance"):
        fit_gmm(X, n_components=2, reg_covar=1e308)
    assert fit_gmm(X, n_components=2, reg_covar=1.0).converged


def test_a_model_with_almost_as_many_parameters_as_rows_says_so():
    X = np.random.default_rng(1).normal(size=(144, 13))
    result = fit_gmm(X, n_components=3, covariance_type="VVV", n_init=1)
    assert result.n_parameters == 314
    assert (
        "The model has 314 free parameters for 144 rows (0.5 rows per parameter; fewer than 2 make the estimates "
        "unreliable). Choose fewer components or a model that shares more (equal volume, shape or orientation)."
    ) in result.warnings
    assert not any("free parameters" in w for w in fit_gmm(X, n_components=2, covariance_type="VII").warnings)


@pytest.mark.parametrize("value", [3.14, 0.1, 1e-300, 7e300])
def test_identical_rows_are_called_identical_whatever_their_value(value):
    with pytest.raises(DataError, match=r"^All rows are identical, so there is no spread to model\."):
        fit_gmm(np.full((200, 2), value), n_components=1)


def test_renumbering_components_changes_no_number_but_the_numbers():
    X = np.random.default_rng(5).normal(size=(120, 2)) + np.repeat([[0, 0], [6, 0], [0, 6]], 40, axis=0)
    result = fit_gmm(X, n_components=3, covariance_type="VEV")
    order = [2, 0, 1]
    renumbered = result.reordered(order)
    np.testing.assert_array_equal(renumbered.means, result.means[order])
    np.testing.assert_array_equal(renumbered.responsibilities, result.responsibilities[:, order])
    np.testing.assert_array_equal(renumbered.means[renumbered.labels], result.means[result.labels])
    assert (renumbered.bic, renumbered.icl, renumbered.log_likelihood) == (result.bic, result.icl, result.log_likelihood)
    with pytest.raises(ValueError, match=r"order must be a permutation of range\(3\); got \[0, 0, 1\]"):
        result.reordered([0, 0, 1])
