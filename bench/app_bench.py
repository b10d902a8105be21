"""Benchmarks of the app through Streamlit's AppTest: re-render latency, chart payload, 1e6-row pipeline.

Run from the repository root::

    .venv/bin/python -m bench.app_bench            # several minutes; writes bench/APP_RESULTS.md

(d) What a user waits for on Old Faithful: a new sidebar model, and Model selection with its
14 x 9 sweep. (a) Re-render latency at n = 1e4 on the Fit page: a new covariance type (a new fit),
back to one already fitted (cached), and a display-only control (the ellipse level),
counting calls of ``gmm_core.fit_gmm``. (b) The largest ``plotly_chart`` spec on every
page at n = 1e6. (c) The 1e6-row pipeline parse -> sweep (subsample) -> fit -> labelled
export, in a fresh child process for its peak RSS; its fit is the app's after "Use this
model" (one EM run from the model's subsample fit) and, for comparison, from scratch. Medians over repeats: the machines
are shared and noisy.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import streamlit as st
from sklearn.datasets import make_blobs
from streamlit.testing.v1 import AppTest
from threadpoolctl import threadpool_limits

import ui.cache
from gmm_core import feature_matrix, fit_gmm, labelled_csv, read_table, sweep
from gmm_core.engine import clear_hc_trees
from ui.state import MODEL_DEFAULTS, N_INIT
from gmm_core.selection import SUBSAMPLE_MAX_ROWS

ROOT = Path(__file__).resolve().parents[1]
APP = ROOT / "app.py"
RESULTS = ROOT / "bench" / "APP_RESULTS.md"
PAGES = ("app_pages/data.py", "app_pages/fit.py", "app_pages/em.py", "app_pages/model_selection.py", "app_pages/export.py")
CACHED_GOAL_MS = 50.0
NEW_FIT_OVERHEAD_GOAL_MS = 150.0
PAYLOAD_GOAL_BYTES = 5 * 1024**2
SWEEP_GOAL_S = 20.0
PEAK_GOAL_MIB = 1536.0
#: The app-models issue: a new sidebar model on Old Faithful, and its 14 x 9 sweep on opening Model selection.
SWITCH_GOAL_MS = 150.0
OPEN_SWEEP_GOAL_S = 2.0
#: The sidebar's default restarts of a fit.
APP_N_INIT = MODEL_DEFAULTS[N_INIT]
#: The app's default sweep grid: K 1 to 9, every covariance type.
SWEEP_KS = tuple(range(1, 10))


def blobs_csv(n: int) -> bytes:
    """``n`` rows of three 2-D blobs as CSV with columns x, y."""
    X, _ = make_blobs(n_samples=n, centers=3, cluster_std=1.0, random_state=7)
    lines = np.char.add(np.char.add(np.char.mod("%.3f", X[:, 0]), ","), np.char.mod("%.3f", X[:, 1]))
    return b"x,y\n" + "\n".join(lines.tolist()).encode()


def uploaded_app(data: bytes, timeout: float) -> AppTest:
    """A fresh app with ``data`` uploaded on the Data page."""
    at = AppTest.from_file(str(APP), default_timeout=timeout).run()
    at.switch_page("app_pages/data.py").run()
    at.radio(key="source").set_value("upload").run()
    at.file_uploader(key="upload").set_value(("bench.csv", data, "text/csv")).run()
    _check(at)
    return at


def _check(at: AppTest) -> None:
    """Fail loudly when the last run raised."""
    if at.exception:
        raise RuntimeError(at.exception)


def _timed(run) -> float:
    """Seconds taken by ``run()``."""
    start = time.perf_counter()
    run()
    return time.perf_counter() - start


def rerender(n: int, repeats: int) -> dict:
    """Median script-run times (ms) on the Fit page at ``n`` rows, and fit_gmm calls per change."""
    at = uploaded_app(blobs_csv(n), 120)
    at.switch_page("app_pages/fit.py").run()
    _check(at)
    calls = []  # seconds of each fit_gmm call, timed inside the app's run
    real = ui.cache.fit_gmm

    def counted(*args, **kwargs):
        start = time.perf_counter()
        try:
            return real(*args, **kwargs)
        finally:
            calls.append(time.perf_counter() - start)

    ui.cache.fit_gmm = counted
    times = {"new fit": [], "cached switch": [], "display only": [], "no change": [], "fit itself": []}
    counts = {"new fit": [], "cached switch": [], "display only": [], "no change": []}
    try:
        for _ in range(repeats):
            ui.cache._fit.clear()  # the next 'diag' is a new fit again
            at.selectbox(key="cov_type").set_value("full").run()  # refit 'full' (not timed)
            for name, change in (
                ("new fit", lambda: at.selectbox(key="cov_type").set_value("diag").run()),
                ("cached switch", lambda: at.selectbox(key="cov_type").set_value("full").run()),
                ("display only", lambda: at.segmented_control(key="ellipse_level").set_value(
                    "1σ" if at.segmented_control(key="ellipse_level").value != "1σ" else "95%").run()),
                ("no change", at.run),  # the baseline: a rerun of the same page
            ):
                calls.clear()
                times[name].append(_timed(change))
                _check(at)
                counts[name].append(len(calls))
                if name == "new fit":
                    times["fit itself"].append(sum(calls))
    finally:
        ui.cache.fit_gmm = real
    out = {name: 1000 * statistics.median(values) for name, values in times.items()}
    out["calls"] = {name: max(values) for name, values in counts.items()}
    return out


def old_faithful_app(timeout: float) -> AppTest:
    """A fresh app on the built-in Old Faithful data, on the Data page."""
    at = AppTest.from_file(str(APP), default_timeout=timeout).run()
    at.switch_page("app_pages/data.py").run()
    at.radio(key="source").set_value("builtin").run()
    at.selectbox(key="builtin").set_value("old_faithful").run()
    _check(at)
    return at


def feel(repeats: int) -> dict:
    """What a user waits for on Old Faithful (the app-models issue's targets), median seconds:
    a sidebar model never fitted before (script run, fit included), and opening Model selection
    on data without a sweep (script run, mclust's default 14 x 9 sweep included)."""
    switches, openings = [], []
    models = ["VEV", "EVE", "VVE", "EEV", "EVV", "VEI", "EVI"]
    for _ in range(repeats):
        ui.cache._fit.clear()
        at = old_faithful_app(120)
        at.switch_page("app_pages/fit.py").run()
        for model in models:
            switches.append(_timed(lambda: at.selectbox(key="cov_type").set_value(model).run()))
            _check(at)
        at = old_faithful_app(120)
        ui.cache._sweep_one_k.clear()  # nothing of an earlier repeat: the sweep and its hc tree afresh
        clear_hc_trees()
        openings.append(_timed(lambda: at.switch_page("app_pages/model_selection.py").run()))
        _check(at)
        if not any(e.proto.id.endswith("-criteria_chart") for e in at.get("plotly_chart")):
            raise RuntimeError("Model selection opened without the sweep's chart")
    return {"switch": 1000 * statistics.median(switches), "open": statistics.median(openings)}


def payload(n: int) -> dict:
    """Largest ``plotly_chart`` spec in bytes on every page at ``n`` rows (a sweep run first)."""
    st.cache_data.clear()
    at = uploaded_app(blobs_csv(n), 900)
    at.switch_page("app_pages/model_selection.py").run()
    at.slider(key="sweep_k_range").set_value((1, 3)).run()
    at.multiselect(key="sweep_cov_types").set_value(["full", "diag"]).run()
    at.button(key="run_sweep").click().run()
    _check(at)
    sizes = {}
    for page in PAGES:
        at.switch_page(page).run()
        _check(at)
        sizes[page] = max((len(chart.proto.spec.encode()) for chart in at.get("plotly_chart")), default=0)
    return sizes


def pipeline(path: str) -> dict:
    """Seconds of each step of the pipeline on the CSV at ``path``, and the peak RSS in MiB."""
    data = Path(path).read_bytes()
    times = {}
    start = time.perf_counter()
    table = read_table(data, filename="bench.csv", max_bytes=len(data) + 1)
    X, report = feature_matrix(table.frame, ["x", "y"])
    times["parse"] = time.perf_counter() - start
    start = time.perf_counter()
    swept = sweep(X, ks=SWEEP_KS, max_rows=SUBSAMPLE_MAX_ROWS, random_state=0)
    times["sweep"] = time.perf_counter() - start
    best = swept.best
    chosen = {"n_components": int(best["k"]), "covariance_type": best["covariance_type"], "random_state": 0}
    with threadpool_limits(1):  # as the app fits
        # "Use this model": the Fit page starts from the model's subsample fit (ui.warm) ...
        start = time.perf_counter()
        subsample_fit = swept.subsample.starts[int(best["k"]), best["covariance_type"]]
        result = fit_gmm(X, **chosen, n_init=APP_N_INIT, **subsample_fit)
        times["fit"] = time.perf_counter() - start
        # ... and "Fit from scratch" runs the sidebar's restarts.
        start = time.perf_counter()
        fit_gmm(X, **chosen, n_init=APP_N_INIT)
        times["fit from scratch"] = time.perf_counter() - start
    start = time.perf_counter()
    labelled_csv(table.frame, result, used_rows=report.used_rows)
    times["export"] = time.perf_counter() - start
    times["peak_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    times["model"] = f"{best['covariance_type']}, K = {int(best['k'])}"
    return times


def pipeline_in_child(n: int, repeats: int) -> dict:
    """:func:`pipeline` in a fresh child process per repeat; medians, and the largest peak."""
    runs = []
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.csv"
        path.write_bytes(blobs_csv(n))
        for _ in range(repeats):
            out = subprocess.run(
                [sys.executable, "-m", "bench.app_bench", "--pipeline", str(path)],
                cwd=ROOT, check=True, capture_output=True, text=True,
            )
            runs.append(json.loads(out.stdout.strip().splitlines()[-1]))
    steps = ("parse", "sweep", "fit", "fit from scratch", "export")
    summary = {step: statistics.median(r[step] for r in runs) for step in steps}
    summary["peak_mib"] = max(r["peak_mib"] for r in runs)
    summary["model"] = runs[0]["model"]
    return summary


def machine() -> str:
    """One line on the machine and versions."""
    return (
        f"{platform.platform()}, {os.cpu_count()} CPUs, Python {platform.python_version()}, "
        f"Streamlit {st.__version__}, numpy {np.__version__}; load average at the end "
        + ", ".join(f"{load:.1f}" for load in os.getloadavg())
    )


def verdict(ok: bool) -> str:
    """'met' or 'NOT met'."""
    return "met" if ok else "NOT met"


def report(re: dict, sizes: dict, pipe: dict, felt: dict, repeats: int) -> str:
    """APP_RESULTS.md."""
    overhead = re["new fit"] - re["fit itself"]
    largest = max(sizes.values())
    lines = [
        "# App benchmarks",
        "",
        f"Written by `.venv/bin/python -m bench.app_bench` on {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC.",
        f"Machine: {machine()}. Medians of {repeats} repeats; shared, noisy machine.",
        "",
        "| measure | value | target | verdict |",
        "|---|---|---|---|",
        f"| (d) Old Faithful, a sidebar model not fitted before (script run, fit included) | {felt['switch']:.0f} ms | <= {SWITCH_GOAL_MS:.0f} ms | {verdict(felt['switch'] <= SWITCH_GOAL_MS)} |",
        f"| (d) Old Faithful, open Model selection (script run, the 14 x 9 sweep included) | {felt['open']:.2f} s | <= {OPEN_SWEEP_GOAL_S:.0f} s | {verdict(felt['open'] <= OPEN_SWEEP_GOAL_S)} |",
        f"| (a) n=1e4, cached cov_type switch (script run) | {re['cached switch']:.0f} ms, fit_gmm calls {re['calls']['cached switch']} | <= {CACHED_GOAL_MS:.0f} ms | {verdict(re['cached switch'] <= CACHED_GOAL_MS)} |",
        f"| (a) n=1e4, new cov_type (new fit; script run) | {re['new fit']:.0f} ms = fit {re['fit itself']:.0f} ms + {overhead:.0f} ms, fit_gmm calls {re['calls']['new fit']} | <= fit + {NEW_FIT_OVERHEAD_GOAL_MS:.0f} ms | {verdict(overhead <= NEW_FIT_OVERHEAD_GOAL_MS)} |",
        f"| (a) n=1e4, rerun without a change (baseline) | {re['no change']:.0f} ms | | |",
        f"| (a) n=1e4, ellipse level (display only) | {re['display only']:.0f} ms, fit_gmm calls {re['calls']['display only']} | no refit | {verdict(re['calls']['display only'] == 0)} |",
        *(f"| (b) n=1e6, largest plotly_chart spec on {page} | {size / 1024**2:.2f} MB | <= 5 MB | {verdict(size <= PAYLOAD_GOAL_BYTES)} |" for page, size in sizes.items()),
        f"| (c) n=1e6, parse (read_table + feature_matrix) | {pipe['parse']:.1f} s | | |",
        f"| (c) n=1e6, sweep K 1-9 x 4 types, subsample {SUBSAMPLE_MAX_ROWS} | {pipe['sweep']:.1f} s (chose {pipe['model']}) | < {SWEEP_GOAL_S:.0f} s | {verdict(pipe['sweep'] < SWEEP_GOAL_S)} |",
        f"| (c) n=1e6, fit of the chosen model after \"Use this model\" (one EM run from its subsample fit) | {pipe['fit']:.1f} s | | |",
        f"| (c) n=1e6, the same from scratch (\"Fit from scratch\", {APP_N_INIT} restarts) | {pipe['fit from scratch']:.1f} s | | |",
        f"| (c) n=1e6, labelled export (labelled_csv) | {pipe['export']:.1f} s | | |",
        f"| (c) n=1e6, peak RSS of the pipeline (child process) | {pipe['peak_mib']:.0f} MiB | < {PEAK_GOAL_MIB:.0f} MiB | {verdict(pipe['peak_mib'] < PEAK_GOAL_MIB)} |",
        "",
        "(a) is the wall time of one AppTest script run after the change (AppTest adds its own "
        "overhead: starting the script thread and parsing the element tree). "
        f"The largest chart of all pages at n=1e6 is {largest / 1024**2:.2f} MB.",
        "",
    ]
    return "\n".join(lines)


def main() -> None:
    """Parse the arguments, run the benchmarks and write ``RESULTS``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5, help="repeats of (a); (c) runs min(repeats, 3) times")
    parser.add_argument("--pipeline", metavar="CSV", help=argparse.SUPPRESS)  # the child of (c)
    args = parser.parse_args()
    if args.pipeline:
        print(json.dumps(pipeline(args.pipeline)))
        return
    felt = feel(args.repeats)
    print("feel", felt, flush=True)
    re = rerender(10_000, args.repeats)
    print("rerender", re, flush=True)
    pipe = pipeline_in_child(1_000_000, min(args.repeats, 3))
    print("pipeline", pipe, flush=True)
    sizes = payload(1_000_000)
    print("payload", sizes, flush=True)
    RESULTS.write_text(report(re, sizes, pipe, felt, args.repeats))
    print(RESULTS.read_text())


if __name__ == "__main__":
    main()
