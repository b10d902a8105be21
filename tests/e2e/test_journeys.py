"""The user journeys in real Chromium: open, upload and refit, download, sweep and adopt, bad files."""

from __future__ import annotations

import csv
import io
import json
import os
import re
import shutil
import subprocess
import sys

import pytest
from playwright.sync_api import expect

from tests.app.hostile import DATA, GOOD_NAME, GOOD_ROWS, good_csv, over_limit, too_many_rows, wide_header
from tests.e2e.conftest import (
    ROOT,
    assert_no_exception,
    choose,
    errors,
    goto,
    metrics,
    screenshot,
    sidebar_text,
    upload,
    use_uploads,
    wait_for_app,
)


def test_opens_on_the_seed_example_with_a_chart_and_no_error(page):
    expect(page.get_by_role("heading", level=1, name="Fit")).to_be_visible()
    expect(page.get_by_text("This is the seed example (600 generated points)")).to_be_visible()
    chart = page.get_by_test_id("stPlotlyChart").first
    expect(chart.locator(".legendtext")).to_have_text(["component 1", "component 2", "component 3", "means"])
    expect(chart.locator(".scatterlayer .trace").first).to_be_visible()
    assert_no_exception(page)
    expect(page.get_by_test_id("stAlertContentError")).to_have_count(0)
    values = metrics(page)
    assert values["Converged"] == "yes" and values["Free parameters"] == "17"
    assert "600 of 600 rows" in sidebar_text(page)
    keep_readme_picture(screenshot(page, "fit"), "screenshot.png")


def keep_readme_picture(path, name: str) -> None:
    """Copy a screenshot to the README's docs/<name>: when missing, or refreshed with
    GMM_UPDATE_SCREENSHOT=1, so a test run does not leave a changed tracked file behind."""
    readme_picture = ROOT / "docs" / name
    if not readme_picture.exists() or os.environ.get("GMM_UPDATE_SCREENSHOT") == "1":
        readme_picture.parent.mkdir(exist_ok=True)
        shutil.copyfile(path, readme_picture)


@pytest.mark.start_page("data")
def test_upload_pick_columns_change_covariance_and_see_the_fit_change(page):
    use_uploads(page)
    upload(page, "my data.csv", good_csv())
    report = page.get_by_test_id("stExpander").filter(has_text="What was detected in the file")
    expect(report).to_contain_text("Delimiter: comma (,)")
    expect(report).to_contain_text(f"Rows in the file: {GOOD_ROWS}, all read into the table")
    expect(page.locator(".st-key-x_col [role='combobox']")).to_have_value("a")
    choose(page, "y_col", "c")
    expect(page.get_by_test_id("stSidebarUserContent")).to_contain_text("columns a, c")
    expect(page.get_by_test_id("stSidebarUserContent")).to_contain_text("Data: my data.csv")
    screenshot(page, "data")

    goto(page, "fit")
    chart = page.get_by_test_id("stPlotlyChart").first
    expect(chart.locator(".g-xtitle")).to_have_text("a")
    expect(chart.locator(".g-ytitle")).to_have_text("c")
    before = metrics(page)["BIC"]
    choose(page, "cov_type", next(o for o in option_texts(page, "cov_type") if o.startswith("spherical")))
    expect(page.get_by_test_id("stSidebarUserContent")).to_contain_text("Model: spherical (VII), K = 3")
    expect(page.get_by_test_id("stMarkdownContainer").filter(has_text=re.compile(r"^spherical \(VII\), K = 3 on my data\.csv"))).to_be_visible()
    after = metrics(page)["BIC"]
    assert after != before, (before, after)
    # A model scikit-learn does not have: its meaning in the sidebar, its ellipses on the chart.
    choose(page, "cov_type", "VEV")
    sidebar = page.get_by_test_id("stSidebarUserContent")
    expect(sidebar).to_contain_text("Model: VEV, K = 3")
    expect(sidebar).to_contain_text("VEV: variable volume, equal shape, variable orientation.")
    chart = page.get_by_test_id("stPlotlyChart").filter(has_text="component 1").first
    expect(chart.locator(".legendtext")).to_have_text(["component 1", "component 2", "component 3", "means"])
    assert metrics(page)["BIC"] not in (before, after)
    assert_no_exception(page)


def option_texts(page, key: str) -> list[str]:
    page.locator(f".st-key-{key} [role='combobox']").click()
    texts = page.get_by_role("option").all_inner_texts()
    page.keyboard.press("Escape")
    return texts


@pytest.mark.start_page("data")
def test_download_the_labelled_csv(page):
    use_uploads(page)
    upload(page, GOOD_NAME, good_csv())
    goto(page, "export")
    screenshot(page, "export")
    with page.expect_download() as download_info:
        page.locator(".st-key-download_csv button").click()
    download = download_info.value
    assert download.suggested_filename == "good_full_k3_labelled.csv"
    rows = list(csv.DictReader(io.StringIO(open(download.path(), encoding="utf-8").read())))
    assert len(rows) == GOOD_ROWS
    assert list(rows[0]) == [
        "a", "b", "c", "name", "component", "max_responsibility", "uncertainty",
        "responsibility_1", "responsibility_2", "responsibility_3",
    ]
    source = list(csv.DictReader(io.StringIO(good_csv().decode())))
    for row, original in zip(rows, source):
        assert [float(row[c]) for c in "abc"] == [float(original[c]) for c in "abc"] and row["name"] == original["name"]
        assert row["component"] in {"1", "2", "3"}
        probabilities = [float(row[f"responsibility_{k}"]) for k in (1, 2, 3)]
        assert sum(probabilities) == pytest.approx(1.0)
        assert float(row["max_responsibility"]) == pytest.approx(max(probabilities))
        assert probabilities[int(row["component"]) - 1] == pytest.approx(max(probabilities))
        assert float(row["uncertainty"]) == pytest.approx(1 - max(probabilities))
    # The two generated clusters (rows 1-30 and 31-60) never share a component.
    first, second = {r["component"] for r in rows[:30]}, {r["component"] for r in rows[30:]}
    assert not first & second

    with page.expect_download() as download_info:
        page.locator(".st-key-download_json button").click()
    model = json.loads(open(download_info.value.path(), encoding="utf-8").read())
    assert download_info.value.suggested_filename == "good_full_k3_model.json"
    assert json.dumps(model)  # strict JSON
    assert "good.csv" in json.dumps(model)


@pytest.mark.start_page("model_selection")
def test_the_14_model_sweep_runs_by_itself_and_its_best_is_adopted(page):
    # mclust's default sweep, 14 models x K = 1..9, runs by itself on the 600 seed rows.
    chart = page.get_by_test_id("stPlotlyChart").filter(has_text="BIC (lower is better)")
    expect(chart).to_be_visible(timeout=120_000)
    wait_for_app(page, timeout=120_000)
    legend = chart.locator(".legendtext").all_text_contents()
    assert {"full (VVV)", "tied (EEE)", "EII", "VEV", "EVV"} <= set(legend), legend
    assert_no_exception(page)
    chosen = page.locator(".st-key-chosen_model [role='combobox']").input_value()
    assert chosen.endswith("(best)"), chosen
    label = chosen.split(" · ")[0]  # e.g. 'full (VVV), K = 3'
    keep_readme_picture(screenshot(page, "model_selection"), "model_selection.png")
    page.locator(".st-key-use_model").get_by_role("button", name="Use this model").click()
    wait_for_app(page)
    expect(page.get_by_text(f"The sidebar now fits {label}.")).to_be_visible()
    expect(page.get_by_test_id("stSidebarUserContent")).to_contain_text(f"Model: {label}")
    page.get_by_test_id("stPageLink-NavLink").filter(has_text="See it on the Fit page").click()
    expect(page.get_by_role("heading", level=1, name="Fit")).to_be_visible()
    wait_for_app(page)
    model, k = label.rsplit(", K = ", 1)
    k = int(k)
    expect(page.locator(".st-key-cov_type [role='combobox']")).to_have_value(model)
    expect(page.locator(".st-key-n_components input")).to_have_value(str(k))
    expect(page.get_by_test_id("stPlotlyChart").first.locator(".legendtext")).to_have_count(k + 1)
    assert_no_exception(page)


BAD_FILES = [
    ("empty.csv", (DATA / "empty.csv").read_bytes(), "The file is empty."),
    ("excel_renamed.csv", (DATA / "excel_renamed.csv").read_bytes(), "This looks like an Excel workbook, not a CSV file."),
    ("gzip.csv", (DATA / "gzip.csv").read_bytes(), "This is a compressed archive (gzip), not a CSV file."),
    ("random_bytes.csv", (DATA / "random_bytes.csv").read_bytes(), "This file is not text, so it cannot be a CSV file."),
    ("text_only.csv", (DATA / "text_only.csv").read_bytes(), "text_only.csv has no numeric column; at least one is needed."),
    ("wide_header.csv", wide_header(), "The file has 300,000 columns; GMM Explorer reads at most 1,000 columns."),
    ("too_many_rows.csv", too_many_rows(), "The file has more than 2,000,000 rows; GMM Explorer reads at most 2,000,000"),
]


@pytest.mark.start_page("data")
def test_bad_files_show_a_clear_error_and_the_previous_data_stay(page, tmp_path):
    use_uploads(page)
    upload(page, GOOD_NAME, good_csv())
    expect(page.get_by_test_id("stSidebarUserContent")).to_contain_text(f"Data: {GOOD_NAME}")
    for name, data, message in BAD_FILES:
        upload(page, name, data)
        alert = page.get_by_test_id("stAlertContentError")
        expect(alert.first).to_contain_text(message)  # retried until the run for this file has drawn
        expect(alert).to_have_count(1)
        assert all(message in shown for shown in errors(page)), (name, errors(page))
        expect(page.get_by_text(f"Still using: {GOOD_NAME}")).to_be_visible()
        expect(page.get_by_test_id("stSidebarUserContent")).to_contain_text(f"Data: {GOOD_NAME}")
        assert f"{GOOD_ROWS} of {GOOD_ROWS} rows" in sidebar_text(page)
        assert_no_exception(page)
    screenshot(page, "data_bad_file")

    # Over the upload limit: the browser refuses it before sending; the app keeps the good data.
    big = tmp_path / "over_limit.csv"
    big.write_bytes(over_limit())
    upload(page, "over_limit.csv", path=big, sent=False)
    expect(page.locator(".st-key-upload")).to_contain_text("File must be 50.0MB or smaller.")
    expect(page.get_by_test_id("stSidebarUserContent")).to_contain_text(f"Data: {GOOD_NAME}")

    goto(page, "fit")
    expect(page.get_by_test_id("stAlertContentError")).to_have_count(0)
    chart = page.get_by_test_id("stPlotlyChart").first
    expect(chart.locator(".g-xtitle")).to_have_text("a")
    assert metrics(page)["Converged"] in ("yes", "no")
    assert_no_exception(page)


def test_the_model_menu_shows_every_label_whole(page):
    menu = page.locator(".st-key-cov_type [role='combobox']")
    menu.click()
    options = page.get_by_role("option")
    expect(options).to_have_count(14)
    cut = options.evaluate_all(
        "els => els.filter(e => [e, ...e.querySelectorAll('*')].some(x => x.scrollWidth > x.clientWidth + 1))"
        ".map(e => e.innerText)"
    )
    assert cut == []
    page.keyboard.press("Escape")
    choose(page, "cov_type", "EVV")
    assert menu.evaluate("e => e.scrollWidth <= e.clientWidth + 1")
    expect(page.get_by_test_id("stSidebarUserContent")).to_contain_text(
        "EVV: equal volume, variable shape, variable orientation."
    )


def test_four_columns_show_a_scatterplot_matrix(page, server):
    columns = "&".join(f"cols={c}" for c in ("petal_length", "petal_width", "sepal_length", "sepal_width"))
    page.goto(f"{server.url}/?source=builtin&builtin=iris&{columns}&cov_type=VEV&n_components=2")
    wait_for_app(page)
    expect(page.get_by_role("heading", level=3, name="All pairs of columns")).to_be_visible()
    matrix = page.locator(".st-key-pairs_chart")
    expect(matrix.locator(".gl-container canvas").first).to_be_attached()  # the points, in WebGL
    expect(matrix.locator(".annotation-text")).to_have_text(["petal_length", "petal_width", "sepal_length", "sepal_width"])
    assert_no_exception(page)
    matrix.scroll_into_view_if_needed()
    path = ROOT / "test-artifacts" / "pairs.png"
    path.parent.mkdir(exist_ok=True)
    matrix.screenshot(path=str(path))
    keep_readme_picture(path, "pairs.png")


@pytest.mark.start_page("data")
def test_the_whole_journey_from_upload_to_a_script_that_prints_the_same_bic(page, tmp_path):
    """Upload -> columns -> Fit -> a sidebar change (with the difference shown) -> Model selection ->
    Export -> the downloaded scikit-learn script, run on the downloaded CSV, prints the app's BIC."""
    use_uploads(page)
    upload(page, "my data.csv", good_csv())
    choose(page, "y_col", "c")
    expect(page.get_by_test_id("stSidebarUserContent")).to_contain_text("columns a, c")

    goto(page, "fit")
    full_bic = metrics(page)["BIC"]
    choose(page, "cov_type", next(o for o in option_texts(page, "cov_type") if o.startswith("tied")))
    expect(page.get_by_test_id("stSidebarUserContent")).to_contain_text("Model: tied (EEE), K = 3")
    bic = page.get_by_test_id("stMetric").filter(has=page.get_by_test_id("stMetricLabel").filter(has_text="BIC"))
    tied_bic = float(bic.get_by_test_id("stMetricValue").inner_text().replace(",", ""))
    change = tied_bic - float(full_bic.replace(",", ""))
    expect(bic.get_by_test_id("stMetricDelta")).to_have_text(f"{change:+,.2f} from full (VVV), K = 3")

    goto(page, "model_selection")  # 60 rows: the 14 x 9 sweep runs by itself
    expect(page.locator(".st-key-use_model")).to_be_visible()
    expect(page.get_by_test_id("stPlotlyChart").filter(has_text="BIC (lower is better)")).to_be_visible()

    goto(page, "export")
    with page.expect_download() as csv_download:
        page.locator(".st-key-download_csv button").click()
    with page.expect_download() as script_download:
        page.locator(".st-key-download_script button").click()
    csv_path = tmp_path / csv_download.value.suggested_filename
    csv_download.value.save_as(csv_path)
    script = tmp_path / script_download.value.suggested_filename
    script_download.value.save_as(script)
    assert "GaussianMixture(" in script.read_text() and "covariance_type='tied'" in script.read_text()
    printed = subprocess.run([sys.executable, str(script)], cwd=tmp_path, capture_output=True, text=True,
                             timeout=120, check=True).stdout
    lines = dict(line.split(": ", 1) for line in printed.splitlines() if ": " in line)
    assert lines["labels agree"] == f"{GOOD_ROWS} of {GOOD_ROWS} rows"
    assert f"{float(lines['BIC']):,.2f}" == f"{tied_bic:,.2f}"
