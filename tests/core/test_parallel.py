import os

import pandas as pd
import pytest
from distributed import LocalCluster
from joblib import delayed

from gmm_core import make_blobs_frame, parallel, sweep
from gmm_core.parallel import PROCESS_MAX_ROWS, SCHEDULER_ENV, dask_scheduler, parallel_fits

SMALL_SWEEP = dict(ks=[1, 2, 3], covariance_types=["full", "spherical"], n_init=2)


@pytest.mark.parametrize(("value", "expected"), [(None, None), ("", None), (" tcp://h:8786 ", "tcp://h:8786")])
def test_the_scheduler_comes_from_the_environment(monkeypatch, value, expected):
    if value is None:
        monkeypatch.delenv(SCHEDULER_ENV, raising=False)
    else:
        monkeypatch.setenv(SCHEDULER_ENV, value)
    assert dask_scheduler() == expected


def test_without_a_scheduler_small_fits_run_in_worker_processes_and_large_ones_here(monkeypatch):
    monkeypatch.delenv(SCHEDULER_ENV, raising=False)
    with parallel_fits(2, n_rows=PROCESS_MAX_ROWS) as jobs:
        assert os.getpid() not in set(jobs(delayed(os.getpid)() for _ in range(4)))
    with parallel_fits(2, n_rows=PROCESS_MAX_ROWS + 1) as jobs:
        assert set(jobs(delayed(os.getpid)() for _ in range(4))) == {os.getpid()}
    with parallel_fits(1, n_rows=10) as jobs:  # one job: no worker to start
        assert set(jobs(delayed(os.getpid)() for _ in range(2))) == {os.getpid()}


def test_processes_and_threads_give_the_same_table(blobs, monkeypatch):
    monkeypatch.delenv(SCHEDULER_ENV, raising=False)
    in_processes = sweep(blobs, **SMALL_SWEEP)
    monkeypatch.setattr(parallel, "PROCESS_MAX_ROWS", 0)
    pd.testing.assert_frame_equal(sweep(blobs, **SMALL_SWEEP), in_processes, check_exact=True)


def test_sweep_on_a_dask_cluster_equals_the_local_sweep(blobs, monkeypatch):
    larger = make_blobs_frame(n_samples=1500)[["x", "y"]].to_numpy()
    monkeypatch.delenv(SCHEDULER_ENV, raising=False)
    local = sweep(blobs, **SMALL_SWEEP)
    local_subsample = sweep(larger, max_rows=500, **SMALL_SWEEP)
    with LocalCluster(
        n_workers=1, threads_per_worker=2, processes=False, protocol="tcp", host="127.0.0.1",
        dashboard_address=None,
    ) as cluster:
        monkeypatch.setenv(SCHEDULER_ENV, cluster.scheduler_address)
        calls = []
        remote = sweep(blobs, progress=lambda done, total: calls.append(done), **SMALL_SWEEP)
        remote_subsample = sweep(larger, max_rows=500, **SMALL_SWEEP)
        (worker,) = cluster.workers.values()
        executed = worker.state.executed_count
    # joblib may batch short tasks, so only "some ran there" is certain.
    assert executed > 0
    assert calls == list(range(1, 7))
    pd.testing.assert_frame_equal(remote, local, check_exact=True)
    pd.testing.assert_frame_equal(remote_subsample, local_subsample, check_exact=True)
    assert remote_subsample.attrs == local_subsample.attrs


def test_an_unreachable_scheduler_is_a_clear_error(blobs, monkeypatch):
    monkeypatch.setenv(SCHEDULER_ENV, "tcp://127.0.0.1:9")
    monkeypatch.setattr(parallel, "CONNECT_TIMEOUT", 0.5)
    with pytest.raises(ConnectionError, match=r"No Dask scheduler answered at 'tcp://127.0.0.1:9'.*unset"):
        sweep(blobs, **SMALL_SWEEP)
