"""Model selection: fit every (K, covariance type) pair and tabulate the criteria."""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterable
from functools import cache
from numbers import Integral

import numpy as np
import pandas as pd
from joblib import delayed
from sklearn.exceptions import ConvergenceWarning
from sklearn.mixture import GaussianMixture
from sklearn.mixture._gaussian_mixture import _compute_precision_cholesky
from threadpoolctl import ThreadpoolController

from .errors import FitError
from .families import COVARIANCE_TYPES, MCLUST_NAMES, check_covariance_type, n_parameters
from .fit import (
    DEFAULT_MAX_ITER,
    DEFAULT_REG_COVAR,
    DEFAULT_TOL,
    FitResult,
    FitSettings,
    Scaling,
    check_settings,
    check_data,
    check_fittable,
    fit_scaled,
)
from .parallel import parallel_fits
from .subsample import DEFAULT_N_STRATA, stratified_subsample

#: Restarts per fit in a sweep: fewer than a single fit's, since a sweep runs many
#: fits; on Old Faithful 1, 2, 3 and 5 restarts all give mclust's choice.
DEFAULT_SWEEP_N_INIT = 3
#: A ``max_rows`` for interactive use on 2 cores: a sweep of a million rows then takes
#: well under 20 s (bench/RESULTS.md), and every cluster still has rows of its own.
SUBSAMPLE_MAX_ROWS = 3000
#: With ``max_rows``, this many best models by subsample BIC are scored on all rows.
SUBSAMPLE_CANDIDATES = 3

SWEEP_COLUMNS: tuple[str, ...] = (
    "k",
    "covariance_type",
    "mclust_name",
    "log_likelihood",
    "bic",
    "aic",
    "icl",
    "n_parameters",
    "converged",
    "n_iter",
    "degenerate",
    "reason",
    "best_bic",
)
#: Last column of a sweep on a subsample: the number of rows its criteria come from.
SUBSAMPLE_COLUMN = "criteria_rows"
_CRITERIA = ("log_likelihood", "bic", "aic", "icl")


def sweep(
    X,
    *,
    ks: Iterable[int] = range(1, 11),
    covariance_types: Iterable[str] = COVARIANCE_TYPES,
    n_init: int = DEFAULT_SWEEP_N_INIT,
    random_state: int | None = 0,
    init_params: str = "kmeans",
    reg_covar: float = DEFAULT_REG_COVAR,
    tol: float = DEFAULT_TOL,
    max_iter: int = DEFAULT_MAX_ITER,
    max_rows: int | None = None,
    n_jobs: int | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> pd.DataFrame:
    """Fit a mixture for every K in ``ks`` and every covariance type, and tabulate.

    Each fit runs single-threaded and the fits run in parallel (processes for
    small data, threads for large), largest K first so that no core idles at the
    end: on small machines this beats one fit at a time with several BLAS threads.
    With ``GMM_EXPLORER_DASK_SCHEDULER`` set, the fits run on that Dask cluster
    instead (see :mod:`gmm_core.parallel`).

    Parameters
    ----------
    X : array-like of shape (n, d)
    ks : iterable of int, default=range(1, 11)
    covariance_types : iterable of str, default=COVARIANCE_TYPES
    n_init : int, default=3
        EM restarts per fit.
    random_state, init_params, reg_covar, tol, max_iter
        As in :func:`fit_gmm`, the same for every fit.
    max_rows : int or None, default=None
        When ``X`` has more rows than this, choose on a subsample (see Returns):
        every model is fitted to the rows
        ``stratified_subsample(X, max_rows=max_rows, random_state=random_state)``,
        the ``SUBSAMPLE_CANDIDATES`` best by subsample BIC are scored on all rows
        with their subsample parameters, and the best of those on all rows is
        refitted on all rows, started from its subsample fit (one EM run, as
        ``fit_gmm(X, ..., **subsample_fit.as_start())``).
    n_jobs : int or None, default=None
        Parallel fits; ``None`` uses every core. Fits of up to
        ``gmm_core.parallel.PROCESS_MAX_ROWS`` rows run in worker processes,
        larger ones in threads. Ignored on a Dask cluster, which uses every
        worker thread.
    progress : callable (done, total) -> None, optional
        Called in the calling thread after each fit (or scoring) finishes.

    Returns
    -------
    pandas.DataFrame
        One row per (k, covariance_type), ordered by covariance type then k, with
        columns ``SWEEP_COLUMNS``. Lower criteria are better. A fit that failed
        has NaN criteria and its ``reason``; a degenerate fit has its criteria but
        ``degenerate=True`` and a ``reason``. ``best_bic`` marks the single row
        with the lowest BIC among fits that are neither failed nor degenerate.

        ``table.attrs["subsample"]`` is None when every row was fitted. After a
        subsample, the table's criteria are the subsample's (comparable with each
        other only), a last column ``criteria_rows`` holds the subsample size,
        ``best_bic`` marks the candidate with the lowest BIC on all rows, and
        ``table.attrs["subsample"]`` is a dict with ``rows`` (subsample size),
        ``total_rows``, ``random_state``, ``n_strata``, ``candidates`` (one dict
        per candidate in subsample BIC order: ``k``, ``covariance_type``,
        ``mclust_name`` and its ``log_likelihood``, ``bic``, ``aic`` and ``icl`` on
        all rows with the subsample parameters) and ``refit`` (the best
        candidate refitted on all rows, a dict of the row's columns except
        ``best_bic``; None when no candidate is eligible) and ``starts`` (for
        every (k, covariance_type) fitted on the subsample, its
        ``FitResult.as_start()`` as nested lists: pass it to :func:`fit_gmm` to fit that model
        on all rows as the refit does).
    """
    ks = sorted({int(k) for k in ks})
    covariance_types = [check_covariance_type(c) for c in dict.fromkeys(covariance_types)]
    if not ks or ks[0] < 1:
        raise ValueError(f"ks must be non-empty and every k >= 1; got {ks!r}.")
    if not covariance_types:
        raise ValueError("covariance_types must name at least one covariance type.")
    if max_rows is not None and (
        isinstance(max_rows, bool) or not isinstance(max_rows, Integral) or max_rows < 2
    ):
        raise ValueError(f"max_rows must be None or an int >= 2; got {max_rows!r}.")
    common = dict(
        n_init=n_init,
        random_state=random_state,
        init_params=init_params,
        reg_covar=reg_covar,
        tol=tol,
        max_iter=max_iter,
    )
    grid = [(k, c) for c in covariance_types for k in ks]
    settings = {(k, c): check_settings(n_components=k, covariance_type=c, **common) for k, c in grid}
    X = check_data(X)
    scaling = Scaling.of(X)
    rows = None
    if max_rows is not None and X.shape[0] > max_rows:
        rows = stratified_subsample(X, max_rows=max_rows, random_state=random_state)
    fitted = X if rows is None else X[rows]
    n_candidates = 0 if rows is None else min(SUBSAMPLE_CANDIDATES, len(grid))
    counter = _Progress(progress, len(grid) + (0 if rows is None else n_candidates + 1))

    with warnings.catch_warnings(), _threadpools().limit(limits=1):
        # Convergence is reported in the table. One limit around all fits keeps a
        # finishing fit's own limit from restoring BLAS threads under a running one.
        warnings.simplefilter("ignore", ConvergenceWarning)
        outcomes = _fit_grid(fitted, ks, grid, settings, n_jobs, counter)
        table = _table(grid, X.shape[1], outcomes)
        if rows is not None:
            on_all_rows = _score_and_refit(X, scaling, table, outcomes, settings, n_candidates, n_jobs, counter)
    counter.finish()

    if rows is None:
        _mark_best(table, _eligible(table))
        table.attrs["subsample"] = None
        return table
    table[SUBSAMPLE_COLUMN] = len(rows)
    table.attrs["subsample"] = {
        "rows": len(rows),
        "total_rows": X.shape[0],
        "random_state": random_state,
        "n_strata": DEFAULT_N_STRATA,
        **on_all_rows,
    }
    return table


def _score_and_refit(X, scaling: Scaling, table, outcomes, settings, n_candidates, n_jobs, counter) -> dict:
    """Score the best subsample fits on all rows, mark and refit the best of them there.

    Returns the ``candidates`` and ``refit`` entries of ``table.attrs["subsample"]``.
    """
    ranked = _eligible(table).sort_values("bic", kind="stable").head(n_candidates)
    candidates = [(row.k, row.covariance_type) for row in ranked.itertuples()]
    tasks = {cell: (X, scaling, cell[1], outcomes[cell]) for cell in candidates}
    scored = _table(candidates, X.shape[1], _run(_score_summary, tasks, X.shape[0], n_jobs, counter))
    refit = None
    if candidates:
        k, c = _mark_best(table, scored)
        task = (X, scaling, settings[k, c], outcomes[k, c]["start"])
        refit = _row(k, c, X.shape[1], _run(_fit_summary, {(k, c): task}, X.shape[0], n_jobs, counter)[k, c])
    return {
        "candidates": scored[["k", "covariance_type", "mclust_name", *_CRITERIA]].to_dict("records"),
        "refit": refit,
        # Lists, not arrays: pandas compares attrs with == when it propagates them.
        "starts": {
            cell: {name: np.asarray(value).tolist() for name, value in outcome["start"].items()}
            for cell, outcome in outcomes.items()
            if isinstance(outcome, dict)
        },
    }


@cache
def _threadpools() -> ThreadpoolController:
    """The process's BLAS and OpenMP pools, looked up once (``threadpool_limits`` looks
    them up on every call, about 10 ms each); numpy, scipy and scikit-learn, imported
    by this module, have loaded them all by then."""
    return ThreadpoolController()


class _Progress:
    """Counts finished tasks and tells the caller's callback, in the calling thread."""

    def __init__(self, callback: Callable[[int, int], None] | None, total: int):
        self.callback, self.total, self.done = callback, total, 0

    def step(self) -> None:
        self.done += 1
        if self.callback is not None:
            self.callback(self.done, self.total)

    def finish(self) -> None:
        """Report completion when fewer candidates than planned could be scored."""
        if self.callback is not None and self.done < self.total:
            self.done = self.total
            self.callback(self.done, self.total)


def _fit_grid(X, ks, grid, settings, n_jobs, counter: _Progress) -> dict:
    """Outcome of every cell of ``grid`` on ``X``: a summary dict or a failure reason."""
    outcomes = {}
    # Counting distinct rows sorts the data: once, not once per K.
    n_distinct = len(np.unique(X, axis=0)) if ks[-1] > 1 else 1
    for k, covariance_type in grid:
        if k > n_distinct:
            try:
                check_fittable(X, k)
            except FitError as exc:
                outcomes[k, covariance_type] = str(exc)
                counter.step()
    scaling = Scaling.of(X)
    # Largest K first: long fits start early and short ones fill the last gaps.
    tasks = {
        cell: (X, scaling, settings[cell], None)
        for cell in sorted(grid, key=lambda cell: -cell[0])
        if cell not in outcomes
    }
    return outcomes | _run(_fit_summary, tasks, X.shape[0], n_jobs, counter)


def _run(function: Callable, tasks: dict, n_rows: int, n_jobs, counter: _Progress) -> dict:
    """``{key: function(key, *args)[1]}`` for ``tasks = {key: args}``, computed in parallel."""
    outcomes = {}
    with parallel_fits(-1 if n_jobs is None else n_jobs, n_rows=n_rows) as parallel:
        for key, outcome in parallel(delayed(function)(key, *args) for key, args in tasks.items()):
            outcomes[key] = outcome
            counter.step()
    return outcomes


def _fit_summary(key, X, scaling: Scaling, settings: FitSettings, start: dict | None):
    """``(key, summary or failure reason)`` of one fit, in a worker thread or on a Dask worker.

    Only criteria and parameters come back: a cluster sends little over the
    network, and no more than one fit's responsibilities per worker are alive.
    """
    # Per task too: OpenMP limits apply per thread, and a Dask worker is another process.
    with _threadpools().limit(limits=1):
        try:
            result = fit_scaled(X, scaling, settings, start=start)
        except FitError as exc:
            return key, str(exc)
    return key, _summary(result)


def _summary(result: FitResult) -> dict:
    return {
        "log_likelihood": result.log_likelihood,
        "bic": result.bic,
        "aic": result.aic,
        "icl": result.icl,
        "n_parameters": result.n_parameters,
        "converged": result.converged,
        "n_iter": result.n_iter,
        "degenerate": result.degenerate,
        "reason": " ".join(result.warnings),
        "weights": result.weights,
        "means": result.means,
        "covariances": result.covariances,
        "start": result.as_start(),
    }


def _score_summary(key, X, scaling: Scaling, covariance_type: str, fitted: dict):
    """``(key, summary)`` of the mixture ``fitted`` on another sample, evaluated on ``X``.

    One E-step, no EM: the criteria of those parameters on these rows, computed
    as :func:`fit_gmm` computes them (in scaled units, then shifted back).
    """
    Z = scaling.forward(X)
    n, d = Z.shape
    # Expanded to full matrices, every family gives the same densities.
    covariances = np.asarray(fitted["covariances"]) / scaling.scale**2
    model = GaussianMixture(n_components=len(fitted["weights"]), covariance_type="full")
    model.weights_ = np.asarray(fitted["weights"])
    model.means_ = scaling.forward(fitted["means"])
    model.covariances_ = covariances
    model.precisions_cholesky_ = _compute_precision_cholesky(covariances, "full")
    model.n_features_in_ = d
    with _threadpools().limit(limits=1):
        log_likelihood = float(model.score(Z) * n - n * d * np.log(scaling.scale))
        responsibilities = model.predict_proba(Z)
    p = n_parameters(len(model.weights_), d, covariance_type)
    bic = -2.0 * log_likelihood + p * np.log(n)
    with np.errstate(divide="ignore"):
        icl = bic - 2.0 * float(np.sum(np.log(responsibilities.max(axis=1))))
    return key, fitted | {
        "log_likelihood": log_likelihood,
        "bic": float(bic),
        "aic": float(-2.0 * log_likelihood + 2.0 * p),
        "icl": float(icl),
    }


def _table(cells, d: int, outcomes: dict) -> pd.DataFrame:
    table = pd.DataFrame([_row(k, c, d, outcomes[k, c]) for k, c in cells], columns=list(SWEEP_COLUMNS))
    table["best_bic"] = False
    return table


def _eligible(table: pd.DataFrame) -> pd.DataFrame:
    return table[~table["degenerate"] & table["bic"].notna()]


def _mark_best(table: pd.DataFrame, candidates: pd.DataFrame) -> tuple[int, str] | None:
    """Mark in ``table`` the candidate with the lowest BIC; return its (k, covariance_type)."""
    if candidates.empty:
        return None
    best = candidates.loc[candidates["bic"].idxmin()]
    table.loc[(table["k"] == best["k"]) & (table["covariance_type"] == best["covariance_type"]), "best_bic"] = True
    return int(best["k"]), str(best["covariance_type"])


def _row(k: int, covariance_type: str, d: int, outcome: dict | str) -> dict:
    base = {"k": k, "covariance_type": covariance_type, "mclust_name": MCLUST_NAMES[covariance_type]}
    if isinstance(outcome, str):
        return base | {
            "log_likelihood": np.nan,
            "bic": np.nan,
            "aic": np.nan,
            "icl": np.nan,
            "n_parameters": n_parameters(k, d, covariance_type),
            "converged": False,
            "n_iter": 0,
            "degenerate": False,
            "reason": outcome,
        }
    return base | {name: outcome[name] for name in SWEEP_COLUMNS[3:-1]}
