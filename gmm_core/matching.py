"""Match components across fits (stable colours) and to known labels (ground truth)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.optimize import linear_sum_assignment
from sklearn.cluster import KMeans
from sklearn.metrics import adjusted_rand_score
from sklearn.metrics.cluster import contingency_matrix
from threadpoolctl import threadpool_limits


def match_components(
    previous_means,
    new_means,
    *,
    previous_covariances=None,
    new_covariances=None,
    previous_slots=None,
) -> np.ndarray:
    """Colour slot of each new component: the slot of the old component it continues.

    Old and new components are paired by the Hungarian algorithm
    (``scipy.optimize.linear_sum_assignment``) on a cost that is the
    Bhattacharyya distance between the Gaussians when both covariance sets are
    given, else the squared distance between means with every feature divided
    by the spread of all the means in it (so that a feature in large units
    does not decide alone).

    Parameters
    ----------
    previous_means : array-like of shape (K_old, d)
    new_means : array-like of shape (K_new, d)
    previous_covariances : array-like of shape (K_old, d, d), optional
    new_covariances : array-like of shape (K_new, d, d), optional
        Full covariance matrices (as in ``FitResult.covariances``); give both or neither.
    previous_slots : array-like of int, shape (K_old,), optional
        Slots of the old components, distinct and >= 0; by default
        ``0 .. K_old - 1``. Pass the previous call's result to keep colours
        through a chain of changes.

    Returns
    -------
    ndarray of int, shape (K_new,)
        Distinct slots. A paired new component takes its old component's slot;
        when K grows, each unpaired new component takes the smallest slot that
        no old component holds. When K shrinks, the surviving components keep
        their slots.
    """
    previous_means = _check_matrix("previous_means", previous_means)
    new_means = _check_matrix("new_means", new_means)
    k_old, d = previous_means.shape
    k_new = new_means.shape[0]
    if new_means.shape[1] != d:
        raise ValueError(
            f"previous_means and new_means must have the same number of features; "
            f"got {d} and {new_means.shape[1]}."
        )
    if previous_slots is None:
        previous_slots = np.arange(k_old)
    else:
        previous_slots = np.asarray(previous_slots)
        if (
            previous_slots.shape != (k_old,)
            or not np.issubdtype(previous_slots.dtype, np.integer)
            or (previous_slots < 0).any()
            or len(np.unique(previous_slots)) != k_old
        ):
            raise ValueError(f"previous_slots must be {k_old} distinct integers >= 0; got {previous_slots!r}.")
    if (previous_covariances is None) != (new_covariances is None):
        raise ValueError("previous_covariances and new_covariances must be given together or not at all.")

    if previous_covariances is None:
        # Pooled spread of the means per feature; a feature where all agree adds nothing.
        spread = np.vstack([previous_means, new_means]).std(axis=0)
        spread[spread == 0] = 1.0
        cost = (((new_means[:, None, :] - previous_means[None, :, :]) / spread) ** 2).sum(axis=2)
    else:
        previous_covariances = _check_covariances("previous_covariances", previous_covariances, (k_old, d, d))
        new_covariances = _check_covariances("new_covariances", new_covariances, (k_new, d, d))
        cost = np.array(
            [
                [_bhattacharyya(m1, c1, m0, c0) for m0, c0 in zip(previous_means, previous_covariances)]
                for m1, c1 in zip(new_means, new_covariances)
            ]
        )

    rows, columns = linear_sum_assignment(cost)
    slots = np.full(k_new, -1)
    slots[rows] = previous_slots[columns]
    taken = set(previous_slots.tolist())
    # k_old + k_new candidates always leave enough slots that no old component holds.
    free = (slot for slot in range(k_old + k_new) if slot not in taken)
    for i in np.flatnonzero(slots < 0):
        slots[i] = next(free)
    return slots


@dataclass(frozen=True, eq=False)
class LabelMatch:
    """Predicted components matched one-to-one to known classes.

    Attributes
    ----------
    mapping : dict
        Each predicted component's matched class; components left over when
        there are more components than classes map to None.
    confusion : pandas.DataFrame of shape (C, K)
        Counts with a row per known class (sorted) and a column per predicted
        component, the columns ordered so that each class's matched component
        sits on the diagonal, left-over components last.
    adjusted_rand_index : float
        ``sklearn.metrics.adjusted_rand_score``; it needs no matching.
    mismatched : ndarray of bool, shape (n,)
        Points whose component is not matched to their class.
    """

    mapping: dict
    confusion: pd.DataFrame
    adjusted_rand_index: float
    mismatched: np.ndarray

    @property
    def accuracy(self) -> float:
        """Share of points whose component is matched to their class."""
        return float(1.0 - self.mismatched.mean())


def match_labels(true_labels, predicted) -> LabelMatch:
    """Match predicted components to known classes so that most points agree.

    The Hungarian algorithm maximises the points on the diagonal of the
    contingency table (``sklearn.metrics.cluster.contingency_matrix``); the
    numbers of classes and components may differ.

    Parameters
    ----------
    true_labels : array-like of shape (n,)
        Known classes, any hashable values without missing ones.
    predicted : array-like of shape (n,)
        Predicted components (e.g. ``FitResult.labels``), or any other labelling
        such as k-means clusters.

    Returns
    -------
    LabelMatch
    """
    true_labels, predicted = np.asarray(true_labels), np.asarray(predicted)
    if true_labels.ndim != 1 or predicted.ndim != 1 or len(true_labels) != len(predicted):
        raise ValueError(
            f"true_labels and predicted must be 1-D and of the same length; "
            f"got shapes {true_labels.shape} and {predicted.shape}."
        )
    if len(true_labels) == 0:
        raise ValueError("true_labels and predicted must not be empty.")
    if pd.isna(true_labels).any() or pd.isna(predicted).any():
        raise ValueError("true_labels and predicted must not contain missing values; drop those rows first.")

    class_codes, classes = pd.factorize(true_labels, sort=True)
    component_codes, components = pd.factorize(predicted, sort=True)
    classes, components = classes.tolist(), components.tolist()
    counts = contingency_matrix(class_codes, component_codes)
    rows, columns = linear_sum_assignment(counts, maximize=True)
    matched_class = np.full(len(components), -1)
    matched_class[columns] = rows
    order = [*columns, *np.flatnonzero(matched_class < 0)]
    mismatched = matched_class[component_codes] != class_codes
    mismatched.flags.writeable = False
    return LabelMatch(
        mapping={
            components[j]: (classes[matched_class[j]] if matched_class[j] >= 0 else None)
            for j in range(len(components))
        },
        confusion=pd.DataFrame(
            counts[:, order],
            index=pd.Index(classes, name="true"),
            columns=pd.Index([components[j] for j in order], name="predicted"),
        ),
        adjusted_rand_index=float(adjusted_rand_score(class_codes, component_codes)),
        mismatched=mismatched,
    )


def _bhattacharyya(m1: np.ndarray, c1: np.ndarray, m0: np.ndarray, c0: np.ndarray) -> float:
    """Bhattacharyya distance between N(m1, c1) and N(m0, c0); 0 only for equal Gaussians."""
    c = (c1 + c0) / 2
    delta = m1 - m0
    _, logdet = np.linalg.slogdet(c)
    _, logdet1 = np.linalg.slogdet(c1)
    _, logdet0 = np.linalg.slogdet(c0)
    return float(delta @ np.linalg.solve(c, delta) / 8 + (logdet - (logdet1 + logdet0) / 2) / 2)


def _check_matrix(name: str, value) -> np.ndarray:
    array = np.asarray(value, dtype=np.float64)
    if array.ndim != 2 or array.shape[0] < 1 or array.shape[1] < 1:
        raise ValueError(f"{name} must have shape (K, d) with K, d >= 1; got {array.shape}.")
    if not np.isfinite(array).all():
        raise ValueError(f"{name} must be finite.")
    return array


def _check_covariances(name: str, value, shape: tuple[int, int, int]) -> np.ndarray:
    array = np.asarray(value, dtype=np.float64)
    if array.shape != shape:
        raise ValueError(f"{name} must have shape {shape}; got {array.shape}.")
    if not np.isfinite(array).all():
        raise ValueError(f"{name} must be finite.")
    if not np.allclose(array, array.transpose(0, 2, 1)):
        raise ValueError(f"{name} must be symmetric positive definite matrices.")
    try:
        np.linalg.cholesky(array)
    except np.linalg.LinAlgError:
        raise ValueError(f"{name} must be symmetric positive definite matrices.") from None
    return array


@dataclass(frozen=True, eq=False)
class KMeansPartition:
    """k-means to set beside a mixture: its clusters and their centres.

    Attributes
    ----------
    labels : ndarray of int, shape (n,)
    centres : ndarray of shape (K, d)
    """

    labels: np.ndarray
    centres: np.ndarray

    def agreement_with(self, labels) -> float:
        """Adjusted Rand index between the k-means clusters and other labels of the same rows
        (a mixture's hard labels, or known classes): 1 when they are the same up to renaming."""
        return float(adjusted_rand_score(labels, self.labels))


def kmeans_partition(X, *, n_clusters: int, random_state: int, n_init: int) -> KMeansPartition:
    """scikit-learn's ``KMeans`` with a mixture's K, seed and restarts, on one thread.

    Parameters
    ----------
    X : ndarray of shape (n, d)
        The data the mixture was fitted to.
    n_clusters, random_state, n_init : int
        As the mixture's ``n_components``, ``random_state`` and ``n_init``.
    """
    with threadpool_limits(1):
        model = KMeans(n_clusters=n_clusters, random_state=random_state, n_init=n_init).fit(X)
    labels = model.labels_
    labels.flags.writeable = False
    model.cluster_centers_.flags.writeable = False
    return KMeansPartition(labels, model.cluster_centers_)


#: A component whose mean moved less than this many of its own standard deviations stayed put.
MOVED_SD = 0.5


def mean_shifts(before_means: np.ndarray, before_covariances: np.ndarray, after_means: np.ndarray) -> np.ndarray:
    """How far each component's mean moved, in standard deviations of the component it was.

    Parameters
    ----------
    before_means : ndarray of shape (K, d)
    before_covariances : ndarray of shape (K, d, d)
    after_means : ndarray of shape (K, d)
        Row k of each is the same component, before and after.

    Returns
    -------
    ndarray of shape (K,)
        ``sqrt((m'_k - m_k)^T S_k^{-1} (m'_k - m_k))``: the Mahalanobis distance of the new mean
        from the old one under the old covariance (1: one standard deviation along that direction).
    """
    shift = np.asarray(after_means, dtype=float) - np.asarray(before_means, dtype=float)
    solved = np.linalg.solve(np.asarray(before_covariances, dtype=float), shift[..., None])[..., 0]
    return np.sqrt(np.maximum(np.einsum("kd,kd->k", shift, solved), 0.0))
