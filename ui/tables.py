"""Tables shown in the app, as pure functions of core results (no Streamlit)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.metrics import adjusted_rand_score

from gmm_core import MCLUST_NAMES, FitResult

#: Criteria offered for model choice: label -> sweep column. Lower is better for each.
CRITERIA: dict[str, str] = {"BIC": "bic", "ICL": "icl", "AIC": "aic"}


def component_table(result: FitResult, feature_names) -> pd.DataFrame:
    """One row per component: weight, points assigned, effective size, mean and sd per feature."""
    counts = np.bincount(result.labels, minlength=result.n_components)
    sds = np.sqrt(np.einsum("kii->ki", result.covariances))
    table = pd.DataFrame(
        {
            "component": np.arange(1, result.n_components + 1),
            "weight": result.weights,
            "points assigned": counts,
            "effective size": result.effective_sizes,
        }
    )
    for j, name in enumerate(feature_names):
        table[f"mean {name}"] = result.means[:, j]
    for j, name in enumerate(feature_names):
        table[f"sd {name}"] = sds[:, j]
    return table


def parameter_table(result: FitResult, feature_names) -> pd.DataFrame:
    """Every parameter in long (tidy) form: component, parameter, feature, feature_2, value.

    Weights have no feature, means one, covariances two (each unordered pair once,
    variances where ``feature == feature_2``).
    """
    names = [str(n) for n in feature_names]
    rows = []
    for k in range(result.n_components):
        rows.append((k + 1, "weight", None, None, result.weights[k]))
        rows.extend((k + 1, "mean", names[i], None, result.means[k, i]) for i in range(len(names)))
        rows.extend(
            (k + 1, "covariance", names[i], names[j], result.covariances[k, i, j])
            for i in range(len(names))
            for j in range(i, len(names))
        )
    return pd.DataFrame(rows, columns=["component", "parameter", "feature", "feature_2", "value"])


def label_agreement(known_labels, labels) -> tuple[float, pd.DataFrame]:
    """Adjusted Rand index of the hard labels against known labels, and their cross-table.

    Returns
    -------
    ari : float
        1 for identical partitions (up to renaming), about 0 for chance agreement.
    crosstab : pandas.DataFrame
        Rows: known labels; columns: 'component 1' ... ; cells: counts.
    """
    components = pd.Categorical(
        [f"component {k + 1}" for k in labels],
        categories=[f"component {k + 1}" for k in range(int(np.max(labels)) + 1)],
    )
    crosstab = pd.crosstab(pd.Series(known_labels, name="known label"), pd.Series(components, name=None))
    return float(adjusted_rand_score(known_labels, labels)), crosstab


def eligible(table: pd.DataFrame) -> pd.DataFrame:
    """Rows of a sweep table that may be chosen: fitted and not degenerate."""
    return table[~table["degenerate"] & table["bic"].notna()]


def best_index(table: pd.DataFrame, criterion: str = "BIC", *, by_type: bool = False):
    """Index of the eligible row with the lowest criterion, or a Series of them per covariance type.

    Returns None (or an empty Series) when no row is eligible.
    """
    column = CRITERIA[criterion]
    candidates = eligible(table)
    if by_type:
        return candidates.groupby("covariance_type", sort=False)[column].idxmin()
    return None if candidates.empty else candidates[column].idxmin()


def sweep_table(table: pd.DataFrame, criterion: str = "BIC") -> pd.DataFrame:
    """A sweep table for display, ordered by the criterion, degenerate and failed fits last.

    Replaces ``best_bic`` with ``best by <criterion>`` and adds ``Δ <criterion>`` (the gap
    to the best eligible fit) and ``mclust_bic`` (mclust's sign, higher is better).
    """
    column = CRITERIA[criterion]
    best = best_index(table, criterion)
    best_value = table.loc[best, column] if best is not None else np.nan
    shown = table.drop(columns="best_bic").assign(
        **{f"best by {criterion}": table.index == best, f"Δ {criterion}": table[column] - best_value},
        mclust_bic=-table["bic"],
        _last=~table.index.isin(eligible(table).index),
    )
    return shown.sort_values(["_last", column], na_position="last").drop(columns="_last")


def model_label(k: int, covariance_type: str) -> str:
    """'full (VVV), K = 3'."""
    return f"{covariance_type} ({MCLUST_NAMES[covariance_type]}), K = {k}"
