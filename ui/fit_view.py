"""The Fit page's blocks: criteria, warnings, the chart, k-means, parameters, responsibilities,
known labels and diagnostics."""

from __future__ import annotations

import numpy as np
import streamlit as st

from gmm_core import MODEL_MEANINGS, FitResult, LabelMatch, fit_diagnostics, marginal, match_labels
from gmm_core.matching import MOVED_SD, mean_shifts
from gmm_core.families import COLUMN_SCALE_EQUIVARIANT
from gmm_core.scaling import spread_ratio
from ui import cache, figures, state, warm
from ui.colours import match_slots
from ui.dataset import Dataset
from ui.tables import component_table, parameter_table, terms_table
from ui.text import escape_markdown, format_number
from ui.widgets import show_lines

PERSIST = {"persist_state": "session"}
MAX_CROSSTAB_ROWS = 100


def metrics(result: FitResult, before: state.ShownBefore | None = None) -> None:
    """Log-likelihood (total and per sample), BIC, AIC, ICL, parameters and convergence in one row;
    with ``before`` (the model shown before), the BIC's change from it."""
    sign = "Lower is better (scikit-learn's sign); mclust reports the negative"
    top, bottom = st.columns(4), st.columns(4)
    change = None if before is None else f"{result.bic - before.bic:+,.2f} from {before.label}"
    top[0].metric(
        "BIC", format_number(result.bic), delta=change, delta_color="inverse",
        help=f"{sign}: {format_number(-result.bic)}." + ("" if before is None else " The change is from the model "
                                                          "shown before; negative is better."),
    )
    top[1].metric("AIC", format_number(result.aic), help=f"{sign}.")
    top[2].metric("ICL", format_number(result.icl), help=f"BIC plus twice the classification entropy. {sign}.")
    top[3].metric("Log-likelihood", format_number(result.log_likelihood), help="Total over the used rows.")
    bottom[0].metric(
        "Log-likelihood per sample", format_number(result.mean_log_likelihood),
        help="What GaussianMixture.score returns.",
    )
    bottom[1].metric("Free parameters", result.n_parameters)
    bottom[2].metric("Converged", "yes" if result.converged else "no", help=f"Tolerance {result.settings.tol:g}.")
    settings = result.settings
    if "means_init" in result.start:
        runs, initialisation = "One EM run from given starting values", ""
    else:
        runs = f"Best of {settings.n_init} restarts"
        initialisation = f"init {escape_markdown(settings.init_params)}, seed {settings.random_state}, "
    bottom[3].metric("EM iterations", result.n_iter, help=f"{runs}.")
    st.caption(
        f"{runs} ({initialisation}max_iter {settings.max_iter}, reg_covar {settings.reg_covar:g}) "
        f"on {result.n_samples:,} rows."
    )


def changes(result: FitResult, slots: np.ndarray, before: state.ShownBefore | None) -> None:
    """Which components moved, appeared or went since the model shown before (matched by colour)."""
    if before is None:
        return
    earlier = {int(slot): j for j, slot in enumerate(before.slots)}
    earlier_number = {slot: i + 1 for i, slot in enumerate(sorted(earlier))}  # as they were numbered then
    kept = [k for k, slot in enumerate(slots) if int(slot) in earlier]
    rows = [earlier[int(slots[k])] for k in kept]
    shifts = mean_shifts(before.means[rows], before.covariances[rows], result.means[kept]) if kept else []
    parts = [f"component {k + 1} moved {shift:.1f} sd" for k, shift in zip(kept, shifts) if shift >= MOVED_SD]
    parts += [f"component {k + 1} is new" for k, slot in enumerate(slots) if int(slot) not in earlier]
    parts += [f"the earlier component {earlier_number[slot]} is gone"
              for slot in sorted(set(earlier) - {int(s) for s in slots})]
    if not parts:
        parts = [f"every component stayed within {MOVED_SD} sd of where it was"]
    st.caption(f"Since {escape_markdown(before.label)}: {'; '.join(parts)} (matched by colour).")


def start_notice(dataset: Dataset, view: state.FitView) -> None:
    """Say where a warm-started fit started (see ``ui.warm``), and offer a fit from scratch."""
    if view.start is None or view.result is None:
        return
    settings = view.result.settings
    text, button = st.columns([5, 1], vertical_alignment="center")
    text.info(
        f"Fitted to all {view.result.n_samples:,} rows by one EM run started from "
        f"{escape_markdown(view.start.origin)}, instead of {settings.n_init} restarts from scratch: on data this "
        "large that is several times faster. A fit from scratch may find another optimum.",
        icon=":material/bolt:",
    )
    button.button(
        "Fit from scratch", key=state.FROM_SCRATCH, on_click=warm.fit_from_scratch, args=(dataset, settings),
        help=f"Fit this model from init_params with {settings.n_init} restarts, as on small data.",
    )


def fit_warnings(result: FitResult) -> None:
    """Every warning of the fit, in plain language, or a line saying there is none."""
    for message in result.warnings:
        st.warning(escape_markdown(message), icon=":material/warning:")
    if not result.warnings:
        st.caption("No warnings: EM converged and no component collapsed.")


def label_match(dataset: Dataset, result: FitResult) -> LabelMatch | None:
    """The components matched to the known labels, or None when no label column was chosen."""
    labels = dataset.known_labels
    return None if labels is None else match_labels(labels, result.labels)


@st.fragment
def chart(dataset: Dataset, result: FitResult, slots: np.ndarray, match: LabelMatch | None) -> None:
    """Scatter coloured by component with ellipses, then k-means beside the mixture; the chart's
    options rerun only this block.
    """
    columns = list(dataset.columns)
    if len(columns) == 1:
        figure = figures.univariate_fit(
            np.asarray(dataset.X)[:, 0], result.weights, result.means[:, 0], result.covariances[:, 0, 0],
            name=dataset.axis_name(columns[0]), slots=slots,
        )
        st.plotly_chart(figure, key="fit_chart")
        st.caption("The histogram of the column, each component's weighted density and their sum, the mixture.")
        return
    controls = st.columns([2, 2, 5, 2], vertical_alignment="bottom")
    state.ensure_choice(state.PLOT_X, columns, columns[0])
    x_name = controls[0].selectbox("x axis", columns, key=state.PLOT_X, disabled=len(columns) == 2, **PERSIST)
    y_options = [c for c in columns if c != x_name]
    state.ensure_choice(state.PLOT_Y, y_options, y_options[0])
    y_name = controls[1].selectbox("y axis", y_options, key=state.PLOT_Y, disabled=len(columns) == 2, **PERSIST)
    level = controls[2].segmented_control(
        "Ellipse level", list(figures.ELLIPSE_LEVELS), key=state.ELLIPSE_LEVEL, required=True, **PERSIST,
        help="kσ: Mahalanobis radius k. p%: the region holding p% of the component's mass.",
    )
    density = controls[3].toggle("Density contours", key=state.SHOW_DENSITY, **PERSIST)
    uncertain = controls[3].toggle(
        "Uncertainty", key=state.SHOW_UNCERTAINTY, **PERSIST,
        help="Red rings, stronger where 1 − max responsibility is higher.",
    )
    misclassified = match is not None and controls[3].toggle(
        "Misclassified", key=state.SHOW_MISCLASSIFIED, **PERSIST,
        help="Black rings on points whose component is not matched to their known label.",
    )
    # Generated columns share their units; other data start with each axis fitted to its column.
    if st.session_state.get(state.EQUAL_AXES_FOR) != dataset.content_hash:
        st.session_state[state.EQUAL_AXES_FOR] = dataset.content_hash
        st.session_state[state.EQUAL_AXES] = dataset.table.source["kind"] == "generated" or dataset.standardize
    equal_axes = controls[3].toggle(
        "Same scale", key=state.EQUAL_AXES,
        help="Both axes at one scale, for columns in the same units: a spherical component then looks round.",
    )
    pair = (columns.index(x_name), columns.index(y_name))
    means, covariances = marginal(result.means, result.covariances, pair)
    figure = figures.fit_scatter(
        np.asarray(dataset.X)[:, pair],
        result.labels,
        result.weights,
        means,
        covariances,
        axis_names=(dataset.axis_name(x_name), dataset.axis_name(y_name)),
        level=level,
        uncertainty=result.uncertainty if uncertain else None,
        show_density=density,
        slots=slots,
        misclassified=match.mismatched if misclassified else None,
        equal_axes=equal_axes,
    )
    st.plotly_chart(figure, key="fit_chart")
    units_notice(dataset, result)
    notes = []
    if len(columns) > 2:
        notes.append("With more than two features, each ellipse is the component's exact marginal on these two columns.")
    if result.n_samples > figures.MAX_POINTS:
        notes.append(
            f"Showing {figures.MAX_POINTS:,} of {result.n_samples:,} points, sampled within each component."
        )
    if notes:
        st.caption(" ".join(notes))
    _kmeans_side_by_side(dataset, result, slots, pair, match)


#: Columns whose spreads differ by more than this factor get the advice that units matter.
UNITS_RATIO = 10.0


def units_notice(dataset: Dataset, result: FitResult) -> None:
    """Say so when the columns' spreads differ by orders of magnitude and the model's answer depends
    on each column's units (``gmm_core.COLUMN_SCALE_EQUIVARIANT``)."""
    if dataset.standardize or result.mclust_name in COLUMN_SCALE_EQUIVARIANT or result.n_features < 2:
        return
    ratio = spread_ratio(dataset.X)
    if ratio > UNITS_RATIO:
        st.info(
            f"The columns' spreads differ by a factor of {ratio:,.0f}, and {result.mclust_name} depends on each "
            "column's units (its shape or orientation ties the columns together), so standardising the columns "
            "on the Data page changes the answer.",
            icon=":material/straighten:",
        )


@st.fragment
def pairs(dataset: Dataset, result: FitResult, slots: np.ndarray) -> None:
    """The scatterplot matrix of the fitted columns (more than two), each panel with every
    component's marginal ellipse; beyond ``figures.PAIRS_MAX_COLUMNS`` the user picks which."""
    columns = list(dataset.columns)
    if len(columns) <= 2:
        return
    st.subheader("All pairs of columns")
    left, right = st.columns([4, 1], vertical_alignment="bottom")
    limit = figures.PAIRS_MAX_COLUMNS
    if len(columns) > limit:
        state.ensure_list(state.PAIRS_COLUMNS, columns, columns[:limit])
        chosen = left.multiselect(
            f"Columns (at most {limit})", columns, key=state.PAIRS_COLUMNS, max_selections=limit, **PERSIST,
        )
    else:
        chosen = columns
    by_uncertainty = right.toggle(
        "Size by uncertainty", key=state.PAIRS_UNCERTAINTY, **PERSIST,
        help="Larger points are less certain of their component (mclust's uncertainty plot).",
    )
    if len(chosen) < 2:
        st.info("Choose at least two columns.")
        return
    index = [columns.index(c) for c in chosen]
    figure = figures.pairs_figure(
        np.asarray(dataset.X)[:, index], result.labels, *marginal(result.means, result.covariances, index),
        names=[dataset.axis_name(c) for c in chosen], level=st.session_state.get(state.ELLIPSE_LEVEL, "95%"),
        slots=slots, uncertainty=result.uncertainty if by_uncertainty else None,
    )
    st.plotly_chart(figure, key="pairs_chart")
    if result.n_samples > figures.PAIRS_MAX_POINTS:
        st.caption(
            f"Each panel shows {figures.PAIRS_MAX_POINTS:,} of {result.n_samples:,} points, sampled within each "
            "component; the ellipses are the components' exact marginals."
        )


def _kmeans_side_by_side(dataset: Dataset, result: FitResult, slots: np.ndarray, pair: tuple[int, int],
                         match: LabelMatch | None) -> None:
    """k-means with the same K, seed and restarts beside the mixture's hard labels, and how much they agree.

    In an expander that runs its content only while open.
    """
    expander = st.expander("Side by side with k-means", key=state.SHOW_KMEANS, on_change="rerun")
    if expander.open:
        with expander:
            _kmeans_comparison(dataset, result, slots, pair, match)


def _kmeans_comparison(dataset: Dataset, result: FitResult, slots: np.ndarray, pair: tuple[int, int],
                       match: LabelMatch | None) -> None:
    """The k-means chart, the adjusted Rand indices and what tells the two methods apart."""
    partition = cache.kmeans(dataset, result.settings)
    # Clusters take the colour of the component whose mean is nearest to their centre.
    cluster_slots = match_slots(result.means, slots, partition.centres)
    figure = figures.kmeans_comparison(
        np.asarray(dataset.X)[:, pair], result.labels, slots, partition.labels, cluster_slots,
        axis_names=tuple(dataset.axis_name(dataset.columns[i]) for i in pair),
    )
    st.plotly_chart(figure, key="kmeans_chart")
    cells = st.columns(3)
    cells[0].metric(
        "ARI, k-means vs mixture", f"{partition.agreement_with(result.labels):.3f}",
        help="Adjusted Rand index between the two partitions: 1 when they are the same up to renaming.",
    )
    if match is not None:
        cells[1].metric("ARI, mixture vs known labels", f"{match.adjusted_rand_index:.3f}")
        cells[2].metric("ARI, k-means vs known labels", f"{partition.agreement_with(dataset.known_labels):.3f}")
    st.caption(
        "k-means makes hard, round, equally sized clusters: each point belongs to its nearest centre. The "
        "mixture is soft: each point has a probability for every component (the uncertainty layer above), "
        "and components may differ in size, shape and tilt. Rings mark points the two put in different groups."
    )


def parameters(dataset: Dataset, result: FitResult) -> None:
    """Weights, means and spreads per component, and every parameter in tidy form."""
    st.subheader("Components")
    st.dataframe(component_table(result, dataset.columns), hide_index=True, key="component_table")
    if dataset.standardize:
        st.caption("Means and covariances are in z-score units of the standardised columns.")
    with st.expander(f"Volume, shape and orientation ({result.mclust_name}: {MODEL_MEANINGS[result.mclust_name]})"):
        st.dataframe(terms_table(result, dataset.columns), hide_index=True, key="terms_table")
        st.caption(
            "Each covariance is volume x orientation x shape x orientation' (Celeux & Govaert): the volume is "
            "det(Σ)^(1/d), the shape the axes' squared lengths relative to it (their product is 1), the "
            "orientation the direction of the longest axis. The model's letters say which are shared."
        )
    with st.expander("All parameters (tidy: one row per weight, mean and covariance entry)"):
        st.dataframe(parameter_table(result, dataset.columns), hide_index=True, key="parameter_table")


def responsibilities(dataset: Dataset, result: FitResult) -> None:
    """Heatmap of responsibilities, sorted by component then confidence, with how many rows are shown."""
    st.subheader("Responsibilities")
    figure, n_shown = figures.responsibility_heatmap(result.responsibilities, result.labels, dataset.row_numbers)
    st.plotly_chart(figure, key="responsibility_heatmap")
    if n_shown < result.n_samples:
        st.caption(
            f"Showing {n_shown:,} of {result.n_samples:,} samples: each component in proportion to its size, "
            "at evenly spaced ranks of confidence."
        )
    else:
        st.caption(f"All {n_shown:,} samples, sorted by component, then by confidence.")


def known_labels(dataset: Dataset, match: LabelMatch | None) -> None:
    """Agreement of the components with the known labels, if a label column was chosen.

    The adjusted Rand index, the share of points whose component is matched to their
    label, and the confusion matrix after the optimal (Hungarian) matching.
    """
    if match is None:
        return
    st.subheader("Against the known labels")
    st.caption(f"Label column: {escape_markdown(dataset.label_column)}")
    left, right = st.columns([1, 3])
    left.metric(
        "Adjusted Rand index", f"{match.adjusted_rand_index:.3f}",
        help="1 when the components match the known labels exactly (up to renaming); about 0 for chance.",
    )
    left.metric(
        "Agree after matching", f"{match.accuracy:.1%}",
        help="Each component is matched to one label so that as many points as possible agree.",
    )
    left.metric("Misclassified points", f"{int(match.mismatched.sum()):,}", help="Ringed on the chart above.")
    if len(match.confusion) <= MAX_CROSSTAB_ROWS:
        right.plotly_chart(figures.confusion_heatmap(match.confusion), key="confusion_matrix")
    else:
        right.caption(f"{len(match.confusion):,} distinct labels: too many for a confusion matrix here.")


def diagnostics(dataset: Dataset, result: FitResult) -> None:
    """Per-component diagnostics and every EM start, in an expander that opens when something is wrong."""
    table = fit_diagnostics(result, dataset.X)
    troubled = result.degenerate or not result.converged or table["empty"].any()
    expander = st.expander(
        "Diagnostics: component sizes, shapes and every restart", expanded=bool(troubled),
        key=state.SHOW_DIAGNOSTICS, on_change="rerun",
    )
    if not expander.open:
        return
    with expander:
        restarts = result.restarts
        cells = st.columns(4)
        cells[0].metric("Smallest weight", f"{table['weight'].min():.3f}")
        cells[1].metric("Fewest points in a component", f"{table['points'].min():,}")
        cells[2].metric(
            "Largest condition number", format_number(table["condition_number"].max(), 3),
            help="Largest over smallest variance of a component's ellipse; very large means nearly flat.",
        )
        cells[3].metric("Restarts converged", f"{int(restarts['converged'].sum())} of {len(restarts)}")
        notes = table[table["note"] != ""]
        show_lines(f"Component {row.component}: {row.note}" for row in notes.itertuples())
        st.dataframe(
            table, hide_index=True, key="diagnostics_table",
            column_config={
                name: st.column_config.NumberColumn(format="%.4g")
                for name in ("smallest_eigenvalue", "largest_eigenvalue", "condition_number", "relative_smallest_variance")
            },
        )
        st.markdown("**Every restart** (the kept one is ticked)")
        st.dataframe(restarts, hide_index=True, key="restart_table")
        st.caption(
            f"The {len(restarts)} EM runs behind this fit, from the seed's {escape_markdown(result.settings.init_params)} "
            "starts; the fit keeps the one with the highest likelihood among those that did not collapse. "
            "A restart that broke down has no criteria and says why."
        )
