"""Large uploads: the server's memory stays bounded and the browser stays responsive."""

from __future__ import annotations

import time

import pytest
from playwright.sync_api import expect

from tests.app.hostile import large_csv
from tests.e2e.conftest import assert_no_exception, goto, sidebar_text, upload, use_uploads

N_ROWS = 300_000
UPLOADS = 6
#: Allowed growth of the server's resident memory from the 2nd to the last upload, in MB.
#: Keeping every copy would cost about 4 x (file + table + matrix + fit) > 100 MB.
MAX_GROWTH_MB = 40


@pytest.mark.start_page("data")
def test_repeated_large_uploads_keep_server_memory_bounded(page, server):
    data = large_csv(N_ROWS)
    assert len(data) > 5 * 1024**2
    use_uploads(page)
    rss, seconds = [], []
    for _ in range(UPLOADS):
        start = time.perf_counter()
        upload(page, "large.csv", data)
        expect(page.get_by_test_id("stSidebarUserContent")).to_contain_text(
            f"{N_ROWS:,} of {N_ROWS:,} rows", timeout=120_000
        )
        seconds.append(time.perf_counter() - start)
        assert_no_exception(page)
        rss.append(server.rss_mb())
    growth = rss[-1] - rss[1]
    print(f"server RSS after each upload (MB): {[round(r) for r in rss]}; seconds: {[round(s, 1) for s in seconds]}")
    assert growth < MAX_GROWTH_MB, f"server memory grew by {growth:.0f} MB over {UPLOADS - 2} repeated uploads: {rss}"
    # The same file again is neither parsed nor fitted again.
    assert max(seconds[1:]) < 15, seconds

    # The browser draws a sample, not 300 000 points, and stays responsive.
    assert "300,000 of 300,000 rows" in sidebar_text(page)
    expect(page.get_by_text("Showing a sample of 20,000 of 300,000 points.")).to_be_visible()
    goto(page, "fit")
    expect(page.get_by_text("Showing 20,000 of 300,000 points", exact=False)).to_be_visible()
    start = time.perf_counter()
    assert page.evaluate("() => document.querySelectorAll('[data-testid=stPlotlyChart]').length") >= 1
    assert time.perf_counter() - start < 2
