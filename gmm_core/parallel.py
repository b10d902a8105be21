"""Where independent fits run: local worker processes or threads by default, or a Dask cluster.

Locally, fits of up to ``PROCESS_MAX_ROWS`` rows run in joblib's (loky) worker
processes: such a fit spends most of its time in Python, holding the GIL, so
threads cannot run two at once (bench/RESULTS.md). Larger fits run in threads,
which share the data without copies while numpy releases the GIL.

Set the environment variable ``GMM_EXPLORER_DASK_SCHEDULER`` to a scheduler's
address (``tcp://host:8786``) to send a sweep's fits to that cluster through
joblib's Dask backend. The workers must import the same ``gmm_core`` (start them
from this project's environment, e.g. ``dask worker tcp://host:8786``); a worker
started by ``dask worker`` has one BLAS/OpenMP thread per task, and each fit
limits its thread pools to one thread anyway.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Iterator
from contextlib import contextmanager

from joblib import Parallel, parallel_config

SCHEDULER_ENV = "GMM_EXPLORER_DASK_SCHEDULER"
#: Seconds to wait for the scheduler named in ``SCHEDULER_ENV`` to answer.
CONNECT_TIMEOUT = 10.0
#: Fits of at most this many rows run in worker processes, larger ones in threads.
PROCESS_MAX_ROWS = 20_000
#: Seconds an idle worker process lives. The calls of one sweep (one per K in the app)
#: come back to back; after it, the workers' memory (about 150 MiB each) goes back to
#: the machine, and the next sweep starts them again in about 0.3 s.
IDLE_WORKER_SECONDS = 5

# A worker that times out just as new fits arrive is replaced at once by loky's executor,
# which still warns about "a too short worker timeout": the timeout above, chosen.
warnings.filterwarnings(
    "ignore", message="A worker stopped while some jobs were given to the executor", category=UserWarning
)


def dask_scheduler() -> str | None:
    """The Dask scheduler address set in ``GMM_EXPLORER_DASK_SCHEDULER``, or None."""
    return os.environ.get(SCHEDULER_ENV, "").strip() or None


@contextmanager
def parallel_fits(n_jobs: int, *, n_rows: int) -> Iterator[Parallel]:
    """A joblib ``Parallel`` that yields each result as soon as it is ready.

    Parameters
    ----------
    n_jobs : int
        Parallel local workers (joblib's convention: -1 is every core). Ignored
        when a Dask scheduler is set: the cluster's worker threads decide.
    n_rows : int
        Rows of each fit: up to ``PROCESS_MAX_ROWS`` the local workers are
        processes, else threads.

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
        if n_rows <= PROCESS_MAX_ROWS and n_jobs != 1:
            with parallel_config(backend="loky", idle_worker_timeout=IDLE_WORKER_SECONDS):
                yield Parallel(n_jobs=n_jobs, return_as="generator_unordered")
        else:
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
