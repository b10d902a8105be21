"""Warm starts on large data: faster refits after a small change, never a stale model."""

import numpy as np
import pytest
from sklearn.datasets import make_blobs

from gmm_core import fit_gmm
from gmm_core.selection import SUBSAMPLE_MAX_ROWS
from gmm_core.subsample import stratified_subsample
from tests.app.conftest import goto, upload
from ui import state

N_ROWS = 30_000


def csv(X: np.ndarray) -> bytes:
    return b"x,y\n" + "\n".join(f"{a:.4f},{b:.4f}" for a, b in X).encode()


@pytest.fixture(scope="module")
def blobs() -> np.ndarray:
    X, _ = make_blobs(n_samples=N_ROWS, centers=3, cluster_std=1.0, random_state=7)
    return np.round(X, 4)  # as written to the CSV


def shown_model(app):
    """``as_start()`` of the model the Fit page shows (kept by ``ui.warm.remember``)."""
    return app.session_state[state.LAST_FIT].start.params


def assert_shows(app, expected):
    """The page shows ``expected``: its weights and means to the last bit."""
    for name, value in expected.as_start().items():
        np.testing.assert_array_equal(shown_model(app)[name], value)


def notices(app) -> list[str]:
    """The warm-start notices on the page, Markdown escapes removed."""
    texts = [i.value.replace("\\", "") for i in app.info]
    return [text for text in texts if "one EM run started from" in text]


def sidebar_settings(app, **changes):
    settings = dict(
        n_components=app.session_state["n_components"], covariance_type=app.session_state["cov_type"],
        n_init=app.session_state["n_init"], random_state=app.session_state["seed"],
        init_params=app.session_state["init_params"], reg_covar=app.session_state["reg_covar"],
        tol=app.session_state["tol"], max_iter=app.session_state["max_iter"],
    )
    return settings | changes


def from_subsample(X, settings: dict):
    """What the app fits first on large data: EM on all rows from the best restart on a stratified subsample."""
    rows = stratified_subsample(X, max_rows=SUBSAMPLE_MAX_ROWS, random_state=settings["random_state"])
    return fit_gmm(X, **settings, **fit_gmm(X[rows], **settings).as_start())


def test_a_small_change_refits_warm_and_going_back_or_from_scratch_is_never_stale(app, blobs):
    upload(app, csv(blobs), "large.csv")
    goto(app, "fit")
    first = from_subsample(blobs, sidebar_settings(app))
    assert_shows(app, first)
    (notice,) = notices(app)
    assert f"started from the best of 8 restarts on a stratified subsample of {SUBSAMPLE_MAX_ROWS:,} rows" in notice
    scratch = fit_gmm(blobs, **sidebar_settings(app))
    assert first.bic == pytest.approx(scratch.bic, rel=1e-6)  # the same optimum, reached faster

    default_reg_covar = app.session_state["reg_covar"]
    app.number_input(key="reg_covar").set_value(1e-4).run()
    warm = fit_gmm(blobs, **sidebar_settings(app), **first.as_start())
    assert_shows(app, warm)
    (notice,) = notices(app)
    assert "started from the previous fit" in notice and f"all {N_ROWS:,} rows" in notice
    # A few iterations: the stopping rule's two cycles of two, and the saddle check's.
    assert warm.n_iter <= 8 and warm.bic == pytest.approx(fit_gmm(blobs, **sidebar_settings(app)).bic, rel=1e-6)

    # Back to the first settings: the first model, not one started from the second.
    app.number_input(key="reg_covar").set_value(default_reg_covar).run()
    assert_shows(app, first)

    # Forward again (cached with its start), then from scratch on request.
    app.number_input(key="reg_covar").set_value(1e-4).run()
    assert_shows(app, warm)
    app.button(key="fit_from_scratch").click().run()
    assert_shows(app, fit_gmm(blobs, **sidebar_settings(app)))
    assert not notices(app)

    # A new K asks for a new initialisation: restarts on the subsample again.
    app.number_input(key="n_components").set_value(4).run()
    assert_shows(app, from_subsample(blobs, sidebar_settings(app)))
    assert "stratified subsample" in notices(app)[0]


def test_a_new_version_of_the_table_starts_from_the_last_model(app, blobs):
    upload(app, csv(blobs), "large.csv")
    goto(app, "fit")
    before = from_subsample(blobs, sidebar_settings(app))
    changed = blobs.copy()
    changed[:300] += 0.5  # 1% of the rows moved
    changed = np.round(changed, 4)  # as written to the CSV (x + 0.5 can be a bit off the 4 decimals)
    upload(app, csv(changed), "large v2.csv")
    goto(app, "fit")
    after = fit_gmm(changed, **sidebar_settings(app), **before.as_start())
    assert_shows(app, after)
    assert after.bic != before.bic  # the model of the new data, not the cached old one
    assert "started from the previous fit" in notices(app)[0]


def test_use_this_model_after_a_subsampled_sweep_shows_the_sweeps_refit(app, blobs):
    upload(app, csv(blobs), "large.csv")
    goto(app, "model_selection")
    app.slider(key="sweep_k_range").set_value((2, 4)).run()
    app.multiselect(key="sweep_cov_types").set_value(["full", "spherical"]).run()
    app.button(key="run_sweep").click().run()
    record = app.session_state["sweep"]
    best = record.table[record.table["best_bic"]].iloc[0]
    app.button(key="use_model").click().run()
    goto(app, "fit")
    refit = record.subsample.refit
    start = record.subsample.starts[best["k"], best["covariance_type"]]
    shown = fit_gmm(blobs, **sidebar_settings(app), **start)
    assert_shows(app, shown)
    assert shown.bic == pytest.approx(refit["bic"], rel=1e-12) and shown.n_iter == refit["n_iter"]
    (notice,) = notices(app)
    assert f"stratified subsample of {record.subsample.rows:,} rows" in notice


def test_small_data_always_fits_from_scratch(app):
    app.number_input(key="reg_covar").set_value(1e-4).run()
    assert not notices(app)
    assert state.LAST_FIT not in app.session_state
