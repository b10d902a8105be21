"""The app end to end through AppTest: pages, upload, sidebar, sweep, export, errors."""

import numpy as np
import pytest

from gmm_core import fit_gmm, make_blobs_frame
from gmm_core.geometry import ellipse_points
from ui.text import escape_markdown as md
from tests.app.conftest import PAGES, chart, goto, n_points, sidebar_text, table_with, traces, upload, values

CSV = b"a,b,c,name\n" + b"".join(
    f"{x:.4f},{y:.4f},{z:.4f},p{i}\n".encode()
    for i, (x, y, z) in enumerate(np.random.default_rng(0).normal(size=(60, 3)) + np.repeat([[0, 0, 0], [6, 6, 6]], 30, axis=0))
)


def metric(at, label: str) -> str:
    return next(m.value for m in at.metric if m.label == label)


def test_opens_on_the_fitted_seed_example(app):
    spec = chart(app, "fit_chart")
    assert len(traces(spec, "ellipse")) == 3
    assert len(traces(spec, "points")) == 3
    assert n_points(spec, "points") == 600
    (means,) = traces(spec, "means")
    assert means["text"] == ["1", "2", "3"]
    assert [a["text"] for a in spec["layout"]["annotations"]] == ["1: 95%", "2: 95%", "3: 95%"]

    frame = make_blobs_frame()  # the seed example: 600 points, 3 centres, (1.0, 1.4, 0.8), seed 7
    expected = fit_gmm(frame[["x", "y"]].to_numpy(), n_components=3, covariance_type="full", n_init=8, random_state=0)
    assert metric(app, "BIC") == f"{expected.bic:,.2f}"
    assert metric(app, "Converged") == "yes"
    summary = sidebar_text(app)
    assert "600 of 600 rows" in summary and "full \\(VVV\\)\\, K \\= 3" in summary
    assert app.selectbox(key="cov_type").value == "full"
    assert app.number_input(key="n_components").value == 3
    assert app.number_input(key="n_init").value == 8


@pytest.mark.parametrize("page", PAGES)
def test_every_page_renders_with_defaults(app, page):
    goto(app, page)
    assert not app.error
    assert app.title[0].value in {"Data", "Fit", "EM step-through", "Model selection", "Export"}


def test_data_page_previews_table_and_scatter(app):
    goto(app, "data")
    assert app.radio(key="source").value == "generate"
    spec = chart(app, "data_scatter")
    assert n_points(spec, "data") == 600
    assert len(traces(spec, "data")) == 3  # coloured by the known labels (true_component)
    assert len(app.dataframe[0].value) == 200


def test_upload_pick_columns_and_fit(app):
    upload(app, CSV, "my data.csv")
    detected = "\n".join(m.value for m in app.markdown)
    assert md("Delimiter: comma") in detected and md("Rows in the file: 60, all read into the table") in detected
    assert app.selectbox(key="x_col").value == "a"
    assert app.selectbox(key="y_col").value == "b"
    assert "name" not in app.selectbox(key="x_col").options
    app.selectbox(key="y_col").set_value("c").run()
    assert "my data\\.csv" in sidebar_text(app)
    assert "columns a\\, c" in sidebar_text(app)

    goto(app, "fit")
    spec = chart(app, "fit_chart")
    assert spec["layout"]["xaxis"]["title"]["text"] == "a"
    assert spec["layout"]["yaxis"]["title"]["text"] == "c"
    assert n_points(spec, "points") == 60


def test_changing_the_model_in_the_sidebar_refits(app):
    bic_full = metric(app, "BIC")
    app.selectbox(key="cov_type").set_value("spherical").run()
    assert metric(app, "BIC") != bic_full
    assert "spherical \\(VII\\)" in sidebar_text(app)
    app.number_input(key="n_components").set_value(5).run()
    spec = chart(app, "fit_chart")
    assert len(traces(spec, "ellipse")) == 5
    assert len(values(traces(spec, "means")[0]["x"])) == 5
    heatmap = chart(app, "responsibility_heatmap")["data"][0]
    assert heatmap["x"] == ["1", "2", "3", "4", "5"]
    assert "K \\= 5" in sidebar_text(app)


def test_sidebar_model_survives_page_switches(app):
    app.selectbox(key="cov_type").set_value("tied").run()
    app.number_input(key="n_components").set_value(2).run()
    for page in ("data", "model_selection", "export", "fit"):
        goto(app, page)
        assert app.selectbox(key="cov_type").value == "tied"
        assert app.number_input(key="n_components").value == 2
    assert len(traces(chart(app, "fit_chart"), "ellipse")) == 2


def test_data_choices_survive_page_switches(app):
    goto(app, "data")
    app.radio(key="source").set_value("builtin").run()
    app.selectbox(key="builtin").set_value("iris").run()
    assert app.selectbox(key="x_col").value == "petal_length"
    assert app.selectbox(key="label_col").value == "species"
    goto(app, "fit")
    goto(app, "data")
    assert app.radio(key="source").value == "builtin"
    assert app.selectbox(key="builtin").value == "iris"
    assert "Iris" in sidebar_text(app)


def test_more_than_two_columns_show_a_pair_with_exact_marginals(app):
    goto(app, "data")
    app.radio(key="source").set_value("builtin").run()
    app.selectbox(key="builtin").set_value("iris").run()
    app.multiselect(key="extra_cols").set_value(["sepal_length"]).run()
    assert "columns petal\\_length\\, petal\\_width\\, sepal\\_length" in sidebar_text(app)
    goto(app, "fit")
    app.selectbox(key="plot_y").set_value("sepal_length").run()
    spec = chart(app, "fit_chart")
    assert spec["layout"]["yaxis"]["title"]["text"] == "sepal_length"

    from gmm_core import load_dataset

    iris = load_dataset("iris")
    X = iris[["petal_length", "petal_width", "sepal_length"]].to_numpy()
    result = fit_gmm(X, n_components=3, covariance_type="full", n_init=8, random_state=0)
    ellipses = traces(spec, "ellipse")
    assert len(ellipses) == 3
    for k, trace in enumerate(ellipses):
        expected = ellipse_points(result.means[k, [0, 2]], result.covariances[k][np.ix_([0, 2], [0, 2])], mass=0.95)
        assert np.allclose(np.column_stack([values(trace["x"]), values(trace["y"])]), expected, atol=1e-6)


def test_ellipse_level_density_and_uncertainty_layers(app):
    app.segmented_control(key="ellipse_level").set_value("2σ").run()
    app.toggle(key="show_density").set_value(True).run()
    app.toggle(key="show_uncertainty").set_value(True).run()
    spec = chart(app, "fit_chart")
    assert [t["name"] for t in traces(spec, "ellipse")][0] == "component 1 ellipse (2σ)"
    assert len(traces(spec, "density")) == 1
    (uncertainty,) = traces(spec, "uncertainty")
    assert len(values(uncertainty["x"])) == 600


def test_sweep_then_use_its_best_model(app):
    goto(app, "model_selection")
    # mclust's default, 14 models x K = 1..9, takes well under 2 s on 600 rows: it runs unasked.
    spec = chart(app, "criteria_chart")
    assert len(traces(spec, "criterion")) == 14 * 3
    top = table_with(app, "rank")
    assert top["rank"].tolist() == [1, 2, 3] and top["Δ BIC"].iloc[0] == 0.0
    app.slider(key="sweep_k_range").set_value((1, 3)).run()
    app.multiselect(key="sweep_cov_types").set_value(["full", "spherical"]).run()
    app.button(key="run_sweep").click().run()
    assert not app.exception
    spec = chart(app, "criteria_chart")
    lines = traces(spec, "criterion")
    assert len(lines) == 2 * 3  # two covariance types in each of BIC, AIC, ICL
    assert {len(values(t["x"])) for t in lines} == {3}
    assert len(traces(spec, "best_overall")) == 3
    table = table_with(app, "best by BIC")
    assert len(table) == 6
    best = table[table["best by BIC"]].iloc[0]

    app.button(key="use_model").click().run()
    assert app.session_state["cov_type"] == best["covariance_type"]
    assert app.session_state["n_components"] == best["k"]
    assert app.success
    goto(app, "fit")
    assert app.selectbox(key="cov_type").value == best["covariance_type"]
    assert len(traces(chart(app, "fit_chart"), "ellipse")) == best["k"]


def test_export_buttons_and_preview(app):
    goto(app, "export")
    labels = {button.key: button.label for button in app.download_button}
    assert labels == {
        "download_csv": "Download labelled data (CSV)",
        "download_json": "Download model (JSON)",
        "download_script": "Download reproduction script (Python)",
        "download_r_script": "Download mclust script (R)",
    }
    preview = app.dataframe[0].value
    assert list(preview.columns[-6:]) == [
        "component", "max_responsibility", "uncertainty", "responsibility_1", "responsibility_2", "responsibility_3",
    ]
    assert app.json


def test_bad_upload_shows_an_error_and_keeps_the_old_data(app):
    upload(app, CSV, "good.csv")
    assert "good\\.csv" in sidebar_text(app)
    app.file_uploader(key="upload").set_value(("bad.csv", b"\x89PNG\r\n\x1a\n binary", "text/csv")).run()
    assert not app.exception
    assert "PNG" in app.error[0].value
    assert "good\\.csv" in sidebar_text(app)
    goto(app, "fit")
    assert n_points(chart(app, "fit_chart"), "points") == 60


def test_first_bad_upload_keeps_the_seed_example(app):
    upload(app, b"", "empty.csv")
    assert "empty" in app.error[0].value
    assert "blobs" in sidebar_text(app)


def test_a_model_that_cannot_be_fitted_explains_and_keeps_the_last_one(app):
    upload(app, b"u,v\n1,2\n2,3\n3,1\n4,4\n", "tiny.csv")
    goto(app, "fit")
    app.number_input(key="n_components").set_value(9).run()
    assert not app.exception
    assert "9 components cannot be fitted to 4 rows" in app.error[0].value
    assert "last model that could be fitted" in app.info[0].value
    assert len(traces(chart(app, "fit_chart"), "ellipse")) == 3


def test_user_text_is_shown_as_text(app):
    upload(app, b"*x* :red[y] $z$,<b>w</b>\n1,2\n3,5\n2,2\n8,1\n5,5\n", "[evil](http://x).csv")
    summary = sidebar_text(app)
    assert "\\*x\\* \\:red\\[y\\] \\$z\\$" in summary
    assert "\\[evil\\]\\(http\u2060\\:\\/\\/x\\)\\.csv" in summary  # a word joiner stops the autolink
    goto(app, "fit")
    layout = chart(app, "fit_chart")["layout"]
    assert layout["yaxis"]["title"]["text"] == "&lt;b&gt;w&lt;/b&gt;"


def test_standardising_changes_the_fitted_matrix(app):
    upload(app, CSV)
    app.toggle(key="standardize").set_value(True).run()
    assert "\\(standardised\\)" in sidebar_text(app)
    goto(app, "fit")
    assert chart(app, "fit_chart")["layout"]["xaxis"]["title"]["text"] == "a (z-score)"


def test_generated_data_follow_the_controls(app):
    goto(app, "data")
    app.selectbox(key="gen_variant").set_value("anisotropic").run()
    app.number_input(key="gen_n_samples").set_value(300).run()
    app.text_input(key="gen_spread").set_value("0.5").run()
    assert "anisotropic \\(300 points" in sidebar_text(app)
    app.text_input(key="gen_spread").set_value("wide").run()
    assert "positive numbers" in app.error[0].value
    assert "anisotropic \\(300 points" in sidebar_text(app)


def test_fit_warnings_are_shown_in_plain_language(app):
    app.number_input(key="max_iter").set_value(1).run()
    assert any("did not converge" in w.value for w in app.warning)
    assert next(m.value for m in app.metric if m.label == "Converged") == "no"
    assert "not converged" in sidebar_text(app)


def test_switching_pages_and_unrelated_widgets_never_refit(app, monkeypatch):
    import ui.cache

    calls = []
    real = ui.cache.fit_gmm
    monkeypatch.setattr(ui.cache, "fit_gmm", lambda *args, **kwargs: calls.append(1) or real(*args, **kwargs))
    for page in ("data", "model_selection", "export", "fit"):
        goto(app, page)
    app.toggle(key="show_density").set_value(True).run()
    app.segmented_control(key="ellipse_level").set_value("1σ").run()
    assert calls == []
    app.number_input(key="seed").set_value(12345).run()
    assert len(calls) == 1


def test_the_current_fit_is_made_once_per_run_for_page_and_sidebar(app, monkeypatch):
    import ui.widgets

    calls = []
    real = ui.widgets._current_fit
    monkeypatch.setattr(ui.widgets, "_current_fit", lambda *args: calls.append(1) or real(*args))
    app.number_input(key="n_components").set_value(2).run()
    assert calls == [1]  # the Fit page's, reused by the sidebar's summary
    assert "**Model:** " + md("full (VVV), K = 2") in sidebar_text(app)


def test_fits_are_keyed_on_the_data_content(app):
    rows = [f"{x:.3f},{y:.3f}\n" for x, y in np.random.default_rng(3).normal(size=(80, 2))]
    upload(app, b"u,v\n" + "".join(rows).encode(), "one.csv")
    bic_one = metric(goto(app, "fit"), "BIC")
    rows[40] = "9.0,9.0\n"  # same shape, one row changed
    upload(app, b"u,v\n" + "".join(rows).encode(), "two.csv")
    assert metric(goto(app, "fit"), "BIC") != bic_one


def test_a_repeated_sweep_comes_from_the_cache_and_matches_the_core(app):
    from gmm_core import sweep

    goto(app, "model_selection")
    app.slider(key="sweep_k_range").set_value((1, 2)).run()
    app.multiselect(key="sweep_cov_types").set_value(["tied", "diag"]).run()
    app.button(key="run_sweep").click().run()
    first = app.session_state["sweep"].table
    app.button(key="run_sweep").click().run()
    assert not app.exception
    again = app.session_state["sweep"].table
    X = make_blobs_frame()[["x", "y"]].to_numpy()
    expected = sweep(X, ks=[1, 2], covariance_types=["tied", "diag"], n_init=3, random_state=0).table
    for table in (first, again):
        assert table[["k", "covariance_type", "best_bic"]].equals(expected[["k", "covariance_type", "best_bic"]])
        assert np.allclose(table["bic"], expected["bic"])
