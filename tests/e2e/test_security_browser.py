"""What the browser renders from hostile names and cells: literal text, no markup, no script, no requests."""

from __future__ import annotations

import csv
import io

import pytest
from playwright.sync_api import expect

from tests.app.hostile import (
    HOSTILE,
    HOSTILE_FILENAME,
    XSS_FORMULA_COLUMN,
    XSS_LABEL_COLUMN,
    XSS_LABELS,
    XSS_NUMERIC,
)
from tests.e2e.conftest import (
    assert_no_exception,
    choose,
    goto,
    literal,
    screenshot,
    sidebar_text,
    upload,
    use_uploads,
)

XSS_CSV = (HOSTILE / "xss_columns.csv").read_bytes()


def assert_no_active_content(page) -> None:
    """Nothing from the file became an image, a link, an event handler or math."""
    found = page.evaluate(
        """() => ({
            images: [...document.querySelectorAll('img')].map(i => i.getAttribute('src'))
                .filter(s => s === 'x' || (s || '').includes('example.invalid')),
            links: [...document.querySelectorAll('a[href]')].map(a => a.getAttribute('href'))
                .filter(h => /^\\s*javascript:/i.test(h) || h.includes('example.invalid')),
            handlers: document.querySelectorAll('[onerror], [onload], [onclick]').length,
            svgLinks: [...document.querySelectorAll('svg a')].map(a => a.getAttribute('href') || a.getAttribute('xlink:href')),
            bold: [...document.querySelectorAll('b, strong')].map(b => b.textContent).filter(t => t === 'bold'),
            scripts: [...document.querySelectorAll('script')].filter(s => (s.textContent || '').includes('alert(')).length,
        })"""
    )
    assert found == {"images": [], "links": [], "handlers": 0, "svgLinks": [], "bold": [], "scripts": 0}, found


def svg_texts(chart, selector: str) -> list[str]:
    return chart.locator(selector).evaluate_all("els => els.map(e => e.textContent)")


@pytest.mark.start_page("data")
def test_hostile_names_and_cells_are_shown_literally(page):
    requests = []
    page.on("request", lambda r: requests.append(r.url) if "example.invalid" in r.url or r.url.startswith("javascript") else None)
    use_uploads(page)
    upload(page, HOSTILE_FILENAME, XSS_CSV)
    choose(page, "label_col", XSS_LABEL_COLUMN)
    assert_no_exception(page)

    # Names as text: in the sidebar, the report, the column menus and the chart.
    assert f"Data: {HOSTILE_FILENAME}" in sidebar_text(page)
    # All four numeric columns are fitted; the report quotes each name as Python would.
    expect(page.get_by_text(literal("Columns: " + ", ".join(map(repr, XSS_NUMERIC))))).to_be_visible()
    expect(page.locator(".st-key-x_col [role='combobox']")).to_have_value(XSS_NUMERIC[0])
    expect(page.locator(".st-key-y_col [role='combobox']")).to_have_value(XSS_NUMERIC[1])
    expect(page.locator(".st-key-label_col [role='combobox']")).to_have_value(XSS_LABEL_COLUMN)
    chart = page.get_by_test_id("stPlotlyChart").first
    expect(chart.locator(".g-xtitle")).to_have_text(XSS_NUMERIC[0])
    expect(chart.locator(".g-ytitle")).to_have_text(XSS_NUMERIC[1])
    expect(chart.locator(".legendtext")).to_have_count(len(XSS_LABELS))
    assert sorted(svg_texts(chart, ".legendtext")) == sorted(XSS_LABELS)
    assert svg_texts(chart, ".legendtitletext") == [XSS_LABEL_COLUMN]
    assert_no_active_content(page)
    screenshot(page, "data_hostile")

    choose(page, "x_col", XSS_NUMERIC[2])
    choose(page, "y_col", XSS_NUMERIC[3])
    expect(page.get_by_test_id("stSidebarUserContent")).to_contain_text(f"columns {XSS_NUMERIC[2]}, {XSS_NUMERIC[3]}")
    chart = page.get_by_test_id("stPlotlyChart").first
    expect(chart.locator(".g-xtitle")).to_have_text(XSS_NUMERIC[2])  # '$\href{...}$' is not typeset
    expect(chart.locator(".g-ytitle")).to_have_text(XSS_NUMERIC[3])  # '%{y} <b>bold</b>' is not a template or bold
    assert_no_active_content(page)

    goto(page, "fit")
    chart = page.get_by_test_id("stPlotlyChart").first
    expect(chart.locator(".g-xtitle")).to_have_text(XSS_NUMERIC[2])
    expect(chart.locator(".g-ytitle")).to_have_text(XSS_NUMERIC[3])
    expect(page.get_by_text(literal(f"Label column: {XSS_LABEL_COLUMN}"))).to_be_visible()
    # Hover text names the axes literally.
    point = chart.locator(".scatterlayer .trace .points path").first.bounding_box()
    page.mouse.move(point["x"] + point["width"] / 2, point["y"] + point["height"] / 2)
    hover = chart.locator(".hoverlayer .hovertext").first
    expect(hover).to_contain_text(XSS_NUMERIC[3])
    expect(hover).to_contain_text(XSS_NUMERIC[2])
    # Known labels compared with the components: the class names are tick labels, literally.
    for label in XSS_LABELS:
        expect(page.get_by_test_id("stPlotlyChart").locator(".ytick text").filter(has_text=label)).not_to_have_count(0)
    ticks = [t for c in page.get_by_test_id("stPlotlyChart").all() for t in svg_texts(c, ".ytick text")]
    assert set(XSS_LABELS) <= set(ticks), ticks
    assert_no_active_content(page)
    screenshot(page, "fit_hostile")

    goto(page, "export")
    with page.expect_download() as download_info:
        page.locator(".st-key-download_csv button").click()
    name = download_info.value.suggested_filename
    assert name.endswith("_labelled.csv") and not set(name) & set("<>:\"/\\|?*$[]() ") and not name.startswith("."), name
    rows = list(csv.reader(io.StringIO(open(download_info.value.path(), encoding="utf-8").read())))
    assert rows[0][:6] == [*XSS_NUMERIC, XSS_LABEL_COLUMN, "'" + XSS_FORMULA_COLUMN]
    assert {row[5] for row in rows[1:]} >= {"'=1+1", "'+SUM(A1)", "'-2+3", "'@cmd"}
    assert_no_active_content(page)
    assert not requests, requests
