"""A real Streamlit server and a real Chromium for the browser journeys, and helpers to drive them.

The server is started once per session (``streamlit run app.py`` on a free localhost
port, output to ``test-artifacts/streamlit.log``); each test gets a fresh browser
context, so a fresh app session. Screenshots go to ``test-artifacts/``; a failing test
leaves ``test-artifacts/failures/<test>.png``.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect, sync_playwright

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
IDLE = "[data-testid='stApp'][data-test-script-state='notRunning']"
RUNNING = "[data-testid='stApp'][data-test-script-state='running']"
TIMEOUT = 60_000
PAGE_TITLES = {"data": "Data", "fit": "Fit", "model_selection": "Model selection", "export": "Export"}

expect.set_options(timeout=30_000)


def chromium_path() -> str:
    found = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium") or shutil.which("chromium-browser")
    if not found or not os.access(found, os.X_OK):
        # Never skip: a missing browser is a broken test set-up, and `make test` installs one.
        pytest.fail(
            "The browser tests need Chromium and none was found. Install Debian's package "
            "(sudo apt-get install chromium), or set CHROMIUM_PATH to a Chromium or Chrome binary, "
            "or run `make test`, which installs it when run as root."
        )
    return found


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass(frozen=True)
class Server:
    url: str
    pid: int
    log: Path

    def rss_mb(self) -> float:
        """Resident memory of the server process in MB (VmRSS of /proc/<pid>/status)."""
        status = Path(f"/proc/{self.pid}/status").read_text()
        return int(re.search(r"^VmRSS:\s+(\d+) kB", status, re.MULTILINE).group(1)) / 1024


@pytest.fixture(scope="session")
def server():
    ARTIFACTS.mkdir(exist_ok=True)
    port = free_port()
    log_path = ARTIFACTS / "streamlit.log"
    log = open(log_path, "wb")
    process = subprocess.Popen(
        [
            sys.executable, "-m", "streamlit", "run", "app.py",
            "--server.headless", "true", "--server.port", str(port), "--server.address", "127.0.0.1",
            "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none",
        ],
        cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if urllib.request.urlopen(f"{url}/_stcore/health", timeout=2).read() == b"ok":
                    break
            except OSError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"Streamlit did not start; see {log_path}")
            time.sleep(0.3)
        yield Server(url=url, pid=process.pid, log=log_path)
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)
        log.close()


@pytest.fixture(scope="session")
def app_url(server) -> str:
    return server.url


@pytest.fixture(scope="session")
def browser():
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "start_page(name): open the app on this page ('data', 'fit', ...) instead of the default Fit page"
    )


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    if report.when == "call":
        item.e2e_failed = report.failed
    return report


@pytest.fixture(scope="session")
def context(browser):
    """One browser context for the run: its HTTP cache makes each new page load fast. Every test
    opens its own page, so its own app session."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, accept_downloads=True)
    yield context
    context.close()


@pytest.fixture
def page(request, context, server) -> Page:
    """A fresh session on the Fit page (the default page), or on the page of the test's
    ``start_page`` marker. Any alert/confirm dialog, and any traceback in the server log, fails the test."""
    app_url = server.url
    log_start = server.log.stat().st_size
    page = context.new_page()
    page.set_default_timeout(TIMEOUT)
    page.dialogs = []

    def on_dialog(dialog):
        page.dialogs.append(f"{dialog.type}: {dialog.message}")
        dialog.dismiss()

    page.on("dialog", on_dialog)
    marker = request.node.get_closest_marker("start_page")
    start = marker.args[0] if marker else "fit"
    page.goto(app_url if start == "fit" else f"{app_url}/{start}")
    wait_for_app(page)
    expect(page.get_by_role("heading", level=1, name=PAGE_TITLES[start])).to_be_visible()
    if start in ("fit", "data"):
        expect(page.get_by_test_id("stPlotlyChart").first).to_be_visible()
    yield page
    if getattr(request.node, "e2e_failed", False):
        (ARTIFACTS / "failures").mkdir(parents=True, exist_ok=True)
        name = re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.name)
        try:
            page.screenshot(path=str(ARTIFACTS / "failures" / f"{name}.png"))
        except Exception:  # noqa: BLE001 - best effort only
            pass
    page.close()
    assert not page.dialogs, f"dialogs were opened: {page.dialogs}"
    with open(server.log, "rb") as log:
        log.seek(log_start)
        written = log.read().decode("utf-8", "replace")
    assert "Traceback" not in written, f"the server logged a traceback during the test:\n{written[-3000:]}"


# ---------------------------------------------------------------- helpers


def wait_for_app(page: Page, timeout: float = TIMEOUT) -> None:
    """Wait until the current script run has finished and the page has settled."""
    page.wait_for_selector(IDLE, timeout=timeout)
    # A rerun may start a moment after an interaction: let it begin, then wait again.
    page.wait_for_timeout(300)
    page.wait_for_selector(IDLE, timeout=timeout)


def goto(page: Page, name: str) -> None:
    """Switch page with the sidebar navigation (keeps the session) and wait for its title."""
    page.get_by_test_id("stSidebarNav").get_by_text(PAGE_TITLES[name], exact=True).click()
    expect(page.get_by_role("heading", level=1, name=PAGE_TITLES[name])).to_be_visible()
    wait_for_app(page)
    assert_no_exception(page)


def choose(page: Page, key: str, option: str) -> None:
    """Pick ``option`` (its visible text, exactly) in the selectbox with ``key``."""
    page.locator(f".st-key-{key} [role='combobox']").click()
    page.get_by_role("option", name=option, exact=True).click()
    wait_for_app(page)


def upload(page: Page, name: str, data: bytes | None = None, *, path: Path | None = None, sent: bool = True) -> None:
    """Upload a file through the Data page's file chooser and wait for the app to read it.

    ``sent=False`` for a file the browser refuses to send (over the upload limit).
    """
    uploader = page.locator(".st-key-upload")
    with page.expect_file_chooser() as chooser:
        uploader.get_by_test_id("stFileUploaderDropzone").click()
    files = path if path is not None else [{"name": name, "mimeType": "text/csv", "buffer": data}]
    if sent:
        with page.expect_response(lambda r: "/_stcore/upload_file/" in r.url and r.request.method == "PUT") as put:
            chooser.value.set_files(files)
        assert put.value.ok, f"upload of {name} answered {put.value.status}"
    else:
        chooser.value.set_files(files)
    # The chip shows a shortened name; its title holds the whole one.
    expect(uploader.locator(f"[data-testid='stFileChipName'][title={css_string(name)}]").last).to_be_visible()
    wait_for_app(page)


@dataclass(frozen=True)
class UploadEndpoint:
    """Where and how a session's uploads are sent, to send requests by hand as an attacker would."""

    path: str  # /_stcore/upload_file/<session>/<file> of the last file the browser sent
    token: str  # the XSRF token of the browser's cookie
    host: str


def upload_endpoint(page: Page, app_url: str) -> UploadEndpoint:
    """Upload a good file through the Data page (already on 'Upload CSV') and note where it went."""
    from tests.app.hostile import GOOD_NAME, good_csv

    urls = []
    page.on("request", lambda r: urls.append(r.url) if "/_stcore/upload_file/" in r.url and r.method == "PUT" else None)
    upload(page, GOOD_NAME, good_csv())
    token = next(c["value"] for c in page.context.cookies() if c["name"] == "_streamlit_xsrf")
    return UploadEndpoint(urllib.parse.urlsplit(urls[-1]).path, token, urllib.parse.urlsplit(app_url).netloc)


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of process ``pid`` (all its threads) so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def css_string(text: str) -> str:
    """``text`` as a quoted CSS string."""
    return '"' + "".join(f"\\{ord(c):x} " if not (c.isalnum() or c in " ._-") else c for c in text) + '"'


def use_uploads(page: Page) -> None:
    """Go to the Data page (unless there) and choose 'Upload CSV' as the source."""
    if not page.get_by_role("heading", level=1, name="Data").is_visible():
        goto(page, "data")
    page.locator(".st-key-source").get_by_text("Upload CSV", exact=True).click()
    expect(page.locator(".st-key-upload").get_by_test_id("stFileUploaderDropzone")).to_be_visible()
    wait_for_app(page)


def errors(page: Page) -> list[str]:
    return page.get_by_test_id("stAlertContentError").all_inner_texts()


def sidebar_text(page: Page) -> str:
    """The sidebar's text as read (without the invisible word joiners that stop autolinks)."""
    return page.get_by_test_id("stSidebarUserContent").inner_text().replace("\u2060", "")


def literal(text: str) -> re.Pattern:
    """A pattern matching exactly ``text`` as rendered from ``escape_markdown`` (word joiners allowed)."""
    return re.compile("^" + "\u2060?".join(re.escape(c) for c in text) + "$")


def metrics(page: Page) -> dict[str, str]:
    """Label -> displayed value of every st.metric on the page."""
    return page.evaluate(
        """() => Object.fromEntries([...document.querySelectorAll("[data-testid='stMetric']")].map(m => [
            m.querySelector("[data-testid='stMetricLabel']").innerText.trim(),
            m.querySelector("[data-testid='stMetricValue']").innerText.trim()]))"""
    )


def assert_no_exception(page: Page) -> None:
    expect(page.get_by_test_id("stException")).to_have_count(0)


def screenshot(page: Page, name: str, height: int = 1700) -> Path:
    """Save test-artifacts/<name>.png: the page in a window ``height`` pixels tall (Streamlit
    scrolls inside its own container, so a full-page screenshot would stop at the window)."""
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    size = page.viewport_size
    page.set_viewport_size({"width": size["width"], "height": height})
    page.wait_for_timeout(500)  # let the charts follow the new size
    page.screenshot(path=str(path))
    page.set_viewport_size(size)
    return path
