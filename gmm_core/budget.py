"""What a computation costs before it starts, and what any one computation may cost: every budget.

The cost of EM is counted in *units*: one row visited by one component in one EM
iteration, times ``1 + d^2 / COLUMNS_SQUARED`` (the E-step's and the scatter's
work per row grow with the square of the columns, beyond a fixed cost per row). A fit's starts run on all
rows or, on large data, on subsamples, and the best of them is continued on all rows: the rows EM visits
per iteration are :func:`gmm_core.fit.rows_per_iteration`.

Budgets here are for an app serving several people from one small machine
(2 cores): the app clamps a shared link's settings to :data:`LINK_SECONDS`,
runs stability checks of large data on :data:`STABILITY_MAX_ROWS` rows, keeps
its caches within :data:`CACHE_MAX_BYTES` and each session's uploaded files within
:data:`SESSION_UPLOAD_BYTES`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from .fit import rows_per_iteration

#: Seconds per unit of EM work on one core of the benchmark machine: one VVV iteration with
#: K = 15 on 100,000 rows took 17 ms at d = 2, 43 ms at d = 7 and 172 ms at d = 20 (SQUAREM's
#: trial steps included).
SECONDS_PER_UNIT = 1.1e-8
COLUMNS_SQUARED = 40.0

#: A shared link may ask for at most this much work, at worst (every start running to max_iter).
LINK_SECONDS = 60.0
#: A link's settings are lowered towards these floors, in this order, until its work fits.
MIN_MAX_ITER = 100
#: Stability runs every model once per seed: on data larger than this, on a stratified subsample
#: of this many rows, where the spread between seeds is what it is on all rows.
STABILITY_MAX_ROWS = 3000
#: Bytes the app's shared caches of fits, tables and uploads may hold together (all sessions).
CACHE_MAX_BYTES = 1 << 30
#: A single cached result larger than this fraction of ``CACHE_MAX_BYTES`` is not kept.
CACHE_MAX_SHARE = 0.25
#: Bytes of uploaded files the server holds for one session: two files at the upload limit
#: (``ui.dataset.MAX_UPLOAD_MB``), the one in use and the one arriving.
SESSION_UPLOAD_BYTES = 100 * 1024**2


def em_units_per_iteration(n_samples: int, n_features: int, *, n_components: int, n_init: int) -> float:
    """Units of work (see the module docstring) of one EM iteration of every start of a fit."""
    return rows_per_iteration(n_samples, n_init) * n_components * (1.0 + n_features**2 / COLUMNS_SQUARED)


def worst_fit_seconds(n_samples: int, n_features: int, *, n_components: int, n_init: int, max_iter: int) -> float:
    """Seconds a fit takes at worst on one core: every start runs all ``max_iter`` iterations."""
    units = em_units_per_iteration(n_samples, n_features, n_components=n_components, n_init=n_init)
    return SECONDS_PER_UNIT * units * max_iter


@dataclass(frozen=True)
class Clamped:
    """Settings lowered to fit a budget, and what was lowered (``(name, asked, allowed)``)."""

    n_components: int
    n_init: int
    max_iter: int
    changes: tuple[tuple[str, int, int], ...]


def clamp_to_budget(n_samples: int, n_features: int, *, n_components: int, n_init: int, max_iter: int,
                    seconds: float = LINK_SECONDS) -> Clamped:
    """The settings closest to those asked whose :func:`worst_fit_seconds` is at most ``seconds``.

    Lowers ``max_iter`` first (to no less than ``MIN_MAX_ITER``), then ``n_init``
    (to 1), then the number of components (to 1): iterations beyond a thousand
    rarely change a fit, restarts only guard against poor optima, and K is what
    the user asked to see.
    """

    def cost(k: int, starts: int, iterations: int) -> float:
        return worst_fit_seconds(n_samples, n_features, n_components=k, n_init=starts, max_iter=iterations)

    k, starts, iterations = n_components, n_init, max_iter
    if cost(k, starts, iterations) > seconds:
        per_iteration = cost(k, starts, 1)
        iterations = min(iterations, max(MIN_MAX_ITER, math.floor(seconds / per_iteration)))
    if cost(k, starts, iterations) > seconds:
        per_start = cost(k, 1, iterations) - cost(k, 0, iterations)
        starts = max(1, min(starts, math.floor((seconds - cost(k, 0, iterations)) / per_start)))
    while k > 1 and cost(k, starts, iterations) > seconds:
        k -= 1
    changes = tuple(
        (name, asked, allowed)
        for name, asked, allowed in (("max_iter", max_iter, iterations), ("n_init", n_init, starts),
                                     ("n_components", n_components, k))
        if asked != allowed
    )
    return Clamped(n_components=k, n_init=starts, max_iter=iterations, changes=changes)
