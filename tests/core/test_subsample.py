import numpy as np
import pytest

from gmm_core import SWEEP_COLUMNS, fit_gmm, make_blobs_frame, sweep
from gmm_core.subsample import stratified_subsample

SUBSAMPLE_SWEEP = dict(ks=[1, 2, 3, 4], covariance_types=["full", "spherical"], n_init=1)


@pytest.fixture(scope="module")
def large_blobs() -> np.ndarray:
    return make_blobs_frame(n_samples=4000)[["x", "y"]].to_numpy()


@pytest.fixture(scope="module")
def subsample_sweep(large_blobs):
    calls = []
    result = sweep(large_blobs, max_rows=800, progress=lambda done, total: calls.append((done, total)),
                   **SUBSAMPLE_SWEEP)
    return result, calls


def tiny_cluster_data(offset: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    """100 000 rows in two big blobs and 60 far away: a uniform 1 000-row sample expects 0.6 of those."""
    rng = np.random.default_rng(3)
    big = np.concatenate([rng.normal(0, 1, (70_000, 2)), rng.normal(8, 1, (29_940, 2))])
    tiny = rng.normal((-20, 20), 0.5, (60, 2))
    return np.concatenate([big, tiny]) + offset, np.arange(100_000) >= 99_940


def test_all_rows_when_there_are_few():
    X = np.arange(20.0).reshape(10, 2)
    assert stratified_subsample(X, max_rows=10).tolist() == list(range(10))


@pytest.mark.parametrize("offset", [0.0, 1e9])
def test_subsample_has_max_rows_distinct_rows_and_every_cluster(offset):
    X, tiny = tiny_cluster_data(offset)
    rows = stratified_subsample(X, max_rows=1000, random_state=0)
    assert rows.dtype == np.int64 and len(rows) == 1000
    assert np.all(np.diff(rows) > 0) and 0 <= rows[0] and rows[-1] < len(X)
    # 1000 // (8 * 16) = 7 rows guaranteed to the tiny cluster's stratum.
    assert tiny[rows].sum() >= 7
    # The big blobs keep their 70:30 proportions.
    assert (rows < 70_000).mean() == pytest.approx(0.7, abs=0.03)


def test_subsample_is_deterministic_for_a_seed():
    X, _ = tiny_cluster_data()
    first = stratified_subsample(X, max_rows=500, random_state=1)
    assert np.array_equal(first, stratified_subsample(X, max_rows=500, random_state=1))
    assert not np.array_equal(first, stratified_subsample(X, max_rows=500, random_state=2))


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"max_rows": 1}, "max_rows must be an int >= 2; got 1."),
        ({"max_rows": 10.0}, "max_rows must be an int >= 2; got 10.0."),
        ({"max_rows": 10, "n_strata": 0}, "n_strata must be an int >= 1; got 0."),
        ({"max_rows": 10, "random_state": -1}, "random_state must be None or an int >= 0; got -1."),
    ],
)
def test_invalid_subsample_settings(options, message):
    with pytest.raises(ValueError, match=message):
        stratified_subsample(np.zeros((5, 2)), **options)


def test_sweep_without_subsample_says_so(blobs):
    result = sweep(blobs, ks=[1, 2], covariance_types=["full"], max_rows=len(blobs))
    assert tuple(result.table.columns) == (
        "k", "covariance_type", "model", "log_likelihood", "bic", "aic", "icl", "n_parameters", "converged", "n_iter",
        "degenerate", "reason", "best_bic",
    )
    assert result.subsample is None


def test_subsample_rows_equal_single_fits_on_the_subsample(large_blobs, subsample_sweep):
    result, calls = subsample_sweep
    table = result.table
    rows = stratified_subsample(large_blobs, max_rows=800, random_state=0)
    assert tuple(table.columns) == (*SWEEP_COLUMNS, "criteria_rows")
    assert (table["criteria_rows"] == 800).all()
    for row in table.itertuples():
        single = fit_gmm(large_blobs[rows], n_components=row.k, covariance_type=row.covariance_type, n_init=1)
        assert row.bic == pytest.approx(single.bic, rel=1e-12)
    # 8 fits, 3 candidates scored, 1 refit.
    assert [done for done, _ in calls] == list(range(1, 13))
    assert {total for _, total in calls} == {12}


def test_candidates_are_scored_and_the_best_refitted_on_all_rows(large_blobs, subsample_sweep):
    result, _ = subsample_sweep
    table, info = result.table, result.subsample
    assert (info.rows, info.total_rows, info.random_state) == (800, 4000, 0)
    rows = stratified_subsample(large_blobs, max_rows=800, random_state=0)
    eligible = table[~table["degenerate"] & table["bic"].notna()].sort_values("bic", kind="stable")
    candidates = info.candidates
    assert [(c["k"], c["covariance_type"]) for c in candidates] == list(
        zip(eligible["k"][:3], eligible["covariance_type"][:3])
    )
    for candidate in candidates:
        on_subsample = fit_gmm(
            large_blobs[rows], n_components=candidate["k"], covariance_type=candidate["covariance_type"], n_init=1
        )
        model = on_subsample.to_sklearn()
        assert candidate["bic"] == pytest.approx(model.bic(large_blobs), rel=1e-9)
        assert candidate["aic"] == pytest.approx(model.aic(large_blobs), rel=1e-9)

    best = min(candidates, key=lambda c: c["bic"])
    marked = table[table["best_bic"]]
    assert (marked["k"].item(), marked["covariance_type"].item()) == (best["k"], best["covariance_type"])
    start = fit_gmm(large_blobs[rows], n_components=best["k"], covariance_type=best["covariance_type"], n_init=1)
    stored = info.starts[best["k"], best["covariance_type"]]
    for name, value in start.as_start().items():
        np.testing.assert_allclose(stored[name], value, rtol=1e-12)
    refit = fit_gmm(
        large_blobs, n_components=best["k"], covariance_type=best["covariance_type"], n_init=1, **stored
    )
    assert info.refit["bic"] == pytest.approx(refit.bic, rel=1e-12)
    assert info.refit["icl"] == pytest.approx(refit.icl, rel=1e-12)
    assert info.refit["n_iter"] == refit.n_iter
    assert (best["k"], best["covariance_type"]) == (3, "spherical")


def test_invalid_max_rows(blobs):
    with pytest.raises(ValueError, match="max_rows must be None or an int >= 2; got 1."):
        sweep(blobs, max_rows=1)


def test_a_sample_by_group_keeps_every_group_and_the_cap():
    from gmm_core.subsample import sample_by_group

    groups = np.r_[np.zeros(50_000, int), np.ones(30, int), np.full(5, 2)]
    shown = sample_by_group(groups, 1_000)
    assert len(shown) == 1_000
    assert set(groups[shown]) == {0, 1, 2}
    assert np.all(np.diff(shown) > 0)
    assert len(sample_by_group(groups[:10], 1_000)) == 10
