"""Plotly figures, as pure functions of data and core results (no Streamlit here).

Every trace carries ``meta`` naming what it shows ('points', 'ellipse', 'means',
'density', 'uncertainty', 'criterion', 'degenerate', 'best_type', 'best_overall',
'data'), so tests and readers can tell the layers apart. User text is passed
through :func:`ui.text.plotly_text`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from gmm_core import display_name, ellipse_points, example_covariances, marginal
from gmm_core.geometry import EXAMPLE_MEANS, log_mixture_density, weighted_log_densities
from gmm_core.subsample import proportional_quotas, sample_by_group
from ui.colours import component_colour, model_colour, model_dash, slot_marker
from ui.tables import CRITERIA, best_index, eligible
from ui.text import plotly_text

#: Above this many points a scatter uses WebGL.
WEBGL_MIN_POINTS = 5_000
#: At most this many points are drawn; more are sampled, every component kept.
MAX_POINTS = 20_000
#: At most this many misclassified points get a ring (sampled within each component), so that
#: rings never hide the clusters of large data.
MAX_MISCLASSIFIED_RINGS = 1_000
#: At most this many samples are drawn in the responsibility heatmap.
MAX_HEATMAP_ROWS = 400
#: Ellipse levels offered: label -> keyword arguments of ``gmm_core.ellipse_points``.
ELLIPSE_LEVELS: dict[str, dict[str, float]] = {
    "1σ": {"sigma": 1.0},
    "2σ": {"sigma": 2.0},
    "3σ": {"sigma": 3.0},
    "50%": {"mass": 0.5},
    "90%": {"mass": 0.9},
    "95%": {"mass": 0.95},
}
DENSITY_GRID = 120
CHART_HEIGHT = 560


def heatmap_rows(responsibilities: np.ndarray, labels: np.ndarray, cap: int = MAX_HEATMAP_ROWS) -> np.ndarray:
    """Rows to show in the responsibility heatmap, in display order.

    Rows are sorted by assigned component, then by confidence (max responsibility)
    from high to low. Above ``cap`` rows, each component keeps a share in
    proportion to its size (at least one), taken at evenly spaced ranks so the
    subset spans every level of confidence.
    """
    confidence = responsibilities.max(axis=1)
    order = np.lexsort((-confidence, labels))
    if len(order) <= cap:
        return order
    sizes = np.bincount(labels, minlength=responsibilities.shape[1])
    quotas = proportional_quotas(sizes, cap)
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    picks = [
        order[start + np.unique(np.linspace(0, size - 1, quota).round().astype(int))]
        for start, size, quota in zip(starts, sizes, quotas)
        if quota
    ]
    return np.concatenate(picks)


def _scatter_class(n_points: int):
    """``go.Scattergl`` above ``WEBGL_MIN_POINTS`` points, else ``go.Scatter``."""
    return go.Scattergl if n_points > WEBGL_MIN_POINTS else go.Scatter


def data_scatter(
    points: np.ndarray, axis_names: tuple[str, str], groups=None, *, groups_name: str = "", title: str = ""
) -> go.Figure:
    """Scatter of the data, one trace per known label (in sorted order) when ``groups`` is given.

    ``points`` of shape (n, 2) are sampled down to ``MAX_POINTS`` (stratified on ``groups``).
    """
    groups_array = np.zeros(len(points), dtype=int) if groups is None else np.asarray(groups)
    shown = sample_by_group(groups_array, MAX_POINTS)
    scatter = _scatter_class(len(shown))
    figure = go.Figure()
    for i, value in enumerate(np.unique(groups_array[shown])):
        members = shown[groups_array[shown] == value]
        figure.add_trace(
            scatter(
                x=points[members, 0],
                y=points[members, 1],
                mode="markers",
                name="data" if groups is None else plotly_text(value),
                marker={"size": 5, "color": component_colour(i), "opacity": 0.7},
                meta="data",
                hovertemplate=_point_hover(axis_names),
            )
        )
    _axes(figure, axis_names, title=title, show_legend=groups is not None)
    figure.update_layout(legend_title_text=plotly_text(groups_name))
    return figure


#: Bins of the one-column histograms.
HISTOGRAM_BINS = 60


def _bins(values: np.ndarray) -> dict:
    low, high = float(np.min(values)), float(np.max(values))
    size = (high - low) / HISTOGRAM_BINS or 1.0
    return {"start": low, "end": high + size, "size": size}


def data_histogram(values: np.ndarray, name: str, groups=None, *, groups_name: str = "") -> go.Figure:
    """Histogram of one column (stacked by known label when ``groups`` is given), as a density."""
    groups_array = np.zeros(len(values), dtype=int) if groups is None else np.asarray(groups)
    figure = go.Figure()
    for i, value in enumerate(np.unique(groups_array)):
        members = groups_array == value
        figure.add_trace(
            go.Histogram(
                x=values[members], xbins=_bins(values), histnorm="probability density" if groups is None else None,
                name="data" if groups is None else plotly_text(value), meta="data",
                marker={"color": component_colour(i), "opacity": 0.75},
            )
        )
    figure.update_layout(barmode="stack", bargap=0.02)
    _axes(figure, (name, "density" if groups is None else "rows"), title="", show_legend=groups is not None)
    figure.update_layout(legend_title_text=plotly_text(groups_name))
    return figure


def univariate_fit(
    values: np.ndarray,
    weights: np.ndarray,
    means: np.ndarray,
    variances: np.ndarray,
    *,
    name: str,
    slots: np.ndarray | None = None,
) -> go.Figure:
    """One column's histogram (as a density) with each component's weighted density and the
    mixture's drawn over it (mclust's density plot of E and V models).

    Parameters
    ----------
    values : ndarray of shape (n,)
    weights, means, variances : ndarray of shape (K,)
    name : str
        The column's name (escaped here).
    slots : ndarray of int, shape (K,), optional
        Colour slot of each component.
    """
    K = len(weights)
    slots = np.arange(K) if slots is None else np.asarray(slots)
    sds = np.sqrt(variances)
    low = min(values.min(), float(np.min(means - 4 * sds)))
    high = max(values.max(), float(np.max(means + 4 * sds)))
    grid = np.linspace(low, high, 400)
    densities = np.exp(weighted_log_densities(grid[:, None], weights, means[:, None], variances[:, None, None])).T
    figure = go.Figure(
        go.Histogram(
            x=values, xbins=_bins(values), histnorm="probability density", name="data", meta="data",
            marker={"color": "rgba(120,120,120,0.35)"}, hoverinfo="skip",
        )
    )
    for k in range(K):
        figure.add_trace(
            go.Scatter(
                x=grid, y=densities[k], mode="lines", name=f"component {k + 1}", meta="component_density",
                line={"color": component_colour(slots[k]), "width": 2},
                hovertemplate=f"component {k + 1}<br>%{{x:.4g}}: %{{y:.4g}}<extra></extra>",
            )
        )
    figure.add_trace(
        go.Scatter(
            x=grid, y=densities.sum(axis=0), mode="lines", name="mixture", meta="mixture_density",
            line={"color": "black", "width": 2, "dash": "dash"},
            hovertemplate="mixture<br>%{x:.4g}: %{y:.4g}<extra></extra>",
        )
    )
    _axes(figure, (name, "density"), title="", show_legend=True)
    figure.update_layout(legend={"orientation": "h", "yanchor": "bottom", "y": 1.01, "x": 0})
    return figure


def fit_scatter(
    points: np.ndarray,
    labels: np.ndarray,
    weights: np.ndarray,
    means: np.ndarray,
    covariances: np.ndarray,
    *,
    axis_names: tuple[str, str],
    level: str = "95%",
    uncertainty: np.ndarray | None = None,
    show_density: bool = False,
    slots: np.ndarray | None = None,
    misclassified: np.ndarray | None = None,
    title: str = "",
    equal_axes: bool = False,
) -> go.Figure:
    """Data coloured by component, with means, covariance ellipses and optional layers.

    Parameters
    ----------
    points : ndarray of shape (n, 2)
        The two plotted columns of the data (sampled down to ``MAX_POINTS``,
        every component kept).
    labels : ndarray of shape (n,)
        Hard labels, 0-based.
    weights : ndarray of shape (K,)
    means : ndarray of shape (K, 2)
    covariances : ndarray of shape (K, 2, 2)
        The components' exact marginals on the plotted columns.
    axis_names : (str, str)
    level : str, default='95%'
        A key of ``ELLIPSE_LEVELS``.
    uncertainty : ndarray of shape (n,), optional
        ``1 - max responsibility``; drawn as red rings, stronger where higher.
    equal_axes : bool, default=False
        Draw both axes at the same scale (for columns in the same units).
    show_density : bool, default=False
        Draw contours of the mixture's log density.
    slots : ndarray of int, shape (K,), optional
        Colour slot of each component (see ``ui.colours``); by default component k
        gets slot k.
    misclassified : ndarray of bool, shape (n,), optional
        Points whose component is not matched to their known label; drawn as black rings
        when there are any.
    title : str

    Returns
    -------
    plotly.graph_objects.Figure
        Traces: one 'points' per non-empty component, then 'density', one 'ellipse'
        per component, 'means', 'uncertainty', then 'misclassified'. Each ellipse is
        labelled by an annotation at its top.
    """
    K = len(weights)
    slots = np.arange(K) if slots is None else np.asarray(slots)
    shown = sample_by_group(labels, MAX_POINTS)
    # WebGL traces are drawn above SVG ones, so the overlays use the same class as the points.
    scatter = _scatter_class(len(shown))
    many = scatter is go.Scattergl
    hover = _point_hover(axis_names, extra="uncertainty %{customdata:.3f}")
    point_uncertainty = np.zeros(len(points)) if uncertainty is None else np.asarray(uncertainty)
    figure = go.Figure()
    for k in range(K):
        members = shown[labels[shown] == k]
        if len(members):
            figure.add_trace(
                scatter(
                    x=points[members, 0],
                    y=points[members, 1],
                    customdata=point_uncertainty[members],
                    mode="markers",
                    name=f"component {k + 1}",
                    legendgroup=f"component {k + 1}",
                    marker={"size": 3 if many else 5, "color": component_colour(slots[k]), "opacity": 0.35 if many else 0.75},
                    meta="points",
                    hovertemplate=hover + f"<extra>component {k + 1}</extra>",
                )
            )
    if show_density:
        figure.add_trace(_density_contours(points, weights, means, covariances))
    for k in range(K):
        outline = ellipse_points(means[k], covariances[k], **ELLIPSE_LEVELS[level])
        figure.add_trace(
            scatter(
                x=outline[:, 0],
                y=outline[:, 1],
                mode="lines",
                fill="toself",
                fillcolor=component_colour(slots[k], 0.08),
                line={"color": component_colour(slots[k]), "width": 2},
                name=f"component {k + 1} ellipse ({level})",
                legendgroup=f"component {k + 1}",
                showlegend=False,
                meta="ellipse",
                hoverinfo="skip",
            )
        )
        top = outline[np.argmax(outline[:, 1])]
        figure.add_annotation(
            x=top[0], y=top[1], text=f"{k + 1}: {level}", showarrow=False, yshift=9,
            font={"color": component_colour(slots[k]), "size": 12},
        )
    figure.add_trace(
        scatter(
            x=means[:, 0],
            y=means[:, 1],
            mode="markers",
            text=[str(k + 1) for k in range(K)],
            customdata=weights,
            marker={"symbol": "x", "size": 13, "color": "black", "line": {"width": 1, "color": "white"}},
            name="means",
            meta="means",
            hovertemplate=_point_hover(axis_names, extra="weight %{customdata:.3f}") + "<extra>mean %{text}</extra>",
        )
    )
    if uncertainty is not None:
        figure.add_trace(
            scatter(
                x=points[shown, 0],
                y=points[shown, 1],
                mode="markers",
                name="uncertainty",
                marker={
                    "symbol": "circle-open",
                    "size": 10,
                    "color": point_uncertainty[shown],
                    "cmin": 0.0,
                    "cmax": max((K - 1) / K, 1e-9),
                    "colorscale": [[0.0, "rgba(214,39,40,0)"], [1.0, "rgba(214,39,40,1)"]],
                    "colorbar": {"title": {"text": "uncertainty"}, "thickness": 12},
                    "line": {"width": 2},
                },
                meta="uncertainty",
                hoverinfo="skip",
            )
        )
    if misclassified is not None and np.any(misclassified):
        wrong = shown[np.asarray(misclassified)[shown]]
        wrong = wrong[sample_by_group(labels[wrong], MAX_MISCLASSIFIED_RINGS)]
        total = int(np.sum(misclassified))
        drawn = "" if len(wrong) == total else f"; {len(wrong):,} drawn"
        figure.add_trace(
            scatter(
                x=points[wrong, 0],
                y=points[wrong, 1],
                mode="markers",
                name=f"misclassified ({total:,}{drawn})",
                marker={"symbol": "circle-open", "size": 13, "color": "black", "line": {"width": 1.5}},
                meta="misclassified",
                hovertemplate=_point_hover(axis_names) + "<extra>misclassified</extra>",
            )
        )
    _axes(figure, axis_names, title=title, show_legend=True)
    if equal_axes:  # one unit is as long on both axes: a circle looks round
        figure.update_yaxes(scaleanchor="x", scaleratio=1)
    # Legend above the plot, so it never overlaps the uncertainty colour bar.
    figure.update_layout(legend={"orientation": "h", "yanchor": "bottom", "y": 1.01, "x": 0})
    return figure


#: The scatterplot matrix draws at most this many points per panel (sampled within each component)
#: and at most this many columns (the user picks which beyond).
PAIRS_MAX_POINTS = 1_500
PAIRS_MAX_COLUMNS = 8


def pairs_figure(
    points: np.ndarray,
    labels: np.ndarray,
    means: np.ndarray,
    covariances: np.ndarray,
    *,
    names,
    level: str = "95%",
    slots: np.ndarray | None = None,
    uncertainty: np.ndarray | None = None,
) -> go.Figure:
    """Scatterplot matrix of the fitted columns: every pair, points by component and each
    component's exact marginal ellipse (mclust's classification pairs plot); with ``uncertainty``,
    points sized by it instead (mclust's uncertainty pairs plot).

    Parameters
    ----------
    points : ndarray of shape (n, m)
        The columns to show (at most ``PAIRS_MAX_COLUMNS``); sampled down to
        ``PAIRS_MAX_POINTS`` within each component.
    labels : ndarray of shape (n,)
    means : ndarray of shape (K, m); covariances : ndarray of shape (K, m, m)
        The components' marginals on these columns.
    names : sequence of str
        Column names (escaped here).
    uncertainty : ndarray of shape (n,), optional

    Returns
    -------
    plotly.graph_objects.Figure
        Below the diagonal, the pairs ('pairs_points', 'pairs_ellipse'); on the
        diagonal, each column's name.
    """
    n, m = points.shape
    K = len(means)
    slots = np.arange(K) if slots is None else np.asarray(slots)
    shown = sample_by_group(labels, PAIRS_MAX_POINTS)
    figure = make_subplots(rows=m, cols=m, horizontal_spacing=0.012, vertical_spacing=0.012)
    size = 3 if uncertainty is None else 2 + 10 * np.asarray(uncertainty)[shown]
    for row in range(m):
        for col in range(m):
            if row == col:
                # In the middle of the panel, placed on the page: a panel without traces has no axes
                # to place it by in the browser.
                axis = "" if row == 0 else str(row * m + col + 1)  # make_subplots numbers axes row by row
                x_domain, y_domain = figure.layout[f"xaxis{axis}"].domain, figure.layout[f"yaxis{axis}"].domain
                figure.add_annotation(
                    text=f"<b>{plotly_text(names[row])}</b>", xref="paper", yref="paper",
                    x=sum(x_domain) / 2, y=sum(y_domain) / 2, showarrow=False,
                )
                figure.update_xaxes(visible=False, row=row + 1, col=col + 1)
                figure.update_yaxes(visible=False, row=row + 1, col=col + 1)
                continue
            if row < col:
                figure.update_xaxes(visible=False, row=row + 1, col=col + 1)
                figure.update_yaxes(visible=False, row=row + 1, col=col + 1)
                continue
            first = (row, col) == (1, 0)
            figure.add_trace(
                go.Scattergl(
                    x=points[shown, col], y=points[shown, row], mode="markers", meta="pairs_points",
                    showlegend=False, hoverinfo="skip",
                    marker={**slot_marker(slots[labels[shown]]), "size": size, "opacity": 0.6},
                ),
                row=row + 1, col=col + 1,
            )
            pair_means, pair_covariances = marginal(means, covariances, (col, row))
            for k in range(K):
                outline = ellipse_points(pair_means[k], pair_covariances[k], n_points=48, **ELLIPSE_LEVELS[level])
                figure.add_trace(
                    go.Scattergl(
                        x=outline[:, 0], y=outline[:, 1], mode="lines", meta="pairs_ellipse",
                        line={"color": component_colour(slots[k]), "width": 1.5},
                        name=f"component {k + 1}", legendgroup=f"component {k + 1}", showlegend=first,
                        hoverinfo="skip",
                    ),
                    row=row + 1, col=col + 1,
                )
            figure.update_xaxes(showticklabels=row == m - 1, row=row + 1, col=col + 1)
            figure.update_yaxes(showticklabels=col == 0, row=row + 1, col=col + 1)
    figure.update_layout(
        height=max(420, 150 * m), margin={"l": 10, "r": 10, "t": 30, "b": 10},
        legend={"orientation": "h", "yanchor": "bottom", "y": 1.0, "x": 0},
    )
    return figure


def _density_contours(points, weights, means, covariances) -> go.Contour:
    """Contour lines of the mixture's log density over the plotted range."""
    low, high = points.min(axis=0), points.max(axis=0)
    pad = 0.1 * (high - low) + 1e-12
    gx = np.linspace(low[0] - pad[0], high[0] + pad[0], DENSITY_GRID)
    gy = np.linspace(low[1] - pad[1], high[1] + pad[1], DENSITY_GRID)
    grid = np.column_stack([np.repeat(gx, len(gy)), np.tile(gy, len(gx))])
    log_density = log_mixture_density(grid, weights, means, covariances).reshape(len(gx), len(gy)).T
    # Levels from where the data thin out to the peak, so contours do not crowd empty space.
    floor = np.quantile(log_mixture_density(points, weights, means, covariances), 0.01)
    top = log_density.max()
    return go.Contour(
        x=gx,
        y=gy,
        z=log_density,
        contours={"coloring": "lines", "start": floor, "end": top, "size": (top - floor) / 10},
        colorscale=[[0, "rgb(120,120,120)"], [1, "rgb(20,20,20)"]],
        line={"width": 1},
        showscale=False,
        name="density",
        meta="density",
        hoverinfo="skip",
    )


def responsibility_heatmap(
    responsibilities: np.ndarray, labels: np.ndarray, row_numbers: np.ndarray, *, cap: int = MAX_HEATMAP_ROWS
) -> tuple[go.Figure, int]:
    """Heatmap of responsibilities: samples (rows) by components (columns).

    Rows are sorted by assigned component, then by confidence; above ``cap`` rows a
    representative subset is shown (see :func:`heatmap_rows`).

    Returns
    -------
    figure : plotly.graph_objects.Figure
    n_shown : int
        Number of rows drawn.
    """
    rows = heatmap_rows(responsibilities, labels, cap)
    K = responsibilities.shape[1]
    row_text = np.repeat(row_numbers[rows].astype(str)[:, None], K, axis=1)
    figure = go.Figure(
        go.Heatmap(
            z=responsibilities[rows],
            x=[str(k + 1) for k in range(K)],
            y=np.arange(len(rows)),
            text=row_text,
            zmin=0.0,
            zmax=1.0,
            colorscale="Blues",
            colorbar={"title": {"text": "responsibility"}, "thickness": 12},
            hovertemplate="row %{text}<br>component %{x}: %{z:.3f}<extra></extra>",
            meta="responsibilities",
        )
    )
    figure.update_layout(
        height=CHART_HEIGHT,
        margin={"l": 10, "r": 10, "t": 30, "b": 10},
        yaxis={"autorange": "reversed", "showticklabels": False, "title": {"text": "samples"}},
        xaxis={"side": "top", "title": {"text": "component"}, "type": "category"},
    )
    return figure, len(rows)


def criteria_figure(table: pd.DataFrame, *, shown=None, zoom: float | None = None) -> go.Figure:
    """BIC, AIC and ICL against K, one line per model (lower is better).

    Degenerate fits are grey crosses off the lines; an open ring marks each model's
    best, a star the overall best; failed fits are left out. Only eligible fits (see
    ``ui.tables.eligible``) are joined by lines or marked best.

    Parameters
    ----------
    table : pandas.DataFrame
        A sweep's table.
    shown : collection of str, optional
        The models (``covariance_type`` values) to draw; all when None. The best
        overall is marked whether or not its model is shown.
    zoom : float, optional
        Draw each criterion minus its best value, from 0 up to ``zoom``, so that a
        model thousands of units off does not flatten the differences that matter.
    """
    relative = zoom is not None
    criteria = list(CRITERIA)
    figure = make_subplots(
        rows=1, cols=len(criteria),
        subplot_titles=[f"{'Δ ' if relative else ''}{c} (lower is better)" for c in criteria],
        horizontal_spacing=0.06,
    )
    visible = table if shown is None else table[table["covariance_type"].isin(list(shown))]
    ok = eligible(visible)
    degenerate = visible[visible["degenerate"] & visible["bic"].notna()]
    for col, criterion in enumerate(criteria, start=1):
        column = CRITERIA[criterion]
        first = col == 1
        overall_index = best_index(table, criterion)
        offset = table.loc[overall_index, column] if relative and overall_index is not None else 0.0
        for covariance_type, rows in ok.groupby("covariance_type", sort=False):
            figure.add_trace(
                go.Scatter(
                    x=rows["k"], y=rows[column] - offset, mode="lines+markers",
                    name=display_name(covariance_type),
                    legendgroup=covariance_type, showlegend=first,
                    line={"color": model_colour(covariance_type), "dash": model_dash(covariance_type)},
                    meta="criterion",
                    hovertemplate=f"{display_name(covariance_type)}, K=%{{x}}<br>{criterion} %{{y:,.2f}}<extra></extra>",
                ),
                row=1, col=col,
            )
        if not degenerate.empty:
            figure.add_trace(
                go.Scatter(
                    x=degenerate["k"], y=degenerate[column] - offset, mode="markers",
                    name="degenerate (never chosen)",
                    legendgroup="degenerate", showlegend=first, meta="degenerate",
                    marker={"symbol": "x", "size": 9, "color": "rgb(150,150,150)"},
                    text=degenerate["covariance_type"].map(display_name),
                    hovertemplate=f"%{{text}}, K=%{{x}}: degenerate<br>{criterion} %{{y:,.2f}}<extra></extra>",
                ),
                row=1, col=col,
            )
        per_type = best_index(visible, criterion, by_type=True)
        if len(per_type):
            best_rows = visible.loc[per_type.to_numpy()]
            figure.add_trace(
                go.Scatter(
                    x=best_rows["k"], y=best_rows[column] - offset, mode="markers", name="best per model",
                    legendgroup="best_type", showlegend=first, meta="best_type", hoverinfo="skip",
                    marker={"symbol": "circle-open", "size": 16, "line": {"width": 2},
                            "color": [model_colour(t) for t in best_rows["covariance_type"]]},
                ),
                row=1, col=col,
            )
        if overall_index is not None:
            overall = table.loc[[overall_index]]
            figure.add_trace(
                go.Scatter(
                    x=overall["k"], y=overall[column] - offset, mode="markers", name="best overall",
                    legendgroup="best_overall", showlegend=first, meta="best_overall",
                    marker={"symbol": "star", "size": 18, "color": "gold", "line": {"width": 1, "color": "black"}},
                    text=overall["covariance_type"].map(display_name),
                    hovertemplate=f"best by {criterion}: %{{text}}, K=%{{x}}<extra></extra>",
                ),
                row=1, col=col,
            )
        figure.update_xaxes(title_text="K (components)", dtick=1, row=1, col=col)
        if relative:
            figure.update_yaxes(range=[-0.04 * zoom, zoom], row=1, col=col)
    figure.update_layout(
        height=440, margin={"l": 10, "r": 10, "t": 40, "b": 10},
        legend={"orientation": "h", "y": -0.22},
    )
    return figure


#: What each letter of a model's name lets the example ellipses do, for :func:`model_family_caption`.
_TERM_WORDS = {
    0: {"E": "the same size", "V": "sizes of their own"},
    1: {"E": "the same elongation", "V": "elongations of their own", "I": "no elongation (circles)"},
    2: {"E": "the same tilt", "V": "tilts of their own", "I": "axes along the columns (no tilt)"},
}


def model_family_svg(model: str, *, width: int = 260) -> str:
    """Three ellipses that ``model`` (an mclust name) allows, each term as free as the model lets it
    be, as an SVG picture for the model picker (``gmm_core.example_covariances``): equal terms
    look alike across the three, variable ones differ. Plain markup of numbers (no text), drawn
    as an image rather than a chart so that it costs the sidebar nothing to redraw."""
    letters = model if len(model) == 3 else model + "II"
    outlines = [
        ellipse_points(EXAMPLE_MEANS[k], covariance, sigma=1.0, n_points=64)
        for k, covariance in enumerate(example_covariances(letters))
    ]
    low = np.array([-2.2, -2.2])
    high = np.array([6.7, 6.2])
    scale = width / (high[0] - low[0])
    height = round((high[1] - low[1]) * scale)
    paths = []
    for k, outline in enumerate(outlines):
        x = (outline[:, 0] - low[0]) * scale
        y = (high[1] - outline[:, 1]) * scale  # SVG's y grows downwards
        points = " ".join(f"{a:.1f},{b:.1f}" for a, b in zip(x, y))
        paths.append(
            f'<polygon points="{points}" fill="{component_colour(k, 0.25)}" '
            f'stroke="{component_colour(k)}" stroke-width="2"/>'
        )
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}">{"".join(paths)}</svg>'
    )


def model_family_caption(model: str) -> str:
    """'Components have sizes of their own, the same elongation and tilts of their own.' for VEV."""
    letters = model if len(model) == 3 else model + "II"
    words = [_TERM_WORDS[i][letter] for i, letter in enumerate(letters)]
    if letters[1] == "I":
        words = words[:2]
    return f"Components have {', '.join(words[:-1])} and {words[-1]}."


def _point_hover(axis_names: tuple[str, str], extra: str = "") -> str:
    """Hover template naming both axes (escaped), plus ``extra``."""
    x_name, y_name = (plotly_text(name) for name in axis_names)
    return f"{x_name} %{{x:.4g}}<br>{y_name} %{{y:.4g}}" + (f"<br>{extra}" if extra else "")


def _axes(figure: go.Figure, axis_names: tuple[str, str], *, title: str, show_legend: bool) -> None:
    """Axis titles (escaped), title, height and margins shared by the scatter plots."""
    figure.update_layout(
        title={"text": plotly_text(title)} if title else None,
        xaxis_title=plotly_text(axis_names[0]),
        yaxis_title=plotly_text(axis_names[1]),
        height=CHART_HEIGHT,
        margin={"l": 10, "r": 10, "t": 50 if title else 20, "b": 10},
        showlegend=show_legend,
        legend={"itemsizing": "constant"},
    )


def confusion_heatmap(confusion: pd.DataFrame) -> go.Figure:
    """Counts of known classes (rows) by components (columns), matched pairs on the diagonal.

    Parameters
    ----------
    confusion : pandas.DataFrame
        ``gmm_core.LabelMatch.confusion``: a row per class, a column per 0-based
        component, ordered so that matched pairs sit on the diagonal.
    """
    figure = go.Figure(
        go.Heatmap(
            z=confusion.to_numpy(),
            x=[f"component {int(k) + 1}" for k in confusion.columns],
            y=[plotly_text(c) for c in confusion.index],
            colorscale="Blues",
            texttemplate="%{z}",
            showscale=False,
            hovertemplate="%{y} → %{x}: %{z} points<extra></extra>",
            meta="confusion",
        )
    )
    figure.update_layout(
        height=max(220, 60 + 36 * len(confusion)),
        margin={"l": 10, "r": 10, "t": 30, "b": 10},
        xaxis={"side": "top", "type": "category", "title": {"text": "component (matched class on the diagonal)"}},
        yaxis={"autorange": "reversed", "type": "category", "title": {"text": "known label"}},
    )
    return figure


def kmeans_comparison(
    points: np.ndarray,
    gmm_labels: np.ndarray,
    gmm_slots: np.ndarray,
    kmeans_labels: np.ndarray,
    kmeans_slots: np.ndarray,
    *,
    axis_names: tuple[str, str],
) -> go.Figure:
    """The mixture's hard labels and k-means' clusters side by side, in matched colours.

    Parameters
    ----------
    points : ndarray of shape (n, 2)
    gmm_labels, kmeans_labels : ndarray of int, shape (n,)
    gmm_slots, kmeans_slots : ndarray of int
        Colour slot of each component and of each cluster; a cluster matched to a
        component has its slot.
    axis_names : (str, str)

    Returns
    -------
    plotly.graph_objects.Figure
        Left 'gmm_points', right 'kmeans_points', and 'disagree' rings on the right
        where a point's cluster is not matched to its component.
    """
    shown = sample_by_group(gmm_labels, MAX_POINTS)
    scatter = _scatter_class(len(shown))
    figure = make_subplots(
        rows=1, cols=2, shared_xaxes=True, shared_yaxes=True, horizontal_spacing=0.04,
        subplot_titles=["Gaussian mixture: most likely component", "k-means: nearest centre"],
    )
    for col, (labels, slots, meta) in enumerate(
        [(gmm_labels, gmm_slots, "gmm_points"), (kmeans_labels, kmeans_slots, "kmeans_points")], start=1
    ):
        figure.add_trace(
            scatter(
                x=points[shown, 0], y=points[shown, 1], mode="markers", name=meta, meta=meta, showlegend=False,
                marker={**slot_marker(slots[labels[shown]]), "size": 4, "opacity": 0.7},
                hovertemplate=_point_hover(axis_names) + "<extra></extra>",
            ),
            row=1, col=col,
        )
    disagree = gmm_slots[gmm_labels] != kmeans_slots[kmeans_labels]
    wrong = shown[disagree[shown]]
    figure.add_trace(
        scatter(
            x=points[wrong, 0], y=points[wrong, 1], mode="markers", meta="disagree",
            name=f"in another group than in the mixture ({int(disagree.sum()):,})",
            marker={"symbol": "circle-open", "size": 11, "color": "black", "line": {"width": 1.5}},
            hovertemplate=_point_hover(axis_names) + "<extra></extra>",
        ),
        row=1, col=2,
    )
    x_name, y_name = (plotly_text(name) for name in axis_names)
    figure.update_xaxes(title_text=x_name)
    figure.update_yaxes(title_text=y_name, col=1)
    figure.update_layout(
        height=420, margin={"l": 10, "r": 10, "t": 40, "b": 10},
        legend={"orientation": "h", "yanchor": "top", "y": -0.15, "x": 0.5},
    )
    return figure


#: Models drawn as boxes in the stability chart: those with the lowest median BIC.
STABILITY_BOXES = 8


def stability_figure(fits: pd.DataFrame, models: pd.DataFrame) -> go.Figure:
    """How much BIC moves between seeds, and how often each model wins.

    Parameters
    ----------
    fits, models : pandas.DataFrame
        ``gmm_core.StabilityResult.fits`` and ``.models``.

    Returns
    -------
    plotly.graph_objects.Figure
        Left, one box per model ('bic_spread') with every seed's BIC, for the
        ``STABILITY_BOXES`` models with the lowest median BIC; right, the share of
        seeds each model wins ('win_share'), for the models that win at least once.
        Both are coloured by covariance type.
    """
    figure = make_subplots(
        rows=1, cols=2, column_widths=[0.62, 0.38], horizontal_spacing=0.1,
        subplot_titles=[
            f"BIC of every seed, {STABILITY_BOXES} best models by median (lower is better)",
            "Share of seeds each model wins",
        ],
    )
    ok = fits[~fits["degenerate"] & fits["bic"].notna()]
    contenders = models.dropna(subset=["bic_median"]).nsmallest(STABILITY_BOXES, "bic_median")
    for row in contenders.itertuples():
        name = f"{row.covariance_type} K={row.k}"
        bic = ok.loc[(ok["k"] == row.k) & (ok["covariance_type"] == row.covariance_type), "bic"]
        figure.add_trace(
            go.Box(
                x=[name] * len(bic), y=bic.to_numpy(), name=name, meta="bic_spread", showlegend=False,
                boxpoints="all", pointpos=0, jitter=0.3, marker={"color": model_colour(row.covariance_type)},
                hovertemplate=f"{name}<br>BIC %{{y:,.2f}}<extra></extra>",
            ),
            row=1, col=1,
        )
    winners = models[models["wins"] > 0].sort_values("win_share", ascending=False)
    figure.add_trace(
        go.Bar(
            x=[f"{t} K={k}" for t, k in zip(winners["covariance_type"], winners["k"])],
            y=winners["win_share"].to_numpy(),
            marker={"color": [model_colour(t) for t in winners["covariance_type"]]},
            meta="win_share", showlegend=False,
            hovertemplate="%{x}: wins %{y:.0%} of seeds<extra></extra>",
        ),
        row=1, col=2,
    )
    figure.update_yaxes(title_text="BIC", row=1, col=1)
    figure.update_yaxes(title_text="share of seeds", range=[0, 1], tickformat=".0%", row=1, col=2)
    figure.update_layout(height=420, margin={"l": 10, "r": 10, "t": 40, "b": 10})
    return figure
