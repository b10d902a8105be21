"""The link in the URL: settings and built-in or generated data go out to the query parameters and
come back from them."""

from streamlit.testing.v1 import AppTest

from tests.app.conftest import APP, chart, goto, sidebar_text, traces, upload
from ui.text import escape_markdown as md

SEED_LINK = {
    "cov_type": "full", "n_components": "3", "n_init": "8", "seed": "0", "init": "hc+kmeans",
    "reg_covar": "1e-08", "tol": "0.001", "max_iter": "1000",
    "source": "generate", "gen_variant": "blobs", "gen_n_samples": "600", "gen_centers": "3",
    "gen_spread": "1.0,1.4,0.8", "gen_seed": "7", "cols": ["x", "y"], "standardize": "0",
}


def open_link(params: dict) -> AppTest:
    """The app opened on a URL with ``params``."""
    at = AppTest.from_file(str(APP), default_timeout=60)
    for name, value in params.items():
        at.query_params[name] = value
    at.run()
    assert not at.exception, at.exception
    return at


def test_the_url_holds_the_current_view(app):
    assert dict(app.query_params) == SEED_LINK
    app.selectbox(key="cov_type").set_value("tied").run()
    app.number_input(key="n_components").set_value(4).run()
    app.selectbox(key="init_params").set_value("random").run()
    assert {k: app.query_params[k] for k in ("cov_type", "n_components", "init")} == {
        "cov_type": "tied", "n_components": "4", "init": "random",
    }
    goto(app, "data")
    app.radio(key="source").set_value("builtin").run()
    app.selectbox(key="builtin").set_value("iris").run()
    app.multiselect(key="extra_cols").set_value(["sepal_length"]).run()
    params = dict(app.query_params)
    assert params["source"] == "builtin" and params["builtin"] == "iris"
    assert params["cols"] == ["petal_length", "petal_width", "sepal_length"]
    assert "gen_variant" not in params


def test_a_link_reopens_the_same_view():
    link = {
        "cov_type": "diag", "n_components": "2", "n_init": "3", "seed": "11", "init": "k-means++",
        "reg_covar": "0.0001", "tol": "0.001", "max_iter": "200",
        "source": "generate", "gen_variant": "anisotropic", "gen_n_samples": "300", "gen_centers": "4",
        "gen_spread": "0.5,1.25", "gen_seed": "3", "cols": ["x", "y"], "standardize": "1",
    }
    at = open_link(link)
    assert not at.toast
    assert dict(at.query_params) == link  # what came in goes out again
    assert at.selectbox(key="cov_type").value == "diag"
    assert at.number_input(key="seed").value == 11
    assert at.number_input(key="reg_covar").value == 1e-4
    summary = sidebar_text(at)
    assert md("anisotropic (300 points, 4 centres, spread 0.5, 1.25, seed 3)") in summary
    assert md("(standardised)") in summary and md("diag (VVI), K = 2") in summary
    # The Data page shows the choices that made the data, and keeps them.
    goto(at, "data")
    assert at.radio(key="source").value == "generate"
    assert at.selectbox(key="gen_variant").value == "anisotropic"
    assert at.number_input(key="gen_centers").value == 4
    assert at.toggle(key="standardize").value is True
    assert dict(at.query_params) == link


def test_a_link_to_built_in_data_and_chosen_columns():
    at = open_link({"source": "builtin", "builtin": "iris", "cols": ["sepal_width", "petal_width"]})
    assert md("Iris") in sidebar_text(at) and md("columns sepal_width, petal_width") in sidebar_text(at)
    goto(at, "data")
    assert (at.selectbox(key="x_col").value, at.selectbox(key="y_col").value) == ("sepal_width", "petal_width")
    assert at.selectbox(key="label_col").value == "species"


def test_invalid_link_values_are_ignored_and_named():
    at = open_link({
        "cov_type": "banana", "n_components": "99", "seed": "-1", "tol": "nan", "n_init": "4",
        "source": "builtin", "builtin": "nope", "cols": ["petal_length", "petal_length"],
    })
    (toast,) = at.toast
    for name in ("cov\\_type", "n\\_components", "seed", "tol", "builtin", "cols"):
        assert name in toast.value
    assert at.selectbox(key="cov_type").value == "full"
    assert at.number_input(key="n_components").value == 3
    assert at.number_input(key="n_init").value == 4  # the valid ones are kept
    assert md("Old Faithful") in sidebar_text(at)  # the default built-in data set, default columns
    assert at.query_params["n_components"] == "3"


MINE = b"a,b,c\n1,2,5\n3,4,1\n5,7,2\n8,1,9\n2,2,4\n6,3,3\n"


def test_a_link_made_from_an_upload_names_the_file_and_restores_its_view_once_uploaded(app):
    upload(app, MINE, "mine.csv")
    app.selectbox(key="y_col").set_value("c").run()
    app.number_input(key="n_components").set_value(2).run()
    params = dict(app.query_params)
    assert "source" not in params  # the file itself cannot travel
    assert (params["upload"], params["cols"], params["n_components"]) == ("mine.csv", ["a", "c"], "2")

    at = open_link(params)
    (toast,) = at.toast
    assert toast.value == (
        f"This link was made with the file {md('mine.csv')}, which cannot travel in a link. Upload it on the "
        "Data page to restore the view; the model settings are the link's."
    )
    assert at.number_input(key="n_components").value == 2
    assert at.query_params["upload"] == "mine.csv"  # a reload still knows the file
    goto(at, "export")  # what would be exported is the seed example, and the page says so
    assert [link.label for link in at.get("page_link")] == [
        f"The link you opened was made with {md('mine.csv')}, which cannot travel in a link: this is the seed "
        "example until you upload that file on the Data page."
    ]
    goto(at, "data")
    at.radio(key="source").set_value("upload").run()
    assert any(i.value.startswith(f"The link you opened was made with {md('mine.csv')}") for i in at.info)
    at.file_uploader(key="upload").set_value(("mine.csv", MINE, "text/csv")).run()
    assert (at.selectbox(key="x_col").value, at.selectbox(key="y_col").value) == ("a", "c")
    assert at.query_params["cols"] == ["a", "c"]
    assert not any(i.value.startswith("The link you opened") for i in at.info)


def test_the_view_and_sweep_settings_travel_in_the_link():
    link = SEED_LINK | {"level": "1σ", "density": "1", "misclassified": "0", "sweep_k": "2-5",
                        "sweep_models": ["full", "EII"], "sweep_n_init": "4", "criterion": "ICL"}
    at = open_link(link)
    assert not at.toast
    assert at.segmented_control(key="ellipse_level").value == "1σ"
    assert at.toggle(key="show_density").value is True
    assert at.toggle(key="show_misclassified").value is False
    assert dict(at.query_params) == link
    goto(at, "model_selection")
    assert at.slider(key="sweep_k_range").value == (2, 5)
    assert at.multiselect(key="sweep_cov_types").value == ["full", "EII"]
    assert at.number_input(key="sweep_n_init").value == 4


def test_the_same_link_draws_the_same_colours_in_every_session():
    link = {"cov_type": "VEV", "n_components": "4", "seed": "3"}
    colours = []
    for _ in range(2):
        spec = chart(open_link(link), "fit_chart")
        colours.append([t["line"]["color"] for t in traces(spec, "ellipse")])
    assert len(colours[0]) == 4 and colours[0] == colours[1]


def ignored_settings(at: AppTest) -> str:
    (toast,) = at.toast
    return toast.value


def test_a_link_with_an_overflowing_regulariser_opens_with_a_notice():
    at = open_link({"reg_covar": "1e308"})
    assert ignored_settings(at) == "Ignored link settings that are not valid: reg\\_covar."
    assert at.number_input(key="reg_covar").value == 1e-08
    for page in ("fit", "em", "model_selection", "export"):
        goto(at, page)
        assert not at.error


def test_a_link_with_an_overflowing_spread_opens_with_a_notice_and_the_model_kept():
    at = open_link({
        "source": "generate", "gen_variant": "unequal_variance", "gen_n_samples": "10", "gen_centers": "2",
        "gen_spread": "1.7e308", "gen_seed": "2", "cov_type": "tied",
    })
    assert ignored_settings(at) == "Ignored link settings that are not valid: gen\\_spread."
    assert md("unequal_variance (10 points, 2 centres, spread 1, 1.4, seed 2)") in sidebar_text(at)
    assert at.selectbox(key="cov_type").value == "tied"
    at.run()  # a reload repeats nothing
    assert not at.exception


def test_a_link_gets_at_most_one_spread_per_centre():
    at = open_link({"source": "generate", "gen_centers": "3", "gen_spread": ",".join(["1.5"] * 1_000)})
    assert not at.toast
    assert at.query_params["gen_spread"] == "1.5,1.5,1.5"
    assert md("blobs (600 points, 3 centres, spread 1.5, 1.5, 1.5, seed 7)") in sidebar_text(at)
