"""Cached wrappers of the slow core calls.

Every cache is keyed on a content hash passed as an argument, never on the big
object itself: Streamlit hashes only a sample of large frames, which would return
stale models (``st.cache_data`` functions take the object as an ``_underscored``
argument it does not hash). Results whose size grows with the data (fits,
tables, k-means labels) live in the byte-bounded ``ui.memo`` cache; small ones in
``st.cache_data``. Errors are returned, not raised, inside a cache so a failing
setting is not retried on every rerun; the public functions raise them again.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import streamlit as st
from threadpoolctl import threadpool_limits

from gmm_core import (
    DataError,
    EMTrace,
    FitError,
    FitResult,
    FitSettings,
    em_trace,
    fit_gmm,
    Work,
    initial_means,
    sweep,
)
from gmm_core.selection import SUBSAMPLE_MAX_ROWS, best_row
from gmm_core.subsample import stratified_subsample
from gmm_core.fit import n_runs
from gmm_core.matching import KMeansPartition, kmeans_partition
from ui import memo, state
from ui.dataset import Dataset, Generation, SourceTable, builtin_table, generated_table, uploaded_table
from ui.em_figures import em_animation
from ui.tables import model_label
from ui.text import escape_markdown
from ui.work import Progress, run_stoppable, stop_key



def generated(generation: Generation) -> SourceTable:
    """``ui.dataset.generated_table``, kept in the shared ``ui.memo`` cache."""
    return memo.shared().get_or_compute(("generated", generation), lambda: generated_table(generation))


@st.cache_data(max_entries=4, show_spinner=False)
def builtin(name: str) -> SourceTable:
    """``ui.dataset.builtin_table``, cached on the data set's name."""
    return builtin_table(name)


def read_upload(file_hash: str, filename: str, data: bytes) -> SourceTable:
    """``ui.dataset.uploaded_table``, kept in the shared ``ui.memo`` cache on the file's hash and name;
    raises ``DataError`` for a bad file."""

    def read() -> SourceTable | DataError:
        with st.spinner("Reading the file…"):
            return _outcome(uploaded_table, filename, data)

    return _raise_error(memo.shared().get_or_compute(("upload", file_hash, filename), read))


@st.cache_data(max_entries=4, show_spinner=False)
def _subsample_rows(content_hash: str, random_state: int | None, _X) -> np.ndarray:
    """``gmm_core.stratified_subsample`` of ``SUBSAMPLE_MAX_ROWS`` rows: once per data and seed, not per model."""
    return stratified_subsample(_X, max_rows=SUBSAMPLE_MAX_ROWS, random_state=random_state)


def subsample_fit(dataset: Dataset, settings: FitSettings) -> tuple[int, dict] | None:
    """``fit_gmm`` with ``settings`` on a stratified subsample of ``SUBSAMPLE_MAX_ROWS`` rows of ``dataset.X``.

    Returns
    -------
    (int, dict) or None
        The subsample's size and the fit's ``as_start()``, kept in ``ui.memo``; None
        when the model cannot be fitted to the subsample.

    Raises
    ------
    Stopped
        The user stopped this fit.
    """
    key = ("subsample fit", dataset.content_hash, tuple(asdict(settings).items()))
    rows = _subsample_rows(dataset.content_hash, settings.random_state, dataset.X)

    def task(work: Work, progress: Progress) -> tuple[int, dict] | None:
        with threadpool_limits(1):
            fitted = _outcome(fit_gmm, dataset.X[rows], **asdict(settings), work=work)
        return None if isinstance(fitted, Exception) else (len(rows), fitted.as_start())

    runs = n_runs(len(rows), settings.n_init)

    def status(work: Work) -> tuple[float, str]:
        return work.runs / runs, f"{work.runs} of {max(runs, work.runs)} EM runs on {len(rows):,} rows done"

    label = f"Starting {model_label(settings.n_components, settings.covariance_type)} on a subsample"
    return memo.shared().get_or_compute(
        key, lambda: run_stoppable(task, key=stop_key(key), label=escape_markdown(label), status=status)
    )


def fit(dataset: Dataset, settings: FitSettings, start: state.Start | None = None) -> FitResult:
    """``gmm_core.fit_gmm`` on ``dataset.X``, kept in the shared ``ui.memo`` cache, keyed on the data's
    content hash, every setting and the start.

    ``start`` (see ``ui.warm``) starts EM from a given model instead of ``init_params``. A fit
    that takes a while shows its progress and a Stop button (``ui.work.run_stoppable``).

    Raises
    ------
    FitError, DataError
        With a message for the user.
    Stopped
        The user stopped this fit.
    """
    key = fit_key(dataset, settings, start)
    runs = 1 if start is not None else n_runs(len(dataset.X), settings.n_init)

    def task(work: Work, progress: Progress) -> FitResult | FitError | DataError:
        # One thread per fit: on small machines more BLAS threads only add contention.
        with threadpool_limits(1):
            return _outcome(fit_gmm, dataset.X, **asdict(settings), **(start.params if start else {}), work=work)

    def status(work: Work) -> tuple[float, str]:
        return work.runs / runs, f"{work.runs} of {max(runs, work.runs)} EM runs done, {work.steps:,} iterations"

    label = f"Fitting {model_label(settings.n_components, settings.covariance_type)} to {len(dataset.X):,} rows"
    outcome = memo.shared().get_or_compute(
        key, lambda: run_stoppable(task, key=stop_key(key), label=escape_markdown(label), status=status)
    )
    return _raise_error(outcome)


def fit_key(dataset: Dataset, settings: FitSettings, start: state.Start | None = None) -> tuple:
    """The cache key of :func:`fit`'s result."""
    return "fit", dataset.content_hash, tuple(asdict(settings).items()), None if start is None else start.key




def run_sweep(
    dataset: Dataset,
    *,
    ks: tuple[int, ...],
    covariance_types: tuple[str, ...],
    n_init: int,
    settings: FitSettings,
    progress: Callable[[int, int], None] | None = None,
    previous: state.SweepRecord | None = None,
    work: Work | None = None,
) -> state.SweepRecord:
    """``gmm_core.sweep`` over ``ks`` and ``covariance_types`` with the sidebar's other settings.

    Up to ``ui.dataset.LARGE_DATA_ROWS`` rows it runs one K at a time (its covariance types in
    parallel, as ``sweep`` does), each cached on its own: a progress bar cannot be
    drawn inside a cached function, and a widened K range reuses the Ks already
    fitted; ``progress(done, total)`` counts Ks. The table is the one ``sweep`` would
    return for the whole grid.

    On large data (``Dataset.is_large``) it runs one ``sweep`` over the whole grid with
    ``max_rows=SUBSAMPLE_MAX_ROWS`` (see ``gmm_core.sweep``), uncached so that
    ``progress`` (counting fits) is called on every run; ``previous`` is returned
    instead when it was run on the same data with the same settings. ``work`` stops it
    (``gmm_core.Stopped``); nothing of a stopped sweep is kept.
    """
    options = {
        "n_init": n_init,
        "random_state": settings.random_state,
        "init_params": settings.init_params,
        "reg_covar": settings.reg_covar,
        "tol": settings.tol,
        "max_iter": settings.max_iter,
    }
    if dataset.is_large:
        if previous is not None and (
            previous.content_hash, previous.ks, previous.covariance_types, previous.n_init, previous.settings
        ) == (dataset.content_hash, ks, covariance_types, n_init, options):
            return previous
        result = sweep(
            dataset.X, ks=ks, covariance_types=covariance_types, max_rows=SUBSAMPLE_MAX_ROWS,
            progress=progress, work=work, **options,
        )
        table, subsample = result.table, result.subsample
    else:
        table = _sweep_by_k(dataset, ks, covariance_types, options, progress, work)
        subsample = None
    return state.SweepRecord(
        content_hash=dataset.content_hash,
        ks=ks,
        covariance_types=covariance_types,
        n_init=n_init,
        settings=options,
        table=table,
        subsample=subsample,
    )


def _sweep_by_k(dataset: Dataset, ks, covariance_types, options: dict, progress, work: Work | None) -> pd.DataFrame:
    """The table of ``gmm_core.sweep`` over the whole grid, from one sweep per K, each kept in ``ui.memo``."""
    parts = []
    for done, k in enumerate(ks, start=1):
        key = ("sweep", dataset.content_hash, k, covariance_types, tuple(options.items()))
        parts.append(memo.shared().get_or_compute(
            key, lambda k=k: sweep(dataset.X, ks=[k], covariance_types=covariance_types, work=work, **options).table
        ))
        if progress is not None:
            progress(done, len(ks))
    table = pd.concat(parts, ignore_index=True)
    # sweep's order (covariance type, then k) and its single best_bic over the whole grid.
    order = table["covariance_type"].map({c: i for i, c in enumerate(covariance_types)})
    table = table.assign(_order=order).sort_values(["_order", "k"]).drop(columns="_order").reset_index(drop=True)
    table["best_bic"] = table.index == best_row(table, "bic")
    return table


@st.cache_data(max_entries=32, show_spinner=False)
def _em_start(content_hash: str, options: tuple, _X) -> np.ndarray | FitError | DataError:
    """The starting means, or the error saying why there are none."""
    return _outcome(initial_means, _X, **dict(options))


def em_start(content_hash: str, X: np.ndarray, *, n_components: int, init_params: str, random_state: int) -> np.ndarray:
    """``gmm_core.initial_means`` of ``X`` (whose content hash is ``content_hash``), cached.

    Raises
    ------
    FitError, DataError
        With a message for the user.
    """
    options = {"n_components": n_components, "init_params": init_params, "random_state": random_state}
    return _raise_error(_em_start(content_hash, tuple(options.items()), X))


@st.cache_data(max_entries=64, show_spinner=False)
def _em_trace(content_hash: str, options: tuple, means_init: tuple, _X) -> EMTrace | FitError | DataError:
    """The EM trace, or the error saying why there is none."""
    return _outcome(em_trace, _X, means_init=np.array(means_init), **dict(options))


def em_frames(content_hash: str, X: np.ndarray, *, means_init: np.ndarray, **options) -> EMTrace:
    """``gmm_core.em_trace`` of ``X`` from ``means_init``, every frame computed once and cached.

    ``options`` are the other keyword arguments of ``em_trace``.

    Raises
    ------
    FitError, DataError
        With a message for the user.
    """
    return _raise_error(_em_trace(content_hash, tuple(sorted(options.items())), _start_key(means_init), X))


# A resource, not data: unpickling a figure of 100 frames validates it again, as slowly as building it.
@st.cache_resource(max_entries=16, show_spinner=False)
def _em_figure(content_hash: str, options: tuple, means_init: tuple, view: tuple, _X) -> go.Figure:
    """The animation of one trace, drawn one way."""
    pair, slots, axis_names, level = view
    trace = em_frames(content_hash, _X, means_init=np.array(means_init), **dict(options))
    return em_animation(trace, _X[:, list(pair)], pair=pair, slots=np.array(slots), axis_names=axis_names, level=level)


def em_figure(
    content_hash: str, X: np.ndarray, *, means_init: np.ndarray, pair: tuple[int, int], slots: np.ndarray,
    axis_names: tuple[str, str], level: str, **options,
) -> go.Figure:
    """``ui.em_figures.em_animation`` of :func:`em_frames` with the same arguments, built once and kept.

    Building a figure of a hundred frames takes a second or two (Plotly validates every
    trace of every frame), so each trace and view is built once and shared, not rebuilt
    on every rerun. Call it after :func:`em_frames` succeeded for these arguments.
    """
    view = (tuple(pair), tuple(int(s) for s in slots), tuple(axis_names), level)
    return _em_figure(content_hash, tuple(sorted(options.items())), _start_key(means_init), view, X)


def _start_key(means_init: np.ndarray) -> tuple:
    """Starting means as nested tuples of floats: a hashable cache key."""
    return tuple(map(tuple, np.asarray(means_init, dtype=float).tolist()))




def kmeans(dataset: Dataset, settings: FitSettings) -> KMeansPartition:
    """``gmm_core.kmeans_partition`` of ``dataset.X`` with the model's K, seed and restarts, kept in ``ui.memo``."""
    k, seed, n_init = settings.n_components, int(settings.random_state), settings.n_init
    return memo.shared().get_or_compute(
        ("kmeans", dataset.content_hash, k, seed, n_init),
        lambda: kmeans_partition(dataset.X, n_clusters=k, random_state=seed, n_init=n_init),
    )


def _outcome(function, *args, **kwargs):
    """``function(*args, **kwargs)``, or the ``FitError`` or ``DataError`` it raised, returned to be cached."""
    try:
        return function(*args, **kwargs)
    except (FitError, DataError) as exc:
        return exc


def _raise_error(outcome):
    """``outcome``, raised if it is an error."""
    if isinstance(outcome, Exception):
        raise outcome
    return outcome
