"""Bounded work in the app: links clamped to a budget, and a fit the user stopped stays stopped."""

from gmm_core import FitSettings
from tests.app.conftest import goto, sidebar_text, upload
from tests.app.test_share import open_link
from ui.cache import fit_key
from ui.text import escape_markdown as md
from ui.work import stop_key


def test_a_link_asking_for_too_much_work_opens_clamped_with_a_notice():
    at = open_link({"n_components": "15", "n_init": "50", "max_iter": "100000"})
    (toast,) = at.toast
    assert toast.value == (
        "This link asked for up to 9 min of fitting on 600 rows; a link may start at most 60 s, so it opens "
        "with max_iter from 100,000 to 11,019. Raise them in the sidebar to fit as the link asked."
    )
    assert at.number_input(key="max_iter").value == 11_019
    assert at.number_input(key="n_init").value == 50
    assert at.number_input(key="n_components").value == 15
    assert at.query_params["max_iter"] == "11019"  # the link now says what runs


def test_a_link_within_the_budget_is_obeyed_silently():
    at = open_link({"n_components": "4", "n_init": "20", "max_iter": "5000"})
    assert not at.toast
    assert at.number_input(key="max_iter").value == 5000


def test_a_fit_the_user_stopped_is_not_started_again_until_asked(app):
    seed = 424_242  # settings no other test fits, so the fit is not in the shared cache
    settings = FitSettings(
        n_components=3, covariance_type="full", n_init=8, random_state=seed, init_params="hc+kmeans",
        reg_covar=1e-8, tol=1e-3, max_iter=1000,
    )
    # What the Stop button's on_click leaves behind while this fit runs.
    app.session_state["stopped"] = stop_key(fit_key(app.session_state["dataset"], settings))
    app.number_input(key="seed").set_value(seed).run()
    assert not app.exception
    assert [i.value for i in app.info][:2] == [
        f"You stopped fitting {md('full (VVV), K = 3')}. Fit it again, or change the model or its settings in the "
        "sidebar (fewer restarts or iterations, a larger tol).",
        f"Showing the model shown before instead: {md('full (VVV), K = 3')}.",
    ]
    assert "Stopped before the fit finished." in sidebar_text(app)
    app.button(key="fit_again").click().run()
    assert not any("You stopped" in i.value for i in app.info)
    assert "Stopped" not in sidebar_text(app)
    assert app.session_state["last_good_fit"][1].random_state == seed


def test_data_that_cannot_be_fitted_keep_the_previous_data_one_click_away(app):
    bic_before = next(m.value for m in app.metric if m.label == "BIC")
    # Reads fine, but has only two distinct points for the sidebar's three components.
    upload(app, b"u,v\n1,2\n3,4\n1,2\n3,4\n1,2\n3,4\n", "two points.csv")
    goto(app, "fit")
    assert app.error and "distinct" in app.error[0].value
    (back,) = [b for b in app.button if b.key == "back_to_previous"]
    assert back.label == md("Back to blobs (600 points, 3 centres, spread 1, 1.4, 0.8, seed 7)")
    back.click().run()
    assert not app.exception and not app.error
    assert next(m.value for m in app.metric if m.label == "BIC") == bic_before
    assert md("blobs (600 points, 3 centres") in sidebar_text(app)
    # The Data page shows the data brought back, and the file left behind is not loaded again.
    goto(app, "data")
    assert app.radio(key="source").value == "generate"
    app.radio(key="source").set_value("upload").run()
    assert [i.value for i in app.info] == [
        "Choose a CSV file with a header row and numeric columns. Until then the app keeps working on: "
        + md("blobs (600 points, 3 centres, spread 1, 1.4, 0.8, seed 7)")
    ]
    assert md("blobs (600 points, 3 centres") in sidebar_text(app)
