"""EM one iteration at a time, from its initialisation, for step-through animation.

Every frame is recorded by the engine's own EM run (:func:`gmm_core.engine.run_em`
with ``trace=True``): frame 0 is the start, frame t the parameters after t
M-steps. The last frame therefore is the model :func:`~gmm_core.fit.fit_gmm`
returns with ``n_init=1`` and the same settings (on data small enough that
its starts run on all rows). As in ``fit_gmm`` the data are centred and
divided by one global scale before fitting, and every frame is reported in
data units.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from . import kernel
from .engine import STOPPING_RULES, Problem, Start, make_starts, model_code, responsibilities, run_em
from .errors import FitError
from .fit import (
    DEFAULT_INIT,
    DEFAULT_REG_COVAR,
    DEFAULT_STOPPING,
    DEFAULT_TOL,
    FitSettings,
    check_start,
    prepare,
    start_parameters,
    read_only,
)

#: Iterations before a trace stops; an animation needs no more, and a run that
#: needs more is reported as not converged.
DEFAULT_TRACE_MAX_ITER = 200


@dataclass(frozen=True, eq=False)
class EMTrace:
    """EM from its initialisation, one frame per iteration, in data units.

    Frame 0 is the initialisation; frame ``t`` holds the parameters after ``t``
    EM iterations, and the hard labels and log-likelihood under them. There are
    ``T = n_iter + 1`` frames.

    Attributes
    ----------
    weights : ndarray of shape (T, K)
    means : ndarray of shape (T, K, d)
    covariances : ndarray of shape (T, K, d, d)
        Full matrices whatever the covariance type (tied repeats one matrix).
    labels : ndarray of shape (T, n)
        ``argmax_k`` of the responsibilities under each frame's parameters.
    log_likelihood : ndarray of shape (T,)
        Total log-likelihood ``sum_i log p(x_i)`` under each frame's parameters.
        EM never decreases it.
    converged : bool
        Whether EM met ``tol`` within ``max_iter`` iterations.
    n_iter : int
        EM iterations run, ``T - 1``.
    covariance_type : str
    n_components : int
    settings : FitSettings
        The settings of the equivalent ``fit_gmm`` call (``n_init=1``).
    """

    weights: np.ndarray
    means: np.ndarray
    covariances: np.ndarray
    labels: np.ndarray
    log_likelihood: np.ndarray
    converged: bool
    n_iter: int
    covariance_type: str
    n_components: int
    settings: FitSettings = field(repr=False)

    @property
    def n_frames(self) -> int:
        return self.log_likelihood.shape[0]

    @property
    def alike_components(self) -> list[tuple[int, ...]]:
        """Groups (0-based, sorted) of components that ended alike: each pair's means within
        ``ALIKE`` standard deviations of each other under both covariances, and the covariances
        within ``ALIKE`` of each other relative to either. Such components describe one
        cluster: the start collapsed onto a saddle point of the likelihood.
        """
        means, covariances = self.means[-1], self.covariances[-1]
        K = len(means)
        group = list(range(K))

        def root(k):
            while group[k] != k:
                k = group[k]
            return k

        for i in range(K):
            for j in range(i + 1, K):
                if _alike(means[i], covariances[i], means[j], covariances[j]):
                    group[root(j)] = root(i)
        groups: dict[int, list[int]] = {}
        for k in range(K):
            groups.setdefault(root(k), []).append(k)
        return [tuple(g) for g in groups.values() if len(g) > 1]


#: Components closer than this (in standard deviations, and relative covariance) count as alike.
ALIKE = 0.25


def _alike(mean_a, cov_a, mean_b, cov_b) -> bool:
    for mean_1, cov_1, mean_2, cov_2 in ((mean_a, cov_a, mean_b, cov_b), (mean_b, cov_b, mean_a, cov_a)):
        try:
            factor = np.linalg.cholesky(cov_1)
        except np.linalg.LinAlgError:
            return False
        shift = np.linalg.solve(factor, mean_2 - mean_1)
        whitened = np.linalg.solve(factor, np.linalg.solve(factor, cov_2).T)
        if np.linalg.norm(shift) >= ALIKE or np.linalg.norm(whitened - np.eye(len(shift)), 2) >= ALIKE:
            return False
    return True


def em_trace(
    X,
    *,
    n_components: int,
    covariance_type: str = "full",
    init_params: str = DEFAULT_INIT,
    random_state: int | None = 0,
    means_init=None,
    reg_covar: float = DEFAULT_REG_COVAR,
    tol: float = DEFAULT_TOL,
    max_iter: int = DEFAULT_TRACE_MAX_ITER,
    stopping: str = DEFAULT_STOPPING,
) -> EMTrace:
    """Run EM once and record every iteration, starting from the initialisation.

    Parameters
    ----------
    X : array-like of shape (n, d)
    n_components : int
    covariance_type : str, default='full'
        Any model :func:`~gmm_core.fit.fit_gmm` takes.
    init_params : str, default='hc+kmeans'
        As in ``fit_gmm``; the first start it makes is the one traced (for
        'hc+kmeans', the hierarchical start).
    random_state : int or None, default=0
        Seed of the initialisation. The same ``init_params`` and
        ``random_state`` give the same starting partition under every model.
    means_init : array-like of shape (K, d), optional
        Starting means in data units (e.g. typed in, or :func:`initial_means`).
        As in scikit-learn, the starting weights and covariances still come from
        the ``init_params`` start.
    reg_covar, tol, stopping
        As in :func:`~gmm_core.fit.fit_gmm`.
    max_iter : int, default=200
        EM iterations at most.

    Returns
    -------
    EMTrace

    Raises
    ------
    DataError, ValueError
        As :func:`~gmm_core.fit.fit_gmm`.
    FitError
        The model cannot be fitted, or a component collapsed during EM.
    """
    X, scaling, settings = prepare(
        X,
        n_components=n_components,
        covariance_type=covariance_type,
        n_init=1,
        random_state=random_state,
        init_params=init_params,
        reg_covar=reg_covar,
        tol=tol,
        max_iter=max_iter,
        stopping=stopping,
    )
    given = check_start(X, n_components, None, means_init, None)
    problem = Problem.scaled(X, scaling)
    code = model_code(settings.covariance_type, problem.n_features)
    start = _first_start(problem, settings)
    if given:
        # As in scikit-learn: the given means, with the weights and covariances of the start.
        weights, _, covariances = start_parameters(problem, start, code, settings)
        start = Start("parameters", weights=weights, means=scaling.forward(given["means_init"]),
                      covariances=covariances)
    run = run_em(
        problem, start, code=code, reg_covar=settings.reg_covar, tol=settings.tol,
        rule=STOPPING_RULES[settings.stopping], max_iter=settings.max_iter, trace=True,
    )
    if run.status != kernel.OK and run.n_iter == 0 or run.frames is None:
        raise FitError(
            f"EM for {covariance_type} with {n_components} components cannot start from this "
            "initialisation: a component has no rows of its own. Choose another start or fewer components."
        )
    weights, means, covariances = run.frames
    labels = np.stack(
        [responsibilities(problem.Z, w, m, c, code)[0].argmax(axis=1) for w, m, c in zip(*run.frames)]
    )
    log_likelihood = run.history + problem.log_likelihood_shift
    if run.status != kernel.OK:
        raise FitError(
            f"EM for {covariance_type} with {n_components} components collapsed at iteration "
            f"{run.n_iter + 1}: a component shrank onto a single point or line. Choose another start, fewer "
            f"components, a larger reg_covar (now {settings.reg_covar:g}) or another model."
        )
    return EMTrace(
        weights=read_only(weights),
        means=read_only(scaling.backward(means)),
        covariances=read_only(scaling.scale**2 * covariances),
        labels=read_only(labels),
        log_likelihood=read_only(log_likelihood),
        converged=run.converged,
        n_iter=run.n_iter,
        covariance_type=settings.covariance_type,
        n_components=settings.n_components,
        settings=settings,
    )


def _first_start(problem: Problem, settings: FitSettings):
    return make_starts(
        problem, n_components=settings.n_components, init_params=settings.init_params, n_init=1,
        random_state=settings.random_state,
    )[0]


def initial_means(
    X,
    *,
    n_components: int,
    init_params: str = DEFAULT_INIT,
    random_state: int | None = 0,
) -> np.ndarray:
    """The means EM starts from, in data units, for a given initialisation.

    They depend on the initialisation only, not on the model, so passing them
    as ``means_init`` to :func:`em_trace` (or ``fit_gmm``) replays the same start
    under every model, and they can be shown or edited before EM runs.

    Parameters
    ----------
    X : array-like of shape (n, d)
    n_components : int
    init_params : str, default='hc+kmeans'
    random_state : int or None, default=0

    Returns
    -------
    ndarray of shape (K, d)
    """
    X, scaling, settings = prepare(
        X,
        n_components=n_components,
        covariance_type="VII",  # any model: the start does not depend on it
        n_init=1,
        random_state=random_state,
        init_params=init_params,
        reg_covar=DEFAULT_REG_COVAR,
        tol=DEFAULT_TOL,
        max_iter=1,
    )
    problem = Problem.scaled(X, scaling)
    _, means, _ = start_parameters(problem, _first_start(problem, settings), model_code("VII", X.shape[1]), settings)
    return scaling.backward(means)
