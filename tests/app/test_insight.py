"""Insight features through AppTest: EM step-through, stable colours, evidence, stability across
seeds, diagnostics, known labels, k-means side by side and the reproduction script."""

import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from sklearn.cluster import KMeans
from sklearn.metrics import adjusted_rand_score

from gmm_core import (
    EMTrace,
    bic_evidence,
    em_trace,
    fit_gmm,
    initial_means,
    labelled_csv,
    load_dataset,
    make_blobs_frame,
    match_labels,
    describe_model,
    recommendation,
    restart_stability,
)
from tests.app.conftest import chart, goto, table_with, traces, upload, values
from ui import colours, em_view, export_view
from ui.em_figures import em_animation
from ui.tables import model_label
from ui.text import escape_markdown

SEED_X = make_blobs_frame()[["x", "y"]].to_numpy()
MODELS_SHOWN = [
    "full (VVV)", "tied (EEE)", "diag (VVI)", "spherical (VII)",
    "EII", "EEI", "VEI", "EVI", "VEE", "EVE", "VVE", "EEV", "VEV", "EVV",
]


def part(frame: dict, meta: str) -> dict:
    """The trace tagged ``meta`` in an animation frame."""
    (trace,) = [t for t in frame["data"] if t.get("meta") == meta]
    return trace


def xy(trace: dict) -> np.ndarray:
    return np.column_stack([values(trace["x"]), values(trace["y"])])


def assert_monotone(log_likelihood: np.ndarray) -> None:
    assert (np.diff(log_likelihood) >= -1e-9 * np.abs(log_likelihood[1:])).all(), log_likelihood


def metric(at, label: str) -> str:
    return next(m.value for m in at.metric if m.label == label)


def open_iris(at):
    goto(at, "data")
    at.radio(key="source").set_value("builtin").run()
    at.selectbox(key="builtin").set_value("iris").run()
    return at


# EM step-through -------------------------------------------------------------------------------


def test_em_page_animates_every_iteration_with_a_monotone_likelihood(app):
    goto(app, "em")
    assert app.selectbox(key="em_init").value == "random"
    assert app.selectbox(key="em_cov_type").value == "full"
    start = initial_means(SEED_X, n_components=3, init_params="random", random_state=0)
    expected = em_trace(
        SEED_X, n_components=3, covariance_type="full", init_params="random", random_state=0, means_init=start,
        max_iter=em_view.EM_MAX_ITER,
    )
    spec = chart(app, "em_chart")
    frames = spec["frames"]
    assert expected.n_frames > 10  # something to watch
    assert [f["name"] for f in frames] == [str(t) for t in range(expected.n_frames)]
    for t, frame in enumerate(frames):
        assert len(values(part(frame, "log_likelihood")["y"])) == t + 1
        labels = values(part(frame, "em_points")["marker"]["color"])
        assert adjusted_rand_score(labels, expected.labels[t]) == pytest.approx(1.0)
    trace = values(part(frames[-1], "log_likelihood")["y"])
    np.testing.assert_allclose(trace, expected.log_likelihood)
    assert_monotone(trace)
    np.testing.assert_allclose(xy(part(frames[0], "em_means")), start)
    np.testing.assert_allclose(xy(part(frames[-1], "em_means")), expected.means[-1])
    # Play and pause run in the browser; the slider steps through every iteration.
    menu = spec["layout"]["updatemenus"][0]["buttons"]
    assert [b["label"] for b in menu[:2]] == ["▶ Play", "❚❚ Pause"]
    assert [s["args"][0] for s in spec["layout"]["sliders"][0]["steps"]] == [[f["name"]] for f in frames]
    assert metric(app, "EM iterations") == str(expected.n_iter)


def test_the_same_start_is_replayed_under_each_of_the_14_models(app):
    goto(app, "em")
    start = xy(part(chart(app, "em_chart")["frames"][0], "em_means"))
    app.selectbox(key="em_cov_type").set_value("VEV").run()
    assert app.selectbox(key="cov_type").value == "full"  # the sidebar's model is left alone
    frames = chart(app, "em_chart")["frames"]
    np.testing.assert_allclose(xy(part(frames[0], "em_means")), start)
    compare = chart(app, "em_compare_chart")
    curves = traces(compare, "type_log_likelihood")
    assert [c["name"] for c in curves] == MODELS_SHOWN
    for curve in curves:
        assert_monotone(values(curve["y"]))
    for ring in traces(compare, "em_start"):
        np.testing.assert_allclose(xy(ring), start)
    assert table_with(app, "final log-likelihood")["model"].tolist() == MODELS_SHOWN


def test_em_starts_from_means_entered_in_a_table(app):
    goto(app, "em")
    app.selectbox(key="em_init").set_value("manual").run()
    assert not app.exception and not app.error
    kmeans_start = initial_means(SEED_X, n_components=3, init_params="kmeans", random_state=0)
    editor = app.dataframe[0].value
    assert list(editor.columns) == ["x", "y"]
    np.testing.assert_allclose(editor.to_numpy(), kmeans_start)
    np.testing.assert_allclose(xy(part(chart(app, "em_chart")["frames"][0], "em_means")), kmeans_start)


def test_entered_means_are_checked():
    good = pd.DataFrame({"x": [1.0, 2.0], "y": [3.0, 4.0]})
    np.testing.assert_array_equal(em_view.parse_means(good, 2), [[1.0, 3.0], [2.0, 4.0]])
    with pytest.raises(ValueError, match="Component 2 needs a number for y"):
        em_view.parse_means(good.assign(y=[3.0, None]), 2)
    with pytest.raises(ValueError, match="Component 1 needs a number for x"):
        em_view.parse_means(good.assign(x=[np.inf, 1.0]), 2)
    with pytest.raises(ValueError, match="3 rows, not 2"):
        em_view.parse_means(good, 3)


def test_the_largest_animation_stays_small():
    """K = 15, 100 iterations, every row EM may run on: the chart stays well under 5 MB."""
    T, K, n = em_view.EM_MAX_ITER + 1, 15, em_view.EM_MAX_ROWS
    rng = np.random.default_rng(0)
    trace = EMTrace(
        weights=np.full((T, K), 1 / K), means=rng.normal(size=(T, K, 2)), covariances=np.tile(np.eye(2), (T, K, 1, 1)),
        labels=rng.integers(0, K, size=(T, n)), log_likelihood=np.sort(rng.normal(size=T)), converged=False,
        n_iter=T - 1, covariance_type="full", n_components=K, settings=None,
    )
    figure = em_animation(trace, rng.normal(size=(n, 2)), pair=(0, 1), slots=np.arange(K), axis_names=("x", "y"))
    assert len(figure.frames) == T
    assert len(figure.to_json()) < 5_000_000


# Stable colours --------------------------------------------------------------------------------


def colours_and_means(spec: dict) -> tuple[list[str], np.ndarray]:
    """Each component's ellipse colour and its mean, in component order."""
    return [t["line"]["color"] for t in traces(spec, "ellipse")], xy(traces(spec, "means")[0])


def assert_same_colours_on_same_components(before, after) -> None:
    """Every colour of ``before`` sits on the component of ``after`` nearest to it."""
    for colour, mean in zip(*before):
        k = after[0].index(colour)
        assert np.linalg.norm(after[1][k] - mean) < 0.5, (colour, mean, after)


def test_components_keep_their_colours_when_k_type_or_seed_change(app):
    three = colours_and_means(chart(app, "fit_chart"))
    assert set(three[0]) <= set(colours.PALETTE) and len(set(three[0])) == 3
    app.number_input(key="n_components").set_value(4).run()
    four = colours_and_means(chart(app, "fit_chart"))
    assert set(three[0]) < set(four[0])
    # The three components of K = 3 continue in the K = 4 components nearest to them.
    for colour, mean in zip(*three):
        k = four[0].index(colour)
        assert np.argmin(np.linalg.norm(four[1] - mean, axis=1)) == k
    app.number_input(key="n_components").set_value(3).run()
    back = colours_and_means(chart(app, "fit_chart"))
    app.selectbox(key="cov_type").set_value("spherical").run()
    assert_same_colours_on_same_components(back, colours_and_means(chart(app, "fit_chart")))
    app.number_input(key="seed").set_value(99).run()
    assert_same_colours_on_same_components(back, colours_and_means(chart(app, "fit_chart")))
    # The EM page draws its components in the Fit page's colours.
    goto(app, "em")
    last = chart(app, "em_chart")["frames"][-1]
    em_colours = [t["line"]["color"] for t in last["data"] if t.get("meta") == "em_ellipse"]
    assert_same_colours_on_same_components(back, (em_colours, xy(part(last, "em_means"))))


def test_the_palette_is_colour_blind_safe_and_covers_every_k():
    okabe_ito = {"#E69F00", "#56B4E9", "#009E73", "#F0E442", "#0072B2", "#D55E00", "#CC79A7"}
    assert okabe_ito <= set(colours.PALETTE[:7])
    assert len(set(colours.PALETTE)) == len(colours.PALETTE) >= 15
    marker = colours.slot_marker(np.array([0, 14, 3]))
    scale = dict((round(v * marker["cmax"]), c) for v, c in marker["colorscale"])
    assert [scale[s] for s in marker["color"]] == [colours.PALETTE[0], colours.PALETTE[14], colours.PALETTE[3]]


# Model choice: evidence and stability ----------------------------------------------------------


def sweep(at, ks=(1, 3), types=("full", "spherical")):
    goto(at, "model_selection")
    at.slider(key="sweep_k_range").set_value(ks).run()
    at.multiselect(key="sweep_cov_types").set_value(list(types)).run()
    at.button(key="run_sweep").click().run()
    assert not at.exception
    return at.session_state["sweep"].table


def test_evidence_names_the_runner_up_in_kass_raftery_words(app):
    table = sweep(app)
    sentence = recommendation(table)
    assert escape_markdown(sentence) in [i.value for i in app.info]
    ranked = bic_evidence(table).dropna(subset=["delta_bic"]).sort_values("delta_bic")
    assert f"The runner-up, {describe_model(ranked.iloc[1])}, has a BIC" in sentence
    evidence = table_with(app, "evidence for the best")
    assert evidence["model"].tolist() == [model_label(r.k, r.covariance_type) for r in ranked.itertuples()]
    assert evidence["evidence for the best"].iloc[0] == "best" and evidence["Δ BIC"].iloc[0] == 0
    assert set(evidence["evidence for the best"].iloc[1:]) <= {
        "not worth more than a bare mention", "positive", "strong", "very strong",
    }
    assert {"ICL", "Δ ICL", "best by ICL"} <= set(evidence.columns)


def test_stability_across_seeds_shows_spread_wins_and_restart_ari(app):
    sweep(app)
    app.number_input(key="stability_seeds").set_value(3).run()
    app.button(key="run_stability").click().run()
    assert not app.exception
    expected = restart_stability(SEED_X, ks=[1, 2, 3], covariance_types=["full", "spherical"], seeds=[0, 1, 2])
    k, covariance_type = expected.chosen
    chosen = expected.models.set_index(["k", "covariance_type"]).loc[(k, covariance_type)]
    assert metric(app, "Wins most often") == model_label(k, covariance_type)
    assert metric(app, "Share of seeds it wins") == f"{chosen['win_share']:.0%}"
    assert metric(app, "ARI between its restarts") == f"{chosen['restart_ari']:.3f}"
    spec = chart(app, "stability_chart")
    assert len(traces(spec, "bic_spread")) == 6 and len(traces(spec, "win_share")) == 1
    assert len(table_with(app, "restart_ari")) == 6
    # A new sweep makes the stability run stale instead of mixing the two.
    sweep(app, ks=(1, 2))
    assert any("Press Run stability again" in i.value for i in app.info)


# Fit page: diagnostics, known labels, k-means --------------------------------------------------


def test_diagnostics_show_every_restart(app):
    app.session_state["show_diagnostics"] = True
    app.run()
    restarts = table_with(app, "kept")
    assert len(restarts) == 8 and restarts["kept"].sum() == 1 and restarts["converged"].all()
    assert metric(app, "Restarts converged") == "8 of 8"
    components = table_with(app, "condition_number")
    assert components["weight"].sum() == pytest.approx(1.0) and components["points"].sum() == 600
    assert metric(app, "Smallest weight") == f"{components['weight'].min():.3f}"


def test_a_degenerate_fit_opens_the_diagnostics_and_says_why(app):
    rng = np.random.default_rng(0)
    rows = [*rng.normal(size=(40, 2)).round(4).tolist(), *[[10.0, 10.0]] * 6]
    upload(app, b"u,v\n" + "".join(f"{u},{v}\n" for u, v in rows).encode(), "stuck.csv")
    goto(app, "fit")
    app.number_input(key="n_components").set_value(2).run()
    assert metric(app, "Restarts converged")  # opened by itself
    assert "collapsed onto a line or point" in table_with(app, "condition_number")["note"].str.cat()
    assert any("collapsed onto a line or point" in m.value for m in app.markdown)


def test_known_labels_confusion_matrix_and_misclassified_points(app):
    open_iris(app)
    goto(app, "fit")
    iris = load_dataset("iris")
    X = iris[["petal_length", "petal_width"]].to_numpy()
    result = fit_gmm(X, n_components=3, covariance_type="full", n_init=8, random_state=0)
    match = match_labels(iris["species"].astype(str), result.labels)
    wrong = int(match.mismatched.sum())
    assert wrong > 0  # versicolor and virginica overlap
    assert metric(app, "Misclassified points") == str(wrong)
    assert metric(app, "Agree after matching") == f"{match.accuracy:.1%}"
    (rings,) = traces(chart(app, "fit_chart"), "misclassified")
    assert set(map(tuple, xy(rings))) == set(map(tuple, X[match.mismatched]))
    heatmap = chart(app, "confusion_matrix")["data"][0]
    assert heatmap["y"] == ["setosa", "versicolor", "virginica"]
    assert np.trace(values(heatmap["z"])) == len(X) - wrong
    app.toggle(key="show_misclassified").set_value(False).run()
    assert not traces(chart(app, "fit_chart"), "misclassified")


def test_kmeans_side_by_side(app):
    app.session_state["show_kmeans"] = True
    app.run()
    spec = chart(app, "kmeans_chart")
    assert len(traces(spec, "gmm_points")) == len(traces(spec, "kmeans_points")) == 1
    kmeans = KMeans(n_clusters=3, n_init=8, random_state=0).fit(SEED_X)
    result = fit_gmm(SEED_X, n_components=3, covariance_type="full", n_init=8, random_state=0)
    assert metric(app, "ARI, k-means vs mixture") == f"{adjusted_rand_score(result.labels, kmeans.labels_):.3f}"
    # Matched clusters share their component's colour: no point is ringed on separated blobs.
    gmm, km = (values(traces(spec, m)[0]["marker"]["color"]) for m in ("gmm_points", "kmeans_points"))
    np.testing.assert_array_equal(gmm, km)
    assert len(values(traces(spec, "disagree")[0]["x"])) == 0


# Export: the reproduction script ---------------------------------------------------------------


def test_the_exported_script_reproduces_labels_and_bic(app, tmp_path):
    open_iris(app)
    app.toggle(key="standardize").set_value(True).run()
    goto(app, "export")
    assert {b.key for b in app.download_button} >= {"download_script"}
    dataset = app.session_state["dataset"]
    result = fit_gmm(dataset.X, n_components=3, covariance_type="full", n_init=8, random_state=0)
    source = export_view.script(dataset, result)
    assert app.code[0].value == source.rstrip("\n")  # the preview shows what is downloaded
    csv = tmp_path / export_view.csv_name(dataset, result)
    assert csv.name == "iris_full_k3_labelled.csv"
    csv.write_bytes(labelled_csv(dataset.table.frame, result, used_rows=dataset.used_rows))
    run = subprocess.run([sys.executable, "-c", source], cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr
    assert "labels agree: 150 of 150 rows" in run.stdout
    # scikit-learn's EM, started at the model, confirms it to within EM's tolerance.
    assert float(run.stdout.split("BIC: ")[1]) == pytest.approx(result.bic, abs=0.01)


def test_a_start_that_collapses_is_called_a_collapse_not_a_fit(app):
    goto(app, "em")
    app.selectbox(key="em_cov_type").set_value("tied").run()
    assert [w.value for w in app.warning] == [
        "Components 1, 2 and 3 ended alike (means and spreads within a quarter of a standard deviation): the start "
        "collapsed onto one cluster, a saddle point of the likelihood, and EM stopped there although the data may "
        "hold more clusters. Try another initialisation or seed."
    ]
    table = table_with(app, "collapsed").set_index("model")["collapsed"]
    assert table["tied (EEE)"] and not table["full (VVV)"]
