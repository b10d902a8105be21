"""Cached wrappers of the slow core calls.

Every cache is keyed on a content hash passed as an argument, with the big object
itself as an ``_underscored`` argument that Streamlit does not hash: Streamlit
hashes only a sample of large frames, which would return stale models. Errors are
returned, not raised, inside the cache so a failing setting is not retried on
every rerun; the public functions raise them again.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass

import pandas as pd
import streamlit as st
from threadpoolctl import threadpool_limits

from gmm_core import DataError, FitError, FitResult, FitSettings, fit_gmm, sweep
from ui.dataset import Dataset, Generation, SourceTable, builtin_table, generated_table, uploaded_table
from ui.tables import best_index


@dataclass(frozen=True, eq=False)
class SweepRecord:
    """A finished sweep: the table of ``gmm_core.sweep`` and what it was run on."""

    content_hash: str
    ks: tuple[int, ...]
    covariance_types: tuple[str, ...]
    n_init: int
    settings: dict
    table: pd.DataFrame


@st.cache_data(max_entries=16, show_spinner=False)
def generated(generation: Generation) -> SourceTable:
    """``ui.dataset.generated_table``, cached on the generation parameters."""
    return generated_table(generation)


@st.cache_data(max_entries=4, show_spinner=False)
def builtin(name: str) -> SourceTable:
    """``ui.dataset.builtin_table``, cached on the data set's name."""
    return builtin_table(name)


@st.cache_data(max_entries=8, show_spinner="Reading the file…")
def _read_upload(file_hash: str, filename: str, _data: bytes) -> SourceTable | DataError:
    """The parsed upload, or the ``DataError`` saying why it cannot be read."""
    try:
        return uploaded_table(filename, _data)
    except DataError as exc:
        return exc


def read_upload(file_hash: str, filename: str, data: bytes) -> SourceTable:
    """``ui.dataset.uploaded_table`` cached on the file's hash; raises ``DataError`` for a bad file."""
    return _raise_error(_read_upload(file_hash, filename, data))


# No spinner: it would push the page down for a moment on every refit.
@st.cache_data(max_entries=64, show_spinner=False)
def _fit(content_hash: str, settings: tuple, _X) -> FitResult | FitError | DataError:
    """The fit, or the error saying why there is none."""
    try:
        # One thread per fit: on small machines more BLAS threads only add contention.
        with threadpool_limits(1):
            return fit_gmm(_X, **dict(settings))
    except (FitError, DataError) as exc:
        return exc


def fit(dataset: Dataset, settings: FitSettings) -> FitResult:
    """``gmm_core.fit_gmm`` on ``dataset.X``, cached on its content hash and every setting.

    Raises
    ------
    FitError, DataError
        With a message for the user.
    """
    return _raise_error(_fit(dataset.content_hash, tuple(asdict(settings).items()), dataset.X))


@st.cache_data(max_entries=256, show_spinner=False)
def _sweep_one_k(content_hash: str, k: int, covariance_types: tuple, options: tuple, _X) -> pd.DataFrame:
    """``gmm_core.sweep`` for one K and every covariance type in ``covariance_types``."""
    return sweep(_X, ks=[k], covariance_types=covariance_types, **dict(options))


def run_sweep(
    dataset: Dataset,
    *,
    ks: tuple[int, ...],
    covariance_types: tuple[str, ...],
    n_init: int,
    settings: FitSettings,
    progress: Callable[[int, int], None] | None = None,
) -> SweepRecord:
    """``gmm_core.sweep`` over ``ks`` and ``covariance_types`` with the sidebar's other settings.

    Runs one K at a time (its covariance types in parallel, as ``sweep`` does), each
    cached on its own: a progress bar cannot be drawn inside a cached function, and a
    widened K range reuses the Ks already fitted. ``progress(done, total)`` counts Ks.
    The table is the one ``sweep`` would return for the whole grid.
    """
    options = {
        "n_init": n_init,
        "random_state": settings.random_state,
        "init_params": settings.init_params,
        "reg_covar": settings.reg_covar,
        "tol": settings.tol,
        "max_iter": settings.max_iter,
    }
    parts = []
    for done, k in enumerate(ks, start=1):
        parts.append(_sweep_one_k(dataset.content_hash, k, covariance_types, tuple(options.items()), dataset.X))
        if progress is not None:
            progress(done, len(ks))
    table = pd.concat(parts, ignore_index=True)
    # sweep's order (covariance type, then k) and its single best_bic over the whole grid.
    order = table["covariance_type"].map({c: i for i, c in enumerate(covariance_types)})
    table = table.assign(_order=order).sort_values(["_order", "k"]).drop(columns="_order").reset_index(drop=True)
    table["best_bic"] = table.index == best_index(table, "BIC")
    return SweepRecord(
        content_hash=dataset.content_hash,
        ks=ks,
        covariance_types=covariance_types,
        n_init=n_init,
        settings=options,
        table=table,
    )


def _raise_error(outcome):
    """``outcome``, raised if it is an error."""
    if isinstance(outcome, Exception):
        raise outcome
    return outcome
