"""EM for any of mclust's models from a given start, and the starts themselves.

Works in the units :class:`~gmm_core.scaling.Scaling` maps the data to (centred,
divided by one global scale); :mod:`gmm_core.fit` maps the results back. The
iterations run in the compiled :mod:`gmm_core.kernel`.

Regularisation: before each M-step every component's scatter gets
``n_k * reg_covar * psi``, where ``psi`` is the data's covariance matrix (plus
``PSI_FLOOR`` times its diagonal, so that exactly collinear columns still give
positive-definite covariances). Every model thus keeps its structure, every
column's variance grows by the fraction ``reg_covar`` of the data's variance
in that column at most, and the fit does not depend on the units of any
column for the models whose meaning allows it (``COLUMN_SCALE_EQUIVARIANT``).
With ``psi`` the identity this is scikit-learn's ``reg_covar``.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from hashlib import blake2b
from threading import Lock

import numpy as np
from sklearn.cluster import KMeans, kmeans_plusplus
from sklearn.metrics import pairwise_distances_argmin

from . import kernel
from .errors import Stopped
from .families import MODELS, model_name
from .hc import HC_MAX_ROWS, hc_merges, hc_partition, quantile_partition
from .scaling import Scaling
from .work import Work, control_of

#: How EM may be started. "hc+kmeans" runs mclust's hierarchical start and, for
#: ``n_init`` > 1, ``n_init - 1`` k-means starts besides; "hc" is mclust's start alone.
INIT_METHODS: tuple[str, ...] = ("hc+kmeans", "hc", "kmeans", "k-means++", "random", "random_from_data")
#: Stopping rules (see :func:`gmm_core.kernel.em`): "aitken" stops when the log-likelihood is
#: within ``tol`` of its limit by Aitken's estimate, "sklearn" when the mean log-likelihood moves
#: less than ``tol``, "mclust" when the log-likelihood (in the data's own units, as mclust reads
#: it) moves less than ``tol`` relative to itself.
STOPPING_RULES: dict[str, int] = {"aitken": kernel.AITKEN, "sklearn": kernel.SKLEARN, "mclust": kernel.MCLUST}
#: Rows of the data times M-steps the check for a stall near a saddle point may add to each EM
#: run of a fit (see :func:`gmm_core.kernel.em`): 367 M-steps on Old Faithful, 50 on 2,000 rows,
#: 10 on 10,000 (the subsample starts of large data too, see :func:`run_em`). On the benchmark's
#: sweeps it costs about their noise on Old Faithful and Iris and 7-10% at 10,000 rows; 500,000
#: closed a few more cells, for 38% there (bench/convergence_bench.py counts the cells).
SADDLE_CHECK_ROWS = 100_000


def saddle_check_steps(n_samples: int) -> int:
    """M-steps at most that each EM run of a fit to ``n_samples`` rows goes on past Aitken's rule
    to rule out a stall."""
    return SADDLE_CHECK_ROWS // n_samples


#: Added to the regulariser's diagonal, relative to it (see the module docstring).
PSI_FLOOR = 1e-6


def regulariser_shape(Z: np.ndarray) -> np.ndarray:
    """``psi`` of the module docstring: the covariance of ``Z`` plus ``PSI_FLOOR`` times its diagonal.

    Summed by einsum, not BLAS, so that it does not depend on how many threads BLAS uses.
    """
    centred = Z - Z.mean(axis=0)
    psi = np.einsum("ij,ik->jk", centred, centred) / len(Z)
    return np.ascontiguousarray(psi + PSI_FLOOR * np.diag(np.diag(psi)))


def compile_engine() -> None:
    """Compile the engine's and hc's machine code now (``make`` runs this once at install time,
    so that no user waits a minute for the compiler on a first fit)."""
    kernel.warm_up()
    hc_partition(hc_merges(np.random.default_rng(0).normal(size=(20, 2))), 20, 2)


def model_code(model: str, n_features: int) -> int:
    """The kernel's number of a model (E and V run as EII and VII)."""
    model = model_name(model, n_features)
    return MODELS.index({"E": "EII", "V": "VII"}.get(model, model))


@dataclass(frozen=True, eq=False)
class Problem:
    """Scaled data ready for EM: ``Z`` (n, d), the regulariser's shape ``psi`` (d, d) and
    ``log_scale``, the log of the scale the data were divided by (0 for data in their own units)."""

    Z: np.ndarray
    psi: np.ndarray
    log_scale: float = 0.0
    _subsets: dict = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def of(cls, Z: np.ndarray, *, log_scale: float = 0.0) -> "Problem":
        Z = np.ascontiguousarray(Z, dtype=np.float64)
        return cls(Z=Z, psi=regulariser_shape(Z), log_scale=float(log_scale))

    @classmethod
    def scaled(cls, X: np.ndarray, scaling: Scaling) -> "Problem":
        """The problem of data ``X`` in the units of ``scaling``."""
        return cls.of(scaling.forward(X), log_scale=np.log(scaling.scale))

    def subset(self, key, rows: Callable[[], np.ndarray]) -> tuple[np.ndarray, "Problem"]:
        """The rows ``rows()`` and the problem on them, computed once per ``key``."""
        if key not in self._subsets:
            chosen = rows()
            self._subsets[key] = (chosen, Problem.of(self.Z[chosen], log_scale=self.log_scale))
        return self._subsets[key]

    @property
    def log_likelihood_shift(self) -> float:
        """What turns a log-likelihood of ``Z`` into one of the data in their own units: dividing
        by the scale s multiplies every density by s**d, so it is ``-n d log s``."""
        return -self.n_samples * self.n_features * self.log_scale

    @property
    def n_samples(self) -> int:
        return self.Z.shape[0]

    @property
    def n_features(self) -> int:
        return self.Z.shape[1]


@dataclass(frozen=True, eq=False)
class EMRun:
    """One EM run in scaled units.

    Attributes
    ----------
    weights : (K,); means : (K, d); covariances : (K, d, d)
    log_likelihood : float
        Of the final parameters, in scaled units.
    history : ndarray
        Log-likelihood of every parameter set EM visited, the final one last
        (``n_iter + 1`` of them for plain EM).
    n_iter : int
    converged : bool
    status : int
        ``kernel.OK``, ``kernel.EMPTY`` or ``kernel.SINGULAR`` (a stopped run raises instead).
    relative_variances : ndarray of shape (K,)
        Each component's smallest variance relative to the data's (``psi``'s) in
        the same direction: how close it is to collapsing.
    frames : (weights (T, K), means (T, K, d), covariances (T, K, d, d)) or None
        With ``run_em(..., trace=True)``: the parameters before the first M-step
        and after each one, ``T = n_iter + 1``.
    """

    weights: np.ndarray
    means: np.ndarray
    covariances: np.ndarray
    log_likelihood: float
    history: np.ndarray
    n_iter: int
    converged: bool
    status: int
    relative_variances: np.ndarray
    frames: tuple | None = None

    @property
    def failed(self) -> bool:
        return self.status != kernel.OK


@dataclass(frozen=True, eq=False)
class Start:
    """Where EM starts: a partition (labels 0..K-1 of ``rows``, or of all rows when
    ``rows`` is None), soft responsibilities, or parameters; all in scaled units.

    A partition of a subset of the rows starts EM as mclust does for large data:
    the M-step on the subset, then EM on all rows.
    """

    kind: str  # "partition", "responsibilities" or "parameters"
    labels: np.ndarray | None = None
    rows: np.ndarray | None = None
    responsibilities: np.ndarray | None = None
    weights: np.ndarray | None = None
    means: np.ndarray | None = None
    covariances: np.ndarray | None = None
    name: str = ""
    #: mclust's own start runs plain EM until mclust's rule would stop it (its fit exactly),
    #: and only then SQUAREM: a jump from the start could miss the optimum mclust finds.
    plain_first: bool = False
    #: Which of a large fit's start subsamples ``labels`` and ``rows`` refer to
    #: (see :func:`gmm_core.fit.start_problems`).
    subset: int = 0


def run_em(problem: Problem, start: Start, *, code: int, reg_covar: float, tol: float, rule: int,
           max_iter: int, saddle_check: int | None = None, trace: bool = False, work: Work | None = None) -> EMRun:
    """EM of model ``code`` from ``start`` (see :class:`Start`) until ``rule`` or ``max_iter`` stops it.

    Under the Aitken rule EM runs as SQUAREM (see :func:`gmm_core.kernel.em`), and
    goes on for up to ``saddle_check`` M-steps past the rule to rule out a stall
    (by default :func:`saddle_check_steps` of the problem's rows; the runs of a
    fit on subsamples of large data are given the whole data's, so the check
    costs a fit the same whatever its starts run on). With ``trace`` (plain EM),
    the run's ``frames`` hold the weights, means and covariances before the
    first M-step and after each one.

    Raises
    ------
    Stopped
        ``work.stop()`` was called (before or while EM ran).
    """
    if work is not None:
        work.check()
    Z, psi = problem.Z, problem.psi
    d = Z.shape[1]
    if start.kind == "parameters":
        weights = np.array(start.weights, dtype=np.float64)
        means = np.array(start.means, dtype=np.float64)
        covariances = np.array(start.covariances, dtype=np.float64)
        K = len(weights)
        shape, orient, scale = np.ones((K, d)), np.eye(d), np.ones(K)
        if code in (kernel.EVE, kernel.VVE):
            orient = common_orientation(covariances)
    else:
        if start.kind == "partition":
            fitted = Z if start.rows is None else np.ascontiguousarray(Z[start.rows])
            resp = one_hot(start.labels)
        else:
            fitted, resp = Z, np.ascontiguousarray(start.responsibilities, dtype=np.float64)
        K = resp.shape[1]
        weights, means, covariances = np.empty(K), np.empty((K, d)), np.empty((K, d, d))
        shape, orient, scale = np.empty((K, d)), np.empty((d, d)), np.empty(K)
        # From mclust's start, mclust's first M-step too (they differ for VVE only).
        first = kernel.VVE_MCLUST if start.plain_first and code == kernel.VVE else code
        status = kernel.start_from_responsibilities(
            fitted, resp, first, psi, reg_covar, weights, means, covariances, shape, orient, scale
        )
        if status != kernel.OK:
            return EMRun(weights, means, covariances, -np.inf, np.array([-np.inf]), 0, False, int(status),
                         np.full(K, np.nan))
    history = np.empty(2 * max_iter + 2)
    T = max_iter + 1 if trace else 0
    frames = (np.empty((T, K)), np.empty((T, K, d)), np.empty((T, K, d, d)))
    status, n_iter, converged, n_history = kernel.em(
        Z, code, weights, means, covariances, shape, orient, scale, psi, reg_covar, tol, rule, max_iter,
        not trace, kernel.MCLUST_TOL if start.plain_first else 0.0,
        saddle_check_steps(problem.n_samples) if saddle_check is None else saddle_check,
        problem.log_likelihood_shift, control_of(work), history, *frames,
    )
    if status == kernel.STOPPED:
        raise Stopped("Stopped before it finished.")
    if work is not None:
        work.runs += 1
    if n_history == 0:
        return EMRun(weights, means, covariances, -np.inf, np.array([-np.inf]), 0, False, int(status),
                     np.full(K, np.nan))
    return EMRun(
        weights=weights,
        means=means,
        covariances=covariances,
        log_likelihood=float(history[n_history - 1]),
        history=history[:n_history].copy(),
        n_iter=int(n_iter),
        converged=bool(converged),
        status=int(status),
        relative_variances=kernel.relative_smallest_variances(covariances, psi),
        frames=tuple(part[: n_iter + 1] for part in frames) if trace else None,
    )


def common_orientation(covariances: np.ndarray) -> np.ndarray:
    """The eigenvectors (d, d) that covariances (K, d, d) of EVE or VVE share.

    Their M-step improves the orientation it is given by a few rounds of plane
    rotations (see :func:`gmm_core.kernel.mstep`), so that EM resumed from such
    parameters must start from their own orientation, not from the identity: from
    there its first M-steps would lower the likelihood, and its path leave the
    fit's. The eigenvectors are those of a combination of the covariances with
    distinct weights: those of one covariance alone are undetermined where two of
    its eigenvalues are equal.
    """
    weights = np.linspace(1.0, 2.0, len(covariances))
    _, vectors = np.linalg.eigh(np.einsum("k,kij->ij", weights, covariances))
    return np.ascontiguousarray(vectors)


def responsibilities(Z: np.ndarray, weights, means, covariances, code: int) -> tuple[np.ndarray, float]:
    """Responsibilities (n, K) and total log-likelihood of parameters on ``Z`` (scaled units)."""
    resp = np.empty((Z.shape[0], len(weights)))
    return resp, _e_step(Z, weights, means, covariances, code, resp)


def log_likelihood(Z: np.ndarray, weights, means, covariances, code: int) -> float:
    """Total log-likelihood of parameters on ``Z`` (scaled units), without the responsibilities."""
    return _e_step(Z, weights, means, covariances, code, np.empty((0, len(weights))))


def _e_step(Z: np.ndarray, weights, means, covariances, code: int, resp: np.ndarray) -> float:
    return float(kernel.responsibilities(
        np.ascontiguousarray(Z), np.asarray(weights, dtype=np.float64), np.ascontiguousarray(means, dtype=np.float64),
        np.ascontiguousarray(covariances, dtype=np.float64), kernel.is_diagonal(code), resp,
    ))


def one_hot(labels: np.ndarray, n_components: int | None = None) -> np.ndarray:
    """Labels 0..K-1 of shape (n,) as hard responsibilities (n, K)."""
    labels = np.asarray(labels)
    resp = np.zeros((len(labels), n_components or int(labels.max()) + 1))
    resp[np.arange(len(labels)), labels] = 1.0
    return resp


# -- Starts ------------------------------------------------------------------------------------


def start_seeds(random_state: int | None, count: int) -> list[int]:
    """Seeds of the random starts of a fit: the same for every model and K of a sweep."""
    return [int(s) for s in np.random.default_rng(random_state).integers(2**31 - 1, size=count)]


def make_starts(problem: Problem, *, n_components: int, init_params: str, n_init: int,
                random_state: int | None, hc_tree: "HCTree | None" = None) -> list[Start]:
    """The starts of one fit, in order (the hc start first, when there is one).

    Random starts work on the columns' z-scores, so that they do not depend on
    the columns' units. ``hc_tree`` is reused when given (a sweep builds it once).
    """
    K = n_components
    Z = problem.Z
    n = len(Z)
    if K == 1:
        return [Start("partition", labels=np.zeros(n, dtype=np.int64), name="one component")]
    starts = []
    if init_params in ("hc", "hc+kmeans"):
        tree = hc_tree if hc_tree is not None else HCTree.of(Z, random_state=random_state)
        starts.append(tree.start(K))
        if init_params == "hc":
            return starts
    method = "kmeans" if init_params == "hc+kmeans" else init_params
    count = n_init - len(starts)
    if count <= 0:
        return starts
    standard = _standardised(Z)
    for seed in start_seeds(random_state, count):
        starts.append(_random_start(standard, K, method, seed))
    return starts


def _standardised(Z: np.ndarray) -> np.ndarray:
    sd = Z.std(axis=0)
    return (Z - Z.mean(axis=0)) / np.where(sd > 0, sd, 1.0)


def _random_start(standard: np.ndarray, K: int, method: str, seed: int) -> Start:
    n = len(standard)
    if method == "kmeans":
        labels = KMeans(n_clusters=K, n_init=1, random_state=seed).fit(standard).labels_
        return Start("partition", labels=labels.astype(np.int64), name=f"k-means (seed {seed})")
    if method == "random":
        resp = np.random.default_rng(seed).uniform(size=(n, K))
        resp /= resp.sum(axis=1, keepdims=True)
        return Start("responsibilities", responsibilities=resp, name=f"random responsibilities (seed {seed})")
    if method == "k-means++":
        centres, _ = kmeans_plusplus(standard, K, random_state=seed)
    else:  # random_from_data
        centres = standard[np.random.default_rng(seed).choice(n, size=K, replace=False)]
    labels = pairwise_distances_argmin(standard, centres)
    return Start("partition", labels=labels.astype(np.int64), name=f"{method} (seed {seed})")


@dataclass(frozen=True, eq=False)
class HCTree:
    """mclust's hierarchical start, computed once per data: its merges and the rows it ran on."""

    merges: np.ndarray
    rows: np.ndarray | None
    one_column: np.ndarray | None = None

    @classmethod
    def of(cls, Z: np.ndarray, *, random_state: int | None = 0) -> "HCTree":
        """The tree of ``Z`` (on a random subset of ``HC_MAX_ROWS`` rows of larger data), cached."""
        key = (blake2b(np.ascontiguousarray(Z).view(np.uint8), digest_size=16).hexdigest(), Z.shape, random_state)
        with _HC_LOCK:
            if key in _HC_CACHE:
                _HC_CACHE.move_to_end(key)
                return _HC_CACHE[key]
        n, d = Z.shape
        rows = None
        if n > HC_MAX_ROWS:
            rows = np.sort(np.random.default_rng(random_state).choice(n, size=HC_MAX_ROWS, replace=False))
        data = Z if rows is None else Z[rows]
        tree = cls(merges=np.empty((0, 2), dtype=np.int64), rows=rows, one_column=data[:, 0].copy()) if d == 1 \
            else cls(merges=hc_merges(data), rows=rows)
        with _HC_LOCK:
            _HC_CACHE[key] = tree
            while len(_HC_CACHE) > _HC_CACHE_SIZE:
                _HC_CACHE.popitem(last=False)
        return tree

    def start(self, n_components: int) -> Start:
        """The partition into ``n_components`` clusters (mclust's ``hclass``; ``qclass`` for one column)."""
        if self.one_column is not None:
            labels = quantile_partition(self.one_column, n_components)
            name = "quantiles"
        else:
            n = len(self.merges) + 1
            labels = hc_partition(self.merges, n, n_components)
            name = "hierarchical (hc)"
        return Start("partition", labels=labels.astype(np.int64), rows=self.rows, name=name, plain_first=True)


#: hc trees of the last few data sets: a new model or K on the same data reuses the tree.
_HC_CACHE: OrderedDict = OrderedDict()
_HC_CACHE_SIZE = 4
_HC_LOCK = Lock()


def clear_hc_trees() -> None:
    """Forget every cached hc tree (a benchmark times each sweep from scratch, as mclust runs)."""
    with _HC_LOCK:
        _HC_CACHE.clear()
