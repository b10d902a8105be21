"""The EM step-through page's blocks: the start, EM in motion, and the same start under each model."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import streamlit as st

from gmm_core import MODEL_CHOICES, DataError, EMTrace, FitError, FitSettings, display_name
from gmm_core.subsample import sample_by_group
from ui import cache, state
from ui.colours import match_slots
from ui.dataset import Dataset, content_hash
from ui.em_figures import em_comparison
from ui.text import escape_markdown, format_number

PERSIST = {"persist_state": "session"}
#: EM iterations at most in a trace: an animation needs no more.
EM_MAX_ITER = 100
#: EM runs on at most this many rows (a fixed random sample of larger data), all of them drawn.
EM_MAX_ROWS = 3_000
MANUAL = "manual"
INIT_NAMES: dict[str, str] = {
    "kmeans": "k-means",
    "k-means++": "k-means++ seeds",
    "random": "random responsibilities",
    "random_from_data": "random points of the data",
    MANUAL: "enter initial means",
}


@dataclass(frozen=True, eq=False)
class EMData:
    """The rows EM runs on: all of the data, or a fixed random sample of large data.

    Attributes
    ----------
    X : ndarray of shape (m, d)
    key : str
        Content hash of ``X``: the cache key of its traces.
    n_total : int
        Rows of the whole data.
    """

    X: np.ndarray
    key: str
    n_total: int


@st.fragment
def explorer(dataset: Dataset, settings: FitSettings, view: state.FitView) -> None:
    """The start's controls, EM in motion and the same start under each covariance type: a fragment,
    so a new start or covariance type reruns this block alone."""
    init, covariance_type = controls()
    data = em_data(dataset)
    start = start_means(dataset, data, settings, init)
    if start is None:
        return
    animation(dataset, data, settings, view, init=init, covariance_type=covariance_type, start=start)
    st.subheader("The same start under each covariance type")
    st.caption(
        "The starting means above, run to convergence under each covariance type: open rings mark the "
        "start, crosses where EM ended. Colours follow the matching components of the Fit page's model."
    )
    same_start(dataset, data, settings, view, init=init, start=start)


def em_data(dataset: Dataset) -> EMData:
    """``dataset.X``, or a fixed random sample of ``EM_MAX_ROWS`` of its rows."""
    n = len(dataset.X)
    if n <= EM_MAX_ROWS:
        return EMData(dataset.X, dataset.content_hash, n)
    rows = sample_by_group(np.zeros(n, dtype=np.int8), EM_MAX_ROWS)  # one group: a uniform sample
    X = dataset.X[rows]
    return EMData(X, content_hash(X), n)


def controls() -> tuple[str, str]:
    """The initialisation menu and the covariance-type choice; returns both."""
    left, right = st.columns([2, 3], vertical_alignment="bottom")
    init = left.selectbox(
        "Initialisation", list(INIT_NAMES), format_func=INIT_NAMES.get, key=state.EM_INIT, **PERSIST,
        help="Where EM starts: scikit-learn's four init_params, or means you type in.",
    )
    # Starts as the sidebar's type; changing it replays the same start under another type.
    st.session_state.setdefault(state.EM_COV_TYPE, st.session_state[state.COV_TYPE])
    covariance_type = right.selectbox(
        "Covariance model", MODEL_CHOICES, key=state.EM_COV_TYPE, **PERSIST,
        format_func=display_name,
        help="The same start is replayed under whichever model you pick.",
    )
    return init, covariance_type


def start_means(dataset: Dataset, data: EMData, settings: FitSettings, init: str) -> np.ndarray | None:
    """The means EM starts from, in data units; None after showing why there are none.

    For ``MANUAL`` a table of K rows by d columns, filled with the k-means start, is
    offered for editing.
    """
    method = "kmeans" if init == MANUAL else init
    try:
        start = cache.em_start(
            data.key, data.X, n_components=settings.n_components, init_params=method,
            random_state=int(settings.random_state),
        )
    except (FitError, DataError) as exc:
        st.error(escape_markdown(exc))
        return None
    if init != MANUAL:
        return start
    return _entered_means(dataset, data, settings, start)


def _entered_means(dataset: Dataset, data: EMData, settings: FitSettings, prefill: np.ndarray) -> np.ndarray | None:
    """The editable table of initial means; the means it holds, or None after saying what is wrong."""
    # Edits belong to one table: new data, K or seed start again from the k-means means.
    signature = (data.key, settings.n_components, settings.random_state)
    if st.session_state.get(state.EM_MEANS_FOR) != signature:
        st.session_state[state.EM_MEANS_FOR] = signature
        st.session_state.pop(state.EM_MEANS, None)
    columns = [str(c) for c in dataset.columns]
    frame = pd.DataFrame(prefill, columns=columns, index=pd.RangeIndex(1, len(prefill) + 1, name="component"))
    st.caption(
        "Initial means, one row per component (filled with the k-means start; in the units of the fitted "
        "columns" + (", z-scores" if dataset.standardize else "") + "). Edit any cell."
    )
    edited = st.data_editor(
        frame, key=state.EM_MEANS, num_rows="fixed",
        column_config={c: st.column_config.NumberColumn(required=True, format="%.4g") for c in columns},
    )
    try:
        return parse_means(edited, settings.n_components)
    except ValueError as exc:
        st.error(escape_markdown(exc))
        return None


def parse_means(frame: pd.DataFrame, n_components: int) -> np.ndarray:
    """Typed-in means as a finite (K, d) array.

    Raises
    ------
    ValueError
        A missing or non-finite cell, or not ``n_components`` rows; the message names the cell.
    """
    if len(frame) != n_components:
        raise ValueError(f"Enter one row of means per component: {n_components} rows, not {len(frame)}.")
    values = frame.apply(pd.to_numeric, errors="coerce").to_numpy(dtype=float)
    bad = np.argwhere(~np.isfinite(values))
    if len(bad):
        row, col = bad[0]
        raise ValueError(f"Component {row + 1} needs a number for {frame.columns[col]}.")
    return values


def plot_pair(dataset: Dataset) -> tuple[int, int]:
    """Indices of the Fit page's x and y columns, or of the first two columns."""
    columns = list(dataset.columns)
    x = st.session_state.get(state.PLOT_X)
    x = x if x in columns else columns[0]
    others = [c for c in columns if c != x]
    y = st.session_state.get(state.PLOT_Y)
    y = y if y in others else others[0]
    return columns.index(x), columns.index(y)


def like_fit(view: state.FitView, trace: EMTrace) -> np.ndarray:
    """Colour slots of a trace's components: those of the matching components of the Fit page's model."""
    last = trace.n_frames - 1
    if view.result is None:
        return np.arange(trace.n_components)
    return match_slots(
        view.result.means, view.slots, trace.means[last],
        previous_covariances=view.result.covariances, covariances=trace.covariances[last],
    )


def _options(settings: FitSettings, init: str, covariance_type: str) -> dict:
    """Keyword arguments of ``gmm_core.em_trace`` besides the data and the start."""
    return {
        "n_components": settings.n_components,
        "covariance_type": covariance_type,
        "init_params": "kmeans" if init == MANUAL else init,
        "random_state": int(settings.random_state),
        "reg_covar": settings.reg_covar,
        "tol": settings.tol,
        "max_iter": EM_MAX_ITER,
    }


def _trace(data: EMData, settings: FitSettings, init: str, covariance_type: str, start: np.ndarray) -> EMTrace:
    """EM from ``start`` with the sidebar's settings and ``covariance_type`` (cached); raises FitError."""
    return cache.em_frames(data.key, data.X, means_init=start, **_options(settings, init, covariance_type))


def animation(
    dataset: Dataset, data: EMData, settings: FitSettings, view: state.FitView, *,
    init: str, covariance_type: str, start: np.ndarray,
) -> None:
    """EM from ``start`` under ``covariance_type``, animated, with its log-likelihood and a summary."""
    try:
        trace = _trace(data, settings, init, covariance_type, start)
    except (FitError, DataError) as exc:
        st.error(escape_markdown(exc))
        return
    pair = plot_pair(dataset)
    figure = cache.em_figure(
        data.key, data.X, means_init=start, pair=pair, slots=like_fit(view, trace),
        axis_names=tuple(dataset.axis_name(dataset.columns[i]) for i in pair),
        level=st.session_state.get(state.ELLIPSE_LEVEL, "95%"), **_options(settings, init, covariance_type),
    )
    st.plotly_chart(figure, key="em_chart")
    cells = st.columns(4)
    cells[0].metric("Start log-likelihood", format_number(trace.log_likelihood[0]))
    cells[1].metric("Final log-likelihood", format_number(trace.log_likelihood[-1]))
    cells[2].metric("EM iterations", trace.n_iter)
    cells[3].metric("Converged", "yes" if trace.converged else "no", help=f"Tolerance {settings.tol:g}.")
    for group in trace.alike_components:
        st.warning(collapse_message(group), icon=":material/warning:")
    notes = [
        "Press Play, or click and drag the iteration slider to step. Every frame was computed once; "
        "playing runs in your browser."
    ]
    if not trace.converged:
        notes.append(f"EM had not converged after {EM_MAX_ITER} iterations; the animation stops there.")
    if data.n_total > len(data.X):
        notes.append(f"EM runs on a fixed random sample of {len(data.X):,} of the {data.n_total:,} rows.")
    if len(dataset.columns) > 2:
        notes.append("EM uses every feature column; the ellipses are the exact marginals on the two shown.")
    st.caption(" ".join(notes))


def collapse_message(group: tuple[int, ...]) -> str:
    """'Components 1, 2 and 3 ended alike ...' for a group of 0-based components (``EMTrace.alike_components``)."""
    names = [str(k + 1) for k in group]
    listed = ", ".join(names[:-1]) + " and " + names[-1]
    return (
        f"Components {listed} ended alike (means and spreads within a quarter of a standard deviation): "
        "the start collapsed onto one cluster, a saddle point of the likelihood, and EM stopped there "
        "although the data may hold more clusters. Try another initialisation or seed."
    )


def same_start(
    dataset: Dataset, data: EMData, settings: FitSettings, view: state.FitView, *, init: str, start: np.ndarray
) -> None:
    """The one start run under every model: small multiples, likelihoods and a table."""
    traces: dict[str, EMTrace | str] = {}
    for covariance_type in MODEL_CHOICES:
        try:
            traces[covariance_type] = _trace(data, settings, init, covariance_type, start)
        except (FitError, DataError) as exc:
            traces[covariance_type] = str(exc)
    pair = plot_pair(dataset)
    fitted = {c: t for c, t in traces.items() if isinstance(t, EMTrace)}
    figure = em_comparison(
        traces, data.X[:, pair], start=start, pair=pair,
        slots={c: like_fit(view, t) for c, t in fitted.items()},
        axis_names=tuple(dataset.axis_name(dataset.columns[i]) for i in pair),
        level=st.session_state.get(state.ELLIPSE_LEVEL, "95%"),
    )
    st.plotly_chart(figure, key="em_compare_chart")
    table = pd.DataFrame(
        {
            "model": [display_name(c) for c in fitted],
            "iterations": [t.n_iter for t in fitted.values()],
            "converged": [t.converged for t in fitted.values()],
            "collapsed": [bool(t.alike_components) for t in fitted.values()],
            "start log-likelihood": [t.log_likelihood[0] for t in fitted.values()],
            "final log-likelihood": [t.log_likelihood[-1] for t in fitted.values()],
        }
    )
    st.dataframe(table, hide_index=True, key="em_compare_table")
    for covariance_type, message in traces.items():
        if covariance_type not in fitted:
            st.warning(f"{display_name(covariance_type)}: {escape_markdown(message)}", icon=":material/warning:")
