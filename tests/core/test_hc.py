"""hc's merges against Fraley's criterion computed from scratch (mclust's own partitions are in
test_mclust_reference.py)."""

import numpy as np
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from gmm_core.hc import hc_merges, svd_transform


def cluster_term(Z: np.ndarray, rows: list[int], alpha: float) -> float:
    """Fraley's classification-likelihood term of the cluster ``rows``, from its rows alone."""
    m, d = len(rows), Z.shape[1]
    centred = Z[rows] - Z[rows].mean(axis=0)
    W = centred.T @ centred
    trace = float(np.trace(W))
    if m <= d:
        return m * np.log((trace + alpha) / m)
    return m * np.log(max(np.linalg.det(W / m), 0.0) + (trace + alpha) / m)


@settings(max_examples=60, deadline=None)
@given(
    n=st.integers(4, 22),
    d=st.integers(1, 4),
    grid=st.booleans(),
    seed=st.integers(0, 2**32 - 1),
)
def test_every_merge_is_a_cheapest_one(n, d, grid, seed):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d)) * rng.uniform(0.1, 10.0, size=d)
    if grid:  # coarse values: duplicated rows and tied costs
        X = np.round(X)
    Z = svd_transform(X)
    assume(Z.shape[1] > 0)
    alpha = max(float(np.sum((Z - Z.mean(axis=0)) ** 2) / Z.size), np.finfo(float).eps)
    clusters = {row: [row] for row in range(n)}  # named by their lowest row, as the merges are
    terms = {row: cluster_term(Z, [row], alpha) for row in range(n)}

    def merge_cost(a: int, b: int) -> tuple[float, float]:
        merged = cluster_term(Z, clusters[a] + clusters[b], alpha)
        return merged - terms[a] - terms[b], abs(merged) + abs(terms[a]) + abs(terms[b])

    merges = hc_merges(X)
    assert merges.shape == (n - 1, 2)
    for a, b in merges:
        assert a < b and a in clusters and b in clusters
        names = sorted(clusters)
        cheapest = min(merge_cost(p, q)[0] for i, p in enumerate(names) for q in names[i + 1:])
        chosen, size = merge_cost(a, b)
        assert chosen <= cheapest + 1e-9 * (1.0 + size)
        clusters[a] += clusters.pop(b)
        terms[a] = cluster_term(Z, clusters[a], alpha)
        del terms[b]
    assert list(clusters) == [0]
