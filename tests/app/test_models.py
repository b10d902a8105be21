"""All 14 covariance models in the app: the picker, every page, the sweep chart that reads well with 14 curves."""

import numpy as np
import pytest

from sklearn.datasets import load_wine

from gmm_core import fit_gmm, make_blobs_frame
from tests.app.conftest import chart, goto, sidebar_text, table_with, traces, upload, values
from ui.text import escape_markdown as md

#: The sidebar menu as a user reads it, in order.
MENU = [
    "full (VVV)", "tied (EEE)", "diag (VVI)", "spherical (VII)",
    "EII", "EEI", "VEI", "EVI", "VEE", "EVE", "VVE", "EEV", "VEV", "EVV",
]
SEED_X = make_blobs_frame()[["x", "y"]].to_numpy()


def test_the_picker_offers_the_14_models_scikit_learns_four_first(app):
    menu = app.selectbox(key="cov_type")
    assert menu.options == MENU
    assert "VEV**: variable volume, equal shape, variable orientation" in menu.help
    app.selectbox(key="cov_type").set_value("VEV").run()
    captions = [c.value for c in app.sidebar.caption]
    assert "VEV: variable volume, equal shape, variable orientation." in captions
    assert "Components have sizes of their own, the same elongation and tilts of their own." in captions
    (expander,) = [e for e in app.sidebar.expander if e.label == "What VEV can draw"]
    assert [child.type for child in expander.children.values()] == ["image", "caption"]


# full is the default: every other test covers it.
@pytest.mark.parametrize(
    "model", ["tied", "diag", "spherical", "EII", "EEI", "VEI", "EVI", "VEE", "EVE", "VVE", "EEV", "VEV", "EVV"]
)
def test_every_page_works_for_the_model(app, model):
    app.selectbox(key="cov_type").set_value(model).run()
    expected = fit_gmm(SEED_X, n_components=3, covariance_type=model, n_init=8)
    assert f"BIC {expected.bic:,.2f} · converged" in sidebar_text(app)
    spec = chart(app, "fit_chart")
    assert len(traces(spec, "ellipse")) == 3
    np.testing.assert_allclose(np.sort(values(traces(spec, "means")[0]["x"])), np.sort(expected.means[:, 0]))
    terms = table_with(app, "volume")
    assert len(terms) == 3
    rotated = model in ("tied", "VEE", "EVE", "VVE", "EEV", "VEV", "EVV")
    assert ("longest axis (degrees)" in terms.columns) == rotated
    assert ("shape x" in terms.columns) == (not rotated)  # axis-aligned: a shape per column
    goto(app, "em")
    assert chart(app, "em_chart")["frames"]
    goto(app, "export")
    keys = {button.key for button in app.download_button}
    assert "download_r_script" in keys
    assert ("download_script" in keys) == (model in ("tied", "diag", "spherical"))


def test_the_sweep_chart_filters_families_and_zooms_on_differences(app):
    goto(app, "model_selection")
    spec = chart(app, "criteria_chart")
    names = {t["name"] for t in traces(spec, "criterion")}
    assert names == set(MENU)
    app.button_group(key="sweep_groups").set_value(["spherical (·II)"]).run()
    spec = chart(app, "criteria_chart")
    assert {t["name"] for t in traces(spec, "criterion")} == {"EII", "spherical (VII)"}
    app.button_group(key="sweep_groups").set_value([]).run()
    app.button_group(key="sweep_view").set_value("Δ ≤ 10").run()
    spec = chart(app, "criteria_chart")
    (star, *_) = traces(spec, "best_overall")
    assert values(star["y"]).tolist() == [0.0]
    assert spec["layout"]["yaxis"]["range"] == [-0.4, 10.0]
    top = table_with(app, "rank")
    assert top["model"].iloc[0] == f"{star['text'][0]}, K = {int(values(star['x'])[0])}"


def test_four_columns_show_every_pair_with_each_components_marginal_ellipse(app):
    goto(app, "data")
    app.radio(key="source").set_value("builtin").run()
    app.selectbox(key="builtin").set_value("iris").run()
    app.multiselect(key="extra_cols").set_value(["sepal_length", "sepal_width"]).run()
    app.selectbox(key="cov_type").set_value("VEV").run()
    app.number_input(key="n_components").set_value(2).run()
    goto(app, "fit")
    spec = chart(app, "pairs_chart")
    panels = traces(spec, "pairs_points")
    assert len(panels) == 6  # the 4 x 3 / 2 pairs below the diagonal
    assert all(len(values(p["x"])) == 150 for p in panels)
    assert len(traces(spec, "pairs_ellipse")) == 6 * 2
    names = [a["text"] for a in spec["layout"]["annotations"]]
    assert names == ["<b>petal_length</b>", "<b>petal_width</b>", "<b>sepal_length</b>", "<b>sepal_width</b>"]
    app.toggle(key="pairs_uncertainty").set_value(True).run()
    sizes = values(traces(chart(app, "pairs_chart"), "pairs_points")[0]["marker"]["size"])
    assert sizes.min() >= 2 and sizes.max() > 2


def test_a_sidebar_change_shows_the_bic_change_from_the_model_before(app):
    full = fit_gmm(SEED_X, n_components=3, covariance_type="full", n_init=8)
    vev = fit_gmm(SEED_X, n_components=3, covariance_type="VEV", n_init=8)
    (bic,) = [m for m in app.metric if m.label == "BIC"]
    assert bic.proto.delta == ""  # nothing shown before
    app.selectbox(key="cov_type").set_value("VEV").run()
    (bic,) = [m for m in app.metric if m.label == "BIC"]
    assert bic.proto.delta == f"{vev.bic - full.bic:+,.2f} from full (VVV), K = 3"


WINE = load_wine(as_frame=True).frame.to_csv(index=False).encode()


def test_an_upload_fits_the_columns_a_user_means_and_says_so(app):
    upload(app, WINE, "wine.csv")
    first_eight = ["alcohol", "malic_acid", "ash", "alcalinity_of_ash", "magnesium", "total_phenols", "flavanoids",
                   "nonflavanoid_phenols"]
    assert [app.selectbox(key="x_col").value, app.selectbox(key="y_col").value] == first_eight[:2]
    assert app.multiselect(key="extra_cols").value == first_eight[2:]
    assert app.selectbox(key="label_col").value == "target"
    assert "Fitting 8 of 13 numeric columns. target is taken as known labels (change it on the left)." in [
        c.value for c in app.caption
    ]
    app.button(key="use_all_columns").click().run()
    assert md("178 of 178 rows · 13 columns: alcohol, malic_acid, ash, alcalinity_of_ash and 9 more") in sidebar_text(app)
    assert [link.label for link in app.get("page_link")] == ["See the mixture fitted to these columns"]


def test_one_column_fits_mclusts_e_and_v_and_draws_a_histogram_with_the_densities(app):
    rng = np.random.default_rng(0)
    column = np.concatenate([rng.normal(0.0, 1.0, 150), rng.normal(5.0, 0.5, 100)])
    upload(app, ("acidity\n" + "\n".join(f"{v:.4f}" for v in column)).encode(), "acidity.csv")
    assert app.selectbox(key="y_col").value == ""  # shown as "(none: the x column alone)"
    assert app.selectbox(key="cov_type").options == ["E: equal variance", "V: variable variance"]
    assert app.session_state["cov_type"] == "V"  # full reduces to V on one column
    app.number_input(key="n_components").set_value(2).run()
    goto(app, "fit")
    expected = fit_gmm(column[:, None], n_components=2, covariance_type="V", n_init=8)
    spec = chart(app, "fit_chart")
    assert len(traces(spec, "data")) == 1 and len(traces(spec, "component_density")) == 2
    (mixture,) = traces(spec, "mixture_density")
    parts = sum(values(t["y"]) for t in traces(spec, "component_density"))
    np.testing.assert_allclose(values(mixture["y"]), parts)
    peak = values(mixture["x"])[np.argmax(values(mixture["y"]))]
    assert abs(peak - expected.means[np.argmax(expected.weights / np.sqrt(expected.covariances[:, 0, 0])), 0]) < 0.1
    goto(app, "model_selection")
    assert {t["name"] for t in traces(chart(app, "criteria_chart"), "criterion")} == {"E", "V"}
    goto(app, "export")
    assert {b.key for b in app.download_button} == {"download_csv", "download_json", "download_r_script"}


def test_generated_data_are_drawn_to_scale_and_mixed_units_get_advice_for_unit_bound_models(app):
    assert chart(app, "fit_chart")["layout"]["yaxis"]["scaleanchor"] == "x"  # generated: one unit on both axes
    rng = np.random.default_rng(2)
    rows = np.vstack([rng.normal([0, 0], [1, 1], (100, 2)), rng.normal([5, 5], [1, 1], (100, 2))]) * [1.0, 1000.0]
    upload(app, ("a,b\n" + "\n".join(f"{x:.5f},{y:.5f}" for x, y in rows)).encode(), "units.csv")
    goto(app, "fit")
    assert "scaleanchor" not in chart(app, "fit_chart")["layout"]["yaxis"]
    assert not app.info  # full (VVV) does not depend on the columns' units
    app.selectbox(key="cov_type").set_value("spherical").run()
    (notice,) = [i.value for i in app.info if "spreads differ" in i.value]
    assert "VII depends on each column" in notice and "standardising the columns" in notice


def test_a_component_keeps_its_number_as_it_keeps_its_colour_when_the_model_changes(app):
    goto(app, "data")
    app.radio(key="source").set_value("builtin").run()
    app.selectbox(key="builtin").set_value("iris").run()
    goto(app, "fit")
    numbers = {}
    for model in ("full", "tied", "VEV", "spherical", "full"):
        app.selectbox(key="cov_type").set_value(model).run()
        table = table_with(app, "mean petal_length").sort_values("mean petal_length")
        numbers[model] = table["component"].tolist()  # setosa (shortest petals) first
    assert len({tuple(n) for n in numbers.values()}) == 1, numbers


def test_a_sidebar_change_says_which_components_moved_appeared_or_went(app):
    app.number_input(key="n_components").set_value(4).run()
    (line,) = [c.value for c in app.caption if c.value.startswith("Since ")]
    assert line.startswith("Since " + md("full (VVV), K = 3") + ": ")
    assert line.count(" is new") == 1 and line.endswith(" (matched by colour).")
    app.number_input(key="n_components").set_value(3).run()
    (line,) = [c.value for c in app.caption if c.value.startswith("Since ")]
    assert line.count("is gone") == 1
