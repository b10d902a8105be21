"""Issue 13 in the real server: the worst-case cost of one link or click, and memory under repeated uploads.

Run from the repository root::

    .venv/bin/python -m bench.bounded_bench            # writes bench/BOUNDED_RESULTS.md
    .venv/bin/python -m bench.bounded_bench --quick    # 100,000 rows instead of 1,000,000; prints only

Starts the app as ``make run`` does (``bench.server_bench.start_server``) and drives a real
headless Chromium:

1. **Links.** Opens the hostile links of the issue in fresh tabs and records, for each, the
   wall time until the page is idle and the CPU time the server spent (``/proc/<pid>/stat``,
   all threads): the link clamp (``gmm_core.budget.LINK_SECONDS``) bounds it.
2. **Clicks.** On the largest data, "Run sweep" (14 models x K 1..9) and "Run stability"
   (5 seeds), each timed the same way.
3. **A closed tab.** Opens the costliest link again, closes the tab while it fits, and
   records the server's CPU in the 5 s after: the fit stops (``ui.work``).
4. **Memory.** Uploads ``UPLOADS`` different large CSVs one after another in one session (each
   fitted by the sidebar's model) and records the server's RSS after each and its peak (VmHWM).

One run on a shared 2-core machine: read the times as rough.
"""

from __future__ import annotations

import argparse
import re
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
from playwright.sync_api import Page, expect, sync_playwright
from playwright.sync_api import TimeoutError as PlaywrightTimeout
from sklearn.datasets import make_blobs

from bench.server_bench import (
    MemorySampler,
    go,
    loadavg,
    no_exception,
    start_server,
    stop_server,
    versions,
)
from gmm_core.budget import CACHE_MAX_BYTES, LINK_SECONDS, SESSION_UPLOAD_BYTES, STABILITY_MAX_ROWS
from tests.e2e.conftest import CHROMIUM_ARGS, ROOT, chromium_path, cpu_seconds, wait_for_app

RESULTS = ROOT / "bench" / "BOUNDED_RESULTS.md"
#: The issue's hostile links: (what, address), ``{rows}`` the generated rows.
LINKS = (
    ("{rows:,} generated rows, K = 15, n_init = 100, tol = 1e-12, max_iter = 100,000",
     "/?source=generate&gen_n_samples={rows}&gen_centers=10&n_components=15&n_init=100&tol=1e-12&max_iter=100000"),
    ("the 600 seed rows, K = 15, n_init = 100, tol = 1e-12, max_iter = 100,000",
     "/?n_components=15&n_init=100&tol=1e-12&max_iter=100000&seed=5"),
)
UPLOADS = 4
UPLOAD_ROWS = 1_000_000
QUICK_ROWS = 100_000
#: Generous (ms): a 2-core shared machine under load.
WORK_TIMEOUT = 600_000


def measured(pid: int, action) -> tuple[float, float]:
    """(wall seconds, server CPU seconds) of ``action()``."""
    wall, cpu = time.monotonic(), cpu_seconds(pid)
    action()
    return time.monotonic() - wall, cpu_seconds(pid) - cpu


def csv_of(rows: int, seed: int) -> bytes:
    X, _ = make_blobs(n_samples=rows, centers=4, cluster_std=1.0, random_state=seed)
    lines = np.char.add(np.char.add(np.char.mod("%.4f", X[:, 0]), ","), np.char.mod("%.4f", X[:, 1]))
    return b"x,y\n" + "\n".join(lines.tolist()).encode()


def toast_text(shown: str) -> str:
    """A toast's message without its icon's name and its 'view more' link."""
    lines = [line.strip() for line in shown.splitlines() if line.strip()]
    lines = lines[1:] if lines and re.fullmatch(r"[a-z_]+", lines[0]) else lines
    return " ".join(line for line in lines if line != "view more")


def open_link(context, url: str, notices: list[str]) -> Page:
    """A new tab on ``url``, once its fit is shown; the toast it showed first is added to ``notices``."""
    page = context.new_page()
    page.set_default_timeout(WORK_TIMEOUT)
    page.goto(url)
    toast = page.get_by_test_id("stToast").first
    try:  # a toast disappears after a few seconds: read it while it is there
        toast.wait_for(timeout=15_000)
        notices.append(toast_text(toast.inner_text()))
    except PlaywrightTimeout:
        notices.append("")
    expect(page.get_by_test_id("stMetric").first).to_be_visible(timeout=WORK_TIMEOUT)
    wait_for_app(page, timeout=WORK_TIMEOUT)
    no_exception(page)
    return page


def run(rows: int, tmp: Path) -> tuple[list[tuple[str, float, float, str]], list[tuple[str, float, float]], str]:
    """The measurements: (what, wall s, CPU s, note) rows, memory rows (what, RSS, HWM) and the browser."""
    log_path = tmp / "streamlit.log"
    process, url = start_server(log_path)
    sampler = MemorySampler(process.pid)
    sampler.start()
    costs, memory = [], []
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
            context = browser.new_context(viewport={"width": 1400, "height": 1000})
            pages, notices = [], []
            for name, link in LINKS:
                name, target = name.format(rows=rows), url + link.format(rows=rows)
                wall, cpu = measured(process.pid, lambda: pages.append(open_link(context, target, notices)))
                costs.append((f"open the link: {name}", wall, cpu, notices[-1]))
                print(f"  link {name}: {wall:.1f} s wall, {cpu:.1f} s CPU", flush=True)
            page = pages[0]
            go(page, "model_selection", timeout=WORK_TIMEOUT)

            def sweep() -> None:
                page.locator(".st-key-run_sweep button").click()
                expect(page.locator(".st-key-use_model")).to_be_visible(timeout=WORK_TIMEOUT)
                wait_for_app(page, timeout=WORK_TIMEOUT)

            wall, cpu = measured(process.pid, sweep)
            costs.append((f"then click Run sweep (14 models x K 1..9) on those {rows:,} rows", wall, cpu, ""))
            print(f"  sweep: {wall:.1f} s wall, {cpu:.1f} s CPU", flush=True)

            def stability() -> None:
                page.locator(".st-key-run_stability button").click()
                expect(page.get_by_text("Wins most often")).to_be_visible(timeout=WORK_TIMEOUT)
                wait_for_app(page, timeout=WORK_TIMEOUT)

            wall, cpu = measured(process.pid, stability)
            costs.append((f"then click Run stability (5 seeds x 126 models, on {STABILITY_MAX_ROWS:,} of the rows)",
                          wall, cpu, ""))
            print(f"  stability: {wall:.1f} s wall, {cpu:.1f} s CPU", flush=True)
            for opened in pages:
                opened.close()

            closing = context.new_page()
            closing.goto(url + LINKS[0][1].format(rows=rows) + "&seed=77")  # another seed: not cached
            expect(closing.get_by_role("button", name="Stop")).to_be_visible(timeout=WORK_TIMEOUT)
            closing.close()
            time.sleep(1.0)
            _, cpu = measured(process.pid, lambda: time.sleep(5.0))
            costs.append(("5 s after closing a tab in the middle of that link's fit", 5.0, cpu, ""))
            print(f"  after closing the tab: {cpu:.2f} s CPU in 5 s", flush=True)

            page = context.new_page()
            page.set_default_timeout(WORK_TIMEOUT)
            page.goto(url + "/data")
            wait_for_app(page, timeout=WORK_TIMEOUT)
            page.locator(".st-key-source").get_by_text("Upload CSV", exact=True).click()
            wait_for_app(page, timeout=WORK_TIMEOUT)
            n = min(rows, UPLOAD_ROWS)
            first = sampler.sample()
            memory.append(("before the uploads", first.total, first.hwm))
            for i in range(UPLOADS):
                path = tmp / f"upload_{i}.csv"
                path.write_bytes(csv_of(n, seed=i))
                page.locator(".st-key-upload input[type=file]").set_input_files(str(path))
                expect(page.get_by_test_id("stSidebarUserContent")).to_contain_text(
                    f"{n:,} of {n:,} rows", timeout=WORK_TIMEOUT
                )
                go(page, "fit", timeout=WORK_TIMEOUT)
                expect(page.get_by_test_id("stMetric").first).to_be_visible(timeout=WORK_TIMEOUT)
                go(page, "data", timeout=WORK_TIMEOUT)
                now = sampler.sample()
                size = path.stat().st_size / 1024**2
                memory.append((f"after upload {i + 1} ({size:.0f} MB, {n:,} rows) and its fit", now.total, now.hwm))
                print(f"  upload {i + 1}: RSS {now.total:.0f} MiB, HWM {now.hwm:.0f} MiB", flush=True)
            version = browser.version
            browser.close()
    finally:
        sampler.stop()
        stop_server(process)
    log = log_path.read_text(errors="replace")
    if "Traceback" in log:
        raise RuntimeError(f"the server logged a traceback:\n{log[-3000:]}")
    return costs, memory, version


def report(costs, memory, info: dict) -> str:
    lines = [
        "# Bounded work: the worst-case cost of a link or a click, and memory under repeated uploads",
        "",
        f"`{info['command']}` on {info['date']:%Y-%m-%d %H:%M} UTC; load average {info['load_before']} before, "
        f"{info['load_after']} after. Budgets (`gmm_core/budget.py`): a link may ask for at most "
        f"{LINK_SECONDS:.0f} s of one core at worst; stability refits at most {STABILITY_MAX_ROWS:,} rows; the "
        f"shared caches hold at most {CACHE_MAX_BYTES / 1024**3:.0f} GiB; a session's uploaded files at most "
        f"{SESSION_UPLOAD_BYTES / 1024**2:.0f} MiB.",
        "",
        "| what | wall | server CPU | notice shown |",
        "|---|---:|---:|---|",
        *(f"| {what} | {wall:.1f} s | {cpu:.1f} s | {note} |" for what, wall, cpu, note in costs),
        "",
        "| server memory | RSS (MiB) | peak so far, VmHWM (MiB) |",
        "|---|---:|---:|",
        *(f"| {what} | {rss:.0f} | {hwm:.0f} |" for what, rss, hwm in memory),
        "",
        info["machine"],
        "",
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true",
                        help=f"{QUICK_ROWS:,} rows, print only (does not write {RESULTS.name})")
    args = parser.parse_args()
    rows = QUICK_ROWS if args.quick else 1_000_000
    info = {"date": datetime.now(timezone.utc), "load_before": loadavg(),
            "command": " ".join([".venv/bin/python -m bench.bounded_bench", *sys.argv[1:]])}
    with tempfile.TemporaryDirectory(prefix="bounded_bench_") as tmp:
        costs, memory, browser_version = run(rows, Path(tmp))
    info["load_after"] = loadavg()
    info["machine"] = versions(browser_version)
    text = report(costs, memory, info)
    print()
    print(text)
    if args.quick:
        print(f"(--quick: {RESULTS.relative_to(ROOT)} not written)")
    else:
        RESULTS.write_text(text)
        print(f"wrote {RESULTS.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
