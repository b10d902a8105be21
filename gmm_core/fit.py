"""Fit one Gaussian mixture of any of mclust's 14 models by EM, robust to the units of the data.

The data are centred and divided by ONE global scale before fitting (per-column
scaling would turn a spherical model into a diagonal one); parameters are mapped
back, and every likelihood number is reported in data units: for scikit-learn's
four covariance types they equal what ``sklearn.mixture.GaussianMixture`` gives
for the same model, and mclust's BIC is their negative.

EM runs from several starts and keeps the best (see :func:`fit_gmm`). By
default the first start is mclust's hierarchical one, and EM stops when the
log-likelihood is within ``tol`` of its limit by Aitken's estimate of the gains
still to come, so the criteria are converged to about ``2 tol`` at any number
of rows wherever EM converges at a steady rate. Where it stalls near a saddle
point that estimate is fooled, so EM goes on a while to rule a stall out (see
:func:`gmm_core.kernel.em` and bench/CONVERGENCE_RESULTS.md).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from numbers import Integral, Real

import numpy as np
import pandas as pd
from scipy import linalg

from . import kernel
from .criteria import information_criteria
from .engine import (
    INIT_METHODS,
    PSI_FLOOR,
    STOPPING_RULES,
    EMRun,
    Problem,
    Start,
    log_likelihood,
    make_starts,
    model_code,
    one_hot,
    responsibilities,
    run_em,
    saddle_check_steps,
)
from .errors import FitError
from .families import MCLUST_NAMES, check_covariance_type, display_name, model_name, n_parameters
from .scaling import Scaling, check_data
from .subsample import stratified_subsample
from .work import Work

#: Defaults: the hierarchical start and k-means starts, EM until the log-likelihood is within
#: 1e-3 of its limit (criteria within about 0.002), a regulariser too small to move any
#: criterion by 0.01 yet enough to keep every covariance invertible.
DEFAULT_N_INIT = 5
DEFAULT_INIT = "hc+kmeans"
DEFAULT_TOL = 1e-3
DEFAULT_STOPPING = "aitken"
DEFAULT_MAX_ITER = 1000
DEFAULT_REG_COVAR = 1e-8
#: reg_covar is a fraction of the data's own covariance: beyond 1 the regulariser outweighs the
#: data in every component, and far beyond it the covariances overflow.
MAX_REG_COVAR = 1.0

#: A component is degenerate when, in some direction, its variance is at most this
#: multiple of what the regulariser alone gives it (the data contribute no more than
#: the regulariser: the component has collapsed onto a point, line or plane) ...
COLLAPSE_FACTOR = 2.0
#: ... or below this fraction of the data's variance there at all (with reg_covar 0).
SINGULAR_RATIO = 1e-10
#: Data whose columns are exactly linear in each other (a correlation matrix with an
#: eigenvalue below this) make every component flat: every fit is degenerate.
COLLINEAR_EIGENVALUE = 1e-9
#: Above this many rows, the starts run EM on a stratified subsample of this size and only
#: the best of them runs EM on all rows (mclust starts data of more than 2,000 rows from a
#: subset of that size too).
START_MAX_ROWS = 2000
#: ... on this many subsamples of that size (each with its own hc tree; see start_problems);
#: every start's fit is then scored on all rows and the best continued. One subsample's optima
#: are a lottery: on five 2-D tables of 10,000 to 100,000 rows (the benchmark's blobs and three
#: 50,000-row blob variants), 24 of 630 cells ended worse than mclust's from one stratified
#: subsample, 10 from two, 4 from a stratified and a uniform one (and 4 from three).
START_SUBSETS = 2
#: Below this many rows per free parameter, a fit warns that its estimates are unreliable.
ROWS_PER_PARAMETER = 2

RESTART_COLUMNS: tuple[str, ...] = (
    "restart",
    "start",
    "rows",
    "log_likelihood",
    "bic",
    "icl",
    "converged",
    "n_iter",
    "degenerate",
    "reason",
    "kept",
)


def collapse_threshold(reg_covar: float) -> float:
    """Smallest variance, relative to the data's in the same direction, of a component that is not collapsed."""
    return max(COLLAPSE_FACTOR * reg_covar, SINGULAR_RATIO)


@dataclass(frozen=True)
class FitSettings:
    """Every setting that determines a fit, for caching, display and export."""

    n_components: int
    covariance_type: str
    n_init: int
    random_state: int | None
    init_params: str
    reg_covar: float
    tol: float
    max_iter: int
    stopping: str = DEFAULT_STOPPING


@dataclass(frozen=True, eq=False)
class FitResult:
    """A fitted Gaussian mixture, in the units of the data it was fitted to.

    Attributes
    ----------
    weights : ndarray of shape (K,)
        Mixture weights, summing to 1.
    means : ndarray of shape (K, d)
        Component means.
    covariances : ndarray of shape (K, d, d)
        Component covariance matrices, always full matrices (an equal-volume,
        -shape and -orientation model repeats its one matrix K times).
    responsibilities : ndarray of shape (n, K)
        Posterior probability of each component for each sample; rows sum to 1.
    labels : ndarray of shape (n,)
        Hard assignment, ``argmax`` of each row of ``responsibilities``.
    log_likelihood : float
        Total log-likelihood of the data, ``sum_i log p(x_i)``.
    bic, aic, icl : float
        Information criteria, lower is better (scikit-learn's orientation; mclust
        reports the negatives). ``icl = bic - 2 * sum_i log max_k r_ik``.
    n_parameters : int
        Free parameters, as mclust's ``nMclustParams`` counts them.
    converged : bool
        Whether the kept run met the stopping rule within ``max_iter`` iterations.
    n_iter : int
        EM iterations of the kept run.
    covariance_type : str
        The model as the caller named it (an mclust name or a scikit-learn alias).
    model : str
        mclust's name of the model (E or V for one column).
    n_components : int
    degenerate : bool
        A covariance the model estimates is numerically singular (a component
        collapsed) or a component is empty: the likelihood is meaningless and
        such a model is never chosen as best.
    warnings : tuple of str
        Plain-language warnings about this fit (not converged, degenerate, ...).
    settings : FitSettings
        The settings the model was fitted with.
    start : dict
        What EM was started from when the caller gave it (``weights_init``,
        ``means_init``, ``covariances_init``, in data units); empty when the
        starts came from ``init_params``.
    restarts : pandas.DataFrame
        Every start's run, columns ``RESTART_COLUMNS``; ``kept`` marks the one
        returned. On large data the starts run on subsamples (``rows``) and the
        kept row is the best of them by the log-likelihood of all rows, continued on all rows.
    """

    weights: np.ndarray
    means: np.ndarray
    covariances: np.ndarray
    responsibilities: np.ndarray
    labels: np.ndarray
    log_likelihood: float
    bic: float
    aic: float
    icl: float
    n_parameters: int
    converged: bool
    n_iter: int
    covariance_type: str
    model: str
    n_components: int
    degenerate: bool
    warnings: tuple[str, ...]
    settings: FitSettings = field(repr=False)
    start: dict = field(default_factory=dict, repr=False)
    restarts: pd.DataFrame = field(default=None, repr=False)

    @property
    def n_samples(self) -> int:
        return self.responsibilities.shape[0]

    @property
    def n_features(self) -> int:
        return self.means.shape[1]

    @property
    def mean_log_likelihood(self) -> float:
        """Average log-likelihood per sample (what ``GaussianMixture.score`` returns)."""
        return self.log_likelihood / self.n_samples

    @property
    def mclust_name(self) -> str:
        return self.model

    @property
    def uncertainty(self) -> np.ndarray:
        """``1 - max_k r_ik`` per sample, shape (n,) (mclust's uncertainty)."""
        return 1.0 - self.responsibilities.max(axis=1)

    @property
    def effective_sizes(self) -> np.ndarray:
        """Responsibility mass of each component, ``sum_i r_ik``, shape (K,)."""
        return self.responsibilities.sum(axis=0)

    def to_sklearn(self):
        """A fitted ``sklearn.mixture.GaussianMixture`` holding exactly these parameters.

        Only for the models scikit-learn has (VVV, EEE, VVI, VII). Its ``score``,
        ``bic``, ``aic`` and ``predict_proba`` on the fitted data reproduce this
        result's numbers.
        """
        from sklearn.mixture import GaussianMixture

        covariance_type = {model: alias for alias, model in MCLUST_NAMES.items()}.get(
            model_name(self.covariance_type, max(self.n_features, 2))
        )
        if covariance_type is None or self.n_features == 1 and self.model == "E" and self.n_components > 1:
            raise ValueError(f"scikit-learn has no {display_name(self.covariance_type)} model.")
        native = {
            "full": lambda c: np.array(c),
            "tied": lambda c: np.array(c[0]),
            "diag": lambda c: np.array([np.diag(m) for m in c]),
            "spherical": lambda c: np.array(c[:, 0, 0]),
        }[covariance_type](self.covariances)
        inverse_cholesky = [linalg.solve_triangular(linalg.cholesky(c, lower=True), np.eye(self.n_features),
                                                    lower=True) for c in self.covariances]
        # scikit-learn keeps the upper-triangular U with precision = U U^T.
        upper = np.array([p.T for p in inverse_cholesky])
        model = GaussianMixture(n_components=self.n_components, covariance_type=covariance_type)
        model.weights_ = np.array(self.weights)
        model.means_ = np.array(self.means)
        model.covariances_ = native
        model.precisions_cholesky_ = {
            "full": upper,
            "tied": upper[0],
            "diag": np.array([np.diag(u) for u in upper]),
            "spherical": upper[:, 0, 0],
        }[covariance_type]
        model.precisions_ = {
            "full": np.linalg.inv(self.covariances),
            "tied": np.linalg.inv(self.covariances[0]),
            "diag": 1.0 / native,
            "spherical": 1.0 / native,
        }[covariance_type]
        model.converged_ = self.converged
        model.n_iter_ = self.n_iter
        model.lower_bound_ = self.mean_log_likelihood
        model.n_features_in_ = self.n_features
        return model

    def as_start(self) -> dict:
        """Keyword arguments of :func:`fit_gmm` that start EM from this model (a warm start).

        Returns
        -------
        dict
            ``weights_init`` (K,), ``means_init`` (K, d) and ``covariances_init``
            (K, d, d), in data units.
        """
        return {"weights_init": self.weights, "means_init": self.means, "covariances_init": self.covariances}

    def reordered(self, order) -> "FitResult":
        """The same model with its components renumbered: component ``i`` of the result is
        component ``order[i]`` of this one (every criterion is unchanged).

        Parameters
        ----------
        order : array-like of int, shape (K,)
            A permutation of ``range(K)``.
        """
        order = np.asarray(order, dtype=np.intp)
        if sorted(order.tolist()) != list(range(self.n_components)):
            raise ValueError(f"order must be a permutation of range({self.n_components}); got {order.tolist()}.")
        new_label = np.empty_like(order)
        new_label[order] = np.arange(len(order))
        return replace(
            self,
            weights=read_only(self.weights[order]),
            means=read_only(self.means[order]),
            covariances=read_only(self.covariances[order]),
            responsibilities=read_only(self.responsibilities[:, order]),
            labels=read_only(new_label[self.labels]),
        )


def fit_gmm(
    X,
    *,
    n_components: int,
    covariance_type: str = "full",
    n_init: int = DEFAULT_N_INIT,
    random_state: int | None = 0,
    init_params: str = DEFAULT_INIT,
    reg_covar: float = DEFAULT_REG_COVAR,
    tol: float = DEFAULT_TOL,
    max_iter: int = DEFAULT_MAX_ITER,
    stopping: str = DEFAULT_STOPPING,
    weights_init=None,
    means_init=None,
    covariances_init=None,
    work: Work | None = None,
) -> FitResult:
    """Fit a Gaussian mixture by EM from several starts and keep the best.

    Parameters
    ----------
    X : array-like of shape (n, d)
        Finite data, at least two rows.
    n_components : int
        Number of components K, ``1 <= K <= n``.
    covariance_type : str, default='full'
        One of mclust's 14 models (``gmm_core.MODELS``; E or V for one column)
        or scikit-learn's names full, tied, diag and spherical (VVV, EEE, VVI, VII).
    n_init : int, default=5
        Starts; the run with the highest likelihood among those that are not
        degenerate is kept.
    random_state : int or None, default=0
        Seed of the random starts (and of the subsets of large data).
    init_params : {'hc+kmeans', 'hc', 'kmeans', 'k-means++', 'random', 'random_from_data'}, default='hc+kmeans'
        'hc+kmeans': mclust's hierarchical start, then ``n_init - 1`` k-means
        starts. 'hc': the hierarchical start alone (mclust's default). The
        others: ``n_init`` starts of that kind, on the columns' z-scores:
        k-means partitions, partitions around k-means++ seeds or random rows,
        or random responsibilities.
    reg_covar : float, default=1e-8
        Before each M-step every component's scatter matrix gets ``n_k *
        reg_covar`` times the data's covariance matrix: each column's variance
        grows by at most that fraction of the data's variance in it, and the
        model keeps its structure.
    tol : float, default=1e-3
        With ``stopping='aitken'``: EM stops when the log-likelihood is within
        ``tol`` of its limit by Aitken's estimate (see the module's docstring).
    max_iter : int, default=1000
        EM iterations per start.
    stopping : {'aitken', 'sklearn', 'mclust'}, default='aitken'
        'sklearn': the mean log-likelihood changed by less than ``tol``
        (``GaussianMixture``'s rule); 'mclust': the log-likelihood changed by
        less than ``tol`` relative to itself (``emControl``'s rule, on the
        log-likelihood of the data in their own units, so the stop depends on them as mclust's does).
    weights_init : array-like of shape (K,), optional
    means_init : array-like of shape (K, d), optional
    covariances_init : array-like of shape (K, d, d), optional
        A start in data units instead of ``init_params``. All three start EM
        at that model (a warm start, as ``FitResult.as_start()`` gives). Means
        alone (with weights or not) take the rest from the partition of the
        rows by their nearest mean. ``n_init`` is then 1.
    work : gmm_core.work.Work, optional
        Stops the fit from another thread (``work.stop()``) within one EM iteration.

    Returns
    -------
    FitResult

    Raises
    ------
    DataError
        ``X`` is not a finite numeric matrix with at least two rows, a column has
        the same value in every row, or the spread is beyond double precision.
    FitError
        The model cannot be fitted (more components than distinct points, or
        every start broke down); the message says what to change.
    ValueError
        A setting is out of range.
    Stopped
        ``work.stop()`` was called before the fit finished.
    """
    X, scaling, settings = prepare(
        X,
        n_components=n_components,
        covariance_type=covariance_type,
        n_init=n_init,
        random_state=random_state,
        init_params=init_params,
        reg_covar=reg_covar,
        tol=tol,
        max_iter=max_iter,
        stopping=stopping,
    )
    given = check_start(X, n_components, weights_init, means_init, covariances_init)
    return fit_prepared(Problem.scaled(X, scaling), scaling, settings, given=given, work=work)


def fit_prepared(problem: Problem, scaling: Scaling, settings: FitSettings, *, given: dict | None = None,
                 starts: list[Start] | None = None, restarts: bool = True, work: Work | None = None) -> FitResult:
    """:func:`fit_gmm` on data already checked and scaled (``problem``), with checked settings.

    ``given`` is a checked start in data units (see :func:`check_start`);
    ``starts`` (from :func:`starts_for`) lets a sweep share each K's starts between models;
    without ``restarts`` the result's ``restarts`` table is not built (None); ``work`` as in :func:`fit_gmm`.
    """
    given = dict(given or {})
    code = model_code(settings.covariance_type, problem.n_features)
    if given:
        starts = [given_start(problem, scaling, settings, code, given)]
    elif starts is None:
        starts = starts_for(problem, settings)
    runs = _run_starts(problem, starts, settings, code, work)
    return _result(problem, scaling, settings, code, runs, given, restarts)


def starts_for(problem: Problem, settings: FitSettings) -> list[Start]:
    """The starts :func:`fit_gmm` runs for ``settings``: on all rows, or on each of the subsamples
    of large data (``Start.subset`` says which; its name too)."""
    subsets = start_problems(problem, settings)
    starts = []
    for index, (_, subset) in enumerate(subsets):
        made = make_starts(
            subset,
            n_components=settings.n_components,
            init_params=settings.init_params,
            n_init=settings.n_init,
            random_state=settings.random_state,
        )
        if len(subsets) > 1:
            made = [replace(start, subset=index, name=f"{start.name}, subsample {index + 1}") for start in made]
        starts += made
    return starts


def start_problems(problem: Problem, settings: FitSettings) -> list[tuple[np.ndarray | None, Problem]]:
    """The rows on which the starts of a fit run (None: all) and the problem on them.

    Above ``START_MAX_ROWS`` rows, ``START_SUBSETS`` subsamples of that size (each
    computed once per problem and seed): the first stratified (every cluster is
    represented, with the fit's seed), the others uniform, as mclust draws its
    subset (seeds drawn from the fit's). The two kinds weigh dense and sparse
    regions differently, so their hc trees and optima differ more than two of one kind.
    """
    if not start_subsets(problem.n_samples):
        return [(None, problem)]
    seed = settings.random_state

    def rows(index: int) -> np.ndarray:
        if index == 0:
            return stratified_subsample(problem.Z, max_rows=START_MAX_ROWS, random_state=seed)
        rng = np.random.default_rng(None if seed is None else [seed, index])
        return np.sort(rng.choice(problem.n_samples, size=START_MAX_ROWS, replace=False))

    return [
        problem.subset(("starts", seed, index), lambda index=index: rows(index))
        for index in range(start_subsets(problem.n_samples))
    ]


def start_subsets(n_samples: int) -> int:
    """Subsamples the starts of a fit run on (:func:`start_problems`); 0 when they run on all rows."""
    return 0 if n_samples <= START_MAX_ROWS else START_SUBSETS


def rows_per_iteration(n_samples: int, n_init: int) -> int:
    """Rows one EM iteration of every run of a fit visits: each start on its subsample (or on all
    rows), and on large data the best continued on all rows."""
    subsets = start_subsets(n_samples)
    return n_samples * n_init if not subsets else START_MAX_ROWS * n_init * subsets + n_samples


def n_runs(n_samples: int, n_init: int) -> int:
    """EM runs of a fit from ``init_params``: one per start (on each subsample of large data),
    and on large data one more on all rows (and another for each that ends degenerate)."""
    subsets = start_subsets(n_samples)
    return n_init if not subsets else n_init * subsets + 1


def _run_options(problem: Problem, settings: FitSettings, code: int, work: Work | None = None) -> dict:
    return {
        "work": work,
        "code": code,
        "reg_covar": settings.reg_covar,
        "tol": settings.tol,
        "rule": STOPPING_RULES[settings.stopping],
        "max_iter": settings.max_iter,
        "saddle_check": saddle_check_steps(problem.n_samples),  # on subsamples too: see run_em
    }


@dataclass(frozen=True, eq=False)
class _Runs:
    """Every EM run of a fit: one per start, then (large data) the best start continued on all rows."""

    runs: list[EMRun]
    names: list[str]
    problems: list[Problem]  # the rows each run ran on
    kept: int | None  # the run the fit reports; None when every run broke down


def _run_starts(problem: Problem, starts: list[Start], settings: FitSettings, code: int,
                work: Work | None) -> _Runs:
    """EM from every start; on large data on subsamples, and then the one most likely on all rows
    continued there (the next, when its continuation is degenerate)."""
    options = _run_options(problem, settings, code, work)
    names = [start.name for start in starts]
    large = start_subsets(problem.n_samples) > 0 and not (len(starts) == 1 and starts[0].kind == "parameters")
    if not large:
        runs = [run_em(problem, start, **options) for start in starts]
        return _Runs(runs, names, [problem] * len(runs), next(iter(_ranked(runs, settings)), None))
    subsets = [subset for _, subset in start_problems(problem, settings)]
    problems = [subsets[start.subset] for start in starts]
    runs = [run_em(data, start, **options) for data, start in zip(problems, starts)]
    # Runs on different subsamples compare only on the same rows: all of them.
    scores = [log_likelihood(problem.Z, run.weights, run.means, run.covariances, code)
              if np.isfinite(run.log_likelihood) else -np.inf for run in runs]
    ranked = _ranked(runs, settings, scores)
    if not ranked:
        return _Runs(runs, names, problems, None)
    n_starts = len(runs)
    # The most likely start goes on on all rows; should it turn degenerate there, the next one
    # does, and so on (a fit shows its best non-degenerate run when it has one).
    for index in ranked:
        run = runs[index]
        runs.append(run_em(
            problem, Start("parameters", weights=run.weights, means=run.means, covariances=run.covariances), **options
        ))
        names.append(f"{names[index]}, continued on all rows")
        problems.append(problem)
        if _sound(runs[-1], settings):
            break
    return _Runs(runs, names, problems, len(runs) - 1 if _sound(runs[-1], settings) else n_starts)


def _collapse(run: EMRun, settings: FitSettings) -> list[tuple[int, float]]:
    """(component, relative smallest variance) of each collapsed component of ``run``."""
    threshold = collapse_threshold(settings.reg_covar)
    return [(k, float(r)) for k, r in enumerate(run.relative_variances) if r <= threshold]


def _sound(run: EMRun, settings: FitSettings) -> bool:
    """Whether a run neither broke down nor collapsed (its fit is not degenerate)."""
    return not run.failed and not _collapse(run, settings)


def _ranked(runs: list[EMRun], settings: FitSettings, scores: list[float] | None = None) -> list[int]:
    """Indices of the runs that have parameters, best first: those that are :func:`_sound` by
    likelihood (or ``scores``, one per run), then the others (their fits are degenerate)."""
    scores = [run.log_likelihood for run in runs] if scores is None else scores
    sound = [i for i, run in enumerate(runs) if _sound(run, settings)]
    others = [i for i, run in enumerate(runs)
              if i not in sound and run.weights.size and np.isfinite(run.log_likelihood)]
    return sorted(sound, key=lambda i: -scores[i]) + sorted(others, key=lambda i: -scores[i])


def _result(problem: Problem, scaling: Scaling, settings: FitSettings, code: int, runs: _Runs,
            given: dict, restarts: bool) -> FitResult:
    Z = problem.Z
    n, d = Z.shape
    K = settings.n_components
    model = model_name(settings.covariance_type, d)
    p = n_parameters(K, d, model)
    if runs.kept is None:
        raise FitError(
            f"EM broke down from every start while fitting {display_name(settings.covariance_type)} with {K} "
            f"components: a component lost its points or shrank onto a single point or line. Choose fewer "
            f"components, a larger reg_covar (now {settings.reg_covar:g}) or another model."
        )
    run = runs.runs[runs.kept]
    resp, log_likelihood_z = responsibilities(Z, run.weights, run.means, run.covariances, code)
    log_likelihood = log_likelihood_z + problem.log_likelihood_shift
    criteria = information_criteria(log_likelihood, p, n, resp)
    reasons = degenerate_reasons(problem, run, settings)
    return FitResult(
        weights=read_only(run.weights),
        means=read_only(scaling.backward(run.means)),
        covariances=read_only(scaling.scale**2 * run.covariances),
        responsibilities=read_only(resp),
        labels=read_only(resp.argmax(axis=1)),
        log_likelihood=float(log_likelihood),
        bic=criteria.bic,
        aic=criteria.aic,
        icl=criteria.icl,
        n_parameters=p,
        converged=bool(run.converged),
        n_iter=int(run.n_iter),
        covariance_type=settings.covariance_type,
        model=model,
        n_components=K,
        degenerate=bool(reasons),
        warnings=tuple(reasons + _convergence_warning(run, settings) + _size_warning(p, n)),
        settings=settings,
        start={name: read_only(value) for name, value in given.items()},
        restarts=_restart_table(problem, settings, code, runs) if restarts else None,
    )


def _restart_table(problem: Problem, settings: FitSettings, code: int, runs: _Runs) -> pd.DataFrame:
    """One row per run: its criteria (on the rows it ran on), convergence and whether it was kept."""
    p = n_parameters(settings.n_components, problem.n_features, model_name(settings.covariance_type,
                                                                             problem.n_features))
    rows = []
    for i, run in enumerate(runs.runs):
        data = runs.problems[i]
        n = data.n_samples
        values = {"log_likelihood": np.nan, "bic": np.nan, "icl": np.nan}
        if np.isfinite(run.log_likelihood):
            resp, ll = responsibilities(data.Z, run.weights, run.means, run.covariances, code)
            ll += data.log_likelihood_shift
            criteria = information_criteria(ll, p, n, resp)
            values = {"log_likelihood": ll, "bic": criteria.bic, "icl": criteria.icl}
        reasons = degenerate_reasons(data, run, settings, flat_data=False)
        notes = reasons + _convergence_warning(run, settings)
        rows.append(
            {
                "restart": i + 1,
                "start": runs.names[i],
                "rows": n,
                **values,
                "converged": bool(run.converged),
                "n_iter": int(run.n_iter),
                "degenerate": bool(reasons),
                "reason": " ".join(notes),
                "kept": i == runs.kept,
            }
        )
    return pd.DataFrame(rows, columns=list(RESTART_COLUMNS))


def _size_warning(n_parameters: int, n_samples: int) -> list[str]:
    if n_samples >= ROWS_PER_PARAMETER * n_parameters:
        return []
    return [
        f"The model has {n_parameters:,} free parameters for {n_samples:,} rows ({n_samples / n_parameters:.1f} rows "
        f"per parameter; fewer than {ROWS_PER_PARAMETER} make the estimates unreliable). Choose fewer components "
        "or a model that shares more (equal volume, shape or orientation)."
    ]


def _convergence_warning(run: EMRun, settings: FitSettings) -> list[str]:
    if run.converged or run.status != kernel.OK:
        return []
    return [
        f"EM did not converge within {settings.max_iter} iterations (tol {settings.tol:g}); "
        "the criteria may still change. Raise max_iter or loosen tol."
    ]


def degenerate_reasons(problem: Problem, run: EMRun, settings: FitSettings, *, flat_data: bool = True) -> list[str]:
    """Plain-language reasons why a run's fit is degenerate (empty when it is not)."""
    reasons = _flat_data_reasons(problem.psi) if flat_data else []
    if run.status == kernel.EMPTY:
        reasons.append(
            "A component lost all its points during EM, so the model has fewer components than asked for. "
            "Choose fewer components."
        )
    elif run.status == kernel.SINGULAR:
        reasons.append(
            "EM broke down: a covariance became singular (a component shrank onto a single point or line); "
            "the model shown is the last one before that. Choose fewer components, a larger reg_covar "
            f"(now {settings.reg_covar:g}) or another model."
        )
    for k, ratio in _collapse(run, settings):
        reasons.append(
            f"Component {k + 1} collapsed onto a line or point (its smallest variance is "
            f"{ratio:.1e} of the data's in that direction), which makes the likelihood "
            "meaningless. Choose fewer components or another model."
        )
    return reasons


def _flat_data_reasons(psi: np.ndarray) -> list[str]:
    """Why the data themselves leave no room in some direction (empty when they do not)."""
    covariance = psi - PSI_FLOOR / (1 + PSI_FLOOR) * np.diag(np.diag(psi))  # the data's own, without the floor
    variances = np.diag(covariance)
    correlation = covariance / np.sqrt(np.outer(variances, variances))
    if len(variances) > 1 and np.linalg.eigvalsh(correlation)[0] < COLLINEAR_EIGENVALUE:
        return [
            "The feature columns are exact linear functions of each other (the data lie on a "
            "line or plane), so every component is flat in that direction and the likelihood is "
            "set by reg_covar, not by the data. Drop a redundant column."
        ]
    return []


def given_start(problem: Problem, scaling: Scaling, settings: FitSettings, code: int, given: dict) -> Start:
    """The start of EM from parameters given in data units (all three, or means with or without weights).

    Means alone take the weights and covariances of the partition of the rows by
    their nearest mean.
    """
    means = scaling.forward(given["means_init"])
    if "covariances_init" in given:
        return Start(
            "parameters",
            weights=given["weights_init"],
            means=means,
            covariances=np.asarray(given["covariances_init"]) / scaling.scale**2,
            name="given model",
        )
    labels = ((problem.Z[:, None, :] - means[None]) ** 2).sum(axis=2).argmin(axis=1)
    try:
        weights, _, covariances = start_parameters(problem, Start("partition", labels=labels), code, settings)
    except FitError:
        raise FitError(
            "The given means leave a component without rows of its own, so no covariance can be "
            "estimated for it. Move that mean closer to the data."
        ) from None
    return Start("parameters", weights=given.get("weights_init", weights), means=means, covariances=covariances,
                 name="given means")


def start_parameters(problem: Problem, start: Start, code: int, settings: FitSettings):
    """Weights, means and covariances (scaled units) a start gives EM: the M-step of a partition or of
    responsibilities, or the parameters themselves. Raises ``FitError`` when a component is empty."""
    if start.kind == "parameters":
        return np.asarray(start.weights), np.asarray(start.means), np.asarray(start.covariances)
    Z = problem.Z if start.rows is None else np.ascontiguousarray(problem.Z[start.rows])
    resp = one_hot(start.labels, settings.n_components) if start.kind == "partition" else start.responsibilities
    K, d = resp.shape[1], Z.shape[1]
    weights, means, covariances = np.empty(K), np.empty((K, d)), np.empty((K, d, d))
    state = np.empty((K, d)), np.empty((d, d)), np.empty(K)
    status = kernel.start_from_responsibilities(
        Z, np.ascontiguousarray(resp, dtype=np.float64), code, problem.psi, settings.reg_covar, weights, means,
        covariances, *state,
    )
    if status != kernel.OK:
        raise FitError("A component of the start has no rows of its own.")
    return weights, means, covariances


def prepare(X, **options) -> tuple[np.ndarray, Scaling, FitSettings]:
    """What every fitting entry point starts with: checked data, its scaling, checked settings.

    ``options`` are the keyword arguments of :class:`FitSettings`. Raises as :func:`fit_gmm`.
    """
    settings = check_settings(**options)
    X = check_data(X)
    scaling = Scaling.of(X)
    model_name(settings.covariance_type, X.shape[1])
    check_fittable(X, settings.n_components)
    return X, scaling, settings


def check_fittable(X: np.ndarray, n_components: int) -> None:
    """Raise ``FitError`` when ``X`` cannot support ``n_components`` components."""
    n = X.shape[0]
    if n_components > n:
        raise FitError(
            f"{n_components} components cannot be fitted to {n} rows: each component needs "
            f"at least one row. Choose at most {n} components."
        )
    n_distinct = len(np.unique(X, axis=0)) if n_components > 1 else 1
    if n_components > n_distinct:
        raise FitError(
            f"The data hold only {n_distinct} distinct point(s), so {n_components} components "
            f"would have to share points and collapse. Choose at most {n_distinct} components."
        )


def read_only(array) -> np.ndarray:
    array = np.array(array)
    array.flags.writeable = False
    return array


def check_settings(
    *, n_components, covariance_type, n_init, random_state, init_params, reg_covar, tol, max_iter,
    stopping=DEFAULT_STOPPING,
) -> FitSettings:
    def integer(name, value, low):
        if isinstance(value, bool) or not isinstance(value, Integral) or value < low:
            raise ValueError(f"{name} must be an int >= {low}; got {value!r}.")
        return int(value)

    def positive(name, value, allow_zero=False):
        if isinstance(value, bool) or not isinstance(value, Real) or not np.isfinite(value) \
                or value < 0 or (value == 0 and not allow_zero):
            bound = ">= 0" if allow_zero else "> 0"
            raise ValueError(f"{name} must be a finite float {bound}; got {value!r}.")
        return float(value)

    if init_params not in INIT_METHODS:
        raise ValueError(
            f"init_params must be one of {', '.join(map(repr, INIT_METHODS))}; got {init_params!r}."
        )
    if stopping not in STOPPING_RULES:
        raise ValueError(f"stopping must be one of {', '.join(map(repr, STOPPING_RULES))}; got {stopping!r}.")
    if random_state is not None:
        random_state = integer("random_state", random_state, 0)
    return FitSettings(
        n_components=integer("n_components", n_components, 1),
        covariance_type=check_covariance_type(covariance_type),
        n_init=integer("n_init", n_init, 1),
        random_state=random_state,
        init_params=init_params,
        reg_covar=_regulariser(positive("reg_covar", reg_covar, allow_zero=True)),
        tol=positive("tol", tol),
        max_iter=integer("max_iter", max_iter, 1),
        stopping=stopping,
    )


def _regulariser(reg_covar: float) -> float:
    if reg_covar > MAX_REG_COVAR:
        raise ValueError(
            f"reg_covar must be at most {MAX_REG_COVAR:g}: it is the fraction of the data's own covariance added to "
            f"every component's, and more would outweigh the data; got {reg_covar!r}."
        )
    return reg_covar


def check_start(X: np.ndarray, n_components: int, weights_init, means_init, covariances_init) -> dict:
    """The given start as float arrays in data units, checked; empty when none is given."""
    d = X.shape[1]
    start = {
        "weights_init": check_init("weights_init", weights_init, (n_components,)),
        "means_init": check_init("means_init", means_init, (n_components, d)),
        "covariances_init": check_init("covariances_init", covariances_init, (n_components, d, d)),
    }
    start = {name: value for name, value in start.items() if value is not None}
    if start and "means_init" not in start:
        raise ValueError("A start needs means_init (weights_init and covariances_init are optional).")
    if "weights_init" in start:
        w = start["weights_init"]
        if np.any(w <= 0) or not np.isclose(w.sum(), 1.0, rtol=0, atol=1e-6):
            raise ValueError("weights_init must be positive and sum to 1.")
    if "covariances_init" in start:
        if "weights_init" not in start:
            raise ValueError("covariances_init needs weights_init too.")
        c = start["covariances_init"]
        if not np.allclose(c, np.swapaxes(c, 1, 2)) or not np.all(np.linalg.eigvalsh(c) > 0):
            raise ValueError("covariances_init must be symmetric positive definite.")
    return start


def check_init(name: str, value, shape: tuple[int, ...]):
    if value is None:
        return None
    array = np.asarray(value, dtype=np.float64)
    if array.shape != shape:
        raise ValueError(f"{name} must have shape {shape}; got {array.shape}.")
    if not np.isfinite(array).all():
        raise ValueError(f"{name} must be finite.")
    return array
