"""How strongly the data prefer the best model: BIC differences in plain words.

A BIC difference approximates twice the log Bayes factor between two models
(Kass & Raftery 1995, "Bayes factors", JASA 90:773-795), whose scale they
describe as: 0 to 2 not worth more than a bare mention, 2 to 6 positive, 6 to
10 strong, above 10 very strong. A boundary value gets the weaker word (exactly
10 is "strong").
"""

from __future__ import annotations

import math

import pandas as pd

from .criteria import eligible as eligible_rows
from .families import display_name

#: Upper bounds (inclusive) of Kass & Raftery's categories on the 2 log Bayes factor scale.
KASS_RAFTERY: tuple[tuple[float, str], ...] = (
    (2.0, "not worth more than a bare mention"),
    (6.0, "positive"),
    (10.0, "strong"),
    (math.inf, "very strong"),
)

EVIDENCE_COLUMNS: tuple[str, ...] = ("delta_bic", "evidence", "delta_icl", "best_icl")

_REQUIRED = ("k", "covariance_type", "model", "bic", "icl", "degenerate")


def kass_raftery(difference: float) -> str:
    """Kass & Raftery's word for a BIC difference (2 log Bayes factor) >= 0.

    Returns
    -------
    str
        'not worth more than a bare mention' (<= 2), 'positive' (<= 6),
        'strong' (<= 10) or 'very strong' (> 10).
    """
    difference = float(difference)
    if not difference >= 0:
        raise ValueError(f"difference must be a number >= 0; got {difference!r}.")
    return next(word for bound, word in KASS_RAFTERY if difference <= bound)


def bic_evidence(table: pd.DataFrame) -> pd.DataFrame:
    """``table`` plus how far each model is behind the best one, in BIC and in words.

    Parameters
    ----------
    table : pandas.DataFrame
        As :func:`~gmm_core.selection.sweep` returns it (at least the columns
        k, covariance_type, model, bic, icl and degenerate).

    Returns
    -------
    pandas.DataFrame
        A copy of ``table`` with ``EVIDENCE_COLUMNS`` added: ``delta_bic``, BIC
        minus the lowest BIC among eligible models (neither failed nor
        degenerate), NaN for the rest; ``evidence``, Kass & Raftery's word for
        the evidence for the best model against this one ('best' for the best
        model itself, 'not eligible' for failed or degenerate fits);
        ``delta_icl`` likewise for ICL, and ``best_icl`` marking the eligible
        model with the lowest ICL. Criteria are lower-is-better.
    """
    _check_table(table)
    out = table.copy()
    eligible = eligible_rows(out)
    best = out.loc[eligible, "bic"].idxmin() if eligible.any() else None
    out["delta_bic"] = (out["bic"] - out.loc[eligible, "bic"].min()).where(eligible)
    out["evidence"] = [
        "best" if i == best else kass_raftery(delta) if ok else "not eligible"
        for i, delta, ok in zip(out.index, out["delta_bic"], eligible)
    ]
    icl_eligible = eligible & out["icl"].notna()
    out["delta_icl"] = (out["icl"] - out.loc[icl_eligible, "icl"].min()).where(icl_eligible)
    out["best_icl"] = False
    if icl_eligible.any():
        out.loc[out.loc[icl_eligible, "icl"].idxmin(), "best_icl"] = True
    return out


def recommendation(table: pd.DataFrame) -> str:
    """A plain-language sentence or three: the best model, the runner-up, and ICL's view.

    Parameters
    ----------
    table : pandas.DataFrame
        As :func:`~gmm_core.selection.sweep` returns it.

    Returns
    -------
    str
        E.g. "BIC prefers tied (EEE) with 3 components. The runner-up, full (VVV)
        with 2 components, has a BIC 7.9 higher: strong evidence for tied (EEE)
        with 3 components (Kass & Raftery). ICL agrees."

    Raises
    ------
    ValueError
        No model in ``table`` is eligible (every fit failed or is degenerate).
    """
    evidence = bic_evidence(table)
    ranked = evidence[evidence["delta_bic"].notna()].sort_values("delta_bic", kind="stable")
    if ranked.empty:
        raise ValueError(
            "No model could be compared: every fit failed or is degenerate. "
            "Choose fewer components or other covariance types."
        )
    best = ranked.iloc[0]
    sentences = [f"BIC prefers {describe_model(best)}."]
    if len(ranked) == 1:
        sentences.append("No other model could be compared with it.")
    else:
        runner_up = ranked.iloc[1]
        delta = float(runner_up["delta_bic"])
        word = kass_raftery(delta)
        strength = "evidence not worth more than a bare mention" if word == KASS_RAFTERY[0][1] else f"{word} evidence"
        sentences.append(
            f"The runner-up, {describe_model(runner_up)}, has a BIC {delta:.1f} higher: "
            f"{strength} for {describe_model(best)} (Kass & Raftery)."
        )
    icl_best = evidence[evidence["best_icl"]]
    if not icl_best.empty:
        if icl_best.index[0] == best.name:
            sentences.append("ICL agrees.")
        else:
            sentences.append(
                f"ICL, which also rewards well-separated clusters, prefers {describe_model(icl_best.iloc[0])} instead."
            )
    return " ".join(sentences)


def describe_model(row) -> str:
    """'tied (EEE) with 3 components' (or 'VEV with 2 components') for a row with k and covariance_type."""
    k = int(row["k"])
    return f"{display_name(row['covariance_type'])} with {k} component{'s' if k != 1 else ''}"


def _check_table(table) -> None:
    if not isinstance(table, pd.DataFrame):
        raise TypeError(f"table must be a pandas DataFrame as sweep returns; got {type(table).__name__}.")
    missing = [c for c in _REQUIRED if c not in table.columns]
    if missing:
        raise ValueError(
            f"table lacks the column(s) {', '.join(missing)}; pass the DataFrame that sweep returns."
        )
