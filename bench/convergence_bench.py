"""How far the default sweep's criteria are from the values EM converges to (the engine issue, item 3).

EM stops when Aitken's estimate of the log-likelihood gains still to come is below ``tol``
(1e-3): BIC is then within 0.002 of its converged value wherever EM converges at a steady rate.
Near a saddle point it does not, and the check that follows (``gmm_core.engine.SADDLE_CHECK_ROWS``)
goes only so far; nor where EM crawls, as EVE's does on many columns. This measures what is left. Every cell of the default sweep (14 models x K = 1..9) is fitted
as the sweep fits it (``fit_gmm`` with the sweep's settings gives the sweep's cell), and the fit is
continued from its parameters by plain EM (no acceleration: every step gains, so it ends where EM
itself converges from there) until the mean log-likelihood gains less than 1e-13 per row, or for
at most ``MAX_ITER`` iterations. The gap is the cell's BIC minus the continued fit's. Degenerate
cells (never chosen) are left out. Run from the repository root::

    .venv/bin/python -m bench.convergence_bench   # about four minutes on 2 cores; writes bench/CONVERGENCE_RESULTS.md
"""

from __future__ import annotations

import statistics
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # also runnable as ``python bench/convergence_bench.py``
    sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from bench.bench import BIC_SLACK, data_sets, machine, timed  # noqa: E402
from gmm_core import MODELS, FitError, fit_gmm, make_blobs_frame  # noqa: E402
from gmm_core.engine import compile_engine  # noqa: E402
from gmm_core.fit import DEFAULT_TOL  # noqa: E402
from gmm_core.selection import DEFAULT_SWEEP_N_INIT  # noqa: E402

RESULTS = ROOT / "bench" / "CONVERGENCE_RESULTS.md"
MCLUST_DATA = ROOT / "tests" / "data" / "mclust"
MAX_ITER = 100_000
#: Plain EM's stop: the mean log-likelihood gained less than this per row.
CONTINUED_TOL = 1e-13
KS = range(1, 10)


def tables() -> dict[str, np.ndarray]:
    sets = data_sets(quick=True)  # Old Faithful, Iris, 10,000 blobs
    sheared = make_blobs_frame(n_samples=2_000, n_components=5, random_state=3, variant="anisotropic")
    return {
        "Old Faithful": sets["Old Faithful"],
        "Iris": sets["Iris"],
        # More columns: the orientation of EVE and VVE is improved a few rounds per M-step only.
        "thyroid (5 columns)": mclust_table("thyroid"),
        "wine (13 columns)": mclust_table("wine"),
        "2,000 sheared blobs": sheared[["x", "y"]].to_numpy(),
        "blobs 10,000": sets["blobs 10,000"],
    }


def mclust_table(name: str) -> np.ndarray:
    """One of the public tables whose mclust reference output the tests hold."""
    return pd.read_csv(MCLUST_DATA / f"{name}.csv").to_numpy(dtype=float)


def gap(X: np.ndarray, model: str, k: int) -> dict | None:
    """The cell (model, k) as the sweep fits it, and its BIC's distance from EM's limit from there."""
    try:
        cell = fit_gmm(X, n_components=k, covariance_type=model, n_init=DEFAULT_SWEEP_N_INIT)
    except FitError:  # a cell the sweep shows as a failure: nothing to continue
        return None
    if cell.degenerate:
        return None
    continued = fit_gmm(
        X, n_components=k, covariance_type=model, weights_init=cell.weights, means_init=cell.means,
        covariances_init=cell.covariances, stopping="sklearn", tol=CONTINUED_TOL, max_iter=MAX_ITER,
    )
    return {"model": model, "k": k, "gap": cell.bic - continued.bic, "iterations": continued.n_iter,
            "converged": continued.converged, "cell_iterations": cell.n_iter}


def measure(X: np.ndarray) -> list[dict]:
    cells = [(model, k) for k in KS for model in MODELS]
    with ThreadPoolExecutor(max_workers=2) as pool:  # the compiled EM releases the GIL
        found = list(pool.map(lambda cell: gap(X, *cell), cells))
    return [row for row in found if row is not None]


def report(results: dict[str, tuple[float, list[dict]]]) -> str:
    lines = [
        "# Convergence: the default sweep's BIC against EM's limit",
        "",
        "Written by `.venv/bin/python -m bench.convergence_bench`. Every non-degenerate cell of the default "
        f"sweep (14 models x K = 1..9, `tol={DEFAULT_TOL:g}`) continued by plain EM from its parameters until "
        f"the mean log-likelihood gained less than {CONTINUED_TOL:g} per row (at most {MAX_ITER:,} iterations). "
        f"\"Gap\": the cell's BIC minus the continued fit's; the issue asks for at most {BIC_SLACK}.",
        "",
    ]
    lines += machine() + [""]
    lines += [
        "| data | rows | cells | gap <= 0.01 | gap > 0.01 | gap > 1 | largest gap | continuation, median iterations | seconds |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for name, (n, seconds, rows) in results.items():
        gaps = [row["gap"] for row in rows]
        worst = max(rows, key=lambda row: row["gap"])
        lines.append(
            f"| {name} | {n:,} | {len(rows)} | {sum(g <= BIC_SLACK for g in gaps)} | {sum(g > BIC_SLACK for g in gaps)} "
            f"| {sum(g > 1 for g in gaps)} | {worst['gap']:.3f} ({worst['model']},{worst['k']}) "
            f"| {statistics.median(row['iterations'] for row in rows):,.0f} | {seconds:.0f} |"
        )
    lines += ["", "Cells with a gap above 0.01 (model,K: gap, the cell's iterations -> plain EM's iterations after it):", ""]
    for name, (_, _, rows) in results.items():
        far = sorted((row for row in rows if row["gap"] > BIC_SLACK), key=lambda row: -row["gap"])
        listed = ", ".join(
            f"{row['model']},{row['k']}: {row['gap']:.3f} ({row['cell_iterations']} -> {row['iterations']:,}"
            f"{'' if row['converged'] else ', still going'})"
            for row in far
        )
        lines.append(f"- {name}: {listed or 'none'}")
    return "\n".join(lines) + "\n"


def main() -> None:
    compile_engine()
    results = {}
    for name, X in tables().items():
        seconds, rows = timed(lambda: measure(X))
        results[name] = (len(X), seconds, rows)
        print(f"{name}: {seconds:.0f} s", flush=True)
    text = report(results)
    RESULTS.write_text(text)
    print(text)


if __name__ == "__main__":
    main()
