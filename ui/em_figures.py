"""Figures of EM in motion, as pure functions of ``gmm_core.EMTrace`` (no Streamlit here).

:func:`em_animation` holds every iteration as a Plotly frame, so play, pause and
step run in the browser without a rerun; :func:`em_comparison` sets the same start
under each covariance type side by side. Traces carry ``meta`` as in
``ui.figures``; user text goes through :func:`ui.text.plotly_text`.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from gmm_core import EMTrace, display_name, ellipse_points, marginal
from ui.colours import component_colour, model_colour, slot_marker
from ui.figures import CHART_HEIGHT, ELLIPSE_LEVELS
from ui.text import plotly_text

#: Milliseconds per iteration when playing.
FRAME_MS = 400
#: Points on each ellipse outline: enough to look round, few enough to keep frames small.
ELLIPSE_POINTS = 60
#: The latest point of the log-likelihood trace (Okabe-Ito vermillion).
NOW_COLOUR = "#D55E00"
_NO_TRANSITION = {"duration": 0}
#: Small multiples per row when the same start runs under several models.
COMPARISON_COLUMNS = 7


def em_animation(
    trace: EMTrace,
    points: np.ndarray,
    *,
    pair: tuple[int, int],
    slots: np.ndarray,
    axis_names: tuple[str, str],
    level: str = "95%",
) -> go.Figure:
    """EM from its start, one Plotly frame per iteration, with play, pause and an iteration slider.

    Parameters
    ----------
    trace : EMTrace
        EM on the rows whose plotted columns are ``points``.
    points : ndarray of shape (n, 2)
        The two plotted columns of the rows ``trace`` was run on.
    pair : (int, int)
        Indices of the plotted columns among the trace's features.
    slots : ndarray of int, shape (K,)
        Colour slot of each component (``ui.colours``).
    axis_names : (str, str)
    level : str, default='95%'
        A key of ``ui.figures.ELLIPSE_LEVELS``.

    Returns
    -------
    plotly.graph_objects.Figure
        Left: the points coloured by their hard label ('em_points'), one ellipse per
        component ('em_ellipse') and the means ('em_means'); right: the log-likelihood
        so far ('log_likelihood') and its latest value ('log_likelihood_now'). The
        figure shows iteration 0 (the start); ``frames`` named '0', '1', ... hold every
        iteration and restyle all of these traces.
    """
    figure = make_subplots(
        rows=1, cols=2, column_widths=[0.6, 0.4], horizontal_spacing=0.12,
        subplot_titles=["Points by hard label, ellipses and means", "Log-likelihood (never decreases)"],
    )
    frames = [_em_frame(trace, t, pair, slots, level) for t in range(trace.n_frames)]
    # The points never move, so only the figure holds their positions; frames restyle their colours.
    start = [go.Scatter(part) for part in frames[0].data]
    start[0].update(x=points[:, 0], y=points[:, 1])
    for part in start:
        figure.add_trace(part, row=1, col=2 if str(part.meta).startswith("log_likelihood") else 1)
    figure.frames = frames
    figure.update_layout(title={"text": frames[0].layout.title.text})
    _scatter_axes(figure, points, axis_names)
    low, high = likelihood_range(trace.log_likelihood)
    figure.update_xaxes(title_text="iteration", range=[-0.5, max(trace.n_frames - 0.5, 1.0)], row=1, col=2)
    figure.update_yaxes(title_text="log-likelihood", range=[low, high], row=1, col=2)
    if trace.log_likelihood[0] < low:
        figure.add_annotation(
            x=0, y=low, text=f"↓ start: {trace.log_likelihood[0]:,.2f}", showarrow=False,
            xanchor="left", yanchor="bottom", font={"color": NOW_COLOUR}, row=1, col=2,
        )
    figure.update_layout(
        height=CHART_HEIGHT + 60,
        margin={"l": 10, "r": 10, "t": 70, "b": 10},
        legend={"orientation": "h", "yanchor": "bottom", "y": 1.06, "x": 0.45, "itemsizing": "constant"},
        updatemenus=[_play_buttons()],
        sliders=[_iteration_slider(trace.n_frames)],
    )
    return figure


def likelihood_range(log_likelihood: np.ndarray) -> tuple[float, float]:
    """Range of the log-likelihood axis: every iteration after the start, padded.

    A start far below the rest (k-means++ and random points of the data start each
    component as a single point with a tiny covariance) would flatten the curve, so
    the start is left below the axis then (:func:`em_animation` says where it is);
    it is drawn when it is close.
    """
    shown = log_likelihood[1:] if len(log_likelihood) > 1 else log_likelihood
    pad = max(0.05 * (shown.max() - shown.min()), 1.0)
    return float(shown.min() - pad), float(shown.max() + pad)


def _em_frame(trace: EMTrace, t: int, pair, slots, level: str) -> go.Frame:
    """Frame ``t``: every trace of :func:`em_animation` at iteration ``t`` (the points' colours only)."""
    K = trace.n_components
    means, covariances = marginal(trace.means[t], trace.covariances[t], pair)
    data = [
        go.Scatter(
            mode="markers", name="points", meta="em_points", showlegend=False,
            marker={**slot_marker(slots[trace.labels[t]]), "size": 6, "opacity": 0.75}, hoverinfo="skip",
        )
    ]
    for k in range(K):
        ellipse = _ellipse(means[k], covariances[k], slots[k], level)
        ellipse.update(name=f"component {k + 1}", fill="toself", fillcolor=component_colour(slots[k], 0.10))
        data.append(ellipse)
    data.append(
        go.Scatter(
            x=means[:, 0], y=means[:, 1], mode="markers", name="means", meta="em_means",
            text=[f"component {k + 1}, weight {w:.3f}" for k, w in enumerate(trace.weights[t])],
            marker={"symbol": "x", "size": 13, "color": "black", "line": {"width": 1, "color": "white"}},
            hovertemplate="%{text}<extra></extra>",
        )
    )
    iterations = np.arange(t + 1)
    ll = trace.log_likelihood[: t + 1]
    data.append(
        go.Scatter(
            x=iterations, y=ll, mode="lines+markers", name="log-likelihood", meta="log_likelihood",
            showlegend=False, line={"color": "#444444"}, marker={"size": 5},
            hovertemplate="iteration %{x}: %{y:,.3f}<extra></extra>",
        )
    )
    data.append(
        go.Scatter(
            x=iterations[-1:], y=ll[-1:], mode="markers", name="now", meta="log_likelihood_now",
            showlegend=False, marker={"size": 12, "color": NOW_COLOUR}, hoverinfo="skip",
        )
    )
    step = "start" if t == 0 else f"iteration {t} of {trace.n_iter}"
    title = f"EM, {step} · log-likelihood {ll[-1]:,.2f}"
    return go.Frame(name=str(t), data=data, traces=list(range(len(data))), layout={"title": {"text": title}})


def _ellipse(mean: np.ndarray, covariance: np.ndarray, slot: int, level: str) -> go.Scatter:
    """Outline of one component's ellipse at ``level`` ('em_ellipse'), in its slot's colour."""
    outline = ellipse_points(mean, covariance, n_points=ELLIPSE_POINTS, **ELLIPSE_LEVELS[level])
    return go.Scatter(
        x=outline[:, 0], y=outline[:, 1], mode="lines", meta="em_ellipse",
        line={"color": component_colour(slot), "width": 2}, hoverinfo="skip",
    )


def _play_buttons() -> dict:
    """Play, Pause and Start buttons of the animation."""
    redraw = {"duration": FRAME_MS, "redraw": True}
    return {
        "type": "buttons",
        "direction": "left",
        "showactive": False,
        "x": 0.0,
        "y": -0.12,
        "xanchor": "left",
        "yanchor": "top",
        "pad": {"r": 10, "t": 10},
        "buttons": [
            {"label": "▶ Play", "method": "animate",
             "args": [None, {"frame": redraw, "fromcurrent": True, "transition": _NO_TRANSITION}]},
            {"label": "❚❚ Pause", "method": "animate",
             "args": [[None], {"frame": {"duration": 0, "redraw": False}, "mode": "immediate",
                               "transition": _NO_TRANSITION}]},
            {"label": "◀◀ Start", "method": "animate",
             "args": [["0"], {"frame": {"duration": 0, "redraw": True}, "mode": "immediate",
                              "transition": _NO_TRANSITION}]},
        ],
    }


def _iteration_slider(n_frames: int) -> dict:
    """A slider with one step per iteration: click or drag it to step through EM."""
    return {
        "active": 0,
        "x": 0.3,
        "len": 0.7,
        "y": -0.08,
        "yanchor": "top",
        "currentvalue": {"prefix": "iteration ", "visible": True},
        "pad": {"t": 30},
        "steps": [
            {"label": str(t), "method": "animate",
             "args": [[str(t)], {"frame": {"duration": 0, "redraw": True}, "mode": "immediate",
                                 "transition": _NO_TRANSITION}]}
            for t in range(n_frames)
        ],
    }


def em_comparison(
    traces: Mapping[str, EMTrace | str],
    points: np.ndarray,
    *,
    start: np.ndarray,
    pair: tuple[int, int],
    slots: Mapping[str, np.ndarray],
    axis_names: tuple[str, str],
    level: str = "95%",
) -> go.Figure:
    """The same start run to the end under each covariance type: small multiples and their likelihoods.

    Parameters
    ----------
    traces : mapping of covariance type to EMTrace or str
        Each type's trace from ``start``, or the message saying why EM failed.
    points : ndarray of shape (n, 2)
        The two plotted columns of the rows the traces were run on.
    start : ndarray of shape (K, d)
        The starting means shared by every trace.
    pair : (int, int)
    slots : mapping of covariance type to ndarray of int, shape (K,)
        Colour slots of each type's components.
    axis_names : (str, str)
    level : str, default='95%'

    Returns
    -------
    plotly.graph_objects.Figure
        Top row, one panel per type: points by final label, final ellipses, the
        start ('em_start') and final means. Bottom: each type's log-likelihood per
        iteration ('type_log_likelihood').
    """
    types = list(traces)
    n_cols = min(len(types), COMPARISON_COLUMNS)
    n_grid = -(-len(types) // n_cols)
    titles = [
        f"{display_name(c)}: "
        + (f"{t.n_iter} it." if isinstance(t, EMTrace) else "failed")
        for c, t in traces.items()
    ]
    titles += [""] * (n_grid * n_cols - len(types))
    figure = make_subplots(
        rows=n_grid + 1, cols=n_cols, row_heights=[0.6 / n_grid] * n_grid + [0.4],
        vertical_spacing=0.12 / n_grid, horizontal_spacing=0.02,
        specs=[[{}] * n_cols] * n_grid + [[{"colspan": n_cols}] + [None] * (n_cols - 1)],
        subplot_titles=[*titles, "Log-likelihood per iteration from the same start"],
    )
    likelihood_row = n_grid + 1
    start_2d = np.asarray(start)[:, list(pair)]
    for index, (covariance_type, trace) in enumerate(traces.items()):
        row, col = divmod(index, n_cols)
        row += 1
        col += 1
        figure.add_trace(
            go.Scatter(
                x=start_2d[:, 0], y=start_2d[:, 1], mode="markers", name="start", meta="em_start",
                legendgroup="start", showlegend=index == 0,
                marker={"symbol": "circle-open", "size": 12, "color": "black", "line": {"width": 2}},
                hoverinfo="skip",
            ),
            row=row, col=col,
        )
        if not isinstance(trace, EMTrace):
            continue
        last = trace.n_frames - 1
        means, covariances = marginal(trace.means[last], trace.covariances[last], pair)
        type_slots = slots[covariance_type]
        figure.add_trace(
            go.Scatter(
                x=points[:, 0], y=points[:, 1], mode="markers", name="points", meta="em_points", showlegend=False,
                marker={**slot_marker(type_slots[trace.labels[last]]), "size": 4, "opacity": 0.6}, hoverinfo="skip",
            ),
            row=row, col=col,
        )
        for k in range(trace.n_components):
            figure.add_trace(
                _ellipse(means[k], covariances[k], type_slots[k], level).update(showlegend=False), row=row, col=col
            )
        figure.add_trace(
            go.Scatter(
                x=means[:, 0], y=means[:, 1], mode="markers", name="final means", meta="em_means",
                legendgroup="means", showlegend=index == 0,
                marker={"symbol": "x", "size": 11, "color": "black", "line": {"width": 1, "color": "white"}},
                hoverinfo="skip",
            ),
            row=row, col=col,
        )
        figure.add_trace(
            go.Scatter(
                x=np.arange(trace.n_frames), y=trace.log_likelihood, mode="lines+markers",
                name=display_name(covariance_type), meta="type_log_likelihood",
                line={"color": model_colour(covariance_type)}, marker={"size": 4},
                hovertemplate=f"{covariance_type}, iteration %{{x}}: %{{y:,.3f}}<extra></extra>",
            ),
            row=likelihood_row, col=1,
        )
    for index in range(len(types)):
        row, col = divmod(index, n_cols)
        _scatter_axes(figure, points, axis_names, row=row + 1, col=col + 1, titles=index == 0)
    figure.update_xaxes(title_text="iteration", row=likelihood_row, col=1)
    fitted = [t for t in traces.values() if isinstance(t, EMTrace)]
    if fitted:
        ranges = [likelihood_range(t.log_likelihood) for t in fitted]
        low, high = min(r[0] for r in ranges), max(r[1] for r in ranges)
        figure.update_yaxes(title_text="log-likelihood", range=[low, high], row=likelihood_row, col=1)
        if any(t.log_likelihood[0] < low for t in fitted):
            figure.add_annotation(
                x=0, y=low, text="↓ starts below the axis", showarrow=False, xanchor="left", yanchor="bottom",
                font={"color": NOW_COLOUR}, row=likelihood_row, col=1,
            )
    figure.update_layout(
        height=380 + 260 * n_grid, margin={"l": 10, "r": 10, "t": 40, "b": 50},
        legend={"orientation": "h", "yanchor": "top", "y": -0.12, "x": 0},
    )
    return figure


def _scatter_axes(figure: go.Figure, points: np.ndarray, axis_names, *, row: int = 1, col: int = 1,
                  titles: bool = True) -> None:
    """Fix a scatter panel's ranges to the data (padded), so moving ellipses do not rescale it."""
    low, high = points.min(axis=0), points.max(axis=0)
    pad = 0.08 * (high - low) + 1e-9
    x_name, y_name = (plotly_text(name) for name in axis_names)
    figure.update_xaxes(range=[low[0] - pad[0], high[0] + pad[0]], title_text=x_name if titles else None, row=row, col=col)
    figure.update_yaxes(range=[low[1] - pad[1], high[1] + pad[1]], title_text=y_name if titles else None, row=row, col=col)
