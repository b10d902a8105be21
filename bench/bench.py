"""Benchmarks of the core's model-selection sweep (targets 1, 4 and 5 of the performance issue).

Run from the repository root::

    .venv/bin/python -m bench.bench            # about an hour on 2 cores; writes bench/RESULTS.md
    .venv/bin/python -m bench.bench --quick    # smoke run, a few minutes; prints only

Every comparison runs side by side in one process, alternating the order of the
contenders between repetitions, and reports medians: the machines are shared
and noisy. ``--full-1e6`` adds the full (not subsampled) sweep of a million
rows, which takes 10-20 minutes, to check that the subsample picks its model.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
import warnings
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # also runnable as ``python bench/bench.py``
    sys.path.insert(0, str(ROOT))

import joblib  # noqa: E402
import numpy as np  # noqa: E402
import scipy  # noqa: E402
import sklearn  # noqa: E402
import threadpoolctl  # noqa: E402
from sklearn.exceptions import ConvergenceWarning  # noqa: E402
from sklearn.mixture import GaussianMixture  # noqa: E402
from threadpoolctl import threadpool_limits  # noqa: E402

from gmm_core import (  # noqa: E402
    COVARIANCE_TYPES,
    DEFAULT_MAX_ITER,
    DEFAULT_SWEEP_N_INIT,
    DEFAULT_REG_COVAR,
    DEFAULT_TOL,
    fit_gmm,
    make_blobs_frame,
    sweep,
)
from gmm_core.fit import Scaling  # noqa: E402
from gmm_core.parallel import PROCESS_MAX_ROWS  # noqa: E402
from gmm_core.selection import SUBSAMPLE_MAX_ROWS  # noqa: E402

RESULTS = ROOT / "bench" / "RESULTS.md"
SEED = 0
#: Target 1: >= 1.7x faster than the plain loop. Target 4: < 20 s and well under 1.5 GiB.
SPEEDUP_GOAL = 1.7
SUBSAMPLE_SECONDS_GOAL = 20.0
MEMORY_GOAL_MIB = 1536.0


def blobs(n: int, variant: str = "blobs") -> np.ndarray:
    return make_blobs_frame(n_samples=n, variant=variant)[["x", "y"]].to_numpy()


def timed(function):
    start = time.perf_counter()
    value = function()
    return time.perf_counter() - start, value


def side_by_side(contenders: dict, repeats: int) -> tuple[dict, dict]:
    """Median seconds of each contender and its last value; the order rotates each repetition."""
    names = list(contenders)
    seconds = {name: [] for name in names}
    values = {}
    for repeat in range(repeats):
        shift = repeat % len(names)
        for name in names[shift:] + names[:shift]:
            elapsed, values[name] = timed(contenders[name])
            seconds[name].append(elapsed)
            print(f"    {name}: {elapsed:.2f} s", flush=True)
    return {name: statistics.median(s) for name, s in seconds.items()}, values


# -- Target 1: the sweep against a plain loop of GaussianMixture fits ---------------------------


def plain_loop(Z: np.ndarray, grid) -> dict:
    """BIC (in the scaled units of ``Z``) of a plain sequential loop of GaussianMixture fits."""
    bics = {}
    for k, covariance_type in grid:
        model = GaussianMixture(
            n_components=k, covariance_type=covariance_type, tol=DEFAULT_TOL, reg_covar=DEFAULT_REG_COVAR,
            max_iter=DEFAULT_MAX_ITER, n_init=1, init_params="kmeans", random_state=SEED,
        ).fit(Z)
        bics[k, covariance_type] = model.bic(Z)
    return bics


def plain_loop_one_thread(Z: np.ndarray, grid) -> dict:
    with threadpool_limits(1):
        return plain_loop(Z, grid)


def target_1(n: int, ks: range, repeats: int, *, sequential_sweep: bool) -> dict:
    X = blobs(n)
    scaling = Scaling.of(X)
    # The same centred, globally scaled input the sweep fits, so the models are identical.
    Z = scaling.forward(X)
    grid = [(k, c) for c in COVARIANCE_TYPES for k in ks]
    contenders = {
        "plain loop, default threads": lambda: plain_loop(Z, grid),
        "plain loop, 1 thread": lambda: plain_loop_one_thread(Z, grid),
        "gmm_core.sweep": lambda: sweep(X, ks=ks, n_init=1, random_state=SEED),
    }
    if sequential_sweep:
        contenders["gmm_core.sweep, n_jobs=1"] = lambda: sweep(X, ks=ks, n_init=1, random_state=SEED, n_jobs=1)
    print(f"  target 1, n={n}, {len(grid)} fits, {repeats} repeats", flush=True)
    seconds, values = side_by_side(contenders, repeats)
    table = values["gmm_core.sweep"]
    # BIC in data units = BIC in scaled units + 2 n d log(scale).
    shift = 2.0 * n * X.shape[1] * np.log(scaling.scale)
    worst = 0.0
    for plain in ("plain loop, default threads", "plain loop, 1 thread"):
        for row in table.itertuples():
            expected = values[plain][row.k, row.covariance_type] + shift
            worst = max(worst, abs(row.bic - expected) / abs(expected))
    best = table[table["best_bic"]].iloc[0]
    return {
        "n": n,
        "fits": len(grid),
        "repeats": repeats,
        "seconds": seconds,
        "max_relative_bic_difference": worst,
        "best": (int(best["k"]), best["covariance_type"]),
    }


# -- Target 4: a million rows through a stratified subsample -------------------------------------


def target_4(n: int, max_rows: int, repeats: int) -> dict:
    X = blobs(n)
    print(f"  target 4, n={n}, max_rows={max_rows}, {repeats} repeats", flush=True)
    seconds, values = side_by_side(
        {"sweep, max_rows": lambda: sweep(X, n_init=1, random_state=SEED, max_rows=max_rows)}, repeats
    )
    table = values["sweep, max_rows"]
    best = table[table["best_bic"]].iloc[0]
    info = table.attrs["subsample"]
    default_restarts, _ = timed(
        lambda: sweep(X, n_init=DEFAULT_SWEEP_N_INIT, random_state=SEED, max_rows=max_rows)
    )
    print(f"    sweep, max_rows, n_init={DEFAULT_SWEEP_N_INIT}: {default_restarts:.2f} s", flush=True)
    return {
        "default_restarts_seconds": default_restarts,
        "n": n,
        "max_rows": max_rows,
        "repeats": repeats,
        "seconds": seconds["sweep, max_rows"],
        "best": (int(best["k"]), best["covariance_type"]),
        "candidates": [(c["k"], c["covariance_type"], c["bic"]) for c in info["candidates"]],
        "refit": info["refit"],
    }


def full_sweep_best(n: int) -> tuple[tuple[int, str], float]:
    print(f"  full sweep of n={n} (no subsample)", flush=True)
    elapsed, table = timed(lambda: sweep(blobs(n), n_init=1, random_state=SEED))
    best = table[table["best_bic"]].iloc[0]
    return (int(best["k"]), best["covariance_type"]), elapsed


def memory_mib(field: str) -> float:
    """``VmRSS`` (now) or ``VmHWM`` (peak) of this process, in MiB.

    Not ``ru_maxrss``: a child keeps the RSS its parent had when it forked, across exec.
    """
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no {field} in /proc/self/status")


def memory_child(n: int, max_rows: int) -> None:
    """In a fresh process: peak RSS of a subsampled sweep then the app's fits of its choice."""
    X = blobs(n)
    # Reset the peak to the current RSS, so generating the data does not count.
    Path("/proc/self/clear_refs").write_text("5")
    before = memory_mib("VmRSS")
    sweep_seconds, table = timed(lambda: sweep(X, n_init=1, random_state=SEED, max_rows=max_rows))
    after_sweep = memory_mib("VmHWM")
    best = table[table["best_bic"]].iloc[0]
    chosen = {"n_components": int(best["k"]), "covariance_type": best["covariance_type"]}
    with threadpool_limits(1):  # as the app fits
        # "Use this model" (one EM run from the subsample fit), then "Fit from scratch".
        start = table.attrs["subsample"]["starts"][chosen["n_components"], chosen["covariance_type"]]
        fit_seconds, result = timed(lambda: fit_gmm(X, **chosen, **start))
        scratch_seconds, _ = timed(lambda: fit_gmm(X, **chosen))
    print(json.dumps({
        "data_mib": X.nbytes / 2**20,
        "rss_before_mib": before,
        "peak_after_sweep_mib": after_sweep,
        "peak_after_fit_mib": memory_mib("VmHWM"),
        "sweep_seconds": sweep_seconds,
        "fit_seconds": fit_seconds,
        "scratch_seconds": scratch_seconds,
        "fit": [int(best["k"]), best["covariance_type"], result.bic],
    }))


def measure_memory(n: int, max_rows: int) -> dict:
    print(f"  memory of sweep + fit_gmm, n={n}, in a child process", flush=True)
    child = subprocess.run(
        [sys.executable, "-m", "bench.bench", "--memory-child", str(n), str(max_rows)],
        cwd=ROOT, capture_output=True, text=True, check=True,
    )
    return json.loads(child.stdout.strip().splitlines()[-1])


# -- Target 5: warm starts after a small change of the data ---------------------------------------


def target_5(n: int, repeats: int) -> list[dict]:
    rows = []
    rng = np.random.default_rng(SEED)
    for variant in ("blobs", "anisotropic"):
        X = blobs(n, variant)
        # The small change: 1% of the rows move by noise of a tenth of a blob's spread.
        changed = X.copy()
        moved = rng.choice(n, size=n // 100, replace=False)
        changed[moved] += rng.normal(0.0, 0.1, size=(len(moved), 2))
        for k in (3, 6):
            print(f"  target 5, {variant}, K={k}, n={n}", flush=True)
            with threadpool_limits(1):  # as the app fits
                previous = fit_gmm(X, n_components=k, covariance_type="full", random_state=SEED)
                seconds, values = side_by_side({
                    "cold": lambda: fit_gmm(changed, n_components=k, covariance_type="full", random_state=SEED),
                    "warm": lambda: fit_gmm(
                        changed, n_components=k, covariance_type="full", random_state=SEED,
                        **previous.as_start(),
                    ),
                }, repeats)
            rows.append({
                "case": f"{variant}, K={k} full",
                "cold": seconds["cold"],
                "warm": seconds["warm"],
                "cold_iter": values["cold"].n_iter,
                "warm_iter": values["warm"].n_iter,
                "bic_difference": values["warm"].bic - values["cold"].bic,
            })
    return rows


# -- Report -------------------------------------------------------------------------------------


def machine() -> list[str]:
    model = next(
        (line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
         if line.startswith("model name")),
        platform.processor() or "unknown",
    )
    blas = [
        f"{lib['internal_api']} {lib.get('version')} ({lib.get('architecture', '-')}, {lib['num_threads']} threads)"
        for lib in threadpoolctl.threadpool_info()
    ]
    return [
        f"- date: {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC; load average at start {os.getloadavg()[0]:.1f}",
        f"- CPU: {model}, {os.cpu_count()} cores",
        f"- Python {platform.python_version()}, numpy {np.__version__}, scipy {scipy.__version__}, "
        f"scikit-learn {sklearn.__version__}, joblib {joblib.__version__}",
        f"- BLAS/OpenMP (threadpoolctl): {'; '.join(blas)}",
    ]


def verdict(ok: bool) -> str:
    return "met" if ok else "NOT met"


def report(results: dict, quick: bool) -> str:
    lines = ["# Benchmark results", "", "Written by `.venv/bin/python -m bench.bench`"
             + (" --quick (smoke run, not the targets' sizes)" if quick else "") + ".", ""]
    lines += results["machine"] + [f"- load average at end {os.getloadavg()[0]:.1f}", ""]

    lines += [
        "## Target 1: sweep K = 1..10 x 4 covariance types, n_init = 1, 2-D blobs",
        "",
        "The plain loop fits `GaussianMixture(n_components=k, covariance_type=c, tol=1e-6, reg_covar=1e-6,",
        "max_iter=1000, n_init=1, init_params='kmeans', random_state=0)` one after the other and takes",
        "`bic`, on the same centred and globally scaled input the sweep fits (`Scaling.of(X).forward(X)`),",
        "so both fit identical models; the BIC of every row is compared after shifting the plain loop's",
        "BIC to data units (+ 2 n d log scale).",
        "",
        "| n | fits | repeats | plain loop, default threads | plain loop, 1 thread | sweep | "
        "speed-up vs default threads | speed-up vs 1 thread | default / 1 thread | max rel. BIC diff | goal 1.7x |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for r in results["target_1"]:
        s = r["seconds"]
        default, one, ours = s["plain loop, default threads"], s["plain loop, 1 thread"], s["gmm_core.sweep"]
        lines.append(
            f"| {r['n']:,} | {r['fits']} | {r['repeats']} | {default:.1f} s | {one:.1f} s | {ours:.1f} s | "
            f"{default / ours:.2f}x | {one / ours:.2f}x | {default / one:.2f}x | "
            f"{r['max_relative_bic_difference']:.1e} | {verdict(default / ours >= SPEEDUP_GOAL)} |"
        )
    for r in results["target_1"]:
        if "gmm_core.sweep, n_jobs=1" in r["seconds"]:
            s = r["seconds"]
            lines += ["", f"At n = {r['n']:,} the same sweep with `n_jobs=1` took {s['gmm_core.sweep, n_jobs=1']:.1f} s "
                      f"(median): the two workers (processes up to {PROCESS_MAX_ROWS:,} rows, threads above) give "
                      f"{s['gmm_core.sweep, n_jobs=1'] / s['gmm_core.sweep']:.2f}x."]

    t4 = results["target_4"]
    memory = results["memory"]
    lines += [
        "",
        f"## Target 4: {t4['n']:,} rows, 2 columns, through a stratified subsample",
        "",
        f"`sweep(X, n_init=1, max_rows={t4['max_rows']})`: every model is fitted to a stratified subsample of "
        f"{t4['max_rows']:,} rows (16 strata around k-means++ seeds drawn from all rows, seed 0), the 3 best",
        "by subsample BIC are scored on all rows with their subsample parameters, and the best of those on all",
        "rows is refitted on all rows, started from its subsample fit (weights, means and precisions).",
        "",
        "| measure | value | goal |",
        "| --- | --- | --- |",
        f"| sweep, median of {t4['repeats']} | {t4['seconds']:.1f} s | < {SUBSAMPLE_SECONDS_GOAL:.0f} s: "
        f"{verdict(t4['seconds'] < SUBSAMPLE_SECONDS_GOAL)} |",
        f"| the same with the sweep's default {DEFAULT_SWEEP_N_INIT} restarts per fit (1 run) | "
        f"{t4['default_restarts_seconds']:.1f} s | |",
        f"| chosen model | K={t4['best'][0]} {t4['best'][1]} | |",
        "| candidates (subsample BIC order): BIC on all rows | "
        + "; ".join(f"K={k} {c}: {bic:,.1f}" for k, c, bic in t4["candidates"]) + " | |",
        f"| refit of the choice on all rows | BIC {t4['refit']['bic']:,.1f}, {t4['refit']['n_iter']} EM iterations, "
        f"converged {t4['refit']['converged']} | |",
        "| peak RSS (VmHWM) of a fresh process: the sweep, then the fits of its choice on all rows as the app runs "
        "them after \"Use this model\" (from its subsample fit) and \"Fit from scratch\" (5 restarts) | "
        f"{memory['peak_after_fit_mib']:.0f} MiB (peak during the sweep {memory['peak_after_sweep_mib']:.0f} MiB; "
        f"{memory['rss_before_mib']:.0f} MiB before it, with the {memory['data_mib']:.0f} MiB of data) | "
        f"< {MEMORY_GOAL_MIB:.0f} MiB: {verdict(memory['peak_after_fit_mib'] < MEMORY_GOAL_MIB)} |",
        f"| that process's sweep / fit from the subsample fit / fit from scratch | {memory['sweep_seconds']:.1f} s / "
        f"{memory['fit_seconds']:.1f} s / {memory['scratch_seconds']:.1f} s | |",
        "",
        "Does the subsample pick the model of the full sweep?",
        "",
        "| data | full sweep picks | subsampled sweep picks | same |",
        "| --- | --- | --- | --- |",
    ]
    for row in results["agreement"]:
        full = f"K={row['full'][0]} {row['full'][1]} ({row['full_seconds']:.0f} s)" if row["full"] else \
            "not run (`--full-1e6` runs it)"
        same = "-" if not row["full"] else ("yes" if tuple(row["full"]) == tuple(row["subsample"]) else "NO")
        lines.append(f"| blobs, {row['n']:,} rows | {full} | K={row['subsample'][0]} {row['subsample'][1]} | {same} |")

    lines += [
        "",
        "## Target 5: warm starts after a small change of the data",
        "",
        f"{results['target_5_n']:,} rows; 1% of them then move by N(0, 0.1^2) noise. Fits single-threaded, as the app runs them. "
        "Cold: `fit_gmm` with the "
        "default 5 restarts; warm: `fit_gmm(..., **previous.as_start())` (one EM run from the previous model's "
        "weights, means and precisions, as the app refits large data after a small change). Medians; "
        "BIC difference = warm - cold (negative: warm is better).",
        "",
        "| case | cold | warm | cold / warm | EM iterations cold / warm | BIC difference |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for row in results["target_5"]:
        lines.append(
            f"| {row['case']} | {row['cold']:.2f} s | {row['warm']:.2f} s | {row['cold'] / row['warm']:.1f}x | "
            f"{row['cold_iter']} / {row['warm_iter']} | {row['bic_difference']:+.3f} |"
        )
    return "\n".join(lines) + "\n"


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, one repeat; prints, writes nothing")
    parser.add_argument("--full-1e6", action="store_true", help="also run the full sweep of 1e6 rows (slow)")
    parser.add_argument("--memory-child", nargs=2, type=int, metavar=("N", "MAX_ROWS"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    warnings.simplefilter("ignore", ConvergenceWarning)
    if args.memory_child:
        memory_child(*args.memory_child)
        return

    results = {"machine": machine()}
    if args.quick:
        results["target_1"] = [target_1(3_000, range(1, 5), 1, sequential_sweep=True)]
        big, agreement_sizes, max_rows, repeats_4, n_5 = 200_000, [5_000], 1_000, 1, 5_000
    else:
        results["target_1"] = [
            target_1(10_000, range(1, 11), 5, sequential_sweep=True),
            target_1(100_000, range(1, 11), 3, sequential_sweep=False),
        ]
        big, agreement_sizes, max_rows, repeats_4, n_5 = 1_000_000, [100_000], SUBSAMPLE_MAX_ROWS, 3, 20_000
    results["target_4"] = target_4(big, max_rows, repeats_4)
    results["memory"] = measure_memory(big, max_rows)
    agreement = []
    for n in agreement_sizes:
        full = next((r["best"] for r in results["target_1"] if r["n"] == n), None)
        seconds = next((r["seconds"]["gmm_core.sweep"] for r in results["target_1"] if r["n"] == n), None)
        if full is None:
            full, seconds = full_sweep_best(n)
        chosen = target_4(n, max_rows, 1)["best"]
        agreement.append({"n": n, "full": full, "full_seconds": seconds, "subsample": chosen})
    agreement.append({"n": big, "full": None, "full_seconds": None, "subsample": results["target_4"]["best"]})
    results["agreement"] = agreement
    results["target_5_n"] = n_5
    results["target_5"] = target_5(n_5, 1 if args.quick else 3)
    publish(results, args.quick)
    if args.full_1e6:
        # Last and published again: the rest is written even if this slow check is cut short.
        agreement[-1]["full"], agreement[-1]["full_seconds"] = full_sweep_best(big)
        publish(results, args.quick)


def publish(results: dict, quick: bool) -> None:
    text = report(results, quick)
    print()
    print(text)
    if not quick:
        RESULTS.write_text(text)
        print(f"written to {RESULTS.relative_to(ROOT)}", flush=True)


if __name__ == "__main__":
    main()
