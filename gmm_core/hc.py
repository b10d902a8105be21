"""mclust's default start: model-based agglomerative hierarchical clustering (hc).

Fraley (1998), "Algorithms for model-based Gaussian hierarchical clustering",
SIAM J. Sci. Comput. 20:270-281, as mclust runs it by default before EM
(``hc(X, modelName = "VVV", use = "SVD")``): the columns are standardised and
rotated onto their principal axes, each divided by the square root of its
singular value; then, starting from one cluster per row, the two clusters
whose merge costs the least classification likelihood under the VVV model
are merged, until one cluster is left. A cluster of ``m`` rows with scatter
matrix ``W`` and ``t = tr(W)`` costs ``m log(det(W / m) + (t + alpha) / m)``
(``m log((t + alpha) / m)`` while ``m <= d``), with ``alpha`` the average
variance of the transformed data, so that small clusters are not singular.

Each cluster keeps its size, ``sqrt(m)`` times its mean, the trace of its
scatter and the scatter ``W`` itself: a merge adds them (``W_ij = W_i + W_j +
v v^T`` with ``v = sqrt(m_i m_j / (m_i + m_j)) (mean_i - mean_j)``), and a
candidate merge's determinant comes from one symmetric elimination of
``W_ij`` (mclust keeps a triangular factor of ``W`` instead, updated by Givens
rotations: several times the work, and the same merges on every reference
data set and on every random one we compared). Ties go to the pair
listed last, pairs being listed by their second cluster, then their first;
after a merge the merged cluster takes the first slot and the last cluster
moves into the second: the order in which mclust lists them, so that the
partitions are mclust's.

mclust runs hc on at most 2,000 rows (``mclust.options("subset")``); so does
:meth:`gmm_core.engine.HCTree.of` (on a random subset of larger data).
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

#: hc runs on at most this many rows, as mclust's default ``subset``.
HC_MAX_ROWS = 2000


def svd_transform(X: np.ndarray) -> np.ndarray:
    """mclust's ``use = "SVD"``: z-scores (n - 1 denominator) rotated and scaled by the SVD.

    Constant columns are dropped (their z-scores are undefined, and mclust drops
    non-finite columns). Returns an array of shape (n, min(n, d')).
    """
    X = np.asarray(X, dtype=np.float64)
    n = X.shape[0]
    sd = X.std(axis=0, ddof=1) if n > 1 else np.zeros(X.shape[1])
    keep = sd > 0
    Y = (X[:, keep] - X[:, keep].mean(axis=0)) / sd[keep]
    _, singular, vt = np.linalg.svd(Y, full_matrices=False)
    with np.errstate(divide="ignore"):
        scale = 1.0 / np.sqrt(singular)
    scale[~np.isfinite(scale)] = 0.0
    return np.ascontiguousarray((Y @ vt.T) * scale)


@njit(cache=True, nogil=True, inline="always")
def _term(m, trace, W, alpha):
    """A cluster's classification-likelihood term (mclust's ``vvvtij`` with beta = 1).

    ``W`` is the cluster's scatter matrix (its upper triangle is read, and overwritten).
    """
    d = W.shape[0]
    if m <= d:
        return m * math.log((trace + alpha) / m)
    # det(W / m) by symmetric elimination: the product of the pivots over m. A pivot that is
    # not positive means W is singular (up to rounding), where mclust's factor has a zero.
    det = 1.0
    for k in range(d):
        pivot = W[k, k]
        if not pivot > 0.0:
            det = 0.0
            break
        det *= pivot / m
        for i in range(k + 1, d):
            f = W[k, i] / pivot
            for j in range(i, d):
                W[i, j] -= f * W[k, j]
    return m * math.log(det + (trace + alpha) / m)


@njit(cache=True, nogil=True, inline="always")
def _merged(i, j, size, root_mean, trace, scatter, own, alpha, work, v):
    """Cost of merging slots ``i`` and ``j``, and the merged trace.

    ``own[k]`` is slot k's own term (``_term`` of its size, trace and scatter); ``work`` (d, d)
    and ``v`` (d,) are scratch: ``v`` is left holding sqrt(m_i m_j / m) (mean_i - mean_j).
    """
    d = scatter.shape[1]
    mi, mj = size[i], size[j]
    m = mi + mj
    si, sj = math.sqrt(mi / m), math.sqrt(mj / m)
    t = trace[i] + trace[j]
    for c in range(d):
        v[c] = sj * root_mean[i, c] - si * root_mean[j, c]
        t += v[c] * v[c]
    if m <= d:
        return m * math.log((t + alpha) / m) - own[i] - own[j], t
    # The merged scatter W_i + W_j + v v^T (upper triangle), and its term.
    if d == 2:  # _term's elimination written out: the same operations, without the loops
        a = scatter[i, 0, 0] + scatter[j, 0, 0] + v[0] * v[0]
        b = scatter[i, 0, 1] + scatter[j, 0, 1] + v[0] * v[1]
        c = scatter[i, 1, 1] + scatter[j, 1, 1] + v[1] * v[1]
        det = 0.0
        if a > 0.0:
            second = c - b / a * b
            if second > 0.0:
                det = (a / m) * (second / m)
        return m * math.log(det + (t + alpha) / m) - own[i] - own[j], t
    for a in range(d):
        for b in range(a, d):
            work[a, b] = scatter[i, a, b] + scatter[j, a, b] + v[a] * v[b]
    return _term(m, t, work, alpha) - own[i] - own[j], t


@njit(cache=True, nogil=True)
def _pair(i, j):
    """Index of the pair (i < j) in mclust's listing: by j, then i."""
    return j * (j - 1) // 2 + i


@njit(cache=True, nogil=True)
def _column_min(cost, j):
    """Lowest cost among pairs (., j) and the last row reaching it."""
    base = j * (j - 1) // 2
    best = np.inf
    for i in range(j):  # the minimum first, then its last row: two simple loops beat one
        best = min(best, cost[base + i])
    for i in range(j - 1, -1, -1):
        if cost[base + i] == best:
            return best, i
    return best, -1


@njit(cache=True, nogil=True)
def _merge_pairs(Z, alpha):
    """All n - 1 merges of hcVVV on ``Z``: (n - 1, 2) labels, each cluster named by its lowest row (0-based)."""
    n, d = Z.shape
    size = np.ones(n)
    root_mean = Z.copy()
    trace = np.zeros(n)
    scatter = np.zeros((n, d, d))
    label = np.arange(n)
    own = np.empty(n)
    for k in range(n):
        own[k] = _term(1.0, 0.0, scatter[k], alpha)
    cost = np.empty(n * (n - 1) // 2)
    work = np.empty((d, d))
    between = np.empty(d)
    if d >= 2:
        # Two single rows make a cluster of 2 <= d rows, whose term needs only its trace: the
        # same operations as _merged, in the same order (so ties break alike), without its scatter.
        single = own[0]
        half = math.sqrt(0.5)
        for j in range(1, n):
            base = j * (j - 1) // 2
            for i in range(j):
                t = 0.0
                for c in range(d):
                    v = half * Z[i, c] - half * Z[j, c]
                    t += v * v
                cost[base + i] = 2.0 * math.log((t + alpha) / 2.0) - single - single
    else:
        for j in range(1, n):
            for i in range(j):
                cost[_pair(i, j)] = _merged(i, j, size, root_mean, trace, scatter, own, alpha, work, between)[0]
    col_best = np.full(n, np.inf)
    col_arg = np.full(n, -1)
    for j in range(1, n):
        col_best[j], col_arg[j] = _column_min(cost, j)
    merges = np.empty((n - 1, 2), dtype=np.int64)
    for step in range(n - 1):
        slots = n - step
        best, bj = np.inf, -1
        for j in range(1, slots):
            if col_best[j] <= best:
                best, bj = col_best[j], j
        i, j = col_arg[bj], bj
        a, b = label[i], label[j]
        merges[step, 0], merges[step, 1] = min(a, b), max(a, b)
        if slots == 2:
            break
        # Merge j into i.
        _, t = _merged(i, j, size, root_mean, trace, scatter, own, alpha, work, between)
        m = size[i] + size[j]
        si, sj = math.sqrt(size[i] / m), math.sqrt(size[j] / m)
        for c in range(d):
            root_mean[i, c] = si * root_mean[i, c] + sj * root_mean[j, c]
            for e in range(c, d):
                scatter[i, c, e] = scatter[i, c, e] + scatter[j, c, e] + between[c] * between[e]
        trace[i] = t
        size[i] = m
        label[i] = min(a, b)
        work[:, :] = scatter[i]
        own[i] = _term(m, t, work, alpha)
        last = slots - 1
        moved = j != last
        if moved:
            # The last slot moves into slot j, with its pair costs.
            size[j], trace[j], label[j] = size[last], trace[last], label[last]
            own[j] = own[last]
            root_mean[j] = root_mean[last]
            scatter[j] = scatter[last]
        # One pass over the other slots (their pair costs lie far apart, so one visit each):
        # slot last's costs move to slot j, the merged cluster's costs are recomputed, and the
        # minimum of each later column k, which changed in rows i and j only, is brought up to
        # date; it needs a full look only when it was in a changed row that rose.
        for k in range(last):
            if moved and k != j:
                cost[_pair(min(k, j), max(k, j))] = cost[_pair(k, last)]
            if k == i:
                continue
            lo, hi = min(k, i), max(k, i)
            cost[_pair(lo, hi)] = _merged(lo, hi, size, root_mean, trace, scatter, own, alpha, work, between)[0]
            if k < i or (k == j and moved):
                continue
            top = col_arg[k]
            if top == i or (moved and k > j and top == j):
                if cost[_pair(top, k)] > col_best[k]:
                    col_best[k], col_arg[k] = _column_min(cost, k)
                    continue
                col_best[k] = cost[_pair(top, k)]  # no higher: still the minimum, every other row being higher
            for r in (i, j):
                if r < k and (r == i or moved):
                    value = cost[_pair(r, k)]
                    if value < col_best[k] or (value == col_best[k] and r > col_arg[k]):
                        col_best[k], col_arg[k] = value, r
        # Columns i and j changed throughout.
        col_best[i], col_arg[i] = _column_min(cost, i) if i > 0 else (np.inf, -1)
        if moved:
            col_best[j], col_arg[j] = _column_min(cost, j)
    return merges


def hc_merges(X) -> np.ndarray:
    """mclust's ``hc(X, modelName = "VVV", use = "SVD")`` merges, as (n - 1, 2) row labels (0-based).

    Each row of the result merges the clusters named by their lowest row index;
    the first column holds the smaller name.
    """
    Z = svd_transform(X)
    n, d = Z.shape
    if n < 2:
        return np.empty((0, 2), dtype=np.int64)
    alpha = max(float(np.sum((Z - Z.mean(axis=0)) ** 2) / (n * d)), np.finfo(float).eps)
    return _merge_pairs(np.ascontiguousarray(Z), alpha)


@njit(cache=True, nogil=True)
def _cluster_names(merges, n_rows):
    """Each row's cluster after ``merges``, named by the cluster's lowest row: a union-find in which
    each merge hangs the second cluster's root on the first's (the lower name, so roots are names)."""
    parent = np.arange(n_rows)
    for step in range(merges.shape[0]):
        parent[merges[step, 1]] = merges[step, 0]  # both are clusters' names, hence roots
    for row in range(n_rows):  # rows in order: a parent's root is known before its children's
        parent[row] = parent[parent[row]]
    return parent


def hc_partition(merges: np.ndarray, n_rows: int, n_clusters: int) -> np.ndarray:
    """Labels 0..G-1 (numbered by first appearance, as mclust's ``hclass``) after ``n_rows - G`` merges."""
    if not 1 <= n_clusters <= n_rows:
        raise ValueError(f"n_clusters must be between 1 and {n_rows}; got {n_clusters}.")
    parent = _cluster_names(np.ascontiguousarray(merges[: n_rows - n_clusters], dtype=np.int64), n_rows)
    _, first, labels = np.unique(parent, return_index=True, return_inverse=True)
    order = np.argsort(np.argsort(first))
    return order[labels]


def quantile_partition(x: np.ndarray, n_clusters: int) -> np.ndarray:
    """mclust's one-column start (``qclass``): classes between quantiles, labels 0..G-1.

    Parameters
    ----------
    x : ndarray of shape (n,)
    n_clusters : int

    Returns
    -------
    ndarray of int of shape (n,)
    """
    x = np.asarray(x, dtype=np.float64).ravel()
    eps = x.std(ddof=1) * np.sqrt(np.finfo(float).eps)
    count = n_clusters
    q = np.array([np.nan])
    while len(q) < n_clusters + 1:
        count += 1
        q = np.unique(np.quantile(x, np.linspace(0.0, 1.0, count)))
    if len(q) > n_clusters + 1:
        # Drop the boundaries closest to their predecessor (R's order(): stable).
        drop = np.argsort(np.diff(q), kind="stable")[: len(q) - n_clusters - 1]
        q = np.delete(q, drop)
    q[0], q[-1] = x.min() - eps, x.max() + eps
    labels = np.full(len(x), -1)
    for i in range(n_clusters):
        labels[(x >= q[i]) & (x < q[i + 1])] = i
    return labels
