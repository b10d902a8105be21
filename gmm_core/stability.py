"""How sure is a fit? Stability across seeds, per-component diagnostics, every restart.

:func:`restart_stability` refits each (K, covariance type) under several seeds
and summarises how much BIC moves, how often each model wins and how much the
partitions of one model agree between seeds. :func:`fit_diagnostics` describes
the components of one fit (every start behind a fit is in ``FitResult.restarts``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from itertools import combinations
from numbers import Integral
from types import MappingProxyType

import numpy as np
import pandas as pd
from joblib import delayed
from scipy import linalg
from sklearn.metrics import adjusted_rand_score
from threadpoolctl import threadpool_limits

from .criteria import eligible as eligible_rows
from .engine import Problem, regulariser_shape
from .errors import DataError, FitError
from .families import COVARIANCE_TYPES, model_name
from .fit import (
    DEFAULT_MAX_ITER,
    DEFAULT_REG_COVAR,
    DEFAULT_STOPPING,
    DEFAULT_TOL,
    FitResult,
    check_fittable,
    check_settings,
    collapse_threshold,
    fit_prepared,
    read_only,
)
from .parallel import parallel_fits
from .scaling import Scaling, check_data
from .work import Work

STABILITY_FIT_COLUMNS: tuple[str, ...] = (
    "k",
    "covariance_type",
    "model",
    "seed",
    "log_likelihood",
    "bic",
    "icl",
    "converged",
    "n_iter",
    "degenerate",
    "reason",
)

STABILITY_MODEL_COLUMNS: tuple[str, ...] = (
    "k",
    "covariance_type",
    "model",
    "n_eligible",
    "bic_median",
    "bic_min",
    "bic_max",
    "bic_iqr",
    "wins",
    "win_share",
    "restart_ari",
)

DIAGNOSTIC_COLUMNS: tuple[str, ...] = (
    "component",
    "weight",
    "points",
    "effective_size",
    "smallest_eigenvalue",
    "largest_eigenvalue",
    "condition_number",
    "relative_smallest_variance",
    "collapsed",
    "too_small",
    "empty",
    "note",
)

@dataclass(frozen=True, eq=False)
class StabilityResult:
    """Every (K, covariance type) fitted once per seed, and summaries.

    Attributes
    ----------
    fits : pandas.DataFrame
        One row per (k, covariance_type, seed), columns ``STABILITY_FIT_COLUMNS``,
        ordered by covariance type, k, then seed. A fit that failed has NaN
        criteria and its ``reason``.
    models : pandas.DataFrame
        One row per (k, covariance_type), columns ``STABILITY_MODEL_COLUMNS``:
        ``n_eligible`` fits that neither failed nor degenerated, the median,
        min, max and interquartile range of their BIC, ``wins`` (seeds for
        which this model has the lowest eligible BIC), ``win_share``
        (``wins / R``) and ``restart_ari``, the mean adjusted Rand index over
        all pairs of seeds whose fit did not fail (1 = same partition every time).
    labels : mapping of (k, covariance_type) to ndarray of shape (R, n)
        Hard labels of each seed's fit, -1 where the fit failed.
    seeds : tuple of int
    chosen : (int, str) or None
        The model that wins for most seeds, ties broken by the lower median
        BIC; None when no fit is eligible.
    """

    fits: pd.DataFrame
    models: pd.DataFrame
    labels: Mapping[tuple[int, str], np.ndarray]
    seeds: tuple[int, ...]
    chosen: tuple[int, str] | None

    def pairwise_ari(self, k: int, covariance_type: str) -> np.ndarray:
        """Adjusted Rand index between the seeds' partitions of one model.

        Returns
        -------
        ndarray of shape (R, R)
            Symmetric, NaN in the rows and columns of failed fits.
        """
        try:
            labels = self.labels[k, covariance_type]
        except KeyError:
            raise KeyError(
                f"No model with k={k!r} and covariance_type={covariance_type!r} was fitted."
            ) from None
        return _pairwise_ari(labels)


def restart_stability(
    X,
    *,
    ks: Iterable[int] = range(1, 11),
    covariance_types: Iterable[str] = COVARIANCE_TYPES,
    seeds: Iterable[int],
    n_init: int = 1,
    init_params: str = "kmeans",
    reg_covar: float = DEFAULT_REG_COVAR,
    tol: float = DEFAULT_TOL,
    max_iter: int = DEFAULT_MAX_ITER,
    stopping: str = DEFAULT_STOPPING,
    n_jobs: int | None = None,
    progress: Callable[[int, int], None] | None = None,
    work: Work | None = None,
) -> StabilityResult:
    """Fit every (K, covariance type) once per seed and measure how much the choice moves.

    Parameters
    ----------
    X : array-like of shape (n, d)
    ks : iterable of int, default=range(1, 11)
    covariance_types : iterable of str, default=COVARIANCE_TYPES
    seeds : iterable of int
        R distinct seeds >= 0; each is the ``random_state`` of one fit per model.
    n_init : int, default=1
        EM starts inside each fit. With 1, each seed is a single EM run, so
        the spread shows how much one run depends on its start.
    init_params : str, default='kmeans'
        A random start (the hierarchical start is the same for every seed).
    reg_covar, tol, max_iter, stopping
        As in :func:`~gmm_core.fit.fit_gmm`.
    n_jobs, progress, work
        As in :func:`~gmm_core.selection.sweep`.

    Returns
    -------
    StabilityResult
        ``R * len(ks) * len(covariance_types)`` fits; each equals
        ``fit_gmm(X, n_components=k, covariance_type=c, n_init=n_init, random_state=seed, ...)``.
    """
    ks = sorted({int(k) for k in ks})
    covariance_types = list(dict.fromkeys(covariance_types))
    if not ks or ks[0] < 1:
        raise ValueError(f"ks must be non-empty and every k >= 1; got {ks!r}.")
    if not covariance_types:
        raise ValueError("covariance_types must name at least one model.")
    seeds = tuple(seeds)
    if (
        not seeds
        or any(isinstance(s, bool) or not isinstance(s, Integral) or s < 0 for s in seeds)
        or len(set(seeds)) != len(seeds)
    ):
        raise ValueError(f"seeds must be one or more distinct ints >= 0; got {seeds!r}.")
    seeds = tuple(int(s) for s in seeds)
    common = dict(
        n_init=n_init, init_params=init_params, reg_covar=reg_covar, tol=tol, max_iter=max_iter, stopping=stopping
    )
    for c in covariance_types:
        check_settings(n_components=1, covariance_type=c, random_state=0, **common)
    X = check_data(X)
    for c in covariance_types:
        model_name(c, X.shape[1])
    scaling = Scaling.of(X)
    problem = Problem.scaled(X, scaling)
    grid = [(k, c, seed) for c in covariance_types for k in ks for seed in seeds]

    outcomes = {}
    with parallel_fits(-1 if n_jobs is None else n_jobs) as jobs:
        tasks = (delayed(_seeded_fit)(cell, X, problem, scaling, common, work) for cell in grid)
        for done, (cell, outcome) in enumerate(jobs(tasks), 1):
            if work is not None:
                work.check()
            outcomes[cell] = outcome
            if progress is not None:
                progress(done, len(grid))

    fits = pd.DataFrame(
        [_fit_row(cell, outcomes[cell], X.shape[1]) for cell in grid], columns=list(STABILITY_FIT_COLUMNS)
    )
    failed = np.full(len(X), -1)

    def labels_of(outcome: FitResult | str) -> np.ndarray:
        return outcome.labels if isinstance(outcome, FitResult) else failed

    labels = {
        (k, c): read_only(np.stack([labels_of(outcomes[k, c, s]) for s in seeds]))
        for c in covariance_types
        for k in ks
    }
    models = _model_summary(fits, labels, len(seeds))
    chosen = None
    if models["wins"].max() > 0:
        best = models.sort_values(["wins", "bic_median"], ascending=[False, True], kind="stable").iloc[0]
        chosen = (int(best["k"]), str(best["covariance_type"]))
    return StabilityResult(
        fits=fits, models=models, labels=MappingProxyType(labels), seeds=seeds, chosen=chosen
    )


def fit_diagnostics(result: FitResult, X) -> pd.DataFrame:
    """One row per component of a fit: its size, its shape and what is wrong with it.

    Parameters
    ----------
    result : FitResult
    X : array-like of shape (n, d)
        The data ``result`` was fitted to.

    Returns
    -------
    pandas.DataFrame of shape (K, len(DIAGNOSTIC_COLUMNS))
        ``component`` (1..K), ``weight``, ``points`` (hard assignments),
        ``effective_size`` (sum of responsibilities), the smallest and largest
        eigenvalues of the covariance (data units squared) and their ratio
        ``condition_number``; ``relative_smallest_variance``, the component's
        smallest variance as a fraction of the data's in the same direction
        (unlike the condition number, it does not depend on the units of the
        columns); flags ``collapsed`` (that fraction is at most
        ``gmm_core.fit.collapse_threshold(reg_covar)``: ``result.degenerate`` says
        so too), ``too_small`` (fewer than d + 1 points' worth of
        responsibility: a covariance of its own rests on few points) and ``empty``
        (no point is assigned to it), and a plain-language ``note``.
    """
    X = check_data(X)
    n, d = X.shape
    if (n, d) != (result.n_samples, result.n_features):
        raise ValueError(
            f"X must be the data the model was fitted to, of shape ({result.n_samples}, "
            f"{result.n_features}); got ({n}, {d})."
        )
    # The fit's own yardstick (in data units): the data's covariance, floored for collinear columns.
    data_cov = regulariser_shape(X)
    threshold = collapse_threshold(result.settings.reg_covar)
    points = np.bincount(result.labels, minlength=result.n_components)
    rows = []
    for k in range(result.n_components):
        cov = result.covariances[k]
        eigenvalues = linalg.eigvalsh(cov)
        relative = float(linalg.eigh(cov, data_cov, eigvals_only=True)[0])
        size = float(result.effective_sizes[k])
        collapsed = relative <= threshold
        too_small = size < d + 1
        empty = points[k] == 0
        notes = []
        if collapsed:
            notes.append(
                f"It collapsed onto a line or point: its smallest variance is {relative:.1e} of the "
                "data's in that direction, which makes the likelihood meaningless."
            )
        if too_small:
            notes.append(
                f"It holds only {size:.1f} points' worth of data, fewer than the {d + 1} needed to "
                "estimate its shape."
            )
        if empty:
            notes.append("No point is most likely to come from it; it only widens other components.")
        rows.append(
            {
                "component": k + 1,
                "weight": float(result.weights[k]),
                "points": int(points[k]),
                "effective_size": size,
                "smallest_eigenvalue": float(eigenvalues[0]),
                "largest_eigenvalue": float(eigenvalues[-1]),
                "condition_number": float(eigenvalues[-1] / eigenvalues[0]),
                "relative_smallest_variance": relative,
                "collapsed": collapsed,
                "too_small": too_small,
                "empty": bool(empty),
                "note": " ".join(notes),
            }
        )
    return pd.DataFrame(rows, columns=list(DIAGNOSTIC_COLUMNS))


def _seeded_fit(cell: tuple[int, str, int], X, problem: Problem, scaling: Scaling,
                common: dict, work: Work | None) -> tuple[tuple, FitResult | str]:
    """``(cell, fit or failure reason)`` of one (k, covariance type, seed), in a worker."""
    k, covariance_type, seed = cell
    with threadpool_limits(1):
        try:
            check_fittable(X, k)
            settings = check_settings(n_components=k, covariance_type=covariance_type, random_state=seed, **common)
            return cell, fit_prepared(problem, scaling, settings, work=work)
        except (FitError, DataError) as exc:
            return cell, str(exc)


def _fit_row(cell: tuple[int, str, int], outcome: FitResult | str, d: int) -> dict:
    k, covariance_type, seed = cell
    base = {
        "k": k,
        "covariance_type": covariance_type,
        "model": model_name(covariance_type, d),
        "seed": seed,
    }
    if isinstance(outcome, str):
        return base | {
            "log_likelihood": np.nan,
            "bic": np.nan,
            "icl": np.nan,
            "converged": False,
            "n_iter": 0,
            "degenerate": False,
            "reason": outcome,
        }
    return base | {
        "log_likelihood": outcome.log_likelihood,
        "bic": outcome.bic,
        "icl": outcome.icl,
        "converged": outcome.converged,
        "n_iter": outcome.n_iter,
        "degenerate": outcome.degenerate,
        "reason": " ".join(outcome.warnings),
    }


def _model_summary(fits: pd.DataFrame, labels: Mapping, n_seeds: int) -> pd.DataFrame:
    keys = ["k", "covariance_type"]
    eligible = fits[eligible_rows(fits)]
    bic = eligible.groupby(keys, sort=False)["bic"]
    winners = eligible.loc[eligible.groupby("seed")["bic"].idxmin(), keys]
    models = fits[[*keys, "model"]].drop_duplicates(keys).set_index(keys)
    models["n_eligible"] = bic.size()
    models["bic_median"] = bic.median()
    models["bic_min"] = bic.min()
    models["bic_max"] = bic.max()
    models["bic_iqr"] = bic.quantile(0.75) - bic.quantile(0.25)
    models["wins"] = winners.value_counts()
    models = models.fillna({"n_eligible": 0, "wins": 0}).astype({"n_eligible": int, "wins": int})
    models["win_share"] = models["wins"] / n_seeds
    models["restart_ari"] = [_mean_ari(labels[key]) for key in models.index]
    return models.reset_index()[list(STABILITY_MODEL_COLUMNS)]


def _pairwise_ari(labels: np.ndarray) -> np.ndarray:
    r = labels.shape[0]
    ari = np.full((r, r), np.nan)
    fitted = [i for i in range(r) if labels[i, 0] >= 0]
    for i in fitted:
        ari[i, i] = 1.0
    for i, j in combinations(fitted, 2):
        ari[i, j] = ari[j, i] = adjusted_rand_score(labels[i], labels[j])
    return ari


def _mean_ari(labels: np.ndarray) -> float:
    ari = _pairwise_ari(labels)
    pairs = ari[np.triu_indices(len(ari), k=1)]
    pairs = pairs[~np.isnan(pairs)]
    return float(pairs.mean()) if len(pairs) else np.nan
