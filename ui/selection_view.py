"""The Model selection page's blocks: the sweep controls, its curves, its table and "Use this model"."""

from __future__ import annotations

import streamlit as st

from gmm_core import COVARIANCE_TYPES, MCLUST_NAMES
from ui import cache, figures, state
from ui.cache import SweepRecord
from ui.dataset import Dataset
from ui.tables import CRITERIA, best_index, eligible, model_label, sweep_table
from ui.text import escape_markdown, format_number

PERSIST = {"persist_state": "session"}


def sweep_controls(dataset: Dataset) -> None:
    """K range, covariance types, restarts and the Run button; a run stores its record in state."""
    cells = st.columns([3, 4, 1, 1], vertical_alignment="bottom")
    low, high = cells[0].slider("K range", 1, state.MAX_COMPONENTS, key=state.SWEEP_K_RANGE, **PERSIST)
    types = cells[1].multiselect(
        "Covariance types", COVARIANCE_TYPES, key=state.SWEEP_COV_TYPES, **PERSIST,
        format_func=lambda t: f"{t} ({MCLUST_NAMES[t]})",
    )
    n_init = cells[2].number_input(
        "Restarts per fit", min_value=1, max_value=50, step=1, key=state.SWEEP_N_INIT, **PERSIST,
        help="Fewer than a single fit's by default, since a sweep runs many fits.",
    )
    if cells[3].button("Run sweep", key=state.RUN_SWEEP, type="primary", disabled=not types):
        ks = tuple(range(low, high + 1))
        bar = st.progress(0.0, text=f"Fitting {len(ks) * len(types)} models…")

        def show_progress(done: int, total: int) -> None:
            bar.progress(done / total, text=f"Fitted K = {ks[0]} to {ks[done - 1]}: {done * len(types)} of {total * len(types)} models")

        st.session_state[state.SWEEP] = cache.run_sweep(
            dataset,
            ks=ks,
            covariance_types=tuple(t for t in COVARIANCE_TYPES if t in types),
            n_init=int(n_init),
            settings=state.fit_settings(),
            progress=show_progress,
        )
        bar.empty()
        st.session_state.pop(state.CHOSEN_MODEL, None)


def adopt_model(covariance_type: str, k: int) -> None:
    """``on_click`` of "Use this model": set the sidebar's covariance type and K."""
    st.session_state[state.COV_TYPE] = covariance_type
    st.session_state[state.N_COMPONENTS] = int(k)
    st.session_state[state.ADOPTED] = (covariance_type, int(k))


def _reset_choice() -> None:
    """``on_change`` of the criterion: the model menu starts again from the new best."""
    st.session_state.pop(state.CHOSEN_MODEL, None)


def results(record: SweepRecord) -> None:
    """Curves of BIC, AIC and ICL, the model choice with "Use this model", and the sortable table."""
    table = record.table
    st.plotly_chart(figures.criteria_figure(table), key="criteria_chart")
    n_failed = int(table["bic"].isna().sum())
    n_degenerate = int((table["degenerate"] & table["bic"].notna()).sum())
    if n_failed or n_degenerate:
        st.caption(
            f"{n_degenerate} degenerate fit(s) (grey crosses) and {n_failed} failed fit(s) are never chosen; "
            "the table says why."
        )
    pick = st.columns([1, 3, 1], vertical_alignment="bottom")
    criterion = pick[0].segmented_control(
        "Choose by", list(CRITERIA), key=state.CRITERION, required=True, on_change=_reset_choice, **PERSIST,
        help="BIC is mclust's default; ICL also penalises overlapping components; AIC penalises size least.",
    )
    best = best_index(table, criterion)
    if best is None:
        st.warning(
            "Every fit failed or degenerated. Try a smaller K range, other covariance types or a larger "
            "reg_covar in the sidebar's Advanced settings."
        )
    else:
        _choose(table, criterion, pick[1], pick[2])
    st.dataframe(
        sweep_table(table, criterion), hide_index=True, key="sweep_table",
        column_config={"mclust_bic": st.column_config.NumberColumn("BIC (mclust sign)", format="%.2f")},
    )
    settings = ", ".join(f"{name} {value}" for name, value in record.settings.items())
    st.caption(f"Sweep settings: {escape_markdown(settings)}. Click a column header to sort.")


def _choose(table, criterion: str, left, right) -> None:
    """The model menu (best first by ``criterion``) in ``left`` and "Use this model" in ``right``."""
    column = CRITERIA[criterion]
    ranked = eligible(table).sort_values(column)
    ids = [f"{row.covariance_type}|{row.k}" for row in ranked.itertuples()]
    values = dict(zip(ids, ranked[column]))
    state.ensure_choice(state.CHOSEN_MODEL, ids, ids[0])

    def describe(model_id: str) -> str:
        covariance_type, k = model_id.split("|")
        best = " (best)" if model_id == ids[0] else ""
        return f"{model_label(int(k), covariance_type)} · {criterion} {format_number(values[model_id])}{best}"

    chosen = left.selectbox("Model", ids, key=state.CHOSEN_MODEL, format_func=describe, **PERSIST)
    covariance_type, k = chosen.split("|")
    right.button(
        "Use this model", key=state.USE_MODEL, type="primary", on_click=adopt_model, args=(covariance_type, int(k)),
        help="Sets the sidebar's covariance type and K to this model.",
    )
    adopted = st.session_state.get(state.ADOPTED)
    current = (st.session_state[state.COV_TYPE], int(st.session_state[state.N_COMPONENTS]))
    if adopted is not None and adopted == current:
        st.success(f"The sidebar now fits {model_label(adopted[1], adopted[0])}.", icon=":material/check:")
        st.page_link("app_pages/fit.py", label="See it on the Fit page", icon=":material/scatter_plot:")
