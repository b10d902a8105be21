"""EM step-through and the shareable link in real Chromium: the animation plays in the browser
without a rerun, and a link reopens the same view."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.e2e.conftest import assert_no_exception, sidebar_text, wait_for_app

#: Counts script runs: the app's script-state attribute turning to 'running'.
COUNT_RUNS = """() => {
    window.scriptRuns = 0;
    const app = document.querySelector("[data-testid='stApp']");
    new MutationObserver(() => {
        if (app.getAttribute("data-test-script-state") === "running") window.scriptRuns += 1;
    }).observe(app, {attributes: true, attributeFilter: ["data-test-script-state"]});
}"""


def test_em_plays_and_pauses_in_the_browser_without_a_rerun(page):
    page.get_by_test_id("stSidebarNav").get_by_text("EM step-through", exact=True).click()
    expect(page.get_by_role("heading", level=1, name="EM step-through")).to_be_visible()
    wait_for_app(page)
    chart = page.locator(".st-key-em_chart")
    title = chart.locator(".gtitle")
    expect(title).to_contain_text("EM, start")
    page.evaluate(COUNT_RUNS)
    chart.get_by_text("Play").click()
    expect(title).to_contain_text(re.compile(r"iteration ([5-9]|\d\d) of"), timeout=20_000)
    chart.get_by_text("Pause").click()
    page.wait_for_timeout(800)
    paused = title.text_content()
    page.wait_for_timeout(1500)
    assert title.text_content() == paused  # paused means paused
    chart.get_by_text("Start").click()
    expect(title).to_contain_text("EM, start")
    assert page.evaluate("window.scriptRuns") == 0  # every frame was already in the browser
    assert_no_exception(page)


def test_a_link_reopens_the_same_view_and_follows_changes(browser, app_url):
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    try:
        page.goto(f"{app_url}/?cov_type=tied&n_components=2&source=builtin&builtin=iris&cols=petal_length&cols=sepal_width")
        wait_for_app(page)
        expect(page.get_by_role("heading", level=1, name="Fit")).to_be_visible()
        summary = sidebar_text(page)
        assert "Data: Iris" in summary and "tied (EEE), K = 2" in summary
        assert "columns petal_length, sepal_width" in summary
        page.locator(".st-key-n_components button[data-testid='stNumberInputStepUp']").click()
        wait_for_app(page)
        expect(page).to_have_url(re.compile(r"n_components=3"))
        assert "builtin=iris" in page.url and "cov_type=tied" in page.url
        assert_no_exception(page)
    finally:
        context.close()
