"""Warm starts on large data: refit from a nearby model instead of from scratch.

On large data (``Dataset.is_large``) a fit from scratch with the sidebar's restarts takes
seconds (about 7 s for a million rows and 8 restarts). One EM run from a nearby model
gets there several times faster: after a small change (reg_covar, tol or max_iter; a new
version of the same table) from the model the user just had; for a model chosen from a
subsampled sweep from its subsample fit; otherwise from the best of the restarts run on
a stratified subsample.

Each (data, settings) pair is given its start once, the first time it is fitted, and
keeps it; the fit cache is keyed on the start as well, so a cached result never
depends on what was fitted after it, and going back to earlier settings shows the
model shown then. "Fit from scratch" pins a pair to a fit from ``init_params``.
"""

from __future__ import annotations

import numpy as np
import streamlit as st

from gmm_core import FitResult, FitSettings, SubsampleInfo
from ui import cache, state
from ui.dataset import Dataset
from ui.tables import model_label

#: A table with more or fewer rows than this fraction of the last one's is not a "small change".
MAX_ROW_CHANGE = 0.1
#: Starts kept per session, oldest forgotten first.
MAX_STARTS = 64


def start_for(dataset: Dataset, settings: FitSettings) -> state.Start | None:
    """The start of the fit of ``settings`` to ``dataset``: None for a fit from scratch.

    Small data always fit from scratch. On large data the pair keeps the start it was
    first given; a new pair starts from the last model shown when only the data (a
    table of the same columns within ``MAX_ROW_CHANGE`` of its rows) or reg_covar, tol
    or max_iter changed. Otherwise (new data, or a new K, covariance type, seed, number
    of restarts or initialisation, which ask for a new initialisation) the restarts
    run on a stratified subsample and EM then runs once on all rows from their best,
    as mclust initialises on a subset of large data; "Fit from scratch" runs them on
    all rows instead.
    """
    if not dataset.is_large:
        return None
    starts = _starts()
    pair = (dataset.content_hash, settings)
    if pair not in starts:
        last: state.LastFit | None = st.session_state.get(state.LAST_FIT)
        if last is not None and _small_change(last, dataset, settings):
            _set(pair, last.start)
        else:
            _set(pair, _from_subsample(dataset, settings))
    return starts[pair]


def remember(dataset: Dataset, result: FitResult) -> None:
    """Keep ``result`` as the start of the next new fit on large data."""
    if not dataset.is_large:
        return
    last: state.LastFit | None = st.session_state.get(state.LAST_FIT)
    if (
        last is not None
        and (last.content_hash, last.settings) == (dataset.content_hash, result.settings)
        and np.array_equal(last.start.params["means_init"], result.means)
    ):
        return  # the same model, shown again
    settings = result.settings
    origin = (
        f"the previous fit ({model_label(settings.n_components, settings.covariance_type)}, "
        f"reg_covar {settings.reg_covar:g}, tol {settings.tol:g}, max_iter {settings.max_iter}, "
        f"on {result.n_samples:,} rows)"
    )
    st.session_state[state.LAST_FIT] = state.LastFit(
        content_hash=dataset.content_hash,
        columns=tuple(dataset.columns),
        standardize=dataset.standardize,
        n_rows=result.n_samples,
        settings=settings,
        start=state.Start.of(origin, result.as_start()),
    )


def start_from_sweep(dataset: Dataset, settings: FitSettings, subsample: SubsampleInfo) -> None:
    """Start the fit of ``settings`` from its fit in a subsampled sweep of ``dataset``.

    The sweep's refit of its best model starts the same way, so the Fit page then
    shows exactly the model the sweep scored on all rows.
    """
    params = subsample.starts.get((settings.n_components, settings.covariance_type))
    if params is None:
        return
    origin = f"its fit to the stratified subsample of {subsample.rows:,} rows in the sweep"
    _set((dataset.content_hash, settings), state.Start.of(origin, params))


def fit_from_scratch(dataset: Dataset, settings: FitSettings) -> None:
    """``on_click`` of "Fit from scratch": fit this pair from ``init_params`` with every restart."""
    _set((dataset.content_hash, settings), None)


def _from_subsample(dataset: Dataset, settings: FitSettings) -> state.Start | None:
    """The start from the best of the restarts on a stratified subsample, or None when that fails."""
    fitted = cache.subsample_fit(dataset, settings)
    if fitted is None:
        return None
    rows, params = fitted
    return state.Start.of(f"the best of {settings.n_init} restarts on a stratified subsample of {rows:,} rows", params)


def _small_change(last: state.LastFit, dataset: Dataset, settings: FitSettings) -> bool:
    same_initialisation = all(
        getattr(last.settings, name) == getattr(settings, name)
        for name in ("n_components", "covariance_type", "n_init", "random_state", "init_params")
    )
    same_table = (last.columns, last.standardize) == (tuple(dataset.columns), dataset.standardize)
    n_rows = dataset.X.shape[0]
    return same_initialisation and same_table and abs(n_rows - last.n_rows) <= MAX_ROW_CHANGE * last.n_rows


def _starts() -> dict:
    return st.session_state.setdefault(state.STARTS, {})


def _set(pair: tuple, start: state.Start | None) -> None:
    starts = _starts()
    starts.pop(pair, None)
    starts[pair] = start
    while len(starts) > MAX_STARTS:
        del starts[next(iter(starts))]
