"""Where independent fits run: local threads by default, or a Dask cluster.

EM runs in compiled code that releases the GIL (:mod:`gmm_core.kernel`), so
local fits run in threads, which share the data without copies.

Set the environment variable ``GMM_EXPLORER_DASK_SCHEDULER`` to a scheduler's
address (``tcp://host:8786``) to send a sweep's fits to that cluster through
joblib's Dask backend. The workers must import the same ``gmm_core`` (start them
from this project's environment, e.g. ``dask worker tcp://host:8786``); a worker
started by ``dask worker`` has one BLAS/OpenMP thread per task, and each fit
limits its thread pools to one thread anyway.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

from joblib import Parallel, parallel_config

SCHEDULER_ENV = "GMM_EXPLORER_DASK_SCHEDULER"
#: Seconds to wait for the scheduler named in ``SCHEDULER_ENV`` to answer.
CONNECT_TIMEOUT = 10.0


def dask_scheduler() -> str | None:
    """The Dask scheduler address set in ``GMM_EXPLORER_DASK_SCHEDULER``, or None."""
    return os.environ.get(SCHEDULER_ENV, "").strip() or None


@contextmanager
def parallel_fits(n_jobs: int) -> Iterator[Parallel]:
    """A joblib ``Parallel`` that yields each result as soon as it is ready.

    Parameters
    ----------
    n_jobs : int
        Parallel local threads (joblib's convention: -1 is every core). Ignored
        when a Dask scheduler is set: the cluster's worker threads decide.

    Yields
    ------
    joblib.Parallel
        Call it on ``delayed`` tasks and iterate over the results, which come in
        completion order (``return_as="generator_unordered"``); the tasks must
        be picklable module-level functions, since they may run on other hosts.

    Raises
    ------
    ConnectionError
        The scheduler named in ``GMM_EXPLORER_DASK_SCHEDULER`` does not answer.
    """
    address = dask_scheduler()
    if address is None:
        yield Parallel(n_jobs=n_jobs, backend="threading", return_as="generator_unordered")
        return
    # Imported here: only a deployment that names a scheduler needs distributed.
    from distributed import Client

    try:
        client = Client(address, timeout=CONNECT_TIMEOUT, set_as_default=False)
    except OSError as exc:
        raise ConnectionError(
            f"No Dask scheduler answered at {address!r} within {CONNECT_TIMEOUT:g} s. Start the "
            f"scheduler and its workers, or unset {SCHEDULER_ENV} to fit on this machine."
        ) from exc
    with client, parallel_config(backend="dask", client=client):
        yield Parallel(return_as="generator_unordered")
