"""Issue target 4 in the real server: a 1e6-row CSV uploaded through Chromium, swept, fitted and exported.

Run from the repository root::

    .venv/bin/python -m bench.server_bench            # 1,000,000 rows; writes bench/SERVER_RESULTS.md
    .venv/bin/python -m bench.server_bench --quick    # 50,000 rows; prints only

Starts the app as ``make run`` does (``scripts/serve.py``, a subprocess of the venv's Python, with the
repository's ``.streamlit/config.toml``), samples the server's ``VmRSS`` and ``VmHWM``
(``/proc/<pid>/status``, plus the RSS of any child processes) every 0.2 s in a thread, and
drives a real headless Chromium with Playwright through the journey: open the app, upload
the CSV on the Data page, run the default sweep (K 1 to 9 x the 14 models) on the
Model selection page, "Use this model", see the fit on the Fit page, and download the
labelled CSV on the Export page. Each step's wall time is from the user's action until the
page shows its result; the server's memory is recorded after each step. One run: the
machine is shared and noisy, so read the times as rough.
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import streamlit.logger
from playwright.sync_api import Page, expect, sync_playwright

# bench.app_bench imports ui.cache, whose st.cache_data warns once per function outside a server.
streamlit.logger.get_logger("streamlit.runtime.caching.cache_data_api").setLevel("ERROR")

from bench.app_bench import PEAK_GOAL_MIB, SWEEP_GOAL_S, blobs_csv, verdict  # noqa: E402 - after the logger
from tests.e2e.conftest import (  # noqa: E402
    CHROMIUM_ARGS,
    PAGE_TITLES,
    ROOT,
    chromium_path,
    css_string,
    free_port,
    metrics,
    wait_for_app,
)

RESULTS = ROOT / "bench" / "SERVER_RESULTS.md"
PYTHON = ROOT / ".venv" / "bin" / "python"
QUICK_ROWS = 50_000
SAMPLE_EVERY_S = 0.2
#: Generous timeouts (ms): a 2-core shared machine under load.
START_TIMEOUT_S = 90
PAGE_TIMEOUT = 120_000
UPLOAD_TIMEOUT = 240_000
SWEEP_TIMEOUT = 180_000
FIT_TIMEOUT = 120_000
DOWNLOAD_TIMEOUT = 240_000


# ---------------------------------------------------------------- the server's memory


def _status_kib(pid: int) -> dict[str, int]:
    """VmRSS and VmHWM (KiB) of process ``pid``; empty when it has gone."""
    try:
        text = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return {}
    return {key: int(value) for key, value in re.findall(r"^(VmRSS|VmHWM):\s+(\d+) kB", text, re.MULTILINE)}


def _descendants(pid: int) -> list[int]:
    """Every live descendant of ``pid`` (from the parent ids in /proc/*/stat)."""
    children: dict[int, list[int]] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            stat = Path(entry.path, "stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])  # the command name may hold spaces and ')'
        children.setdefault(ppid, []).append(int(entry.name))
    found, todo = [], list(children.get(pid, []))
    while todo:
        child = todo.pop()
        found.append(child)
        todo.extend(children.get(child, []))
    return found


@dataclass(frozen=True)
class Sample:
    """One reading of the server's memory, in MiB; ``t`` from ``time.monotonic``."""

    t: float
    rss: float  # the server process
    children_rss: float  # the sum over its descendants: the fit workers of gmm_core.parallel
    hwm: float  # the server process's peak RSS so far (VmHWM is per process)
    n_children: int

    @property
    def total(self) -> float:
        return self.rss + self.children_rss


class MemorySampler(threading.Thread):
    """Reads the memory of process ``pid`` every ``every`` seconds until stopped."""

    def __init__(self, pid: int, every: float = SAMPLE_EVERY_S) -> None:
        super().__init__(daemon=True, name="memory-sampler")
        self.pid, self.every = pid, every
        self.samples: list[Sample] = []
        self.max_children = 0
        self._stop_event = threading.Event()
        self._lock = threading.Lock()

    def sample(self) -> Sample | None:
        """Read now, keep and return the reading (None once the process has gone)."""
        status = _status_kib(self.pid)
        if "VmRSS" not in status:
            return None
        kids = _descendants(self.pid)
        kids_rss = sum(_status_kib(kid).get("VmRSS", 0) for kid in kids)
        reading = Sample(time.monotonic(), status["VmRSS"] / 1024, kids_rss / 1024, status["VmHWM"] / 1024, len(kids))
        with self._lock:
            self.samples.append(reading)
            self.max_children = max(self.max_children, len(kids))
        return reading

    def run(self) -> None:
        while not self._stop_event.is_set():
            self.sample()
            self._stop_event.wait(self.every)

    def stop(self) -> None:
        self._stop_event.set()
        if self.is_alive():
            self.join(timeout=5)

    def peak_total(self, start: float = 0.0, end: float = float("inf")) -> float:
        """The largest server + children RSS sampled between ``start`` and ``end``."""
        with self._lock:
            return max((s.total for s in self.samples if start <= s.t <= end), default=float("nan"))

    def peak_hwm(self) -> float:
        with self._lock:
            return max((s.hwm for s in self.samples), default=float("nan"))


# ---------------------------------------------------------------- the server


def start_server(log_path: Path) -> tuple[subprocess.Popen, str]:
    """The app as ``make run`` starts it (``scripts/serve.py``: ``streamlit run app.py`` with the engine
    loaded while the server starts) in a new process group, and its URL once it answers its health check."""
    python = PYTHON if PYTHON.exists() else Path(sys.executable)
    port = free_port()
    log = open(log_path, "wb")
    process = subprocess.Popen(
        [
            str(python), "scripts/serve.py",
            "--server.headless", "true", "--server.port", str(port), "--browser.gatherUsageStats", "false",
        ],
        cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )
    log.close()  # the child keeps its own descriptor
    url = f"http://localhost:{port}"  # .streamlit/config.toml: address = "localhost"
    deadline = time.monotonic() + START_TIMEOUT_S
    while True:
        try:
            if urllib.request.urlopen(f"{url}/_stcore/health", timeout=2).read() == b"ok":
                return process, url
        except OSError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            stop_server(process)
            raise RuntimeError(f"Streamlit did not start; its output:\n{log_path.read_text(errors='replace')[-3000:]}")
        time.sleep(0.3)


def stop_server(process: subprocess.Popen) -> None:
    """End the server's process group (it was started in its own session), by its id."""
    if process.poll() is not None:
        return
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=15)
    except ProcessLookupError:
        pass


# ---------------------------------------------------------------- the journey


@dataclass
class Step:
    name: str
    seconds: float
    rss: float  # server + children RSS at the end of the step, MiB
    peak: float  # largest server + children RSS sampled during the step, MiB
    hwm: float  # server VmHWM at the end of the step, MiB


@dataclass
class Journey:
    sampler: MemorySampler
    steps: list[Step] = field(default_factory=list)
    notes: dict[str, str] = field(default_factory=dict)

    def timed(self, name: str, action) -> None:
        """Run ``action()``, record its wall time and the server's memory, print a line."""
        start = time.monotonic()
        action()
        seconds = time.monotonic() - start
        now = self.sampler.sample()
        step = Step(name, seconds, now.total, self.sampler.peak_total(start, time.monotonic()), now.hwm)
        self.steps.append(step)
        print(f"  {name:<58} {seconds:7.1f} s   RSS {step.rss:6.0f}   peak {step.peak:6.0f}   HWM {step.hwm:6.0f} MiB",
              flush=True)


def go(page: Page, name: str, timeout: float = PAGE_TIMEOUT) -> None:
    """Switch page with the sidebar navigation and wait until its run has finished."""
    page.get_by_test_id("stSidebarNav").get_by_text(PAGE_TITLES[name], exact=True).click()
    expect(page.get_by_role("heading", level=1, name=PAGE_TITLES[name])).to_be_visible(timeout=timeout)
    wait_for_app(page, timeout=timeout)
    no_exception(page)


def no_exception(page: Page) -> None:
    expect(page.get_by_test_id("stException")).to_have_count(0, timeout=5_000)
    errors = page.get_by_test_id("stAlertContentError").all_inner_texts()
    if errors:
        raise RuntimeError(f"the app shows an error: {errors}")


def count_lines(path: Path) -> int:
    """Lines in the file, the last one counted whether or not it ends with a newline."""
    count, last = 0, b"\n"
    with open(path, "rb") as file:
        while chunk := file.read(1 << 20):
            count += chunk.count(b"\n")
            last = chunk[-1:]
    return count + (last != b"\n")


def journey(page: Page, url: str, csv_path: Path, rows: int, run: Journey) -> None:
    """The user's journey through the app, step by step (see the module docstring)."""
    sidebar = page.get_by_test_id("stSidebarUserContent")

    def open_app() -> None:
        page.goto(url)
        wait_for_app(page, timeout=PAGE_TIMEOUT)
        expect(page.get_by_role("heading", level=1, name="Fit")).to_be_visible(timeout=PAGE_TIMEOUT)
        expect(page.get_by_test_id("stPlotlyChart").first).to_be_visible(timeout=PAGE_TIMEOUT)
        no_exception(page)

    run.timed("open the app (seed example on the Fit page)", open_app)

    def choose_upload() -> None:
        go(page, "data")
        page.locator(".st-key-source").get_by_text("Upload CSV", exact=True).click()
        expect(page.locator(".st-key-upload").get_by_test_id("stFileUploaderDropzone")).to_be_visible(timeout=PAGE_TIMEOUT)
        wait_for_app(page, timeout=PAGE_TIMEOUT)

    run.timed("Data page, choose 'Upload CSV'", choose_upload)
    run.notes["rss_before_upload"] = f"{run.steps[-1].rss:.0f}"

    # Upload: the file chooser, then three moments of one script run.
    uploader = page.locator(".st-key-upload")
    with page.expect_file_chooser() as chooser:
        uploader.get_by_test_id("stFileUploaderDropzone").click()
    upload_start = time.monotonic()

    def send() -> None:
        with page.expect_response(
            lambda r: "/_stcore/upload_file/" in r.url and r.request.method == "PUT", timeout=UPLOAD_TIMEOUT
        ) as put:
            chooser.value.set_files(csv_path)
        if not put.value.ok:
            raise RuntimeError(f"the upload answered {put.value.status}")

    run.timed("upload: file sent (PUT answered)", send)

    def table_shown() -> None:
        expect(uploader.locator(f"[data-testid='stFileChipName'][title={css_string(csv_path.name)}]").last).to_be_visible(
            timeout=UPLOAD_TIMEOUT
        )
        expect(page.get_by_text(f"First 200 of {rows:,} rows.", exact=True)).to_be_visible(timeout=UPLOAD_TIMEOUT)

    run.timed("upload: Data page shows the table", table_shown)

    def sidebar_rows() -> None:
        # The sidebar's summary is filled after the page, once the sidebar's model is fitted to the new data.
        expect(sidebar).to_contain_text(f"{rows:,} of {rows:,} rows", timeout=UPLOAD_TIMEOUT)
        wait_for_app(page, timeout=UPLOAD_TIMEOUT)
        no_exception(page)

    run.timed(f"upload: sidebar says {rows:,} rows, run finished", sidebar_rows)
    run.notes["upload_total"] = f"{time.monotonic() - upload_start:.1f}"

    run.timed("go to Model selection", lambda: go(page, "model_selection"))

    def sweep_results() -> None:
        expect(page.get_by_text("Choose a K range and covariance types, then press Run sweep.")).to_be_visible()
        page.locator(".st-key-run_sweep button").click()
        if rows > 20_000:  # ui.dataset.LARGE_DATA_ROWS: the sweep chooses on a subsample
            expect(page.get_by_text("Chosen on a stratified subsample of", exact=False)).to_be_visible(timeout=SWEEP_TIMEOUT)
        expect(page.get_by_test_id("stPlotlyChart").first).to_be_visible(timeout=SWEEP_TIMEOUT)
        expect(page.locator(".st-key-use_model").get_by_role("button", name="Use this model")).to_be_visible(
            timeout=SWEEP_TIMEOUT
        )

    sweep_start = time.monotonic()
    run.timed("sweep: 'Run sweep' -> notice and criteria chart shown", sweep_results)
    run.notes["sweep"] = run.steps[-1].seconds

    def sweep_idle() -> None:
        wait_for_app(page, timeout=SWEEP_TIMEOUT)
        no_exception(page)

    run.timed("sweep: rest of the page drawn, run finished", sweep_idle)
    run.notes["sweep_total"] = time.monotonic() - sweep_start
    chosen = page.locator(".st-key-chosen_model [role='combobox']").input_value()
    label = chosen.split(" · ")[0]  # e.g. 'spherical (VII), K = 3'
    run.notes["chosen"] = chosen

    def use_model() -> None:
        page.locator(".st-key-use_model").get_by_role("button", name="Use this model").click()
        expect(page.get_by_text(f"The sidebar now fits {label}.")).to_be_visible(timeout=FIT_TIMEOUT)
        # The sidebar's summary fits the adopted model to all rows in this same run.
        wait_for_app(page, timeout=FIT_TIMEOUT)
        expect(sidebar).to_contain_text(f"Model: {label}", timeout=FIT_TIMEOUT)
        no_exception(page)

    run.timed("'Use this model' -> sidebar shows it, run finished", use_model)

    def fit_page() -> None:
        page.get_by_test_id("stSidebarNav").get_by_text("Fit", exact=True).click()
        expect(page.get_by_role("heading", level=1, name="Fit")).to_be_visible(timeout=FIT_TIMEOUT)
        expect(
            page.get_by_test_id("stMetric").filter(has=page.get_by_test_id("stMetricLabel").filter(has_text="BIC"))
        ).to_be_visible(timeout=FIT_TIMEOUT)

    run.timed("Fit page: -> BIC metric shown", fit_page)

    def fit_idle() -> None:
        wait_for_app(page, timeout=FIT_TIMEOUT)
        no_exception(page)

    run.timed("Fit page: chart and tables drawn, run finished", fit_idle)
    run.notes["metrics"] = metrics(page)
    run.notes["fit_heading"] = page.get_by_test_id("stMarkdownContainer").filter(
        has_text=re.compile(rf"^{re.escape(label)} on ")
    ).first.inner_text()

    def export_page() -> None:
        go(page, "export")
        expect(page.locator(".st-key-download_csv button")).to_be_visible(timeout=PAGE_TIMEOUT)

    run.timed("go to Export", export_page)

    def download() -> None:
        with page.expect_download(timeout=DOWNLOAD_TIMEOUT) as info:
            page.locator(".st-key-download_csv button").click()
        path = Path(info.value.path())  # waits until the download has finished
        failure = info.value.failure()
        if failure:
            raise RuntimeError(f"the download failed: {failure}")
        run.notes["download_name"] = info.value.suggested_filename
        run.notes["download_bytes"] = path.stat().st_size
        run.notes["download_lines"] = count_lines(path)

    run.timed("Export: labelled CSV download -> complete", download)
    if run.notes["download_lines"] != rows + 1:
        raise RuntimeError(f"the labelled CSV has {run.notes['download_lines']:,} lines, not {rows + 1:,}")

    def settle() -> None:
        time.sleep(3)

    run.timed("idle 3 s after the download", settle)


# ---------------------------------------------------------------- the report


def versions(browser_version: str) -> str:
    import numpy
    import streamlit

    return (
        f"{platform.platform()}, {os.cpu_count()} CPUs, Python {platform.python_version()}, "
        f"Streamlit {streamlit.__version__}, numpy {numpy.__version__}, Chromium {browser_version}"
    )


def loadavg() -> str:
    return ", ".join(f"{load:.2f}" for load in os.getloadavg())


def report(rows: int, csv_bytes: int, run: Journey, info: dict) -> str:
    """The table and the verdicts, as Markdown."""
    peak_hwm = run.sampler.peak_hwm()
    peak_total = run.sampler.peak_total()
    sweep = run.notes["sweep"]
    peak_step = max(run.steps, key=lambda s: s.peak)
    lines = [
        "# Server benchmark: issue target 4 through the real server",
        "",
        f"Written by `{info['command']}` on {info['date']:%Y-%m-%d %H:%M} UTC.",
        f"Machine: {info['machine']}.",
        f"Load average (1, 5, 15 min) before: {info['load_before']}; after: {info['load_after']}. "
        "One run on a shared, noisy machine.",
        "",
        f"Data: `bench.app_bench.blobs_csv({rows})`, {rows:,} rows x 2 columns, {csv_bytes / 1024**2:.1f} MiB, "
        "uploaded through the Data page's file chooser in headless Chromium (Playwright). The server is "
        "`.venv/bin/python scripts/serve.py --server.headless true --server.port <free> "
        "--browser.gatherUsageStats false` with the repository's `.streamlit/config.toml`; its "
        f"`/proc/<pid>/status` was read every {SAMPLE_EVERY_S} s, with the RSS of any child processes "
        f"(at most {run.sampler.max_children}: fits run in threads of the server, `gmm_core.parallel`).",
        "",
        "| step | wall time | RSS after, server + workers | peak RSS during step, server + workers | server VmHWM after |",
        "|---|---:|---:|---:|---:|",
        *(f"| {s.name} | {s.seconds:.1f} s | {s.rss:.0f} MiB | {s.peak:.0f} MiB | {s.hwm:.0f} MiB |" for s in run.steps),
        "",
        "| measure | value | target | verdict |",
        "|---|---|---|---|",
        f"| server VmRSS before the upload | {run.notes['rss_before_upload']} MiB | | |",
        f"| upload, set file -> sidebar shows {rows:,} rows | {run.notes['upload_total']} s | | |",
        f"| sweep, 'Run sweep' -> results shown (K 1-9 x the 14 models) | {sweep:.1f} s "
        f"({run.notes['sweep_total']:.1f} s to the end of the run) | < {SWEEP_GOAL_S:.0f} s | {verdict(sweep < SWEEP_GOAL_S)} |",
        f"| peak VmHWM of the server process | {peak_hwm:.0f} MiB | < {PEAK_GOAL_MIB:.0f} MiB (1.5 GiB) | "
        f"{verdict(peak_hwm < PEAK_GOAL_MIB)} |",
        f"| peak sampled RSS, server + fit workers | {peak_total:.0f} MiB (largest during: {peak_step.name}) | "
        f"< {PEAK_GOAL_MIB:.0f} MiB | {verdict(peak_total < PEAK_GOAL_MIB)} |",
        "",
        f"Chosen model: {run.notes['chosen']}. Fit page: {run.notes['fit_heading']}; BIC "
        f"{run.notes['metrics'].get('BIC')}, converged {run.notes['metrics'].get('Converged')}, EM iterations "
        f"{run.notes['metrics'].get('EM iterations')}.",
        f"Download: {run.notes['download_name']}, {run.notes['download_bytes'] / 1024**2:.1f} MiB, "
        f"{run.notes['download_lines']:,} lines (header + {rows:,} rows).",
        "",
        "Wall times are from the user's action to what the page shows, so they include the browser, the "
        "WebSocket and Streamlit's rerun. The sidebar's summary fits the sidebar's model after every page, "
        "so the upload step includes a fit of the default model (full, K = 3) to all rows, and "
        "'Use this model' includes the fit of the adopted model; the Fit page then finds it cached. "
        "VmHWM is the server process's own peak resident memory since it started.",
        "",
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000, help="rows of the uploaded CSV (default 1,000,000)")
    parser.add_argument("--quick", action="store_true",
                        help=f"{QUICK_ROWS:,} rows, print only (does not write {RESULTS.name})")
    args = parser.parse_args()
    rows = QUICK_ROWS if args.quick else args.rows
    info = {
        "date": datetime.now(timezone.utc),
        "load_before": loadavg(),
        "command": " ".join([".venv/bin/python -m bench.server_bench", *sys.argv[1:]]),
    }
    print(f"server_bench: {rows:,} rows; load average before {info['load_before']}", flush=True)

    with tempfile.TemporaryDirectory(prefix="server_bench_") as tmp:
        tmp = Path(tmp)
        csv_path = tmp / f"blobs_{rows}.csv"
        csv_path.write_bytes(blobs_csv(rows))
        csv_bytes = csv_path.stat().st_size
        print(f"  CSV {csv_path.name}: {csv_bytes / 1024**2:.1f} MiB", flush=True)
        log_path = tmp / "streamlit.log"
        process = sampler = None
        try:
            start = time.monotonic()
            process, url = start_server(log_path)
            sampler = MemorySampler(process.pid)
            sampler.start()
            run = Journey(sampler)
            first = sampler.sample()
            run.steps.append(Step("start the server (until /_stcore/health answers)", time.monotonic() - start,
                                  first.total, first.total, first.hwm))
            print(f"  server pid {process.pid} at {url}; RSS {first.total:.0f} MiB", flush=True)
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
                try:
                    context = browser.new_context(viewport={"width": 1400, "height": 1000}, accept_downloads=True)
                    page = context.new_page()
                    page.set_default_timeout(PAGE_TIMEOUT)
                    page.on("dialog", lambda dialog: dialog.dismiss())
                    try:
                        journey(page, url, csv_path, rows, run)
                    except Exception:
                        shot = tmp.parent / "server_bench_failure.png"
                        try:
                            page.screenshot(path=str(shot))
                            print(f"  screenshot of the failure: {shot}", file=sys.stderr)
                        except Exception:  # noqa: BLE001 - best effort only
                            pass
                        raise
                    info["machine"] = versions(browser.version)
                finally:
                    browser.close()
        except BaseException:
            if log_path.exists():
                print(f"--- server log (tail) ---\n{log_path.read_text(errors='replace')[-4000:]}", file=sys.stderr)
            raise
        finally:
            if sampler is not None:
                sampler.stop()
            if process is not None:
                stop_server(process)
        server_log = log_path.read_text(errors="replace")

    info["load_after"] = loadavg()
    text = report(rows, csv_bytes, run, info)
    if "Traceback" in server_log:
        text += f"\nThe server logged a traceback:\n\n```\n{server_log[-3000:]}\n```\n"
    print()
    print(text)
    if args.quick:
        print(f"(--quick: {RESULTS.relative_to(ROOT)} not written)")
    else:
        RESULTS.write_text(text)
        print(f"wrote {RESULTS.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
