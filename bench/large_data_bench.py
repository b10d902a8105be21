"""Large data against mclust: how often a cell of our default sweep ends worse than mclust's.

Above 2,000 rows both mclust and we start EM from subsets of the rows (mclust from one random
subset; we from two subsamples, see ``gmm_core.fit.START_SUBSETS``), so a cell can land in a
better or a worse optimum than mclust's. This counts them on 2-D tables of 5 blobs (round,
sheared and of unequal spread, ``make_blobs_frame``) of 2,500 to 50,000 rows: our default
sweep of 14 models x K = 1..9 beside ``mclustBIC(X, G = 1:9)``, one run each (the counts are
the point; the seconds are single runs on a shared machine). Run from the repository root::

    .venv/bin/python -m bench.large_data_bench   # about six minutes on 2 cores; writes bench/LARGE_RESULTS.md
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # also runnable as ``python bench/large_data_bench.py``
    sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

from bench.bench import BIC_SLACK, against_mclust, fresh_sweep, machine, mclust_available, run_mclust, timed  # noqa: E402
from gmm_core import MODELS, make_blobs_frame  # noqa: E402
from gmm_core.engine import compile_engine  # noqa: E402

RESULTS = ROOT / "bench" / "LARGE_RESULTS.md"
SIZES = (2_500, 3_000, 4_000, 50_000)
VARIANTS = ("blobs", "anisotropic", "unequal_variance")


def table_rows() -> list[str]:
    lines = []
    for n in SIZES:
        for variant in VARIANTS:
            X = make_blobs_frame(n_samples=n, n_components=5, random_state=3, variant=variant)[["x", "y"]].to_numpy()
            ours, result = timed(lambda: fresh_sweep(X, ks=range(1, 10), covariance_types=MODELS))
            mclust = run_mclust(X, 9, MODELS, 1)
            counts = against_mclust(result.table, mclust)
            line = (
                f"| {variant} | {n:,} | {ours:.2f} s | {float(np.median(np.atleast_1d(mclust['seconds']))):.2f} s | "
                f"{counts['cells']} | {counts['worse']} | {counts['better']} | {counts['worst_gap']:,.1f} |"
            )
            print(line, flush=True)
            lines.append(line)
    return lines


def main() -> None:
    if not mclust_available():
        sys.exit("R with mclust and jsonlite is not installed (make bench installs them from Debian).")
    compile_engine()
    header = machine()
    rows = table_rows()
    text = "\n".join([
        "# Large data against mclust",
        "",
        "Written by `.venv/bin/python -m bench.large_data_bench` (`make bench`).",
        "",
        *header,
        "",
        "Our default sweep (14 models x K = 1..9; above 2,000 rows the starts run on two 2,000-row "
        "subsamples, one stratified and one uniform, and the most likely on all rows goes on) beside "
        "mclust's `mclustBIC(X, G = 1:9)` (hc on one random 2,000-row subset) on 2-D tables of 5 blobs "
        "(`make_blobs_frame(n_samples=n, n_components=5, random_state=3, variant=...)`), one run each. "
        f"\"Worse\" counts cells where our BIC is more than {BIC_SLACK} above mclust's (or ours is "
        f"degenerate), \"better\" more than {BIC_SLACK} below; \"worst\" is the largest amount by which ours is above (0.0: never).",
        "",
        "| blobs | rows | ours | mclust | cells | worse | better | worst |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
        *rows,
        "",
    ])
    RESULTS.write_text(text)
    print(f"Written to {RESULTS.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
