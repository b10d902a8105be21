"""Tables shown in the app, as pure functions of core results (no Streamlit)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from gmm_core import FitResult, bic_evidence, covariance_terms, display_name
from gmm_core.criteria import eligible as eligible_rows
from gmm_core.selection import best_row

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


def terms_table(result: FitResult, feature_names) -> pd.DataFrame:
    """One row per component: volume, shape per axis and the longest axis's direction
    (``gmm_core.covariance_terms``), as mclust reports its models' terms.

    For a rotated model the direction is an angle in degrees from the first column's axis
    for two columns, else the longest axis as a unit vector over the columns; axis-aligned
    models have their shape per column and no direction.
    """
    terms = covariance_terms(result.covariances, result.mclust_name)
    d = result.n_features
    table = pd.DataFrame({"component": np.arange(1, result.n_components + 1), "volume": terms.volume})
    axis_aligned = d == 1 or result.mclust_name.endswith("I")
    for j in range(d):  # axis-aligned shapes are per column; rotated ones per axis, longest first
        table[f"shape {feature_names[j]}" if axis_aligned else f"shape axis {j + 1}"] = terms.shape[:, j]
    axis = terms.orientation[:, :, 0]
    if axis_aligned:
        pass  # the axes are the columns
    elif d == 2:
        table["longest axis (degrees)"] = np.degrees(np.arctan2(axis[:, 1], axis[:, 0]))
    elif d > 2:
        for j, name in enumerate(feature_names):
            table[f"longest axis: {name}"] = axis[:, j]
    return table


def eligible(table: pd.DataFrame) -> pd.DataFrame:
    """Rows of a sweep table that may be chosen (``gmm_core.eligible``)."""
    return table[eligible_rows(table)]


def best_index(table: pd.DataFrame, criterion: str = "BIC", *, by_type: bool = False):
    """``gmm_core.selection.best_row`` by a criterion's display name ('BIC', 'ICL' or 'AIC')."""
    return best_row(table, CRITERIA[criterion], by_type=by_type)


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


def top_models(table: pd.DataFrame, criterion: str = "BIC", n: int = 3) -> pd.DataFrame:
    """The ``n`` best eligible models of a sweep, as mclust's ``summary(mclustBIC)`` lists them.

    Columns: rank, model, the criterion, and its difference to the best.
    """
    column = CRITERIA[criterion]
    best = best_index(table, criterion)
    if best is None:
        return pd.DataFrame(columns=["rank", "model", criterion, f"Δ {criterion}"])
    others = eligible(table).drop(index=best).sort_values(column).head(n - 1)
    ranked = pd.concat([table.loc[[best]], others])
    return pd.DataFrame(
        {
            "rank": np.arange(1, len(ranked) + 1),
            "model": [model_label(row.k, row.covariance_type) for row in ranked.itertuples()],
            criterion: ranked[column].to_numpy(),
            f"Δ {criterion}": (ranked[column] - ranked[column].iloc[0]).to_numpy(),
        }
    )


def model_label(k: int, covariance_type: str) -> str:
    """'full (VVV), K = 3' (or 'VEV, K = 2')."""
    return f"{display_name(covariance_type)}, K = {k}"


def display_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` ready for ``st.dataframe``: columns mixing numbers and text become strings.

    Arrow cannot hold such a column; Streamlit would convert it after logging a traceback on
    every rerun. Missing cells stay missing.
    """
    mixed = [i for i, dtype in enumerate(frame.dtypes) if pd.api.types.is_object_dtype(dtype)]
    if not mixed:
        return frame
    out = frame.copy()
    for i in mixed:
        out.isetitem(i, out.iloc[:, i].astype("string"))
    return out


def evidence_table(table: pd.DataFrame) -> pd.DataFrame:
    """The eligible models of a sweep, best first, with their BIC gap to the best in numbers and words.

    Columns: model, BIC, Δ BIC, evidence for the best (Kass & Raftery's word, see
    ``gmm_core.bic_evidence``), ICL, Δ ICL and best by ICL.
    """
    evidence = bic_evidence(table)
    ranked = evidence[evidence["delta_bic"].notna()].sort_values("delta_bic", kind="stable")
    return pd.DataFrame(
        {
            "model": [model_label(row.k, row.covariance_type) for row in ranked.itertuples()],
            "BIC": ranked["bic"],
            "Δ BIC": ranked["delta_bic"],
            "evidence for the best": ranked["evidence"],
            "ICL": ranked["icl"],
            "Δ ICL": ranked["delta_icl"],
            "best by ICL": ranked["best_icl"],
        }
    ).reset_index(drop=True)
