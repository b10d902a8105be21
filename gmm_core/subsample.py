"""Subsamples: stratified ones, so that a sweep over a million rows can choose on a few thousand,
and samples that keep every group in proportion, so that a chart of a million points shows a few
thousand that look like them."""

from __future__ import annotations

from numbers import Integral

import numpy as np
from sklearn.cluster import kmeans_plusplus
from sklearn.metrics import pairwise_distances_argmin
from threadpoolctl import threadpool_limits

from .scaling import Scaling, check_data

#: Strata: more than the components a sweep usually tries, so that each
#: cluster of the data falls into a stratum of its own.
DEFAULT_N_STRATA = 16


def stratified_subsample(
    X,
    *,
    max_rows: int,
    n_strata: int = DEFAULT_N_STRATA,
    random_state: int | None = 0,
) -> np.ndarray:
    """Rows of a subsample of ``X``, stratified so that every cluster is represented.

    The rows are grouped into ``n_strata`` strata around k-means++ seeds drawn
    from all rows (after centring and dividing by one global scale, as for
    fits): seeding samples rows by their squared distance to the seeds so far,
    so a small cluster far from the rest gets a seed even when a uniform sample
    would miss it. Each row joins its nearest seed. Each stratum gets
    ``min(size, max_rows // (8 * n_strata))`` rows, so small clusters are kept;
    the rest of the budget (at least 7/8) is shared in proportion to the rows
    left in each stratum, so the subsample keeps the data's proportions closely
    (a larger guaranteed share would inflate the tails, and with them the fitted
    variances). Rows are drawn without replacement within each stratum.

    Parameters
    ----------
    X : array-like of shape (n, d)
        Finite data, at least two rows.
    max_rows : int
        Size of the subsample, at least 2.
    n_strata : int, default=16
        Number of k-means strata, at least 1 (at most ``max_rows`` are used).
    random_state : int or None, default=0
        Seed of the seeding and of the draws; None draws a different subsample each time.

    Returns
    -------
    ndarray of int64 of shape (min(n, max_rows),)
        Row indices into ``X``, ascending; every row when ``n <= max_rows``.

    Raises
    ------
    DataError
        ``X`` is not a finite numeric matrix with at least two rows, or all its
        rows are identical.
    ValueError
        ``max_rows``, ``n_strata`` or ``random_state`` is out of range.
    """
    for name, value, low in (("max_rows", max_rows, 2), ("n_strata", n_strata, 1)):
        if isinstance(value, bool) or not isinstance(value, Integral) or value < low:
            raise ValueError(f"{name} must be an int >= {low}; got {value!r}.")
    if random_state is not None and (
        isinstance(random_state, bool) or not isinstance(random_state, Integral) or random_state < 0
    ):
        raise ValueError(f"random_state must be None or an int >= 0; got {random_state!r}.")
    X = check_data(X)
    n = X.shape[0]
    if n <= max_rows:
        return np.arange(n, dtype=np.int64)

    # Distances on raw data lose all precision for data far from the origin.
    Z = Scaling.of(X).forward(X)
    n_strata = min(int(n_strata), int(max_rows))
    with threadpool_limits(1):
        # Seeds only, no Lloyd iterations: strata need not be optimal, and
        # k-means on a sample would move a seed away from a cluster the sample missed.
        seeds, _ = kmeans_plusplus(Z, n_strata, random_state=random_state)
        strata = pairwise_distances_argmin(Z, seeds)
    sizes = np.bincount(strata, minlength=n_strata)

    floor = np.minimum(sizes, max_rows // (8 * n_strata))
    left = sizes - floor
    budget = max_rows - int(floor.sum())
    # Largest-remainder shares in exact integers: never more than a stratum has left,
    # since budget < sum(left) when n > max_rows.
    share, remainder = np.divmod(budget * left, int(left.sum()))
    share[np.argsort(-remainder, kind="stable")[: budget - int(share.sum())]] += 1
    take = floor + share

    order = np.argsort(strata, kind="stable")
    rng = np.random.default_rng(random_state)
    members = np.split(order, np.cumsum(sizes)[:-1])
    rows = [rng.choice(group, size=count, replace=False) for group, count in zip(members, take) if count]
    return np.sort(np.concatenate(rows)).astype(np.int64, copy=False)


def sample_by_group(groups: np.ndarray, cap: int, *, seed: int = 0) -> np.ndarray:
    """Sorted indices of at most ``cap`` items, every group present, groups in proportion.

    Parameters
    ----------
    groups : ndarray of shape (n,)
        Group of each item (e.g. hard labels).
    cap : int
        Largest number of indices returned; all ``n`` when ``n <= cap``.
    seed : int, default=0
        Seed of the random choice within each group, so redraws show the same points.

    Returns
    -------
    ndarray of int
    """
    n = len(groups)
    if n <= cap:
        return np.arange(n)
    rng = np.random.default_rng(seed)
    values, inverse = np.unique(groups, return_inverse=True)
    quotas = proportional_quotas(np.bincount(inverse), cap)
    chosen = [
        rng.choice(np.flatnonzero(inverse == g), size=quota, replace=False)
        for g, quota in enumerate(quotas)
    ]
    return np.sort(np.concatenate(chosen))


def proportional_quotas(sizes: np.ndarray, cap: int) -> np.ndarray:
    """Integer shares of ``cap`` in proportion to ``sizes``, at least 1 for each non-empty group.

    Assumes ``sizes.sum() > cap >= number of non-empty groups``.
    """
    sizes = np.asarray(sizes)
    exact = sizes * cap / sizes.sum()
    quotas = np.maximum(np.floor(exact).astype(int), (sizes > 0).astype(int))
    # The minimum of one may overshoot: take back from the largest shares.
    while quotas.sum() > cap:
        quotas[np.argmax(quotas)] -= 1
    # Rounding down may undershoot: hand out to the largest remainders.
    for g in np.argsort(quotas - exact):
        if quotas.sum() >= cap:
            break
        if quotas[g] < sizes[g]:
            quotas[g] += 1
    return quotas
