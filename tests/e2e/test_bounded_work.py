"""Bounded work: long work stops when the user presses Stop or closes the tab (the server goes idle
at once), and replayed uploads cannot fill the server's memory."""

from __future__ import annotations

import time

import pytest
from playwright.sync_api import expect

from gmm_core.budget import SESSION_UPLOAD_BYTES
from tests.e2e.conftest import TIMEOUT, cpu_seconds, upload_endpoint, use_uploads, wait_for_app
from tests.e2e.test_server_security import raw_request

#: 50 starts of 15 components on a 3,000-row subsample of 200,000 generated rows, then EM on all
#: rows, never meeting tol 1e-12: about 40 s of EM even with max_iter clamped to 1,101.
SLOW_LINK = "/?source=generate&gen_n_samples=200000&n_components=15&n_init=50&tol=1e-12&max_iter=100000"
#: CPU seconds an idle server may use in ``QUIET_SECONDS`` (websocket pings, the file watcher is off).
IDLE_CPU = 0.5
QUIET_SECONDS = 3.0
#: Uploads sent straight to the session's upload endpoint, as an attacker replays them.
REPLAYS = 12
REPLAYED_MB = 20


def cpu_over(pid: int, seconds: float) -> float:
    before = cpu_seconds(pid)
    time.sleep(seconds)
    return cpu_seconds(pid) - before


def open_slow_fit(context, server):
    page = context.new_page()
    page.set_default_timeout(TIMEOUT)
    page.goto(server.url + SLOW_LINK)
    stop = page.get_by_role("button", name="Stop")
    expect(stop).to_be_visible(timeout=30_000)
    expect(page.get_by_test_id("stProgress")).to_contain_text("full (VVV), K = 15")
    return page, stop


def test_the_stop_button_ends_the_fit_and_the_page_says_so(context, server):
    page, stop = open_slow_fit(context, server)
    busy = cpu_over(server.pid, 1.0)
    assert busy > 0.5, f"the fit should keep a core busy; used {busy:.2f} s"
    stop.click()
    expect(page.get_by_text("You stopped fitting full (VVV), K = 15.")).to_be_visible(timeout=10_000)
    expect(page.get_by_role("button", name="Fit again")).to_be_visible()
    wait_for_app(page)
    idle = cpu_over(server.pid, QUIET_SECONDS)
    assert idle < IDLE_CPU, f"the server used {idle:.2f} s of CPU in {QUIET_SECONDS} s after Stop"
    page.close()


def test_closing_the_tab_ends_the_fit(context, server):
    page, _ = open_slow_fit(context, server)
    page.close()
    time.sleep(1.5)  # the server notices the closed socket, and the next progress update stops EM
    idle = cpu_over(server.pid, QUIET_SECONDS)
    assert idle < IDLE_CPU, f"the server used {idle:.2f} s of CPU in {QUIET_SECONDS} s after the tab closed"


@pytest.mark.start_page("data")
def test_replayed_uploads_no_widget_uses_stay_within_the_session_budget(page, server):
    use_uploads(page)
    endpoint = upload_endpoint(page, server.url)
    path, token, host = endpoint.path, endpoint.token, endpoint.host
    payload = b"x,y\n" + b"1,2\n" * (REPLAYED_MB * 1024**2 // 4)
    body = (b"--b\r\nContent-Disposition: form-data; name=\"file\"; filename=\"x.csv\"\r\n\r\n" + payload
            + b"\r\n--b--\r\n")
    before = server.rss_mb()
    for i in range(REPLAYS):
        status = raw_request(server.url, [
            f"PUT {path}-replay-{i} HTTP/1.1", f"Host: {host}", "Content-Type: multipart/form-data; boundary=b",
            "Connection: close", f"Cookie: _streamlit_xsrf={token}", f"X-Xsrftoken: {token}",
            f"Content-Length: {len(body)}",
        ], body)
        assert " 204 " in status or " 200 " in status, status
    growth = server.rss_mb() - before
    # Unbounded, the server would hold all REPLAYS x REPLAYED_MB = 240 MB of them.
    assert growth < SESSION_UPLOAD_BYTES / 1024**2 + 40, f"the server grew by {growth:.0f} MB"


def test_changing_a_setting_stops_the_running_fit_and_fits_the_new_one(context, server):
    page, _ = open_slow_fit(context, server)
    start = time.monotonic()
    field = page.locator(".st-key-n_components input")
    field.fill("2")
    field.press("Enter")
    # The slow fit (about 40 s) is abandoned at once: the two-component model is shown within seconds.
    expect(page.get_by_test_id("stSidebarUserContent")).to_contain_text("full (VVV), K = 2", timeout=20_000)
    expect(page.get_by_test_id("stMetric").first).to_be_visible(timeout=20_000)
    wait_for_app(page)
    assert time.monotonic() - start < 20
    idle = cpu_over(server.pid, QUIET_SECONDS)
    assert idle < IDLE_CPU, f"the server used {idle:.2f} s of CPU in {QUIET_SECONDS} s after the change"
    page.close()
