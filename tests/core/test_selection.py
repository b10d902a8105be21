import numpy as np
import pytest

from gmm_core import COVARIANCE_TYPES, MODELS, fit_gmm, sweep


@pytest.fixture(scope="module")
def faithful_sweep(faithful):
    calls = []
    result = sweep(faithful, ks=range(1, 10), progress=lambda done, total: calls.append((done, total)))
    return result.table, calls


def test_old_faithful_sweep_picks_mclusts_model(faithful_sweep):
    table, _ = faithful_sweep
    best = table[table["best_bic"]]
    assert len(best) == 1
    assert (best["k"].item(), best["covariance_type"].item(), best["model"].item()) == (3, "tied", "EEE")
    # mclust 6.0.0: -2314.316; EM here runs until the log-likelihood is within 1e-3 of its limit.
    assert best["bic"].item() == pytest.approx(2314.297, abs=0.005)


def test_degenerate_fits_are_marked_and_never_best(faithful_sweep):
    table, _ = faithful_sweep
    eligible = table[~table["degenerate"] & table["bic"].notna()]
    assert table.loc[table["best_bic"], "bic"].item() == eligible["bic"].min()
    degenerate = table[table["degenerate"]]
    assert (degenerate["reason"].str.contains("collapsed|broke down|lost all its points")).all()


def test_sweep_table_has_one_row_per_model_in_order(faithful_sweep):
    table, calls = faithful_sweep
    assert tuple(table.columns) == (
        "k", "covariance_type", "model", "log_likelihood", "bic", "aic", "icl", "n_parameters", "converged", "n_iter",
        "degenerate", "reason", "best_bic",
    )
    assert list(zip(table["covariance_type"], table["k"])) == [
        (c, k) for c in COVARIANCE_TYPES for k in range(1, 10)
    ]
    assert [done for done, _ in calls] == list(range(1, 37))
    assert {total for _, total in calls} == {36}


def test_mclust_criteria_at_one_and_two_components(faithful_sweep):
    table, _ = faithful_sweep
    mclust = {  # mclustBIC(faithful), negated
        ("full", 1): 2607.623, ("tied", 1): 2607.623, ("diag", 1): 3055.835, ("spherical", 1): 4024.721,
        ("full", 2): 2322.192, ("tied", 2): 2325.220, ("diag", 2): 2346.065, ("spherical", 2): 3458.305,
    }
    bic = table.set_index(["covariance_type", "k"])["bic"]
    for model, expected in mclust.items():
        assert bic[model] == pytest.approx(expected, abs=0.01), model


@pytest.mark.parametrize("n_jobs", [1, 2])
def test_each_row_equals_a_single_fit_with_the_same_settings(blobs, n_jobs):
    table = sweep(blobs, ks=[1, 3], covariance_types=["tied", "spherical", "VEV"], n_init=2, n_jobs=n_jobs).table
    assert list(table["model"]) == ["EEE", "EEE", "VII", "VII", "VEV", "VEV"]
    for row in table.itertuples():
        single = fit_gmm(blobs, n_components=row.k, covariance_type=row.covariance_type, n_init=2)
        assert row.bic == pytest.approx(single.bic, rel=1e-12)
        assert row.icl == pytest.approx(single.icl, rel=1e-12)
        assert row.n_parameters == single.n_parameters


def test_a_fit_that_cannot_run_is_a_row_with_a_reason():
    X = np.repeat([[0.0, 0.0], [3.0, 1.0]], 20, axis=0)
    table = sweep(X, ks=[1, 2, 3], covariance_types=["full"]).table
    failed = table[table["k"] == 3].iloc[0]
    assert np.isnan(failed["bic"]) and not failed["best_bic"]
    assert "only 2 distinct point(s)" in failed["reason"]
    assert table["bic"].notna().sum() == 2


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"ks": []}, "ks must be non-empty"),
        ({"ks": [0, 1]}, "every k >= 1"),
        ({"covariance_types": ["XYZ"]}, "covariance_type must be one of"),
        ({"n_init": 0}, "n_init must be an int >= 1; got 0."),
    ],
)
def test_invalid_sweep_settings(blobs, options, message):
    with pytest.raises(ValueError, match=message):
        sweep(blobs, **options)


def test_a_sweep_over_all_fourteen_models_names_them_as_mclust(faithful):
    table = sweep(faithful, ks=[1, 2], covariance_types=MODELS).table
    assert list(table["model"]) == [m for m in MODELS for _ in (1, 2)]
    # One component: every model is a single Gaussian of its family, as mclust's mvn fits it.
    one = table[table["k"] == 1].set_index("model")["bic"]
    assert one["EII"] == pytest.approx(one["VII"], abs=1e-9)
    assert one[["EEI", "VEI", "EVI", "VVI"]].std() < 1e-9
    assert one[["EEE", "VEE", "EVE", "VVE", "EEV", "VEV", "EVV", "VVV"]].std() < 1e-6
