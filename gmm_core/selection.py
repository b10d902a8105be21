"""Model selection: fit every (K, model) pair and tabulate the criteria."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import cache
from numbers import Integral
from threading import Lock
from types import MappingProxyType

import numpy as np
import pandas as pd
from joblib import Parallel, delayed
from threadpoolctl import ThreadpoolController

from .criteria import eligible, information_criteria
from .engine import HCTree, Problem, model_code, responsibilities
from .errors import FitError
from .families import COVARIANCE_TYPES, model_name, n_parameters
from .fit import (
    DEFAULT_INIT,
    DEFAULT_MAX_ITER,
    DEFAULT_REG_COVAR,
    DEFAULT_STOPPING,
    DEFAULT_TOL,
    FitResult,
    FitSettings,
    check_fittable,
    check_settings,
    fit_prepared,
    rows_per_iteration,
    start_problems,
    start_subsets,
    starts_for,
)
from .hc import HC_MAX_ROWS
from .parallel import dask_scheduler, parallel_fits
from .scaling import Scaling, check_data
from .subsample import DEFAULT_N_STRATA, stratified_subsample
from .work import Work

#: Starts per fit in a sweep: mclust's hierarchical start and one k-means start (bench/RESULTS.md:
#: better than mclust in most cells, never worse, and faster than mclust).
DEFAULT_SWEEP_N_INIT = 2
#: A ``max_rows`` for interactive use on 2 cores: a sweep of a million rows then takes
#: well under 20 s (bench/RESULTS.md), and every cluster still has rows of its own.
SUBSAMPLE_MAX_ROWS = 3000
#: With ``max_rows``, this many best models by subsample BIC are scored on all rows.
SUBSAMPLE_CANDIDATES = 3

SWEEP_COLUMNS: tuple[str, ...] = (
    "k",
    "covariance_type",
    "model",
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


@dataclass(frozen=True, eq=False)
class SubsampleInfo:
    """How a sweep chose on a subsample (see :func:`sweep`).

    Attributes
    ----------
    rows, total_rows : int
        Size of the subsample and of the data.
    random_state : int or None
    n_strata : int
    candidates : tuple of dict
        One per candidate in subsample BIC order: ``k``, ``covariance_type``,
        ``model`` and its ``log_likelihood``, ``bic``, ``aic`` and ``icl`` on all
        rows with the subsample parameters.
    refit : dict or None
        The best candidate refitted on all rows (the row's columns except
        ``best_bic``); None when no candidate is eligible.
    starts : mapping of (k, covariance_type) to dict
        ``FitResult.as_start()`` of every model fitted on the subsample: pass it
        to :func:`~gmm_core.fit.fit_gmm` to fit that model on all rows as the refit does.
    """

    rows: int
    total_rows: int
    random_state: int | None
    n_strata: int
    candidates: tuple[dict, ...]
    refit: dict | None
    starts: MappingProxyType


@dataclass(frozen=True, eq=False)
class SweepResult:
    """A sweep's table (columns ``SWEEP_COLUMNS``) and, when it chose on a subsample, how."""

    table: pd.DataFrame
    subsample: SubsampleInfo | None = None

    @property
    def best(self) -> pd.Series | None:
        """The row marked ``best_bic``, or None when no model is eligible."""
        rows = self.table[self.table["best_bic"]]
        return None if rows.empty else rows.iloc[0]


#: Seconds per unit of :func:`estimated_sweep_seconds`'s work (rows visited times K times
#: (1 + d^2 / 4) per cell, and hc's pairs times d), fitted to sweeps of 14 models x K = 1..9 with
#: default settings on the benchmark machine (2 cores, 2026-12-03): 2-D blobs of 1,000, 3,000,
#: 10,000 and 30,000 rows took 0.43, 2.24, 2.87 and 6.89 s, forecast 1.2-1.6x that; Old Faithful
#: 0.21 s and Iris 0.22 s, forecast 0.6-0.8x (small data have fixed costs); many columns are
#: over-estimated (wdbc's 569 x 30: 8.5 s, forecast 29 s). hc on 2,000 2-D rows 0.27 s.
_SECONDS_PER_UNIT = 1.8e-7
_HC_SECONDS_PER_PAIR = 7e-8


def estimated_sweep_seconds(n_samples: int, n_features: int, *, ks: Iterable[int], n_models: int,
                            n_init: int = DEFAULT_SWEEP_N_INIT) -> float:
    """A rough forecast of :func:`sweep`'s wall time with default settings, for deciding whether
    to run it without asking (right within a factor of about 2 on 2 cores; more for data whose
    EM converges slowly).

    The rows EM visits are :func:`gmm_core.fit.rows_per_iteration`; each hierarchical start
    (one per start subsample of large data) costs one pass over pairs of its (at most
    ``HC_MAX_ROWS``) rows.
    """
    rows = rows_per_iteration(n_samples, n_init)
    per_k = sum(int(k) for k in ks)
    units = n_models * per_k * rows * (1.0 + n_features**2 / 4.0)
    hc_rows = min(n_samples, HC_MAX_ROWS)
    trees = max(1, start_subsets(n_samples))
    return _SECONDS_PER_UNIT * units + _HC_SECONDS_PER_PAIR * trees * hc_rows**2 * n_features / 2.0


def sweep(
    X,
    *,
    ks: Iterable[int] = range(1, 10),
    covariance_types: Iterable[str] = COVARIANCE_TYPES,
    n_init: int = DEFAULT_SWEEP_N_INIT,
    random_state: int | None = 0,
    init_params: str = DEFAULT_INIT,
    reg_covar: float = DEFAULT_REG_COVAR,
    tol: float = DEFAULT_TOL,
    max_iter: int = DEFAULT_MAX_ITER,
    stopping: str = DEFAULT_STOPPING,
    max_rows: int | None = None,
    n_jobs: int | None = None,
    progress: Callable[[int, int], None] | None = None,
    work: Work | None = None,
) -> SweepResult:
    """Fit a mixture for every K in ``ks`` and every model, and tabulate.

    Every cell equals ``fit_gmm`` with the same settings: the hierarchical tree
    is computed once and every K's starts once, for all models. The fits run in
    parallel threads (the compiled EM releases the GIL), largest K first so that
    no core idles at the end. With ``GMM_EXPLORER_DASK_SCHEDULER`` set, they run
    on that Dask cluster instead (see :mod:`gmm_core.parallel`).

    Parameters
    ----------
    X : array-like of shape (n, d)
    ks : iterable of int, default=range(1, 10)
        mclust's default K = 1..9.
    covariance_types : iterable of str, default=COVARIANCE_TYPES
        Any of mclust's models (``gmm_core.MODELS``) and scikit-learn's names.
    n_init : int, default=2
        Starts per fit (see :func:`~gmm_core.fit.fit_gmm`).
    random_state, init_params, reg_covar, tol, max_iter, stopping
        As in :func:`~gmm_core.fit.fit_gmm`, the same for every fit.
    max_rows : int or None, default=None
        When ``X`` has more rows than this, choose on a subsample: every model is
        fitted to the rows
        ``stratified_subsample(X, max_rows=max_rows, random_state=random_state)``,
        the ``SUBSAMPLE_CANDIDATES`` best by subsample BIC are scored on all rows
        with their subsample parameters, and the best of those on all rows is
        refitted on all rows, started from its subsample fit (one EM run, as
        ``fit_gmm(X, ..., **subsample_fit.as_start())``).
    n_jobs : int or None, default=None
        Parallel fits; ``None`` uses every core. Ignored on a Dask cluster.
    progress : callable (done, total) -> None, optional
        Called in the calling thread after each fit (or scoring) finishes.
    work : gmm_core.work.Work, optional
        Stops the sweep from another thread (``work.stop()``): every running fit
        stops within one EM iteration and ``Stopped`` is raised.

    Returns
    -------
    SweepResult
        ``table`` has one row per (k, covariance_type), ordered by covariance
        type then k, with columns ``SWEEP_COLUMNS`` (``model`` is mclust's name
        whatever name the caller used). Lower criteria are better. A fit that
        failed has NaN criteria and its ``reason``; a degenerate fit has its
        criteria but ``degenerate=True`` and a ``reason``. ``best_bic`` marks the
        single row with the lowest BIC among eligible fits (:func:`gmm_core.criteria.eligible`).

        After a subsample the table's criteria are the subsample's (comparable
        with each other only), a last column ``criteria_rows`` holds the subsample
        size, ``best_bic`` marks the candidate with the lowest BIC on all rows, and
        ``subsample`` says how (:class:`SubsampleInfo`).
    """
    ks = sorted({int(k) for k in ks})
    covariance_types = list(dict.fromkeys(covariance_types))
    if not ks or ks[0] < 1:
        raise ValueError(f"ks must be non-empty and every k >= 1; got {ks!r}.")
    if not covariance_types:
        raise ValueError("covariance_types must name at least one model.")
    if max_rows is not None and (
        isinstance(max_rows, bool) or not isinstance(max_rows, Integral) or max_rows < 2
    ):
        raise ValueError(f"max_rows must be None or an int >= 2; got {max_rows!r}.")
    common = dict(
        n_init=n_init, random_state=random_state, init_params=init_params, reg_covar=reg_covar, tol=tol,
        max_iter=max_iter, stopping=stopping,
    )
    grid = [(k, c) for c in covariance_types for k in ks]
    settings = {(k, c): check_settings(n_components=k, covariance_type=c, **common) for k, c in grid}
    X = check_data(X)
    d = X.shape[1]
    for c in covariance_types:
        model_name(c, d)
    rows = None
    if max_rows is not None and X.shape[0] > max_rows:
        rows = stratified_subsample(X, max_rows=max_rows, random_state=random_state)
    fitted = X if rows is None else X[rows]
    n_candidates = 0 if rows is None else min(SUBSAMPLE_CANDIDATES, len(grid))
    counter = _Progress(progress, len(grid) + (0 if rows is None else n_candidates + 1), work)

    with _threadpools().limit(limits=1):
        # One limit around all fits keeps a finishing fit's own limit from restoring BLAS
        # threads under a running one.
        outcomes = _fit_grid(fitted, ks, grid, settings, n_jobs, counter)
        table = _table(grid, d, outcomes)
        if rows is not None:
            subsample = _score_and_refit(X, table, outcomes, settings, n_candidates, n_jobs, counter)
    counter.finish()

    if rows is None:
        _mark_best(table, table[eligible(table)])
        return SweepResult(table=table)
    table[SUBSAMPLE_COLUMN] = len(rows)
    return SweepResult(
        table=table,
        subsample=SubsampleInfo(
            rows=len(rows), total_rows=X.shape[0], random_state=random_state, n_strata=DEFAULT_N_STRATA,
            **subsample,
        ),
    )


def best_row(table: pd.DataFrame, column: str = "bic", *, by_type: bool = False):
    """Index of the eligible row (:func:`gmm_core.criteria.eligible`) of a :func:`sweep` table with the
    lowest ``column`` ('bic', 'icl' or 'aic'), or a Series of them per covariance type.

    Returns None (or an empty Series) when no row is eligible. The overall best by BIC of a
    sweep on a subsample (one with a ``SUBSAMPLE_COLUMN``) is its ``best_bic`` row: the best
    candidate by BIC on all rows, not the lowest subsample BIC.
    """
    candidates = table[eligible(table)]
    if by_type:
        return candidates.groupby("covariance_type", sort=False)[column].idxmin()
    if column == "bic" and SUBSAMPLE_COLUMN in table.columns:
        marked = table.index[table["best_bic"]]
        return marked[0] if len(marked) else None
    return None if candidates.empty else candidates[column].idxmin()


def _score_and_refit(X, table, outcomes, settings, n_candidates, n_jobs, counter) -> dict:
    """Score the best subsample fits on all rows, mark and refit the best of them there.

    Returns the ``candidates``, ``refit`` and ``starts`` of :class:`SubsampleInfo`.
    """
    ranked = table[eligible(table)].sort_values("bic", kind="stable").head(n_candidates)
    candidates = [(row.k, row.covariance_type) for row in ranked.itertuples()]
    scaling = Scaling.of(X)
    problem = Problem.scaled(X, scaling)
    tasks = {cell: (problem, scaling, cell[1], outcomes[cell]) for cell in candidates}
    scored = _table(candidates, X.shape[1], _run(_score_summary, tasks, n_jobs, counter))
    refit = None
    if candidates:
        k, c = _mark_best(table, scored)
        start = outcomes[k, c]["start"]
        task = (problem, scaling, settings[k, c], start, None, counter.work)
        refit = _row(k, c, X.shape[1], _run(_fit_summary, {(k, c): task}, n_jobs, counter)[k, c])
    return {
        "candidates": tuple(scored[["k", "covariance_type", "model", *_CRITERIA]].to_dict("records")),
        "refit": refit,
        "starts": MappingProxyType(
            {cell: outcome["start"] for cell, outcome in outcomes.items() if isinstance(outcome, dict)}
        ),
    }


@cache
def _threadpools() -> ThreadpoolController:
    """The process's BLAS and OpenMP pools, looked up once (``threadpool_limits`` looks
    them up on every call, about 10 ms each)."""
    return ThreadpoolController()


class _Progress:
    """Counts finished tasks and tells the caller's callback, in the calling thread; carries the
    ``Work`` that stops them (checked here too, for fits that ran where it cannot reach)."""

    def __init__(self, callback: Callable[[int, int], None] | None, total: int, work: Work | None = None):
        self.callback, self.total, self.done, self.work = callback, total, 0, work

    def step(self) -> None:
        if self.work is not None:
            self.work.check()
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
    problem = Problem.scaled(X, scaling)
    cells = [cell for cell in grid if cell not in outcomes]
    # The starts of each K, for every model: the hierarchical trees first (one per start
    # subsample, in parallel), then each K's k-means starts in parallel.
    first = {k: settings[cell] for cell in cells for k in [cell[0]]}
    if dask_scheduler() is None:
        largest = first[max(first)] if first else None
        if largest is not None and largest.init_params in ("hc", "hc+kmeans"):
            subsets = [subset.Z for _, subset in start_problems(problem, largest)]
            Parallel(n_jobs=-1 if n_jobs is None else n_jobs, backend="threading")(  # HCTree.of caches them
                delayed(HCTree.of)(Z, random_state=largest.random_state) for Z in subsets
            )
        # Local threads share each K's starts, made by the first fit that needs them: the k-means
        # of one K runs while other threads already fit another.
        starts = _StartsOnce(problem, first)
    else:  # a cluster gets them ready-made
        made = _run(_starts_task, {k: (problem, s) for k, s in first.items()}, n_jobs, None)
        starts = made.__getitem__
    # Largest K first: long fits start early and short ones fill the last gaps.
    tasks = {
        cell: (problem, scaling, settings[cell], None, starts, counter.work)
        for cell in sorted(cells, key=lambda cell: -cell[0])
    }
    return outcomes | _run(_fit_summary, tasks, n_jobs, counter)


def _starts_task(key, problem: Problem, settings: FitSettings):
    return key, starts_for(problem, settings)


class _StartsOnce:
    """Each K's starts (``starts_for``), made once, by the first caller that asks for that K."""

    def __init__(self, problem: Problem, settings: dict[int, FitSettings]):
        self._problem, self._settings = problem, settings
        self._locks = {k: Lock() for k in settings}
        self._made: dict[int, list] = {}

    def __call__(self, k: int) -> list:
        with self._locks[k]:
            if k not in self._made:
                self._made[k] = starts_for(self._problem, self._settings[k])
            return self._made[k]


def _run(function: Callable, tasks: dict, n_jobs, counter: _Progress | None) -> dict:
    """``{key: function(key, *args)[1]}`` for ``tasks = {key: args}``, computed in parallel."""
    outcomes = {}
    with parallel_fits(-1 if n_jobs is None else n_jobs) as parallel:
        for key, outcome in parallel(delayed(function)(key, *args) for key, args in tasks.items()):
            outcomes[key] = outcome
            if counter is not None:
                counter.step()
    return outcomes


def _fit_summary(key, problem: Problem, scaling: Scaling, settings: FitSettings, given: dict | None, starts=None,
                 work: Work | None = None):
    """``(key, summary or failure reason)`` of one fit, in a worker thread or on a Dask worker.

    ``starts``: None (the fit makes its own), or a function of K giving that K's starts; ``work`` stops it.
    Only criteria and parameters come back: a cluster sends little over the
    network, and no more than one fit's responsibilities per worker are alive.
    """
    # Per task too: OpenMP limits apply per thread, and a Dask worker is another process.
    with _threadpools().limit(limits=1):
        try:
            made = None if starts is None else starts(settings.n_components)
            result = fit_prepared(problem, scaling, settings, given=given, starts=made, restarts=False, work=work)
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


def _score_summary(key, problem: Problem, scaling: Scaling, covariance_type: str, fitted: dict):
    """``(key, summary)`` of the mixture ``fitted`` on another sample, evaluated on ``problem``.

    One E-step, no EM: the criteria of those parameters on these rows, computed
    as :func:`fit_gmm` computes them (in scaled units, then shifted back).
    """
    n, d = problem.Z.shape
    resp, log_likelihood = responsibilities(
        problem.Z,
        fitted["weights"],
        scaling.forward(fitted["means"]),
        np.asarray(fitted["covariances"]) / scaling.scale**2,
        model_code("VVV", max(d, 2)),  # full matrices: every model's densities
    )
    log_likelihood += problem.log_likelihood_shift
    criteria = information_criteria(log_likelihood, n_parameters(len(fitted["weights"]), d, covariance_type), n, resp)
    return key, fitted | {
        "log_likelihood": log_likelihood,
        "bic": criteria.bic,
        "aic": criteria.aic,
        "icl": criteria.icl,
    }


def _table(cells, d: int, outcomes: dict) -> pd.DataFrame:
    table = pd.DataFrame([_row(k, c, d, outcomes[k, c]) for k, c in cells], columns=list(SWEEP_COLUMNS))
    table["best_bic"] = False
    return table


def _mark_best(table: pd.DataFrame, candidates: pd.DataFrame) -> tuple[int, str] | None:
    """Mark in ``table`` the candidate with the lowest BIC; return its (k, covariance_type)."""
    if candidates.empty:
        return None
    best = candidates.loc[candidates["bic"].idxmin()]
    table.loc[(table["k"] == best["k"]) & (table["covariance_type"] == best["covariance_type"]), "best_bic"] = True
    return int(best["k"]), str(best["covariance_type"])


def _row(k: int, covariance_type: str, d: int, outcome: dict | str) -> dict:
    base = {"k": k, "covariance_type": covariance_type, "model": model_name(covariance_type, d)}
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
