"""Widgets and blocks shared by the frame and the pages: the sidebar, the current fit, messages."""

from __future__ import annotations

import numpy as np
import streamlit as st
from streamlit.delta_generator import DeltaGenerator

from gmm_core import (
    INIT_METHODS,
    MAX_REG_COVAR,
    MODEL_CHOICES,
    MODEL_MEANINGS,
    ONE_D_MODELS,
    DataError,
    FitError,
    FitResult,
    FitSettings,
    Stopped,
    display_name,
    model_meaning,
    model_name,
)
from ui import cache, figures, state, warm
from ui.colours import match_slots
from ui.dataset import Dataset
from ui.tables import model_label
from ui.text import escape_markdown, format_number
from ui.work import forget_stop

MAX_SEED = 2**32 - 1


#: The model of more columns that the sidebar switches to from E or V when the data gain a column.
FROM_ONE_D = {"E": "tied", "V": "full"}
#: The sidebar menu's tooltip: every model's letters in words.
MODEL_HELP = (
    "mclust's three letters: volume, shape, orientation; E equal across components, V variable, "
    "I spherical shape or axes along the columns. scikit-learn's four names come first.\n\n"
    + "\n".join(f"- **{display_name(m)}**: {MODEL_MEANINGS[model_name(m)]}" for m in MODEL_CHOICES)
)


def sidebar() -> DeltaGenerator:
    """Draw the model controls in the sidebar, shared by every page.

    Returns
    -------
    DeltaGenerator
        An empty container above the controls, for :func:`sidebar_summary` to fill
        once the page has run (the page may change the data).
    """
    with st.sidebar:
        summary = st.container()
        st.subheader("Model")
        if state.dataset().X.shape[1] == 1:
            # One column has two models: mclust's E and V (each of the 14 reduces to one of them).
            current = st.session_state[state.COV_TYPE]
            if current not in ONE_D_MODELS:
                st.session_state[state.COV_TYPE] = model_name(current, 1)
            chosen = st.selectbox(
                "Covariance model", ONE_D_MODELS, key=state.COV_TYPE,
                format_func=lambda m: f"{m}: {MODEL_MEANINGS[m]}",
                help="With one column, mclust's models are E (every component has the same variance) and V "
                "(each has its own); every model of more columns reduces to one of them.",
            )
        else:
            if st.session_state[state.COV_TYPE] in ONE_D_MODELS:
                st.session_state[state.COV_TYPE] = FROM_ONE_D[st.session_state[state.COV_TYPE]]
            chosen = st.selectbox(
                "Covariance model", MODEL_CHOICES, key=state.COV_TYPE, format_func=display_name, help=MODEL_HELP,
            )
            model_picture(chosen)
        st.number_input("Components (K)", min_value=1, max_value=state.MAX_COMPONENTS, step=1, key=state.N_COMPONENTS)
        st.number_input(
            "Restarts (n_init)", min_value=1, max_value=100, step=1, key=state.N_INIT,
            help="EM runs from this many starting points; the one with the highest likelihood is kept.",
        )
        st.number_input("Random seed", min_value=0, max_value=MAX_SEED, step=1, key=state.SEED)
        with st.expander("Advanced"):
            st.selectbox(
                "Initialisation (init_params)", INIT_METHODS, key=state.INIT_PARAMS,
                help="hc+kmeans: mclust's hierarchical start, then k-means starts for the other restarts; "
                "hc: mclust's start alone.",
            )
            st.number_input(
                "reg_covar", min_value=0.0, max_value=MAX_REG_COVAR, step=1e-8, format="%.1e", key=state.REG_COVAR,
                help="Every component's covariance gets this fraction of the data's own covariance; "
                "raise it when components collapse.",
            )
            st.number_input(
                "tol", min_value=1e-12, max_value=1.0, step=1e-4, format="%.1e", key=state.TOL,
                help="EM stops when its log-likelihood is within this of its limit by Aitken's estimate "
                "(EM stalling near a saddle point can fool it).",
            )
            st.number_input("max_iter", min_value=1, max_value=100_000, step=100, key=state.MAX_ITER)
    return summary


def model_picture(covariance_type: str) -> None:
    """The model's meaning in words and, folded, three ellipses it can draw."""
    model = model_name(covariance_type)
    meaning = model_meaning(covariance_type)
    words = MODEL_MEANINGS[model]
    st.caption(f"{model}: {meaning}" + ("" if meaning == words else f" ({words})") + ".")
    with st.expander(f"What {model} can draw"):
        st.image(figures.model_family_svg(model))
        st.caption(figures.model_family_caption(model))


def sidebar_summary(container: DeltaGenerator) -> None:
    """Fill ``container`` with one short block on the current data and one on the current model."""
    dataset = state.dataset()
    view = current_fit()
    with container:
        st.markdown(f"**Data:** {escape_markdown(dataset.table.name)}")
        st.caption(dataset_caption(dataset))
        settings = state.fit_settings()
        st.markdown(f"**Model:** {escape_markdown(model_label(settings.n_components, settings.covariance_type))}")
        if view.stopped:
            st.caption("Stopped before the fit finished.")
        elif view.error:
            st.caption(":red[Cannot be fitted with these settings; see the page for why.]")
        else:
            result = view.result
            status = "converged" if result.converged else "not converged"
            flags = " · degenerate" if result.degenerate else ""
            st.caption(f"BIC {format_number(result.bic)} · {status} in {result.n_iter} iterations{flags}")


#: Captions name at most this many columns, then say how many more there are.
NAMED_COLUMNS = 4


def dataset_caption(dataset: Dataset) -> str:
    """'600 of 600 rows · columns x, y (standardised)', escaped for Markdown; beyond
    ``NAMED_COLUMNS`` columns, '13 columns: a, b, c, d and 9 more'."""
    names = [str(c) for c in dataset.columns]
    columns = ", ".join(names) if len(names) <= NAMED_COLUMNS else \
        f"{len(names)} columns: {', '.join(names[:NAMED_COLUMNS])} and {len(names) - NAMED_COLUMNS} more"
    scaled = " (standardised)" if dataset.standardize else ""
    n_used = int(dataset.used_rows.sum())
    listed = columns if len(names) > NAMED_COLUMNS else f"columns {columns}"
    return escape_markdown(f"{n_used:,} of {len(dataset.used_rows):,} rows · {listed}{scaled}")


def current_fit() -> state.FitView:
    """Fit the sidebar's model to the current data (cached); fall back to the last good fit on error.

    Computed once per run of the script (the page's call, then the sidebar's summary): the
    view is kept in ``state.CURRENT_VIEW`` with what it was computed for.
    """
    dataset = state.dataset()
    settings = state.fit_settings()
    made_for = (dataset.content_hash, settings, st.session_state.get(state.STOPPED))
    kept = st.session_state.get(state.CURRENT_VIEW)
    if kept is not None and kept[0] == made_for:
        return kept[1]
    view = _current_fit(dataset, settings)
    st.session_state[state.CURRENT_VIEW] = (made_for, view)
    return view


def _current_fit(dataset: Dataset, settings: FitSettings) -> state.FitView:
    try:
        start = warm.start_for(dataset, settings)
        result = cache.fit(dataset, settings, start)
    except (FitError, DataError, Stopped) as exc:
        stopped = model_label(settings.n_components, settings.covariance_type) if isinstance(exc, Stopped) else None
        error = None if stopped else str(exc)
        last = st.session_state.get(state.LAST_GOOD_FIT)
        if not last or last[0] != dataset.content_hash or last[1] == settings:
            return state.FitView(result=None, error=error, stopped=stopped)
        try:
            start = warm.start_for(dataset, last[1])
            fallback = cache.fit(dataset, last[1], start)
        except Stopped:
            return state.FitView(result=None, error=error, stopped=stopped)
        return _numbered_by_colour(dataset, fallback, start, error=error, stopped=stopped)
    st.session_state[state.LAST_GOOD_FIT] = (dataset.content_hash, settings)
    warm.remember(dataset, result)
    return _numbered_by_colour(dataset, result, start)


def _numbered_by_colour(dataset: Dataset, result: FitResult, start, error: str | None = None,
                        stopped: str | None = None) -> state.FitView:
    """The view of ``result`` with its components numbered in the order of their colour slots, so a
    component keeps its number as it keeps its colour when the model changes (tables, charts, export)."""
    slots = colour_slots(dataset, result)
    order = np.argsort(slots, kind="stable")
    return state.FitView(result=result.reordered(order), error=error, slots=slots[order], start=start, stopped=stopped)


def model_before(dataset: Dataset, result: FitResult) -> state.ShownBefore | None:
    """The model shown before ``result`` on the same data, for "what changed"."""
    memory: state.ColourMemory | None = st.session_state.get(state.COLOURS)
    if memory is None or memory.content_hash != dataset.content_hash or memory.settings != result.settings:
        return None
    return memory.before


def colour_slots(dataset: Dataset, result: FitResult) -> np.ndarray:
    """Colour slot of each component of ``result``, kept from the last fit drawn on the same data.

    A new fit's components are matched to the last one's (``ui.colours.match_slots``)
    and take their slots, so a component keeps its colour when K, the covariance type
    or the seed changes; the first fit on new data gets slots ``0 .. K - 1``.
    """
    memory: state.ColourMemory | None = st.session_state.get(state.COLOURS)
    same_data = memory is not None and memory.content_hash == dataset.content_hash
    # The same settings can give another model: a warm start, then a fit from scratch.
    if same_data and memory.settings == result.settings and np.array_equal(memory.means, result.means):
        return memory.slots
    if same_data:
        slots = match_slots(
            memory.means, memory.slots, result.means,
            previous_covariances=memory.covariances, covariances=result.covariances,
        )
    else:
        slots = np.arange(result.n_components)
    before = state.ShownBefore(
        model_label(memory.settings.n_components, memory.settings.covariance_type), memory.bic, memory.means,
        memory.covariances, memory.slots,
    ) if same_data else None
    st.session_state[state.COLOURS] = state.ColourMemory(
        dataset.content_hash, result.settings, result.means, result.covariances, slots, result.bic, before
    )
    return slots


def fit_heading(dataset: Dataset, result: FitResult) -> None:
    """One bold line naming the model, then the data it was fitted to."""
    st.markdown(
        f"**{escape_markdown(model_label(result.n_components, result.covariance_type))}** on "
        f"{escape_markdown(dataset.table.name)} · {dataset_caption(dataset)}"
    )


def show_fit_problem(view: state.FitView) -> None:
    """Say why the sidebar's model cannot be fitted (or that the user stopped it), what to do, and which
    model is shown instead."""
    if view.stopped:
        text, button = st.columns([5, 1], vertical_alignment="center")
        text.info(
            f"You stopped fitting {escape_markdown(view.stopped)}. Fit it again, or change the model or its "
            "settings in the sidebar (fewer restarts or iterations, a larger tol).",
            icon=":material/stop_circle:",
        )
        button.button("Fit again", key=state.FIT_AGAIN, on_click=forget_stop)
    elif view.error:
        st.error(escape_markdown(view.error))
    else:
        return
    if view.result is not None:
        label = escape_markdown(model_label(view.result.n_components, view.result.covariance_type))
        shown = "the model shown before" if view.stopped else "the last model that could be fitted"
        st.info(f"Showing {shown} instead: {label}.")
    elif not view.stopped:
        st.info(
            "Nothing to show yet. Try fewer components, another covariance type, or a larger "
            "reg_covar under Advanced in the sidebar."
        )
        previous: state.DataChoice | None = st.session_state.get(state.PREVIOUS_DATA)
        if previous is not None:
            st.button(
                f"Back to {escape_markdown(previous.dataset.table.name)}", key=state.BACK_TO_PREVIOUS,
                on_click=state.back_to_previous, icon=":material/undo:",
                help="The data you had before, with their columns and the model in the sidebar.",
            )


def seed_notice(dataset: Dataset) -> None:
    """On the seed example, a link to the Data page: naming the file a shared link was made with, when
    the user has yet to upload it (``state.LINK_UPLOAD``)."""
    if not dataset.is_seed:
        return
    pending: state.LinkUpload | None = st.session_state.get(state.LINK_UPLOAD)
    label = "This is the seed example (600 generated points). Upload your own CSV or pick other data on the Data page."
    if pending is not None:
        label = (f"The link you opened was made with {escape_markdown(pending.filename)}, which cannot travel in a "
                 "link: this is the seed example until you upload that file on the Data page.")
    st.page_link("app_pages/data.py", icon=":material/upload_file:", label=label)


def show_data_error(error: DataError) -> None:
    """Show a ``DataError`` and say which data stay in use."""
    st.error(escape_markdown(error))
    st.caption(f"Still using: {escape_markdown(state.dataset().table.name)}")


def show_lines(lines) -> None:
    """Plain lines of text (user text included) as a Markdown bullet list."""
    st.markdown("\n".join(f"- {escape_markdown(line)}" for line in lines))
