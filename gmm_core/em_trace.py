"""EM one iteration at a time, from its initialisation, for step-through animation.

Every frame is computed once, up front, by scikit-learn's own EM code: a
``GaussianMixture`` with ``warm_start=True`` is initialised with ``max_iter=0``
and then advanced with ``max_iter=1`` per call, which runs exactly the E-step,
M-step and convergence test of an uninterrupted fit. The last frame therefore
is the model :func:`~gmm_core.fit.fit_gmm` returns with ``n_init=1`` and the
same settings. As in ``fit_gmm`` the data are centred and divided by one global
scale before fitting, and every frame is reported in data units.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from threadpoolctl import threadpool_limits

from .errors import FitError
from .fit import (
    DEFAULT_REG_COVAR,
    DEFAULT_TOL,
    FitSettings,
    check_init,
    prepare,
    read_only,
    full_covariances,
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


def em_trace(
    X,
    *,
    n_components: int,
    covariance_type: str = "full",
    init_params: str = "kmeans",
    random_state: int | None = 0,
    means_init=None,
    reg_covar: float = DEFAULT_REG_COVAR,
    tol: float = DEFAULT_TOL,
    max_iter: int = DEFAULT_TRACE_MAX_ITER,
) -> EMTrace:
    """Run EM once and record every iteration, starting from the initialisation.

    Parameters
    ----------
    X : array-like of shape (n, d)
    n_components : int
    covariance_type : {'full', 'tied', 'diag', 'spherical'}, default='full'
    init_params : {'kmeans', 'k-means++', 'random', 'random_from_data'}, default='kmeans'
    random_state : int or None, default=0
        Seed of the initialisation. The same ``init_params`` and
        ``random_state`` give the same starting means under every covariance type.
    means_init : array-like of shape (K, d), optional
        Starting means in data units (e.g. clicked or typed in, or
        :func:`initial_means`). As in scikit-learn, the starting weights and
        covariances still come from the ``init_params`` partition.
    reg_covar, tol
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
    )
    means_init = check_init("means_init", means_init, (n_components, X.shape[1]))
    Z = scaling.forward(X)
    n, d = Z.shape
    frames = []
    # Tiny matrices: starting BLAS and OpenMP threads costs more than it saves.
    with warnings.catch_warnings(), threadpool_limits(1):
        # Convergence is reported by EMTrace.converged.
        warnings.simplefilter("ignore", ConvergenceWarning)
        model = settings.estimator(
            max_iter=0,
            means_init=None if means_init is None else scaling.forward(means_init),
            warm_start=True,
        )
        for iteration in range(settings.max_iter + 1):
            try:
                # fit_predict ends with an E-step under the new parameters: their labels.
                labels = model.fit_predict(Z)
            except ValueError as exc:
                if "ill-defined empirical covariance" not in str(exc):
                    raise
                raise FitError(
                    f"EM for the {settings.covariance_type} model with {settings.n_components} "
                    f"components collapsed at iteration {iteration}: a component shrank onto a "
                    "single point or line. Choose another start, fewer components, a larger "
                    f"reg_covar (now {settings.reg_covar:g}) or another covariance type."
                ) from None
            frames.append(
                (
                    model.weights_.copy(),
                    model.means_.copy(),
                    full_covariances(model.covariances_, settings.covariance_type, settings.n_components, d),
                    labels,
                    # Dividing by s shrinks every density by s**d, so the log-likelihood shifts by n d log s.
                    model.score(Z) * n - n * d * np.log(scaling.scale),
                )
            )
            if model.converged_:
                break
            model.set_params(max_iter=1)

    weights, means, covariances, labels, log_likelihood = (np.stack(parts) for parts in zip(*frames))
    return EMTrace(
        weights=read_only(weights),
        means=read_only(scaling.center + scaling.scale * means),
        covariances=read_only(scaling.scale**2 * covariances),
        labels=read_only(labels),
        log_likelihood=read_only(log_likelihood),
        converged=bool(model.converged_),
        n_iter=len(frames) - 1,
        covariance_type=settings.covariance_type,
        n_components=settings.n_components,
        settings=settings,
    )


def initial_means(
    X,
    *,
    n_components: int,
    init_params: str = "kmeans",
    random_state: int | None = 0,
) -> np.ndarray:
    """The means EM starts from, in data units, for a given initialisation.

    They depend on the initialisation only, not on the covariance type, so
    passing them as ``means_init`` to :func:`em_trace` (or ``fit_gmm``) replays
    the same start under every covariance type, and they can be shown or edited
    before EM runs.

    Parameters
    ----------
    X : array-like of shape (n, d)
    n_components : int
    init_params : {'kmeans', 'k-means++', 'random', 'random_from_data'}, default='kmeans'
    random_state : int or None, default=0

    Returns
    -------
    ndarray of shape (K, d)
    """
    X, scaling, settings = prepare(
        X,
        n_components=n_components,
        covariance_type="spherical",
        n_init=1,
        random_state=random_state,
        init_params=init_params,
        reg_covar=DEFAULT_REG_COVAR,
        tol=DEFAULT_TOL,
        max_iter=1,
    )
    with threadpool_limits(1):
        # max_iter=0 stops after the initialisation. Spherical covariances cannot
        # fail to factorise, and the means are the same for every type.
        model = settings.estimator(max_iter=0).fit(scaling.forward(X))
    return scaling.center + scaling.scale * model.means_
