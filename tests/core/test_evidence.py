import math

import numpy as np
import pandas as pd
import pytest

from gmm_core.evidence import bic_evidence, kass_raftery, recommendation
from gmm_core.selection import SWEEP_COLUMNS, sweep


@pytest.fixture(scope="module")
def faithful_sweep(faithful):
    return sweep(faithful, ks=range(1, 10)).table


def models(*rows):
    """A sweep-like table from (k, covariance_type, bic, icl, degenerate) rows."""
    names = {"full": "VVV", "tied": "EEE", "diag": "VVI", "spherical": "VII"}
    return pd.DataFrame(
        [
            {"k": k, "covariance_type": c, "model": names[c], "bic": bic, "icl": icl, "degenerate": bad}
            for k, c, bic, icl, bad in rows
        ]
    )


@pytest.mark.parametrize(
    "difference, word",
    [
        (0.0, "not worth more than a bare mention"),
        (2.0, "not worth more than a bare mention"),
        (math.nextafter(2.0, 3.0), "positive"),
        (6.0, "positive"),
        (math.nextafter(6.0, 7.0), "strong"),
        (10.0, "strong"),
        (math.nextafter(10.0, 11.0), "very strong"),
        (1e6, "very strong"),
    ],
)
def test_kass_raftery_words_at_the_boundaries(difference, word):
    assert kass_raftery(difference) == word


@pytest.mark.parametrize("difference", [-0.1, math.nan])
def test_kass_raftery_refuses_what_is_not_a_difference_to_the_best(difference):
    with pytest.raises(ValueError, match="difference must be a number >= 0"):
        kass_raftery(difference)


def test_old_faithful_evidence_is_measured_from_mclusts_choice(faithful_sweep):
    table = bic_evidence(faithful_sweep)
    assert tuple(table.columns) == (
        "k", "covariance_type", "model", "log_likelihood", "bic", "aic", "icl", "n_parameters", "converged", "n_iter",
        "degenerate", "reason", "best_bic", "delta_bic", "evidence", "delta_icl", "best_icl",
    )
    pd.testing.assert_frame_equal(table[list(SWEEP_COLUMNS)], faithful_sweep)  # nothing else changes
    best = table[table["evidence"] == "best"]
    assert (best["k"].item(), best["covariance_type"].item()) == (3, "tied")
    assert best["best_bic"].item() and best["delta_bic"].item() == 0.0
    eligible = ~table["degenerate"] & table["bic"].notna()
    assert table.loc[~eligible, "delta_bic"].isna().all()
    assert (table.loc[~eligible, "evidence"] == "not eligible").all()
    others = table[eligible & (table["evidence"] != "best")]
    assert (others["delta_bic"] > 0).all()
    assert list(others["evidence"]) == [kass_raftery(d) for d in others["delta_bic"]]
    np.testing.assert_allclose(others["delta_bic"], others["bic"] - best["bic"].item())
    icl_best = table[table["best_icl"]]
    assert icl_best["icl"].item() == table.loc[eligible, "icl"].min()
    assert icl_best["delta_icl"].item() == 0.0


def test_old_faithful_recommendation_names_the_runner_up(faithful_sweep):
    eligible = faithful_sweep[~faithful_sweep["degenerate"]].sort_values("bic")
    runner_up = eligible.iloc[1]
    delta = runner_up["bic"] - eligible.iloc[0]["bic"]
    text = recommendation(faithful_sweep)
    assert text.startswith("BIC prefers tied (EEE) with 3 components. ")
    name = f"{runner_up['covariance_type']} ({runner_up['model']}) with {runner_up['k']} components"
    assert f"The runner-up, {name}, has a BIC {delta:.1f} higher: {kass_raftery(delta)} evidence" in text
    icl_best = eligible.sort_values("icl").iloc[0]
    assert (icl_best["k"], icl_best["covariance_type"]) == (2, "full")
    assert text.endswith("prefers full (VVV) with 2 components instead.")


@pytest.mark.parametrize(
    "runner_up_bic, phrase",
    [
        (102.0, "evidence not worth more than a bare mention for"),
        (106.0, "positive evidence for"),
        (110.0, "strong evidence for"),
        (110.5, "very strong evidence for"),
    ],
)
def test_recommendation_wording_at_boundary_differences(runner_up_bic, phrase):
    table = models((2, "diag", 100.0, 120.0, False), (3, "full", runner_up_bic, 130.0, False),
                   (4, "full", 90.0, 95.0, True))
    text = recommendation(table)
    assert text == (
        f"BIC prefers diag (VVI) with 2 components. The runner-up, full (VVV) with 3 components, has a "
        f"BIC {runner_up_bic - 100:.1f} higher: {phrase} diag (VVI) with 2 components (Kass & Raftery). "
        "ICL agrees."
    )


def test_recommendation_with_a_single_comparable_model():
    table = models((1, "spherical", 50.0, 50.0, False), (2, "full", np.nan, np.nan, False))
    assert recommendation(table) == (
        "BIC prefers spherical (VII) with 1 component. No other model could be compared with it. ICL agrees."
    )


def test_no_eligible_model_and_foreign_tables_are_refused():
    with pytest.raises(ValueError, match="No model could be compared"):
        recommendation(models((2, "full", 10.0, 12.0, True)))
    with pytest.raises(ValueError, match=r"table lacks the column\(s\) icl, degenerate"):
        bic_evidence(pd.DataFrame({"k": [1], "covariance_type": ["full"], "model": ["VVV"], "bic": [1.0]}))
