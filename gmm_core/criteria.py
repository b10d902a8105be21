"""The information criteria, computed in one place for every fit, sweep and score."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Criteria:
    """BIC, AIC and ICL of one model on one sample, lower is better (mclust reports the negatives)."""

    bic: float
    aic: float
    icl: float


def information_criteria(log_likelihood: float, n_parameters: int, n_samples: int,
                         responsibilities: np.ndarray | None = None) -> Criteria:
    """BIC, AIC and ICL in scikit-learn's orientation.

    Parameters
    ----------
    log_likelihood : float
        Total log-likelihood of the sample.
    n_parameters : int
        Free parameters (``gmm_core.n_parameters``).
    n_samples : int
    responsibilities : ndarray of shape (n, K), optional
        Needed for ICL (NaN without them).

    Returns
    -------
    Criteria
        ``bic = -2 logL + p log n``, ``aic = -2 logL + 2 p`` and mclust's
        ``icl = bic - 2 sum_i log max_k r_ik``.
    """
    bic = -2.0 * log_likelihood + n_parameters * np.log(n_samples)
    aic = -2.0 * log_likelihood + 2.0 * n_parameters
    icl = np.nan
    if responsibilities is not None:
        with np.errstate(divide="ignore"):
            icl = bic - 2.0 * float(np.sum(np.log(responsibilities.max(axis=1))))
    return Criteria(bic=float(bic), aic=float(aic), icl=float(icl))


def eligible(table):
    """Which rows of a table of fits (columns ``bic`` and ``degenerate``) may be chosen as best.

    A fit is eligible when it has criteria (it did not fail) and is not
    degenerate. This is the one rule the sweep, the evidence and the app use.

    Returns
    -------
    pandas.Series of bool, aligned with ``table``
    """
    return ~table["degenerate"].astype(bool) & np.isfinite(table["bic"].astype(float))
