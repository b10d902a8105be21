"""Long work stops when the user presses Stop or closes the tab: the server goes idle at once."""

from __future__ import annotations

import os
import time
from pathlib import Path

from playwright.sync_api import expect

from tests.e2e.conftest import TIMEOUT, wait_for_app

#: 50 starts of 15 components on a 3,000-row subsample of 200,000 generated rows, then EM on all
#: rows, never meeting tol 1e-12: about 40 s of EM even with max_iter clamped to 1,101.
SLOW_LINK = "/?source=generate&gen_n_samples=200000&n_components=15&n_init=50&tol=1e-12&max_iter=100000"
#: CPU seconds an idle server may use in ``QUIET_SECONDS`` (websocket pings, the file watcher is off).
IDLE_CPU = 0.5
QUIET_SECONDS = 3.0


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of process ``pid`` and its threads so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


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
