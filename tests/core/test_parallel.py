import pandas as pd
import pytest
from distributed import LocalCluster

from gmm_core import make_blobs_frame, parallel, sweep
from gmm_core.parallel import SCHEDULER_ENV, dask_scheduler

SMALL_SWEEP = dict(ks=[1, 2, 3], covariance_types=["full", "spherical"], n_init=2)


@pytest.mark.parametrize(("value", "expected"), [(None, None), ("", None), (" tcp://h:8786 ", "tcp://h:8786")])
def test_the_scheduler_comes_from_the_environment(monkeypatch, value, expected):
    if value is None:
        monkeypatch.delenv(SCHEDULER_ENV, raising=False)
    else:
        monkeypatch.setenv(SCHEDULER_ENV, value)
    assert dask_scheduler() == expected


@pytest.mark.parametrize("n_jobs", [1, 2])
def test_threads_give_the_table_of_one_fit_at_a_time(blobs, monkeypatch, n_jobs):
    monkeypatch.delenv(SCHEDULER_ENV, raising=False)
    pd.testing.assert_frame_equal(
        sweep(blobs, n_jobs=n_jobs, **SMALL_SWEEP).table, sweep(blobs, n_jobs=1, **SMALL_SWEEP).table, check_exact=True
    )


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
    pd.testing.assert_frame_equal(remote.table, local.table, check_exact=True)
    pd.testing.assert_frame_equal(remote_subsample.table, local_subsample.table, check_exact=True)
    assert remote_subsample.subsample.candidates == local_subsample.subsample.candidates
    assert remote_subsample.subsample.refit == local_subsample.subsample.refit


def test_an_unreachable_scheduler_is_a_clear_error(blobs, monkeypatch):
    monkeypatch.setenv(SCHEDULER_ENV, "tcp://127.0.0.1:9")
    monkeypatch.setattr(parallel, "CONNECT_TIMEOUT", 0.5)
    with pytest.raises(ConnectionError, match=r"No Dask scheduler answered at 'tcp://127.0.0.1:9'.*unset"):
        sweep(blobs, **SMALL_SWEEP)
