"""Fit one Gaussian mixture with scikit-learn, robust to the scale of the data.

The data are centred and divided by ONE global scale before fitting, so that
``reg_covar`` and ``tol`` mean the same for data in micrometres or in dollars,
while every covariance family keeps its meaning (per-column scaling would turn
a spherical model into a diagonal one). Parameters are mapped back, and
likelihood numbers are reported in data units: they equal what
``sklearn.mixture.GaussianMixture`` gives for the same model on the raw data.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from numbers import Integral, Real

import numpy as np
from scipy import linalg
from sklearn.exceptions import ConvergenceWarning
from sklearn.mixture import GaussianMixture
from sklearn.mixture._gaussian_mixture import _compute_precision_cholesky

from .errors import DataError, FitError
from .families import MCLUST_NAMES, check_covariance_type, n_parameters

INIT_METHODS: tuple[str, ...] = ("kmeans", "k-means++", "random", "random_from_data")

#: Defaults chosen so that BIC, AIC and ICL are converged to about 0.01 on data of
#: a few hundred rows (scikit-learn's ``tol=1e-3`` leaves the Old Faithful BIC off
#: by more than one unit), with restarts enough to find mclust's optimum there.
DEFAULT_N_INIT = 5
DEFAULT_TOL = 1e-6
DEFAULT_MAX_ITER = 1000
DEFAULT_REG_COVAR = 1e-6

#: A component is degenerate when, in some direction, its variance is below this
#: fraction of the data's variance in that direction (it has collapsed onto a
#: line or a point) ...
COLLAPSE_RATIO = 1e-5
#: ... or when it holds fewer than ``d + 1`` points' worth of responsibility.
#: Data whose columns are exactly linear in each other (a correlation matrix with an
#: eigenvalue below this) make every component flat: the fit is degenerate too.
COLLINEAR_EIGENVALUE = 1e-9

#: Squared, a spread outside this range overflows or underflows a covariance.
MIN_SCALE, MAX_SCALE = 1e-150, 1e150


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

    def estimator(self, **overrides) -> GaussianMixture:
        """An unfitted ``GaussianMixture`` with these settings; ``overrides`` win."""
        return GaussianMixture(
            **{
                "n_components": self.n_components,
                "covariance_type": self.covariance_type,
                "tol": self.tol,
                "reg_covar": self.reg_covar,
                "max_iter": self.max_iter,
                "n_init": self.n_init,
                "init_params": self.init_params,
                "random_state": self.random_state,
            }
            | overrides
        )


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
        Component covariance matrices, always expanded to full matrices (a tied
        model repeats its one matrix K times).
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
        Free parameters, counted as scikit-learn and mclust count them.
    converged : bool
        Whether the best restart met ``tol`` within ``max_iter`` iterations.
    n_iter : int
        EM iterations of the best restart.
    covariance_type : str
    n_components : int
    degenerate : bool
        A component collapsed, which makes the likelihood meaningless; such a
        model is never chosen as best.
    warnings : tuple of str
        Plain-language warnings about this fit (not converged, degenerate, ...).
    settings : FitSettings
        The settings the model was fitted with.
    start : dict
        What EM was started from, in data units: the ``weights_init``,
        ``means_init`` and ``precisions_init`` passed to :func:`fit_gmm` (the
        ones that were given), or empty when it started from ``init_params``.
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
    n_components: int
    degenerate: bool
    warnings: tuple[str, ...]
    settings: FitSettings = field(repr=False)
    start: dict = field(default_factory=dict, repr=False)

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
        return MCLUST_NAMES[self.covariance_type]

    @property
    def uncertainty(self) -> np.ndarray:
        """``1 - max_k r_ik`` per sample, shape (n,) (mclust's uncertainty)."""
        return 1.0 - self.responsibilities.max(axis=1)

    @property
    def effective_sizes(self) -> np.ndarray:
        """Responsibility mass of each component, ``sum_i r_ik``, shape (K,)."""
        return self.responsibilities.sum(axis=0)

    def to_sklearn(self) -> GaussianMixture:
        """A fitted ``GaussianMixture`` in data units holding exactly these parameters.

        Its ``score``, ``bic``, ``aic`` and ``predict_proba`` on the fitted data
        reproduce this result's numbers.
        """
        model = self.settings.estimator()
        native = _native_covariances(self.covariances, self.covariance_type)
        model.weights_ = np.array(self.weights)
        model.means_ = np.array(self.means)
        model.covariances_ = native
        model.precisions_cholesky_ = _compute_precision_cholesky(native, self.covariance_type)
        model.precisions_ = _precisions(model.precisions_cholesky_, self.covariance_type)
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
            ``weights_init`` of shape (K,), ``means_init`` of shape (K, d) and
            ``precisions_init`` in scikit-learn's layout for the covariance type
            (see :func:`precisions_shape`), in data units.
        """
        return {
            "weights_init": self.weights,
            "means_init": self.means,
            "precisions_init": read_only(self.to_sklearn().precisions_),
        }


def fit_gmm(
    X,
    *,
    n_components: int,
    covariance_type: str = "full",
    n_init: int = DEFAULT_N_INIT,
    random_state: int | None = 0,
    init_params: str = "kmeans",
    reg_covar: float = DEFAULT_REG_COVAR,
    tol: float = DEFAULT_TOL,
    max_iter: int = DEFAULT_MAX_ITER,
    weights_init=None,
    means_init=None,
    precisions_init=None,
) -> FitResult:
    """Fit a Gaussian mixture by EM with ``sklearn.mixture.GaussianMixture``.

    Parameters
    ----------
    X : array-like of shape (n, d)
        Finite data, at least two rows.
    n_components : int
        Number of components K, ``1 <= K <= n``.
    covariance_type : {'full', 'tied', 'diag', 'spherical'}, default='full'
        mclust's VVV, EEE, VVI and VII.
    n_init : int, default=5
        EM restarts; the one with the highest likelihood is kept.
    random_state : int or None, default=0
        Seed of the initialisation.
    init_params : {'kmeans', 'k-means++', 'random', 'random_from_data'}, default='kmeans'
    reg_covar : float, default=1e-6
        Added to covariance diagonals, relative to the data's overall variance
        (the data are divided by one global scale before fitting).
    tol : float, default=1e-6
        Convergence threshold on the per-sample lower bound gain.
    max_iter : int, default=1000
        EM iterations per restart.
    weights_init : array-like of shape (K,), optional
    means_init : array-like of shape (K, d), optional
    precisions_init : array-like, optional
        Starting values in data units, ``precisions_init`` (inverse covariances)
        in scikit-learn's layout for ``covariance_type`` (see
        :func:`precisions_shape`). ``means_init`` makes restarts identical, so
        ``n_init`` is then 1. All three start EM exactly at a model: a warm
        start, as ``FitResult.as_start()`` gives.

    Returns
    -------
    FitResult

    Raises
    ------
    DataError
        ``X`` is not a finite numeric matrix with at least two rows, or all its
        rows are identical.
    FitError
        The model cannot be fitted (more components than distinct points, or
        every restart collapsed); the message says what to change.
    ValueError
        A setting is out of range.
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
    )
    d = X.shape[1]
    start = {
        "weights_init": check_init("weights_init", weights_init, (n_components,)),
        "means_init": check_init("means_init", means_init, (n_components, d)),
        "precisions_init": check_init(
            "precisions_init", precisions_init, precisions_shape(settings.covariance_type, n_components, d)
        ),
    }
    if start["precisions_init"] is not None and not np.all(
        np.linalg.eigvalsh(start["precisions_init"]) > 0
        if settings.covariance_type in ("full", "tied")
        else start["precisions_init"] > 0
    ):
        raise ValueError("precisions_init must be positive definite.")
    with warnings.catch_warnings():
        # Convergence is reported through FitResult.converged and its warnings.
        warnings.simplefilter("ignore", ConvergenceWarning)
        return fit_scaled(X, scaling, settings, start={name: v for name, v in start.items() if v is not None})


def prepare(X, **options) -> tuple[np.ndarray, "Scaling", FitSettings]:
    """What every fitting entry point starts with: checked data, its scaling, checked settings.

    ``options`` are the keyword arguments of :class:`FitSettings`. Raises as :func:`fit_gmm`.
    """
    settings = check_settings(**options)
    X = check_data(X)
    scaling = Scaling.of(X)
    check_fittable(X, settings.n_components)
    return X, scaling, settings


def check_data(X) -> np.ndarray:
    """``X`` as a float64 matrix (n, d), or ``DataError`` saying what is wrong."""
    try:
        X = np.asarray(X, dtype=np.float64)
    except (TypeError, ValueError):
        raise DataError(
            "The data must be numbers only; choose numeric columns."
        ) from None
    if X.ndim != 2:
        raise DataError(f"The data must be a table (n_samples, n_features); got {X.ndim} dimension(s).")
    n, d = X.shape
    if d < 1:
        raise DataError("No feature column is chosen; choose at least one numeric column.")
    if n < 2:
        raise DataError(f"At least 2 rows of data are needed to fit a mixture; got {n}.")
    if not np.isfinite(X).all():
        raise DataError("The data contain missing or infinite values; drop those rows first.")
    return np.ascontiguousarray(X)


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


@dataclass(frozen=True)
class Scaling:
    """``Z = (X - center) / scale`` with one global ``scale`` for all columns."""

    center: np.ndarray
    scale: float

    @classmethod
    def of(cls, X: np.ndarray) -> "Scaling":
        center = X.mean(axis=0)
        deviations = X - center
        # Divide by the largest deviation first so squaring cannot overflow or underflow.
        spread = float(np.abs(deviations).max()) if np.isfinite(center).all() else np.inf
        if spread == 0.0:
            raise DataError(
                "All rows are identical, so there is no spread to model. "
                "Choose data with at least two different points."
            )
        # Root mean square of the column standard deviations.
        scale = spread * float(np.sqrt(np.mean((deviations / spread).var(axis=0)))) if np.isfinite(spread) else spread
        if not MIN_SCALE <= scale <= MAX_SCALE:
            raise DataError(
                f"The data's spread ({scale:.1e}) is outside what covariances can hold in double "
                f"precision ({MIN_SCALE:.0e} to {MAX_SCALE:.0e}). Rescale the columns first, "
                "e.g. divide them by a power of ten, or turn on standardising."
            )
        return cls(center=center, scale=scale)

    def forward(self, points: np.ndarray) -> np.ndarray:
        return (np.asarray(points, dtype=np.float64) - self.center) / self.scale


def fit_scaled(X: np.ndarray, scaling: Scaling, settings: FitSettings, *, start: dict | None = None) -> FitResult:
    """Fit on ``scaling.forward(X)`` and report in data units (inputs already checked).

    ``start`` holds any of ``weights_init``, ``means_init`` and ``precisions_init``,
    checked and in data units, as :func:`fit_gmm` takes them.
    """
    Z = scaling.forward(X)
    n, d = Z.shape
    start = dict(start or {})
    means_init, precisions_init = start.get("means_init"), start.get("precisions_init")
    model = settings.estimator(
        n_init=1 if means_init is not None else settings.n_init,
        weights_init=start.get("weights_init"),
        means_init=None if means_init is None else scaling.forward(means_init),
        # A precision is an inverse variance: dividing the data by s multiplies it by s**2.
        precisions_init=None if precisions_init is None else np.asarray(precisions_init) * scaling.scale**2,
    )
    try:
        model.fit(Z)
    except ValueError as exc:
        if "ill-defined empirical covariance" not in str(exc):
            raise
        raise FitError(
            f"EM broke down while fitting the {settings.covariance_type} model with "
            f"{settings.n_components} components: a component shrank onto a single point or line. Choose fewer "
            f"components, a larger reg_covar (now {settings.reg_covar:g}) or another covariance type."
        ) from None

    responsibilities = model.predict_proba(Z)
    labels = responsibilities.argmax(axis=1)
    # Dividing by s shrinks every density by s**d, so the log-likelihood shifts by n d log s.
    log_likelihood = float(model.score(Z) * n - n * d * np.log(scaling.scale))
    p = n_parameters(settings.n_components, d, settings.covariance_type)
    bic = -2.0 * log_likelihood + p * np.log(n)
    aic = -2.0 * log_likelihood + 2.0 * p
    with np.errstate(divide="ignore"):
        icl = bic - 2.0 * float(np.sum(np.log(responsibilities.max(axis=1))))

    covariances_z = full_covariances(model.covariances_, settings.covariance_type, settings.n_components, d)
    collapse = collapse_reasons(Z, covariances_z, responsibilities.sum(axis=0))
    messages = list(collapse)
    if not model.converged_:
        messages.append(
            f"EM did not converge within {settings.max_iter} iterations (tol {settings.tol:g}); "
            "the criteria may still change. Raise max_iter or loosen tol."
        )

    return FitResult(
        weights=read_only(model.weights_),
        means=read_only(scaling.center + scaling.scale * model.means_),
        covariances=read_only(scaling.scale**2 * covariances_z),
        responsibilities=read_only(responsibilities),
        labels=read_only(labels),
        log_likelihood=log_likelihood,
        bic=float(bic),
        aic=float(aic),
        icl=float(icl),
        n_parameters=p,
        converged=bool(model.converged_),
        n_iter=int(model.n_iter_),
        covariance_type=settings.covariance_type,
        n_components=settings.n_components,
        degenerate=bool(collapse),
        warnings=tuple(messages),
        settings=settings,
        start={name: read_only(value) for name, value in start.items()},
    )


def collapse_reasons(Z: np.ndarray, covariances: np.ndarray, sizes: np.ndarray) -> list[str]:
    """Plain-language reasons why components are degenerate (empty when none is)."""
    n, d = Z.shape
    data_cov = np.atleast_2d(np.cov(Z, rowvar=False, bias=True))
    reasons = _flat_data_reasons(data_cov)
    # Flat data are reported once above, not again for every component.
    data_cov = data_cov + 1e-12 * np.trace(data_cov) * np.eye(d)
    for k, (cov, size) in enumerate(zip(covariances, sizes)):
        # Smallest variance of the component relative to the data's, over all directions.
        ratio = float(linalg.eigh(cov, data_cov, eigvals_only=True)[0])
        if ratio < COLLAPSE_RATIO:
            reasons.append(
                f"Component {k + 1} collapsed onto a line or point (its smallest variance is "
                f"{ratio:.1e} of the data's in that direction), which makes the likelihood "
                "meaningless. Choose fewer components or another covariance type."
            )
        elif size < d + 1:
            reasons.append(
                f"Component {k + 1} holds only {size:.1f} points' worth of data, fewer than the "
                f"{d + 1} needed to estimate its shape. Choose fewer components."
            )
    return reasons


def _flat_data_reasons(data_cov: np.ndarray) -> list[str]:
    """Why the data themselves leave no room in some direction (empty when they do not)."""
    variances = np.diag(data_cov)
    constant = np.flatnonzero(variances <= COLLINEAR_EIGENVALUE * variances.max())
    if constant.size:
        return [
            f"Feature column {j + 1} has the same value in every row, so every component is flat "
            "in that direction and the likelihood is set by reg_covar, not by the data. "
            "Drop that column."
            for j in constant
        ]
    correlation = data_cov / np.sqrt(np.outer(variances, variances))
    if np.linalg.eigvalsh(correlation)[0] < COLLINEAR_EIGENVALUE:
        return [
            "The feature columns are exact linear functions of each other (the data lie on a "
            "line or plane), so every component is flat in that direction and the likelihood is "
            "set by reg_covar, not by the data. Drop a redundant column."
        ]
    return []


def full_covariances(covariances: np.ndarray, covariance_type: str, k: int, d: int) -> np.ndarray:
    """scikit-learn's native covariance array expanded to shape (K, d, d)."""
    if covariance_type == "full":
        return np.array(covariances)
    if covariance_type == "tied":
        return np.repeat(covariances[np.newaxis], k, axis=0)
    if covariance_type == "diag":
        return np.stack([np.diag(row) for row in covariances])
    return covariances[:, np.newaxis, np.newaxis] * np.eye(d)


def _native_covariances(covariances: np.ndarray, covariance_type: str) -> np.ndarray:
    """Inverse of ``full_covariances``: full matrices back to scikit-learn's layout."""
    if covariance_type == "full":
        return np.array(covariances)
    if covariance_type == "tied":
        return np.array(covariances[0])
    if covariance_type == "diag":
        return np.array([np.diag(c) for c in covariances])
    return np.array(covariances[:, 0, 0])


def _precisions(precisions_cholesky: np.ndarray, covariance_type: str) -> np.ndarray:
    if covariance_type == "full":
        return np.einsum("kij,klj->kil", precisions_cholesky, precisions_cholesky)
    if covariance_type == "tied":
        return precisions_cholesky @ precisions_cholesky.T
    return precisions_cholesky**2


def read_only(array: np.ndarray) -> np.ndarray:
    array = np.array(array)
    array.flags.writeable = False
    return array


def check_settings(
    *, n_components, covariance_type, n_init, random_state, init_params, reg_covar, tol, max_iter
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
    if random_state is not None:
        random_state = integer("random_state", random_state, 0)
    return FitSettings(
        n_components=integer("n_components", n_components, 1),
        covariance_type=check_covariance_type(covariance_type),
        n_init=integer("n_init", n_init, 1),
        random_state=random_state,
        init_params=init_params,
        reg_covar=positive("reg_covar", reg_covar, allow_zero=True),
        tol=positive("tol", tol),
        max_iter=integer("max_iter", max_iter, 1),
    )


def precisions_shape(covariance_type: str, n_components: int, n_features: int) -> tuple[int, ...]:
    """Shape of scikit-learn's ``precisions_init`` (and ``precisions_``) for a covariance type."""
    return {
        "full": (n_components, n_features, n_features),
        "tied": (n_features, n_features),
        "diag": (n_components, n_features),
        "spherical": (n_components,),
    }[covariance_type]


def check_init(name: str, value, shape: tuple[int, ...]):
    if value is None:
        return None
    array = np.asarray(value, dtype=np.float64)
    if array.shape != shape:
        raise ValueError(f"{name} must have shape {shape}; got {array.shape}.")
    if not np.isfinite(array).all():
        raise ValueError(f"{name} must be finite.")
    return array
