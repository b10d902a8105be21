"""Benchmarks of the EM engine against R's mclust and a plain scikit-learn loop, side by side.

Run from the repository root (``make bench`` installs R and mclust from Debian first when it can)::

    .venv/bin/python -m bench.bench            # about fifteen minutes on 2 cores; writes bench/RESULTS.md
    .venv/bin/python -m bench.bench --quick    # smoke run without 100,000 rows; prints only

Targets (the engine issue):

A. 14 models x K = 1..9 with default settings on Old Faithful, Iris, 10,000 and 100,000 2-D
   blobs: at least 2x faster than mclust's ``mclustBIC`` on the same data, every cell's BIC no
   worse than mclust's + 0.01.
B. 4 covariance types x K = 1..10 on 10,000 and 100,000 blobs, our defaults against a plain loop
   of ``GaussianMixture(k, covariance_type=c).fit(X)`` with scikit-learn's defaults: at least
   5x faster, no cell's BIC worse than the loop's.
C. One EM iteration of VVV, K = 5 at 100,000 rows: within 3x of a floor estimated from first
   principles (see :func:`iteration_floor`).

Every comparison alternates its contenders between repetitions and reports medians: the
machines are shared and noisy. mclust runs in an ``Rscript`` child (bench/mclust_bic.R), which
times only its ``mclustBIC`` call.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # also runnable as ``python bench/bench.py``
    sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import sklearn  # noqa: E402
from numba import njit  # noqa: E402
from llvmlite import binding as llvm  # noqa: E402
from sklearn.exceptions import ConvergenceWarning  # noqa: E402
from sklearn.mixture import GaussianMixture  # noqa: E402
from threadpoolctl import threadpool_limits  # noqa: E402

from gmm_core import COVARIANCE_TYPES, MODELS, load_dataset, make_blobs_frame, sweep  # noqa: E402
from gmm_core import kernel  # noqa: E402
from gmm_core.engine import Problem, clear_hc_trees, compile_engine  # noqa: E402
from gmm_core.scaling import Scaling  # noqa: E402

RESULTS = ROOT / "bench" / "RESULTS.md"
MCLUST_SCRIPT = ROOT / "bench" / "mclust_bic.R"
MCLUST_GOAL, SKLEARN_GOAL, FLOOR_GOAL = 2.0, 5.0, 3.0
#: A cell is "no worse" when its BIC is at most this much above the reference's.
BIC_SLACK = 0.01


def blobs(n: int) -> np.ndarray:
    return make_blobs_frame(n_samples=n)[["x", "y"]].to_numpy()


def data_sets(quick: bool) -> dict[str, np.ndarray]:
    sets = {
        "Old Faithful": load_dataset("old_faithful")[["eruptions", "waiting"]].to_numpy(),
        "Iris": pd.read_csv(ROOT / "tests" / "data" / "mclust" / "iris.csv").to_numpy(dtype=float),
        "blobs 10,000": blobs(10_000),
    }
    if not quick:
        sets["blobs 100,000"] = blobs(100_000)
    return sets


def mclust_available() -> bool:
    if shutil.which("Rscript") is None:
        return False
    check = subprocess.run(
        ["Rscript", "-e", "library(mclust); library(jsonlite)"], capture_output=True, text=True, timeout=120
    )
    return check.returncode == 0


def run_mclust(X: np.ndarray, g_max: int, models, repeats: int) -> dict:
    """mclust's seconds per ``mclustBIC`` call (one per repeat) and its BIC table (our orientation)."""
    with tempfile.TemporaryDirectory() as tmp:
        data, out = Path(tmp) / "data.csv", Path(tmp) / "out.json"
        pd.DataFrame(X, columns=[f"x{j}" for j in range(X.shape[1])]).to_csv(data, index=False, float_format="%.17g")
        subprocess.run(
            ["Rscript", str(MCLUST_SCRIPT), str(data), str(g_max), ",".join(models), str(repeats), str(out)],
            check=True, capture_output=True, text=True,
        )
        result = json.loads(out.read_text())
    bic = {m: [None if v is None else -v for v in values] for m, values in result["bic"].items()}
    return {"seconds": result["seconds"], "bic": bic, "version": result["version"]}


def fresh_sweep(X: np.ndarray, **options):
    """``sweep`` with nothing cached from an earlier run (mclust builds its hc tree every time)."""
    clear_hc_trees()
    return sweep(X, **options)


def timed(function):
    start = time.perf_counter()
    value = function()
    return time.perf_counter() - start, value


# -- Target A ----------------------------------------------------------------------------------


def target_a(X: np.ndarray, repeats: int) -> dict:
    """Our default sweep of 14 models x K = 1..9 beside mclustBIC, alternating, medians."""
    ours_seconds, mclust_seconds = [], []
    table = mclust = None
    for repeat in range(repeats):
        order = ["ours", "mclust"] if repeat % 2 == 0 else ["mclust", "ours"]
        for name in order:
            if name == "ours":
                elapsed, result = timed(lambda: fresh_sweep(X, ks=range(1, 10), covariance_types=MODELS))
                ours_seconds.append(elapsed)
                table = result.table
            else:
                mclust = run_mclust(X, 9, MODELS, 1)
                mclust_seconds.extend(np.atleast_1d(mclust["seconds"]).tolist())
    best = table[table["best_bic"]].iloc[0]
    mclust_best = min(
        ((m, k + 1, v) for m, values in mclust["bic"].items() for k, v in enumerate(values) if v is not None),
        key=lambda cell: cell[2],
    )
    return {
        "ours": statistics.median(ours_seconds),
        "mclust": statistics.median(mclust_seconds),
        **against_mclust(table, mclust),
        "best": f"{best['model']},{int(best['k'])} ({best['bic']:,.2f})",
        "mclust_best": f"{mclust_best[0]},{mclust_best[1]} ({mclust_best[2]:,.2f})",
        "version": mclust["version"],
    }


def against_mclust(table: pd.DataFrame, mclust: dict) -> dict:
    """Cells mclust fits, and how many of ours are worse (or degenerate) and better than its by
    more than ``BIC_SLACK``; the largest gap (inf for a degenerate cell of ours)."""
    cells = worse = better = 0
    worst = 0.0
    for row in table.itertuples():
        theirs = mclust["bic"][row.model][row.k - 1]
        if theirs is None:
            continue  # mclust fits no model there
        cells += 1
        gap = np.inf if row.degenerate else row.bic - theirs
        worst = max(worst, gap)
        worse += gap > BIC_SLACK
        better += gap < -BIC_SLACK
    return {"cells": cells, "worse": worse, "better": better, "worst_gap": worst}


# -- Target B ----------------------------------------------------------------------------------


#: Our sweep with the loop's stopping: one k-means start, scikit-learn's rule and tolerance, its max_iter.
LOOP_RULE = {"init_params": "kmeans", "n_init": 1, "stopping": "sklearn", "tol": 1e-3, "max_iter": 100}


def plain_loop(X: np.ndarray, ks) -> tuple[dict, int]:
    """BIC of every (type, k) from a plain loop of GaussianMixture fits with scikit-learn's defaults,
    and the EM iterations they ran in all."""
    bic, iterations = {}, 0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        for c in COVARIANCE_TYPES:
            for k in ks:
                model = GaussianMixture(n_components=k, covariance_type=c, random_state=0).fit(X)
                bic[c, k] = model.bic(X)
                iterations += model.n_iter_
    return bic, iterations


def _gaps(table: pd.DataFrame, loop: dict) -> dict:
    """Cells of ``table`` worse and better than the loop's BIC by more than BIC_SLACK."""
    gaps = [np.inf if row.degenerate else row.bic - loop[row.covariance_type, row.k] for row in table.itertuples()]
    return {"cells": len(gaps), "worse": sum(g > BIC_SLACK for g in gaps),
            "better": sum(g < -BIC_SLACK for g in gaps), "worst_gap": max(gaps)}


def target_b(X: np.ndarray, repeats: int) -> dict:
    """Our default sweep, our sweep with the loop's stopping (``LOOP_RULE``) and the plain loop,
    alternating, medians; each one's cells against the loop's, and the EM iterations on all rows."""
    ks = range(1, 11)
    seconds = {"ours": [], "same_rule": [], "loop": []}
    tables, loop, loop_iterations = {}, None, 0
    for repeat in range(repeats):
        order = list(seconds) if repeat % 2 == 0 else list(seconds)[::-1]
        for name in order:
            if name == "loop":
                elapsed, (loop, loop_iterations) = timed(lambda: plain_loop(X, ks))
            else:
                options = LOOP_RULE if name == "same_rule" else {}
                elapsed, result = timed(lambda: fresh_sweep(X, ks=ks, covariance_types=COVARIANCE_TYPES, **options))
                tables[name] = result.table
            seconds[name].append(elapsed)
    return {
        "loop": statistics.median(seconds["loop"]),
        "loop_iterations": loop_iterations,
        **{
            name: {"seconds": statistics.median(seconds[name]), "iterations": int(tables[name]["n_iter"].sum()),
                   **_gaps(tables[name], loop)}
            for name in ("ours", "same_rule")
        },
    }


# -- Target C ----------------------------------------------------------------------------------


# Not cached: numba's cache would not see a change to the engine's exponential, which it inlines.
@njit(nogil=True, fastmath=kernel._FAST)
def _transcendental_floor(ZT, K):
    """The work no E-step can avoid: read every value once, one exp per row and component and
    one log per ``kernel._LOG_CHUNK`` rows (a trivial argument each, so nothing else is computed),
    with the fastest exp we have (the engine's vectorised one) over blocks of rows, as the engine runs."""
    d, n = ZT.shape
    block = kernel._BLOCK
    v = np.empty(block)
    s = np.empty(block)
    total = 0.0
    for start in range(0, n, block):
        m = min(block, n - start)
        for i in range(m):
            v[i] = 0.0
            s[i] = 0.0
        for j in range(d):
            column = ZT[j, start:start + m]  # contiguous to the compiler, as in the engine
            for i in range(m):
                v[i] += column[i]
        for k in range(K):
            for i in range(m):
                s[i] += kernel._exp_negative(-1e-3 * k * abs(v[i]))
        for chunk in range(0, m, kernel._LOG_CHUNK):
            product = 1.0
            for i in range(chunk, min(chunk + kernel._LOG_CHUNK, m)):
                product *= s[i]
            total += math.log(product)
    return total


def iteration_floor(n: int, K: int, repeats: int) -> dict:
    """One EM iteration of VVV (single thread) against a floor measured on this machine.

    The floor is what any exact E-step must do at least: read the n x d data and evaluate
    n K exponentials and a logarithm per 32 rows (the log-sum-exp of each row, whose logs the
    engine takes of products of 32 rows' sums; the Mahalanobis
    distances and sufficient statistics are O(n K d^2) multiply-adds that vectorise and
    cost less than the exponentials at d = 2). It is timed here with the same compiler,
    exponential and libm log as the engine, so the ratio does not depend on the machine.
    """
    X = blobs(n)
    problem = Problem.scaled(X, Scaling.of(X))
    rng = np.random.default_rng(0)
    labels = rng.integers(0, K, n)
    resp = np.eye(K)[labels]
    d = X.shape[1]
    weights, means, cov = np.empty(K), np.empty((K, d)), np.empty((K, d, d))
    shape, orient, scale = np.empty((K, d)), np.empty((d, d)), np.empty(K)
    kernel.start_from_responsibilities(problem.Z, resp, kernel.VVV, problem.psi, 1e-8, weights, means, cov, shape,
                                       orient, scale)
    iterations = 20
    empty = (np.empty((0, K)), np.empty((0, K, d)), np.empty((0, K, d, d)))
    ZT = np.ascontiguousarray(problem.Z.T)
    ours, floor = [], []
    with threadpool_limits(1):
        for _ in range(repeats):
            w, m, c = weights.copy(), means.copy(), cov.copy()
            elapsed, _ = timed(lambda: kernel.em(problem.Z, kernel.VVV, w, m, c, shape.copy(), orient.copy(),
                                                  scale.copy(), problem.psi, 1e-8, 1e-300, kernel.SKLEARN,
                                                  iterations, False, 0.0, 0, 0.0, np.zeros(2, np.int64),
                                                  np.empty(2 * iterations + 2), *empty))
            ours.append(elapsed / iterations)  # and one more pass: a slight overestimate
            elapsed, _ = timed(lambda: _transcendental_floor(ZT, K))
            floor.append(elapsed)
    return {"ours": statistics.median(ours), "floor": statistics.median(floor), "n": n, "K": K}


# -- Report ------------------------------------------------------------------------------------


def cpu_name() -> str:
    """The processor's model and LLVM's name for it, and whether it has AVX-512: the engine's loops
    are compiled for the machine they run on, and are fastest with 512-bit vectors."""
    model = platform.processor() or platform.machine()
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        lines = cpuinfo.read_text().splitlines()
        model = next((line.split(":", 1)[1].strip() for line in lines if line.startswith("model name")), model)
    features = llvm.get_host_cpu_features()
    vectors = "AVX-512" if features.get("avx512f") else "AVX2" if features.get("avx2") else "no AVX2"
    return f"{model} ({llvm.get_host_cpu_name()}, {vectors})"


def machine() -> list[str]:
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    return [
        f"- date: {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC; load average at start {load:.1f}",
        f"- CPU: {cpu_name()}, {os.cpu_count()} cores",
        f"- Python {platform.python_version()}, numpy {np.__version__}, scikit-learn {sklearn.__version__}",
    ]


def verdict(ok: bool) -> str:
    return "met" if ok else "**not met**"


def report(results: dict, quick: bool) -> str:
    lines = ["# Benchmark results", "", "Written by `.venv/bin/python -m bench.bench` (`make bench`).", ""]
    lines += results["machine"] + [""]
    a = results.get("mclust")
    lines += ["## A. 14 models x K = 1..9, default settings, against mclust", ""]
    if a is None:
        lines += ["R with mclust is not installed here, so this target was not measured (`make bench` installs it "
                  "from Debian when run as root).", ""]
    else:
        version = next(iter(a.values()))["version"]
        lines += [
            f"Ours: `sweep(X, ks=range(1, 10), covariance_types=MODELS)` (the hc start and one k-means start per cell, "
            "above 2,000 rows on each of two 2,000-row subsamples and the most likely continued on all rows; "
            f"EM to within 1e-3 of the log-likelihood's limit by Aitken's estimate, then its saddle check; fits in parallel threads; each run builds its hc trees afresh). mclust {version}: "
            "`mclustBIC(X, G = 1:9)` with its 14 models (one EM run per cell from its hc start, relative tolerance "
            f"1e-5). Medians of {results['repeats_a']} alternating runs. \"Worse\" counts cells where our BIC is more "
            f"than {BIC_SLACK} above mclust's (or ours is degenerate); \"better\", more than {BIC_SLACK} below.",
            "",
            "| data | ours | mclust | speed-up | cells | worse | better | best (ours) | best (mclust) | goal 2x |",
            "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
        ]
        for name, r in a.items():
            ratio = r["mclust"] / r["ours"]
            lines.append(
                f"| {name} | {r['ours']:.2f} s | {r['mclust']:.2f} s | {ratio:.2f}x | {r['cells']} | {r['worse']} | "
                f"{r['better']} | {r['best']} | {r['mclust_best']} | {verdict(ratio >= MCLUST_GOAL and not r['worse'])} |"
            )
        lines.append("")
    lines += [
        "## B. 4 types x K = 1..10 against a plain scikit-learn loop",
        "",
        "Ours: `sweep(X, ks=range(1, 11), covariance_types=COVARIANCE_TYPES)` with every default. The loop: "
        "`GaussianMixture(n_components=k, covariance_type=c, random_state=0).fit(X).bic(X)` with scikit-learn's "
        "defaults, one fit after another. \"Same rule\": our sweep with the loop's stopping "
        f"(`{', '.join(f'{k}={v!r}' for k, v in LOOP_RULE.items())}`), the engine's speed at equal work. Medians of "
        f"{results['repeats_b']} alternating runs; \"worse\" counts cells where the BIC is more "
        f"than {BIC_SLACK} above the loop's. Iterations: EM iterations on all rows, summed over the 40 cells.",
        "",
        "| data | run | seconds | speed-up | iterations | cells | worse | better | goal 5x |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for name, r in results["sklearn"].items():
        lines.append(f"| {name} | the loop | {r['loop']:.2f} s | 1x | {r['loop_iterations']:,} | | | | |")
        for run, label in (("ours", "ours, defaults"), ("same_rule", "ours, same rule")):
            ours = r[run]
            ratio = r["loop"] / ours["seconds"]
            goal = verdict(ratio >= SKLEARN_GOAL and not ours["worse"]) if run == "ours" else ""
            lines.append(
                f"| {name} | {label} | {ours['seconds']:.2f} s | {ratio:.1f}x | {ours['iterations']:,} | "
                f"{ours['cells']} | {ours['worse']} | {ours['better']} | {goal} |"
            )
    c = results["floor"]
    ratio = c["ours"] / c["floor"]
    lines += [
        "",
        f"## C. One EM iteration of VVV, K = {c['K']}, {c['n']:,} rows, one thread",
        "",
        "The floor: what any exact E-step must do at least, timed with the same compiler, the engine's vectorised "
        "exponential and libm's log: read the data once and evaluate n K exponentials and n / 32 logarithms (each "
        "row's log-sum-exp, its logs taken of products of 32 rows' sums as the engine does). The Mahalanobis distances, "
        "responsibilities, sufficient statistics and the M-step come on top.",
        "",
        "| our iteration | floor | ratio | goal 3x |",
        "| --- | --- | --- | --- |",
        f"| {c['ours'] * 1e3:.2f} ms | {c['floor'] * 1e3:.2f} ms | {ratio:.2f}x | {verdict(ratio <= FLOOR_GOAL)} |",
        "",
    ]
    if quick:
        lines.insert(3, "**Quick run: fewer data sets and repeats; not for the record.**\n")
    return "\n".join(lines) + "\n"


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer data sets and repeats; print, do not write")
    args = parser.parse_args(argv)
    compile_engine()
    repeats_a, repeats_b = (1, 1) if args.quick else (3, 3)
    results = {"machine": machine(), "repeats_a": repeats_a, "repeats_b": repeats_b}
    if mclust_available():
        results["mclust"] = {}
        for name, X in data_sets(args.quick).items():
            print(f"A: {name}", flush=True)
            results["mclust"][name] = target_a(X, repeats_a)
            print(f"   {results['mclust'][name]}", flush=True)
    else:
        print("R with mclust and jsonlite is not installed: target A is skipped.", flush=True)
    results["sklearn"] = {}
    for n in [10_000] if args.quick else [10_000, 100_000]:
        name = f"blobs {n:,}"
        print(f"B: {name}", flush=True)
        results["sklearn"][name] = target_b(blobs(n), repeats_b)
        print(f"   {results['sklearn'][name]}", flush=True)
    print("C: one EM iteration", flush=True)
    results["floor"] = iteration_floor(100_000, 5, 5 if args.quick else 15)
    results["machine"].append(f"- load average at end {os.getloadavg()[0]:.1f}")
    text = report(results, args.quick)
    print(text)
    if not args.quick:
        RESULTS.write_text(text)
        print(f"Written to {RESULTS.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
