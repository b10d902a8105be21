"""Cached wrappers of the slow core calls.

Every cache is keyed on a content hash passed as an argument, with the big object
itself as an ``_underscored`` argument that Streamlit does not hash: Streamlit
hashes only a sample of large frames, which would return stale models. Errors are
returned, not raised, inside the cache so a failing setting is not retried on
every rerun; the public functions raise them again.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from collections.abc import Callable
from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import streamlit as st
from sklearn.cluster import KMeans
from threadpoolctl import threadpool_limits

from gmm_core import (
    DataError,
    EMTrace,
    FitError,
    FitResult,
    FitSettings,
    em_trace,
    fit_gmm,
    SubsampleInfo,
    initial_means,
    sweep,
)
from gmm_core.selection import SUBSAMPLE_MAX_ROWS
from gmm_core.subsample import stratified_subsample
from ui.dataset import Dataset, Generation, SourceTable, builtin_table, generated_table, uploaded_table
from ui.em_figures import em_animation
from ui.tables import best_index

if TYPE_CHECKING:  # ui.warm uses this module
    from ui.warm import Start


@dataclass(frozen=True, eq=False)
class SweepRecord:
    """A finished sweep: the table of ``gmm_core.sweep`` and what it was run on.

    ``subsample`` says how the sweep chose on a subsample (see :func:`run_sweep`), else None.
    """

    content_hash: str
    ks: tuple[int, ...]
    covariance_types: tuple[str, ...]
    n_init: int
    settings: dict
    table: pd.DataFrame
    subsample: SubsampleInfo | None = None


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
    return _outcome(uploaded_table, filename, _data)


def read_upload(file_hash: str, filename: str, data: bytes) -> SourceTable:
    """``ui.dataset.uploaded_table`` cached on the file's hash; raises ``DataError`` for a bad file."""
    return _raise_error(_read_upload(file_hash, filename, data))


# No spinner: it would push the page down for a moment on every refit.
@st.cache_data(max_entries=64, show_spinner=False)
def _fit(
    content_hash: str, settings: tuple, start_key: str | None, _start: dict | None, _X
) -> FitResult | FitError | DataError:
    """The fit, or the error saying why there is none (``start_key`` identifies ``_start``)."""
    # One thread per fit: on small machines more BLAS threads only add contention.
    with threadpool_limits(1):
        return _outcome(fit_gmm, _X, **dict(settings), **(_start or {}))


@st.cache_data(max_entries=4, show_spinner=False)
def _subsample_rows(content_hash: str, random_state: int | None, _X) -> np.ndarray:
    """``gmm_core.stratified_subsample`` of ``SUBSAMPLE_MAX_ROWS`` rows: once per data and seed, not per model."""
    return stratified_subsample(_X, max_rows=SUBSAMPLE_MAX_ROWS, random_state=random_state)


@st.cache_data(max_entries=64, show_spinner=False)
def _subsample_fit(content_hash: str, settings: tuple, _X) -> tuple[int, dict] | None:
    """Size of the subsample and ``as_start()`` of the fit to it, or None when it cannot be fitted."""
    rows = _subsample_rows(content_hash, dict(settings)["random_state"], _X)
    with threadpool_limits(1):
        fitted = _outcome(fit_gmm, _X[rows], **dict(settings))
    return None if isinstance(fitted, Exception) else (len(rows), fitted.as_start())


def subsample_fit(dataset: Dataset, settings: FitSettings) -> tuple[int, dict] | None:
    """``fit_gmm`` with ``settings`` on a stratified subsample of ``SUBSAMPLE_MAX_ROWS`` rows of ``dataset.X``.

    Returns
    -------
    (int, dict) or None
        The subsample's size and the fit's ``as_start()``, cached; None when the
        model cannot be fitted to the subsample.
    """
    return _subsample_fit(dataset.content_hash, tuple(asdict(settings).items()), dataset.X)


def fit(dataset: Dataset, settings: FitSettings, start: Start | None = None) -> FitResult:
    """``gmm_core.fit_gmm`` on ``dataset.X``, cached on its content hash, every setting and the start.

    ``start`` (see ``ui.warm``) starts EM from a given model instead of ``init_params``.

    Raises
    ------
    FitError, DataError
        With a message for the user.
    """
    outcome = _fit(
        dataset.content_hash,
        tuple(asdict(settings).items()),
        None if start is None else start.key,
        None if start is None else start.params,
        dataset.X,
    )
    return _raise_error(outcome)


@st.cache_data(max_entries=256, show_spinner=False)
def _sweep_one_k(content_hash: str, k: int, covariance_types: tuple, options: tuple, _X) -> pd.DataFrame:
    """``gmm_core.sweep`` for one K and every covariance type in ``covariance_types``."""
    return sweep(_X, ks=[k], covariance_types=covariance_types, **dict(options)).table


def run_sweep(
    dataset: Dataset,
    *,
    ks: tuple[int, ...],
    covariance_types: tuple[str, ...],
    n_init: int,
    settings: FitSettings,
    progress: Callable[[int, int], None] | None = None,
    previous: SweepRecord | None = None,
) -> SweepRecord:
    """``gmm_core.sweep`` over ``ks`` and ``covariance_types`` with the sidebar's other settings.

    Up to ``ui.dataset.LARGE_DATA_ROWS`` rows it runs one K at a time (its covariance types in
    parallel, as ``sweep`` does), each cached on its own: a progress bar cannot be
    drawn inside a cached function, and a widened K range reuses the Ks already
    fitted; ``progress(done, total)`` counts Ks. The table is the one ``sweep`` would
    return for the whole grid.

    On large data (``Dataset.is_large``) it runs one ``sweep`` over the whole grid with
    ``max_rows=SUBSAMPLE_MAX_ROWS`` (see ``gmm_core.sweep``), uncached so that
    ``progress`` (counting fits) is called on every run; ``previous`` is returned
    instead when it was run on the same data with the same settings.
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
            progress=progress, **options,
        )
        table, subsample = result.table, result.subsample
    else:
        table = _sweep_by_k(dataset, ks, covariance_types, options, progress)
        subsample = None
    return SweepRecord(
        content_hash=dataset.content_hash,
        ks=ks,
        covariance_types=covariance_types,
        n_init=n_init,
        settings=options,
        table=table,
        subsample=subsample,
    )


def _sweep_by_k(dataset: Dataset, ks, covariance_types, options: dict, progress) -> pd.DataFrame:
    """The table of ``gmm_core.sweep`` over the whole grid, from one cached sweep per K."""
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


@st.cache_data(max_entries=32, show_spinner=False)
def _kmeans(content_hash: str, n_clusters: int, random_state: int, n_init: int, _X) -> tuple[np.ndarray, np.ndarray]:
    """The k-means labels and centres."""
    with threadpool_limits(1):
        model = KMeans(n_clusters=n_clusters, random_state=random_state, n_init=n_init).fit(_X)
    return model.labels_, model.cluster_centers_


def kmeans(dataset: Dataset, settings: FitSettings) -> tuple[np.ndarray, np.ndarray]:
    """scikit-learn's ``KMeans`` on ``dataset.X`` with the model's K, seed and restarts, cached.

    Returns
    -------
    labels : ndarray of int, shape (n,)
    centres : ndarray of shape (K, d)
    """
    return _kmeans(
        dataset.content_hash, settings.n_components, int(settings.random_state), settings.n_init, dataset.X
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
