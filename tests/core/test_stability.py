import numpy as np
import pytest

from gmm_core.fit import fit_gmm
from gmm_core.stability import fit_diagnostics, restart_stability

SEEDS = (0, 1, 2, 3)


@pytest.fixture(scope="module")
def blob_stability(blobs):
    calls = []
    result = restart_stability(
        blobs, ks=[2, 3, 4], covariance_types=["full", "spherical"], seeds=SEEDS,
        progress=lambda done, total: calls.append((done, total)),
    )
    return result, calls


def test_one_row_per_model_and_seed_each_equal_to_a_single_fit(blobs, blob_stability):
    result, calls = blob_stability
    assert tuple(result.fits.columns) == (
        "k", "covariance_type", "model", "seed", "log_likelihood", "bic", "icl", "converged", "n_iter", "degenerate",
        "reason",
    )
    assert list(zip(result.fits["covariance_type"], result.fits["k"], result.fits["seed"])) == [
        (c, k, s) for c in ["full", "spherical"] for k in [2, 3, 4] for s in SEEDS
    ]
    assert [done for done, _ in calls] == list(range(1, 25))
    for row in result.fits.iloc[[0, 7, 13, 23]].itertuples():
        single = fit_gmm(blobs, n_components=row.k, covariance_type=row.covariance_type, n_init=1,
                         random_state=row.seed, init_params="kmeans")
        assert row.bic == pytest.approx(single.bic, rel=1e-12)
        assert row.icl == pytest.approx(single.icl, rel=1e-12)
        np.testing.assert_array_equal(result.labels[row.k, row.covariance_type][SEEDS.index(row.seed)],
                                      single.labels)


def test_model_summary_is_the_spread_and_win_share_of_the_fits(blob_stability):
    result, _ = blob_stability
    models = result.models
    assert tuple(models.columns) == (
        "k", "covariance_type", "model", "n_eligible", "bic_median", "bic_min", "bic_max", "bic_iqr", "wins",
        "win_share", "restart_ari",
    )
    assert len(models) == 6
    for row in models.itertuples():
        bic = result.fits.query("k == @row.k and covariance_type == @row.covariance_type and ~degenerate")["bic"]
        assert row.n_eligible == len(bic)
        assert row.bic_median == pytest.approx(np.median(bic))
        assert (row.bic_min, row.bic_max) == (bic.min(), bic.max())
        assert row.bic_iqr == pytest.approx(np.subtract(*np.percentile(bic, [75, 25])))
    eligible = result.fits[~result.fits["degenerate"]]
    winners = eligible.loc[eligible.groupby("seed")["bic"].idxmin(), ["k", "covariance_type"]]
    expected = winners.value_counts()
    for row in models.itertuples():
        assert row.wins == expected.get((row.k, row.covariance_type), 0)
    assert models["win_share"].sum() == pytest.approx(1.0)


def test_three_well_separated_blobs_are_chosen_every_time_with_the_same_partition(blob_stability):
    result, _ = blob_stability
    k, covariance_type = result.chosen
    assert k == 3
    chosen = result.models.query("k == 3 and covariance_type == @covariance_type").iloc[0]
    assert chosen["win_share"] >= 0.5
    assert chosen["restart_ari"] == pytest.approx(1.0)
    ari = result.pairwise_ari(k, covariance_type)
    assert ari.shape == (len(SEEDS), len(SEEDS))
    np.testing.assert_allclose(ari, 1.0)


def test_restart_ari_reveals_a_model_whose_restarts_disagree(faithful):
    result = restart_stability(faithful, ks=[5], covariance_types=["spherical"], seeds=range(5))
    row = result.models.iloc[0]
    assert row["restart_ari"] < 0.95
    assert row["bic_max"] - row["bic_min"] > 1.0
    ari = result.pairwise_ari(5, "spherical")
    np.testing.assert_array_equal(ari, ari.T)
    np.testing.assert_array_equal(np.diag(ari), 1.0)
    assert row["restart_ari"] == pytest.approx(ari[np.triu_indices(5, k=1)].mean())


def test_failed_fits_have_no_criteria_no_labels_and_no_wins():
    X = np.repeat([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0]], 10, axis=0)
    result = restart_stability(X, ks=[1, 4], covariance_types=["spherical"], seeds=[0, 1])
    failed = result.fits[result.fits["k"] == 4]
    assert failed["bic"].isna().all()
    assert failed["reason"].str.contains("only 3 distinct point").all()
    assert (result.labels[4, "spherical"] == -1).all()
    assert np.isnan(result.pairwise_ari(4, "spherical")).all()
    assert result.models.set_index("k").loc[4, "wins"] == 0
    assert result.chosen == (1, "spherical")
    with pytest.raises(KeyError, match="No model with k=3"):
        result.pairwise_ari(3, "spherical")


def test_bad_seeds_are_refused(blobs):
    for seeds in ([], [1, 1], [-1], [1.5]):
        with pytest.raises(ValueError, match="seeds must be one or more distinct ints >= 0"):
            restart_stability(blobs, ks=[1], seeds=seeds)


def test_diagnostics_describe_each_component(blobs):
    result = fit_gmm(blobs, n_components=3, covariance_type="full")
    table = fit_diagnostics(result, blobs)
    assert tuple(table.columns) == (
        "component", "weight", "points", "effective_size", "smallest_eigenvalue", "largest_eigenvalue",
        "condition_number", "relative_smallest_variance", "collapsed", "too_small", "empty", "note",
    )
    assert list(table["component"]) == [1, 2, 3]
    np.testing.assert_allclose(table["weight"], result.weights)
    assert table["points"].sum() == len(blobs)
    np.testing.assert_allclose(table["effective_size"], result.responsibilities.sum(axis=0))
    np.testing.assert_allclose(table["condition_number"], np.linalg.cond(result.covariances), rtol=1e-10)
    np.testing.assert_allclose(table["smallest_eigenvalue"], np.linalg.eigvalsh(result.covariances)[:, 0])
    assert not table[["collapsed", "too_small", "empty"]].any().any()
    assert (table["note"] == "").all()


@pytest.mark.parametrize("covariance_type", ["full", "tied"])
def test_diagnostics_explain_a_degenerate_fit(covariance_type):
    rng = np.random.default_rng(0)
    # 30 copies of one point: a component can shrink onto it.
    X = np.vstack([rng.normal(size=(200, 2)), np.tile([[4.0, 4.0]], (30, 1))])
    result = fit_gmm(X, n_components=2, covariance_type=covariance_type)
    table = fit_diagnostics(result, X)
    assert table["collapsed"].any() == result.degenerate
    assert result.degenerate == (covariance_type == "full")  # a tied model cannot collapse one component
    if result.degenerate:
        collapsed = table[table["collapsed"]].iloc[0]
        assert collapsed["points"] == 30
        assert collapsed["relative_smallest_variance"] <= 2 * result.settings.reg_covar
        assert "collapsed onto a line or point" in collapsed["note"]


def test_diagnostics_flag_a_component_that_no_point_belongs_to():
    X = np.random.default_rng(1).normal(size=(300, 2))
    # Two tied components started on the same mean stay there; the lighter one never wins a point.
    result = fit_gmm(X, n_components=2, covariance_type="tied", means_init=[[0.0, 0.0], [0.0, 0.0]],
                     weights_init=[0.9, 0.1], covariances_init=[np.cov(X.T)] * 2)
    table = fit_diagnostics(result, X)
    assert list(table["points"]) == [300, 0]
    assert list(table["empty"]) == [False, True]
    assert table.loc[1, "effective_size"] == pytest.approx(30.0)
    assert "No point is most likely to come from it" in table.loc[1, "note"]
    assert not result.degenerate


def test_diagnostics_need_the_fitted_data(blobs):
    result = fit_gmm(blobs, n_components=2, n_init=1)
    with pytest.raises(ValueError, match=r"X must be the data the model was fitted to, of shape \(300, 2\)"):
        fit_diagnostics(result, blobs[:10])


def test_a_fit_reports_every_start_and_keeps_the_best(faithful):
    options = dict(n_components=3, covariance_type="diag", n_init=4, random_state=3)
    fit = fit_gmm(faithful, **options)
    table = fit.restarts
    assert tuple(table.columns) == (
        "restart", "start", "rows", "log_likelihood", "bic", "icl", "converged", "n_iter", "degenerate", "reason",
        "kept",
    )
    assert list(table["restart"]) == [1, 2, 3, 4]
    assert table.loc[0, "start"] == "hierarchical (hc)"
    assert table["start"].iloc[1:].str.startswith("k-means (seed ").all()
    assert (table["rows"] == len(faithful)).all()
    kept = table[table["kept"]]
    assert len(kept) == 1
    assert kept["bic"].item() == table.loc[~table["degenerate"], "bic"].min()
    assert kept["bic"].item() == pytest.approx(fit.bic, rel=1e-12)
    assert (kept["converged"].item(), kept["n_iter"].item()) == (fit.converged, fit.n_iter)
    first = fit_gmm(faithful, **(options | {"n_init": 1}))
    assert table.loc[0, "bic"] == pytest.approx(first.bic, rel=1e-12)
    assert table.loc[0, "n_iter"] == first.n_iter


def test_the_starts_report_their_convergence(faithful):
    fit = fit_gmm(faithful, n_components=3, covariance_type="diag", n_init=3, max_iter=5)
    table = fit.restarts
    assert not table["converged"].any()
    assert (table["n_iter"] == 5).all()
    assert table["reason"].str.contains("did not converge within 5 iterations").all()
    assert table.loc[table["kept"], "bic"].item() == pytest.approx(fit.bic, rel=1e-12)
