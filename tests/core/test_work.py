"""Stopping a fit, sweep or stability run from another thread (gmm_core.work)."""

import threading
import time

import numpy as np
import pytest

from gmm_core import Stopped, Work, fit_gmm, restart_stability, sweep

#: Settings that never converge on these data: only a stop ends the run in reasonable time.
ENDLESS = {"tol": 1e-12, "max_iter": 100_000}


def slow_data() -> np.ndarray:
    return np.random.default_rng(3).normal(size=(20_000, 4))


def stop_once_running(work: Work) -> dict:
    """Stop ``work`` from a watcher thread as soon as EM has run a few steps; say how far it had got."""
    seen = {}

    def watch():
        while work.steps < 5:
            time.sleep(0.005)
        seen["steps"] = work.steps
        work.stop()

    threading.Thread(target=watch, daemon=True).start()
    return seen


@pytest.mark.parametrize(
    "run",
    [
        lambda X, work: fit_gmm(X, n_components=8, n_init=3, init_params="kmeans", work=work, **ENDLESS),
        lambda X, work: sweep(X, ks=[6, 7, 8], covariance_types=["VVV", "VVI"], n_init=1, work=work, **ENDLESS),
        lambda X, work: restart_stability(X, ks=[6, 7], covariance_types=["VVV"], seeds=[0, 1], work=work,
                                          **ENDLESS),
    ],
    ids=["fit", "sweep", "stability"],
)
def test_a_stop_ends_every_running_fit_within_an_iteration(run):
    work = Work()
    seen = stop_once_running(work)
    with pytest.raises(Stopped):
        run(slow_data(), work)
    # Every EM run checks before each M-step; a SQUAREM cycle makes two. At most two fits run
    # at once here (2 cores), and a few more may have been about to take their first step.
    assert work.steps - seen["steps"] <= 8


def test_a_stopped_work_stops_the_next_computation_before_it_starts(blobs):
    work = Work()
    work.stop()
    with pytest.raises(Stopped):
        fit_gmm(blobs, n_components=2, work=work)
    assert work.steps == 0


def test_a_work_nobody_stops_changes_nothing_but_counts_the_iterations(faithful):
    work = Work()
    watched = fit_gmm(faithful, n_components=3, covariance_type="VEV", work=work)
    plain = fit_gmm(faithful, n_components=3, covariance_type="VEV")
    assert watched.bic == plain.bic
    np.testing.assert_array_equal(watched.labels, plain.labels)
    # Every start's iterations: at least the kept run's.
    assert work.steps >= watched.n_iter > 0
