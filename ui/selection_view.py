"""The Model selection page's blocks: the sweep controls, its curves, its table, "Use this model",
the evidence for the best model and its stability across seeds."""

from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st

from gmm_core import (
    COVARIANCE_TYPES,
    MODEL_CHOICES,
    MODEL_GROUPS,
    ONE_D_MODELS,
    DataError,
    FitError,
    FitSettings,
    StabilityResult,
    Stopped,
    Work,
    display_name,
    estimated_sweep_seconds,
    model_name,
    recommendation,
    restart_stability,
)
from gmm_core.budget import STABILITY_MAX_ROWS
from gmm_core.selection import SUBSAMPLE_COLUMN, SUBSAMPLE_MAX_ROWS
from gmm_core.subsample import stratified_subsample
from ui import cache, figures, state, warm
from ui.dataset import Dataset
from ui.tables import CRITERIA, best_index, eligible, evidence_table, model_label, sweep_table, top_models
from ui.text import escape_markdown, format_number
from ui.widgets import MAX_SEED, MODEL_HELP
from ui.work import Progress, forget_stop, run_stoppable, stop_key

PERSIST = {"persist_state": "session"}


#: A sweep forecast to take at most this long runs when the page opens, without a click.
AUTO_SWEEP_SECONDS = 2.0
#: Views of the criteria chart: label -> the range of differences to the best drawn (None: the values).
CHART_VIEWS: dict[str, float | None] = {"values": None, "Δ ≤ 500": 500.0, "Δ ≤ 50": 50.0, "Δ ≤ 10": 10.0}
#: Shortcuts above the model menu: label -> models.
MODEL_SETS: dict[str, tuple[str, ...]] = {"all 14": MODEL_CHOICES, "scikit-learn's four": COVARIANCE_TYPES}


def _set_models(models: tuple[str, ...]) -> None:
    """``on_click`` of a model-set shortcut."""
    st.session_state[state.SWEEP_COV_TYPES] = list(models)


def sweep_controls(dataset: Dataset) -> None:
    """K range, models, restarts and the Run button; a run stores its record in state.

    A sweep that ``gmm_core.estimated_sweep_seconds`` forecasts under ``AUTO_SWEEP_SECONDS``
    runs by itself when the data have no sweep yet.
    """
    cells = st.columns([3, 5, 1.3, 1.3], vertical_alignment="bottom")
    low, high = cells[0].slider("K range", 1, state.MAX_COMPONENTS, key=state.SWEEP_K_RANGE, **PERSIST)
    one_column = dataset.X.shape[1] == 1
    if one_column:
        types = list(ONE_D_MODELS)
        cells[1].caption("One column: mclust's E (equal variances) and V (variable variances).")
    else:
        types = cells[1].multiselect(
            "Covariance models", MODEL_CHOICES, key=state.SWEEP_COV_TYPES, **PERSIST,
            format_func=display_name, help=MODEL_HELP,
        )
    n_init = cells[2].number_input(
        "Restarts per fit", min_value=1, max_value=50, step=1, key=state.SWEEP_N_INIT, **PERSIST,
        help="Fewer than a single fit's by default, since a sweep runs many fits.",
    )
    if not one_column:
        shortcuts = cells[1].columns(len(MODEL_SETS))
        for i, (label, models) in enumerate(MODEL_SETS.items()):
            shortcuts[i].button(label, key=f"sweep_models_{i}", on_click=_set_models, args=(models,), type="tertiary")
    ks = tuple(range(low, high + 1))
    rows = min(len(dataset.X), SUBSAMPLE_MAX_ROWS) if dataset.is_large else len(dataset.X)
    forecast = estimated_sweep_seconds(rows, dataset.X.shape[1], ks=ks, n_models=len(types), n_init=int(n_init))
    record = st.session_state.get(state.SWEEP)
    first = (record is None or record.content_hash != dataset.content_hash) and \
        st.session_state.get(state.SWEEP_TRIED) != dataset.content_hash
    clicked = cells[3].button("Run sweep", key=state.RUN_SWEEP, type="primary", disabled=not types)
    if not clicked and first and forecast > AUTO_SWEEP_SECONDS:
        st.caption(f"{len(ks) * len(types)} fits, about {_duration(forecast)} on this data: press Run sweep.")
    if types and (clicked or (first and forecast <= AUTO_SWEEP_SECONDS)):
        st.session_state[state.SWEEP_TRIED] = dataset.content_hash  # runs by itself once per data
        if clicked:
            forget_stop()
        covariance_types = tuple(types) if one_column else tuple(t for t in MODEL_CHOICES if t in types)
        settings = state.fit_settings()
        previous = st.session_state.get(state.SWEEP)
        large = dataset.is_large

        def task(work: Work, progress: Progress) -> state.SweepRecord:
            def report(done: int, total: int) -> None:
                if large:  # counts fits on the subsample, then scorings and the refit on all rows
                    text = f"{done} of {total} fits and scorings"
                else:  # counts Ks
                    text = f"fitted K = {ks[0]} to {ks[done - 1]}: {done * len(types)} of {total * len(types)} models"
                progress.report(done / total, text)

            return cache.run_sweep(
                dataset, ks=ks, covariance_types=covariance_types, n_init=int(n_init), settings=settings,
                progress=report, previous=previous, work=work,
            )

        try:
            record = run_stoppable(
                task, key=stop_key(("sweep", dataset.content_hash, ks, covariance_types, int(n_init), settings)),
                label=f"Fitting {len(ks) * len(types)} models (about {_duration(forecast)})",
            )
        except Stopped:
            st.info("You stopped the sweep. Press Run sweep to run it again.", icon=":material/stop_circle:")
            return
        except (DataError, FitError) as exc:  # e.g. all rows identical: say why, keep the last sweep
            st.error(escape_markdown(exc))
            return
        st.session_state[state.SWEEP] = record
        st.session_state.pop(state.CHOSEN_MODEL, None)


def _duration(seconds: float) -> str:
    """'2 s', '3 min': a forecast, rounded as roughly as it is known."""
    return f"{max(1, round(seconds)):,} s" if seconds < 90 else f"{round(seconds / 60):,} min"


def adopt_model(covariance_type: str, k: int) -> None:
    """``on_click`` of "Use this model": set the sidebar's covariance type and K.

    After a sweep on a subsample, the model is then fitted to all rows from its
    subsample fit, as the sweep refitted its best (``ui.warm.start_from_sweep``).
    """
    st.session_state[state.COV_TYPE] = covariance_type
    st.session_state[state.N_COMPONENTS] = int(k)
    st.session_state[state.ADOPTED] = (covariance_type, int(k))
    dataset = state.dataset()
    record: state.SweepRecord | None = st.session_state.get(state.SWEEP)
    if record is not None and record.subsample is not None and record.content_hash == dataset.content_hash:
        warm.start_from_sweep(dataset, state.fit_settings(), record.subsample)


def _reset_choice() -> None:
    """``on_change`` of the criterion: the model menu starts again from the new best."""
    st.session_state.pop(state.CHOSEN_MODEL, None)


def results(record: state.SweepRecord) -> None:
    """Curves of BIC, AIC and ICL, the model choice with "Use this model", and the sortable table."""
    table = record.table
    if record.subsample is not None:
        subsample_notice(record.subsample)
    _criteria_chart(table)
    top = top_models(table, st.session_state.get(state.CRITERION, "BIC"))
    if not top.empty:
        st.dataframe(
            top, hide_index=True, key="top_models",
            column_config={c: st.column_config.NumberColumn(format="%.2f") for c in top.columns[2:]},
        )
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
        _choose(table, criterion, best, pick[1], pick[2])
    st.dataframe(
        sweep_table(table, criterion), hide_index=True, key="sweep_table",
        column_config={"mclust_bic": st.column_config.NumberColumn("BIC (mclust sign)", format="%.2f")},
    )
    settings = ", ".join(f"{name} {value}" for name, value in record.settings.items())
    st.caption(f"Sweep settings: {escape_markdown(settings)}. Click a column header to sort.")


def _criteria_chart(table: pd.DataFrame) -> None:
    """The criteria chart with its two controls: which families of models, and values or differences."""
    present = {model_name(t) for t in table["covariance_type"]}
    groups = [g for g, models in MODEL_GROUPS.items() if present & set(models)]
    chosen = st.pills(
        "Show only", groups, selection_mode="multi", key=state.SWEEP_GROUPS, **PERSIST,
        help="Families of models by the letters they share; none chosen shows every model. "
        "Click a name in the legend to hide or show one curve.",
    ) if groups else None
    view = st.segmented_control(
        "View", list(CHART_VIEWS), key=state.SWEEP_VIEW, required=True, **PERSIST,
        help="The criteria themselves, or each one's difference to the best, zoomed to what matters.",
    )
    shown = None
    if chosen:
        members = set().union(*(MODEL_GROUPS[g] for g in chosen if g in MODEL_GROUPS))
        shown = [t for t in table["covariance_type"].unique() if model_name(t) in members]
    st.plotly_chart(
        figures.criteria_figure(table, shown=shown, zoom=CHART_VIEWS[view or "values"]), key="criteria_chart"
    )


def subsample_notice(subsample: dict) -> None:
    """Say that the sweep chose on a subsample, and show its candidates' criteria on all rows."""
    candidates = subsample.candidates
    names = "; ".join(model_label(c["k"], c["covariance_type"]) for c in candidates)
    st.info(
        f"Chosen on a stratified subsample of {subsample.rows:,} of {subsample.total_rows:,} rows; "
        f"the {len(candidates)} best by subsample BIC were scored on all rows: {escape_markdown(names)}. "
        "The best by BIC on all rows is the one marked best by BIC. The curves and the table below show "
        "criteria on the subsample.",
        icon=":material/filter_alt:",
    )
    number = st.column_config.NumberColumn(format="%.2f")
    st.dataframe(
        pd.DataFrame(
            {
                "model": [model_label(c["k"], c["covariance_type"]) for c in candidates],
                "BIC on all rows": [c["bic"] for c in candidates],
                "AIC on all rows": [c["aic"] for c in candidates],
                "ICL on all rows": [c["icl"] for c in candidates],
            }
        ),
        hide_index=True, key="subsample_candidates",
        column_config={f"{c} on all rows": number for c in ("BIC", "AIC", "ICL")},
    )


def _choose(table, criterion: str, best, left, right) -> None:
    """The model menu (``best`` first, then by ``criterion``) in ``left`` and "Use this model" in ``right``."""
    column = CRITERIA[criterion]
    ranked = eligible(table).sort_values(column)
    ranked = ranked.loc[[best, *ranked.index.drop(best)]]
    ids = [f"{row.covariance_type}|{row.k}" for row in ranked.itertuples()]
    values = dict(zip(ids, ranked[column]))
    state.ensure_choice(state.CHOSEN_MODEL, ids, ids[0])
    # After a subsampled sweep the menu's numbers are the subsample's: say so, beside the all-rows table.
    named = f"subsample {criterion}" if SUBSAMPLE_COLUMN in table.columns else criterion

    def describe(model_id: str) -> str:
        covariance_type, k = model_id.split("|")
        best = " (best)" if model_id == ids[0] else ""
        return f"{model_label(int(k), covariance_type)} · {named} {format_number(values[model_id])}{best}"

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


def evidence(record: state.SweepRecord) -> None:
    """The recommendation in words, naming the runner-up, and every eligible model's gap to the best."""
    st.subheader("Evidence")
    table = record.table
    if record.subsample is not None:
        # Criteria on all rows exist for the candidates only; the subsample's are not comparable with them.
        table = pd.DataFrame(list(record.subsample.candidates)).assign(degenerate=False)
    try:
        sentence = recommendation(table)
    except ValueError:
        return  # every fit failed or degenerated: results() says so
    st.info(escape_markdown(sentence), icon=":material/lightbulb:")
    if record.subsample is not None:
        st.caption(
            f"On all {record.subsample.total_rows:,} rows, among the {len(table)} models the subsample "
            "ranked best; the other models were compared on the subsample only (the table above)."
        )
    number = st.column_config.NumberColumn(format="%.2f")
    st.dataframe(
        evidence_table(table), hide_index=True, key="evidence_table",
        column_config={"BIC": number, "Δ BIC": number, "ICL": number, "Δ ICL": number},
    )
    st.caption(
        "A BIC difference is about twice the log Bayes factor between two models. Kass & Raftery (1995) call "
        "a difference of 0 to 2 not worth more than a bare mention, 2 to 6 positive, 6 to 10 strong and "
        "above 10 very strong evidence. ICL adds a penalty for overlapping components; when it prefers "
        "another model, the clusters of the BIC choice overlap."
    )


def stability_controls(dataset: Dataset, record: state.SweepRecord) -> None:
    """Number of seeds and the Run button; a run refits the sweep's grid once per seed and stores its record."""
    st.subheader("Stability across restarts")
    st.caption(
        "Refits every model of the sweep from R seeds (one EM run each, from the sidebar's seed on) to show "
        "how much BIC moves with the start, how often each model wins, and whether the chosen model's "
        f"restarts find the same clusters. Data of more than {STABILITY_MAX_ROWS:,} rows are refitted on a "
        "stratified subsample of that size."
    )
    cells = st.columns([1, 1, 4], vertical_alignment="bottom")
    n_seeds = cells[0].number_input("Seeds (R)", min_value=2, max_value=30, step=1, key=state.STABILITY_SEEDS, **PERSIST)
    if not cells[1].button("Run stability", key=state.RUN_STABILITY, type="primary"):
        return
    forget_stop()
    settings = state.fit_settings()
    seeds = tuple((settings.random_state + i) % (MAX_SEED + 1) for i in range(int(n_seeds)))
    X = stability_rows(dataset, settings)

    def task(work: Work, progress: Progress) -> StabilityResult:
        return restart_stability(
            X, ks=record.ks, covariance_types=record.covariance_types, seeds=seeds,
            init_params=settings.init_params, reg_covar=settings.reg_covar, tol=settings.tol,
            max_iter=settings.max_iter, work=work,
            progress=lambda done, total: progress.report(done / total, f"fitted {done} of {total} models"),
        )

    try:
        result = run_stoppable(
            task, key=stop_key(("stability", dataset.content_hash, record.ks, record.covariance_types, seeds)),
            label=f"Refitting {len(record.ks) * len(record.covariance_types) * len(seeds)} models"
            + (f" on {len(X):,} of {len(dataset.X):,} rows" if len(X) < len(dataset.X) else ""),
        )
    except Stopped:
        st.info("You stopped the stability run. Press Run stability to run it again.", icon=":material/stop_circle:")
        return
    except (DataError, FitError) as exc:
        st.error(escape_markdown(exc))
        return
    st.session_state[state.STABILITY] = state.StabilityRecord(
        dataset.content_hash, record.ks, record.covariance_types, result, len(X)
    )


def stability_rows(dataset: Dataset, settings: FitSettings) -> np.ndarray:
    """The rows stability refits: all of them, or a stratified subsample of ``STABILITY_MAX_ROWS`` of
    large data (the spread between seeds is a property of the model and the data's shape, not of n)."""
    if len(dataset.X) <= STABILITY_MAX_ROWS:
        return dataset.X
    return dataset.X[stratified_subsample(dataset.X, max_rows=STABILITY_MAX_ROWS, random_state=settings.random_state)]


def stability_results(dataset: Dataset, record: state.SweepRecord) -> None:
    """BIC spread per model, win shares and the agreement between the chosen model's restarts."""
    run: state.StabilityRecord | None = st.session_state.get(state.STABILITY)
    if run is None:
        return
    if (run.content_hash, run.ks, run.covariance_types) != (dataset.content_hash, record.ks, record.covariance_types):
        st.info("The data or the sweep changed since the last stability run. Press Run stability again.")
        return
    result = run.result
    st.plotly_chart(figures.stability_figure(result.fits, result.models), key="stability_chart")
    if result.chosen is None:
        st.warning("Every fit failed or degenerated under every seed.")
    else:
        k, covariance_type = result.chosen
        chosen = result.models[(result.models["k"] == k) & (result.models["covariance_type"] == covariance_type)].iloc[0]
        cells = st.columns(3)
        cells[0].metric(
            "Wins most often", model_label(k, covariance_type),
            help="The model with the lowest BIC for the most seeds; ties go to the lower median BIC.",
        )
        cells[1].metric("Share of seeds it wins", f"{chosen['win_share']:.0%}")
        cells[2].metric(
            "ARI between its restarts", f"{chosen['restart_ari']:.3f}",
            help="Mean adjusted Rand index over every pair of seeds: 1 when every restart finds the same "
            "clusters, about 0 when they agree no more than chance.",
        )
    st.dataframe(
        result.models, hide_index=True, key="stability_table",
        column_config={
            "win_share": st.column_config.NumberColumn(format="percent"),
            **{c: st.column_config.NumberColumn(format="%.2f") for c in ("bic_median", "bic_min", "bic_max", "bic_iqr")},
            "restart_ari": st.column_config.NumberColumn(format="%.3f"),
        },
    )
    rows = "" if run.rows == len(dataset.X) else \
        f" on a stratified subsample of {run.rows:,} of the {len(dataset.X):,} rows, to bound the work"
    st.caption(f"Seeds {', '.join(map(str, result.seeds))}; each model fitted once per seed{rows}.")
