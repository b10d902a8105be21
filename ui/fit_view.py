"""The Fit page's blocks: criteria, warnings, the chart, parameters, responsibilities, known labels."""

from __future__ import annotations

import numpy as np
import streamlit as st

from gmm_core import FitResult, marginal
from ui import figures, state
from ui.dataset import Dataset
from ui.tables import component_table, label_agreement, parameter_table
from ui.text import escape_markdown, format_number

PERSIST = {"persist_state": "session"}
MAX_CROSSTAB_ROWS = 100


def metrics(result: FitResult) -> None:
    """Log-likelihood (total and per sample), BIC, AIC, ICL, parameters and convergence in one row."""
    sign = "Lower is better (scikit-learn's sign); mclust reports the negative"
    top, bottom = st.columns(4), st.columns(4)
    top[0].metric("BIC", format_number(result.bic), help=f"{sign}: {format_number(-result.bic)}.")
    top[1].metric("AIC", format_number(result.aic), help=f"{sign}.")
    top[2].metric("ICL", format_number(result.icl), help=f"BIC plus twice the classification entropy. {sign}.")
    top[3].metric("Log-likelihood", format_number(result.log_likelihood), help="Total over the used rows.")
    bottom[0].metric(
        "Log-likelihood per sample", format_number(result.mean_log_likelihood),
        help="What GaussianMixture.score returns.",
    )
    bottom[1].metric("Free parameters", result.n_parameters)
    bottom[2].metric("Converged", "yes" if result.converged else "no", help=f"Tolerance {result.settings.tol:g}.")
    bottom[3].metric("EM iterations", result.n_iter, help=f"Of the best of {result.settings.n_init} restarts.")
    st.caption(
        f"Best of {result.settings.n_init} restarts (init {escape_markdown(result.settings.init_params)}, "
        f"seed {result.settings.random_state}, max_iter {result.settings.max_iter}, "
        f"reg_covar {result.settings.reg_covar:g}) on {result.n_samples:,} rows."
    )


def fit_warnings(result: FitResult) -> None:
    """Every warning of the fit, in plain language, or a line saying there is none."""
    for message in result.warnings:
        st.warning(escape_markdown(message), icon=":material/warning:")
    if not result.warnings:
        st.caption("No warnings: EM converged and no component collapsed.")


@st.fragment
def chart(dataset: Dataset, result: FitResult) -> None:
    """Scatter coloured by component with ellipses; its options rerun only this block."""
    columns = list(dataset.columns)
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
    )
    st.plotly_chart(figure, key="fit_chart")
    notes = []
    if len(columns) > 2:
        notes.append("With more than two features, each ellipse is the component's exact marginal on these two columns.")
    if result.n_samples > figures.MAX_POINTS:
        notes.append(
            f"Showing {figures.MAX_POINTS:,} of {result.n_samples:,} points, sampled within each component."
        )
    if notes:
        st.caption(" ".join(notes))


def parameters(dataset: Dataset, result: FitResult) -> None:
    """Weights, means and spreads per component, and every parameter in tidy form."""
    st.subheader("Components")
    st.dataframe(component_table(result, dataset.columns), hide_index=True, key="component_table")
    if dataset.standardize:
        st.caption("Means and covariances are in z-score units of the standardised columns.")
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


def known_labels(dataset: Dataset, result: FitResult) -> None:
    """Agreement of the components with the known labels, if a label column was chosen."""
    labels = dataset.known_labels
    if labels is None:
        return
    ari, crosstab = label_agreement(labels, result.labels)
    st.subheader("Against the known labels")
    st.caption(f"Label column: {escape_markdown(dataset.label_column)}")
    left, right = st.columns([1, 3])
    left.metric(
        "Adjusted Rand index", f"{ari:.3f}",
        help="1 when the components match the known labels exactly (up to renaming); about 0 for chance.",
    )
    if len(crosstab) <= MAX_CROSSTAB_ROWS:
        right.dataframe(crosstab, key="label_crosstab")
    else:
        right.caption(f"{len(crosstab):,} distinct labels: too many to cross-tabulate here.")
