"""Large data on the Model selection page: one sweep on a stratified subsample, said so."""

import numpy as np
from sklearn.datasets import make_blobs

from tests.app.conftest import goto, upload

N_ROWS = 30_000


def blobs_csv() -> bytes:
    """``N_ROWS`` rows of three 2-D blobs as CSV."""
    X, _ = make_blobs(n_samples=N_ROWS, centers=3, cluster_std=1.0, random_state=7)
    return b"x,y\n" + "\n".join(f"{a:.4f},{b:.4f}" for a, b in X).encode()


def test_a_large_sweep_uses_a_subsample_says_so_and_adopts_its_best(app):
    upload(app, blobs_csv(), "large.csv")
    goto(app, "model_selection")
    app.slider(key="sweep_k_range").set_value((1, 3)).run()
    app.multiselect(key="sweep_cov_types").set_value(["full", "spherical"]).run()
    app.button(key="run_sweep").click().run()
    assert not app.exception, app.exception

    record = app.session_state["sweep"]
    assert record.subsample is not None and record.subsample.total_rows == N_ROWS
    assert (record.table["criteria_rows"] == record.subsample.rows).all()
    notice = next(i.value for i in app.info if "stratified subsample" in i.value)
    assert f"{record.subsample.rows:,} of {N_ROWS:,} rows" in notice
    candidates = next(d.value for d in app.dataframe if "BIC on all rows" in d.value.columns)
    assert len(candidates) == len(record.subsample.candidates) == 3
    assert np.allclose(candidates["BIC on all rows"], [c["bic"] for c in record.subsample.candidates])

    best = record.table[record.table["best_bic"]].iloc[0]
    assert app.selectbox(key="chosen_model").value == f"{best['covariance_type']}|{best['k']}"
    # The menu names its numbers for what they are: one BIC per model, any other named.
    assert all(" · subsample BIC " in option for option in app.selectbox(key="chosen_model").options)
    # The evidence compares the candidates on all rows, so it recommends the model marked best.
    sentence = next(i.value for i in app.info if "BIC prefers" in i.value).replace("\\", "")
    assert sentence.startswith(f"BIC prefers {best['covariance_type']} ({best['model']}) with {best['k']} ")
    evidence = next(d.value for d in app.dataframe if "evidence for the best" in d.value.columns)
    assert sorted(evidence["BIC"]) == sorted(c["bic"] for c in record.subsample.candidates)
    app.button(key="use_model").click().run()
    assert app.session_state["cov_type"] == best["covariance_type"]
    assert app.session_state["n_components"] == best["k"]

    # Pressing Run sweep again with the same settings keeps the record: no second sweep.
    app.button(key="run_sweep").click().run()
    assert app.session_state["sweep"] is record
