"""The Data page's controls: where the data come from and which columns are used.

Each control draws its widgets and returns what it made, or None after showing why
it could not; the current data set changes only when a new one was built without
error, so a bad file or setting leaves the previous data loaded.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st

from gmm_core import DataError
from ui import cache, figures, state, widgets
from ui.dataset import (
    BUILTIN_NAMES,
    MAX_UPLOAD_MB,
    VARIANT_NAMES,
    Dataset,
    Generation,
    SourceTable,
    build_dataset,
    bytes_hash,
    parse_spread,
)
from ui.tables import display_frame
from ui.text import escape_markdown

SOURCES: dict[str, str] = {"generate": "Generate", "builtin": "Built-in", "upload": "Upload CSV"}
BUILTIN_NOTES: dict[str, str] = {
    "old_faithful": "272 eruptions of the Old Faithful geyser: eruption length and waiting time to the next, "
    "in minutes. mclust's BIC picks EEE (tied) with 3 components.",
    "iris": "Fisher's 150 irises: four measurements in cm and the species (known labels). "
    "Pick any two measurements, or add more.",
}
PERSIST = {"persist_state": "session"}
#: Most distinct known labels the data scatter colours by.
MAX_LABEL_GROUPS = 24
ONE_COLUMN = ""  # the y column's entry for fitting the x column alone
NO_LABEL = ""  # menu entry for "no label column"; never a column name (read_table names blank headers)  # page widgets keep their values across page switches


def source_table() -> SourceTable | None:
    """Draw the source choice and its controls; return the table they give, or None."""
    source = st.radio("Source", list(SOURCES), format_func=SOURCES.get, key=state.SOURCE, horizontal=True, **PERSIST)
    if source == "generate":
        return _generated()
    if source == "builtin":
        return _builtin()
    return _uploaded()


def _generated() -> SourceTable | None:
    """Controls of generated blobs; the table they make, or None after showing why not."""
    columns = st.columns([2, 1, 1, 2, 1])
    variant = columns[0].selectbox(
        "Shape", list(VARIANT_NAMES), format_func=VARIANT_NAMES.get, key=state.GEN_VARIANT, **PERSIST
    )
    n_samples = columns[1].number_input(
        "Points", min_value=10, max_value=1_000_000, step=100, key=state.GEN_N_SAMPLES, **PERSIST
    )
    n_centers = columns[2].number_input("Centres", min_value=1, max_value=10, step=1, key=state.GEN_CENTERS, **PERSIST)
    spread = columns[3].text_input(
        "Spread per centre", key=state.GEN_SPREAD, **PERSIST,
        help="Standard deviation of each blob, separated by commas; repeated when there are more centres.",
    )
    seed = columns[4].number_input("Seed", min_value=0, max_value=widgets.MAX_SEED, step=1, key=state.GEN_SEED, **PERSIST)
    try:
        generation = Generation(variant, int(n_samples), int(n_centers), parse_spread(spread), int(seed))
        return cache.generated(generation)
    except DataError as exc:
        widgets.show_data_error(exc)
        return None


def _builtin() -> SourceTable | None:
    """The built-in data set menu and a line about the chosen one."""
    name = st.selectbox("Data set", list(BUILTIN_NAMES), format_func=BUILTIN_NAMES.get, key=state.BUILTIN, **PERSIST)
    st.caption(BUILTIN_NOTES[name])
    return cache.builtin(name)


def _uploaded() -> SourceTable | None:
    """The file uploader and what was detected; the last good upload, or None after an error."""
    uploaded = st.file_uploader(
        "CSV file", key=state.UPLOAD, max_upload_size=MAX_UPLOAD_MB,
        help="Comma, semicolon, tab or | delimited; UTF-8, UTF-16 or Windows-1252; decimal point or "
        "comma; with or without a header row. Detected automatically.",
    )
    stored: SourceTable | None = st.session_state.get(state.UPLOADED)
    if uploaded is not None:
        data = uploaded.getvalue()
        file_hash = bytes_hash(data)
        if stored is None or stored.key != file_hash:
            try:
                stored = cache.read_upload(file_hash, uploaded.name, data)
            except DataError as exc:
                widgets.show_data_error(exc)
                return None
            st.session_state[state.UPLOADED] = stored
    elif stored is not None:
        st.caption(f"Using {escape_markdown(stored.name)}, uploaded earlier. Choose a file to replace it.")
    pending: state.LinkUpload | None = st.session_state.get(state.LINK_UPLOAD)
    if pending is not None and (stored is None or stored.source["filename"] != pending.filename):
        st.info(
            f"The link you opened was made with {escape_markdown(pending.filename)}: upload it here to see its "
            "view, with the columns it used.",
            icon=":material/link:",
        )
    if stored is None:
        st.info(
            "Choose a CSV file with a header row and numeric columns. Until then the app keeps "
            f"working on: {escape_markdown(state.dataset().table.name)}"
        )
        return None
    with st.expander("What was detected in the file", expanded=True):
        widgets.show_lines(stored.report)
    return stored


def choose_dataset(table: SourceTable) -> Dataset | None:
    """Draw the column choices for ``table``; make it the current data set if they work.

    Returns the current data set, or None after showing why the choice cannot be used.
    """
    numeric = table.numeric_columns
    if not numeric:
        widgets.show_data_error(
            DataError(
                f"{table.name} has no numeric column; at least one is needed. Check the detected delimiter and "
                "decimal mark above."
            )
        )
        return None
    _reset_columns_for(table)
    st.subheader("Columns")
    left, middle, right = st.columns(3)
    x = left.selectbox("x column", numeric, key=state.X_COL, **PERSIST)
    y_options = [*(c for c in numeric if c != x), ONE_COLUMN]
    state.ensure_choice(state.Y_COL, y_options, y_options[0])
    y = middle.selectbox(
        "y column", y_options, key=state.Y_COL, **PERSIST,
        format_func=lambda c: "(none: the x column alone)" if c == ONE_COLUMN else str(c),
        help="With one column the model is mclust's E (equal variances) or V (variable variances), drawn "
        "as a histogram with each component's density.",
    )
    if y == ONE_COLUMN:
        st.session_state[state.EXTRA_COLS] = []
    others = [c for c in numeric if c not in (x, y)] if y != ONE_COLUMN else []
    st.session_state[state.EXTRA_COLS] = [c for c in st.session_state.get(state.EXTRA_COLS, []) if c in others]
    extra = right.multiselect(
        "More feature columns (optional)", others, key=state.EXTRA_COLS, **PERSIST,
        help="The model uses every chosen column; the charts show two at a time.",
    )
    _column_account(table, (x, y, *extra), right)
    label = left.selectbox(
        "Known labels (optional)", [NO_LABEL, *table.frame.columns], key=state.LABEL_COL, **PERSIST,
        format_func=lambda c: "(none)" if c == NO_LABEL else str(c),
        help="A column of known classes, compared with the fitted components on the Fit page.",
    )
    standardize = middle.toggle(
        "Standardise each feature column", key=state.STANDARDIZE, **PERSIST,
        help="Fit to z-scores (column minus its mean, divided by its standard deviation).",
    )
    label = label or None
    current = state.dataset()
    columns = (x,) if y == ONE_COLUMN else (x, y, *extra)
    if current.choice == (table.key, columns, label, standardize):
        return current
    try:
        dataset = build_dataset(table, columns, label_column=label, standardize=standardize)
    except DataError as exc:
        widgets.show_data_error(exc)
        return None
    state.set_dataset(dataset)
    if (dataset.X.shape[1] == 1) != (current.X.shape[1] == 1):
        st.rerun()  # the sidebar, drawn before this page, offers other models for one column
    return dataset


def _use_columns(columns: tuple[str, ...]) -> None:
    """``on_click``: make ``columns`` the features (the first two on the axes)."""
    st.session_state[state.X_COL] = columns[0]
    st.session_state[state.Y_COL] = columns[1] if len(columns) > 1 else ONE_COLUMN
    st.session_state[state.EXTRA_COLS] = list(columns[2:])


def _column_account(table: SourceTable, chosen: tuple[str, ...], container) -> None:
    """How many of the numeric columns are fitted, and one click to fit all of them or the suggested ones."""
    everything = tuple(c for c in table.numeric_columns if c != table.default_label)
    container.caption(
        f"Fitting {len(chosen)} of {len(everything)} numeric columns."
        + (f" {escape_markdown(table.default_label)} is taken as known labels (change it on the left)."
           if table.default_label else "")
    )
    if len(chosen) < len(everything):
        container.button(
            f"Use all {len(everything)} numeric columns", key="use_all_columns", on_click=_use_columns,
            args=(everything,), type="tertiary",
        )
    if set(chosen) != set(table.default_columns) and len(table.default_columns) > 2:
        container.button(
            f"Use the {len(table.default_columns)} suggested columns", key="use_suggested_columns",
            on_click=_use_columns, args=(table.default_columns,), type="tertiary",
        )


def _reset_columns_for(table: SourceTable) -> None:
    """Set the column widgets to ``table``'s defaults when the table is new to them."""
    if st.session_state.get(state.COLUMNS_FOR) == table.key:
        return
    st.session_state[state.COLUMNS_FOR] = table.key
    asked = _link_columns(table)
    _use_columns(table.default_columns if asked is None else asked[0])
    if asked is not None:
        st.session_state[state.STANDARDIZE] = asked[1]
    st.session_state[state.LABEL_COL] = table.default_label or NO_LABEL


def _link_columns(table: SourceTable) -> tuple[tuple[str, ...], bool] | None:
    """The columns and standardising of the link being answered, when ``table`` is the file it was made
    with and has those columns; the link is answered once its file is uploaded, either way."""
    pending: state.LinkUpload | None = st.session_state.get(state.LINK_UPLOAD)
    if pending is None or table.source["kind"] != "upload" or table.source["filename"] != pending.filename:
        return None
    del st.session_state[state.LINK_UPLOAD]
    if not pending.columns or not set(pending.columns) <= set(table.numeric_columns):
        return None
    return pending.columns, pending.standardize


def preview(dataset: Dataset) -> None:
    """The current data: its first rows, how rows were used, and a scatter of the first two features."""
    st.subheader("Current data")
    st.markdown(f"**{escape_markdown(dataset.table.name)}** · {widgets.dataset_caption(dataset)}")
    widgets.show_lines(dataset.report)
    left, right = st.columns([2, 3])
    with left:
        st.dataframe(display_frame(dataset.table.frame.head(200)), height=430, key="data_table")
        st.caption(f"First {min(200, len(dataset.table.frame)):,} of {len(dataset.table.frame):,} rows.")
    with right:
        names = tuple(dataset.axis_name(c) for c in dataset.columns[:2])
        groups = dataset.known_labels
        n_groups = 0 if groups is None else len(pd.unique(groups))
        if n_groups > MAX_LABEL_GROUPS:  # one trace per label: thousands would stall server and browser
            groups = None
        if len(names) == 1:
            figure = figures.data_histogram(dataset.X[:, 0], names[0], groups, groups_name=dataset.label_column or "")
        else:
            figure = figures.data_scatter(dataset.X[:, :2], names, groups, groups_name=dataset.label_column or "")
        st.plotly_chart(figure, key="data_scatter")
        if len(dataset.X) > figures.MAX_POINTS:
            st.caption(f"Showing a sample of {figures.MAX_POINTS:,} of {len(dataset.X):,} points.")
        if n_groups > MAX_LABEL_GROUPS:
            st.caption(
                f"The known labels have {n_groups:,} distinct values, too many to colour by "
                f"(at most {MAX_LABEL_GROUPS}), so the points are drawn in one colour. Known labels are classes, "
                f"such as a species; {escape_markdown(dataset.label_column)} looks like a measurement."
            )
    with st.expander("Summary statistics of the feature columns (as fitted)"):
        st.dataframe(pd.DataFrame(np.asarray(dataset.X), columns=list(dataset.columns)).describe().T)
