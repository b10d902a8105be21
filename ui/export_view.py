"""The Export page's blocks: the three downloads and a preview of what they hold."""

from __future__ import annotations

import streamlit as st

from gmm_core import FitResult, labelled_csv, labelled_frame, mclust_script, reproduction_script
from gmm_core.families import SKLEARN_NAMES
from gmm_core.model_json import model_document, model_json
from ui import state
from ui.dataset import Dataset
from ui.tables import display_frame
from ui.text import safe_filename_stem

PREVIEW_ROWS = 100


def file_stem(dataset: Dataset, result: FitResult) -> str:
    """'old_faithful_tied_k3': the sanitised source name, the covariance type and K."""
    return f"{safe_filename_stem(dataset.table.stem)}_{result.covariance_type}_k{result.n_components}"


def csv_name(dataset: Dataset, result: FitResult) -> str:
    """'old_faithful_tied_k3_labelled.csv': the name of the labelled-data download."""
    return f"{file_stem(dataset, result)}_labelled.csv"


def script(dataset: Dataset, result: FitResult) -> str | None:
    """A Python script that refits ``result`` with plain scikit-learn from the labelled-data download,
    or None for a model scikit-learn does not have.

    ``gmm_core.reproduction_script`` reading :func:`csv_name` from the working directory.
    """
    if result.mclust_name not in SKLEARN_NAMES:
        return None
    return reproduction_script(
        result, feature_names=dataset.columns, csv_name=csv_name(dataset, result), standardize=dataset.standardize,
        columns=list(dataset.table.frame.columns),
    )


def r_script(dataset: Dataset, result: FitResult) -> str:
    """An R script that continues ``result`` with mclust from the labelled-data download
    (``gmm_core.mclust_script``)."""
    return mclust_script(
        result, feature_names=dataset.columns, csv_name=csv_name(dataset, result), standardize=dataset.standardize,
        columns=list(dataset.table.frame.columns),
    )


def document(dataset: Dataset, result: FitResult) -> dict:
    """The model's JSON document (``gmm_core.model_json.model_document``) for the current data."""
    return model_document(
        result,
        source=dataset.table.source,
        content_hash=dataset.content_hash,
        feature_names=dataset.columns,
        standardize=dataset.standardization(),
    )


def downloads(dataset: Dataset, result: FitResult, model: dict, source: str | None, r_source: str) -> None:
    """The labelled-data CSV, model JSON and reproduction scripts' download buttons, each with what it holds."""
    frame, used_rows = dataset.table.frame, dataset.used_rows
    stem = file_stem(dataset, result)
    left, right, third = st.columns(3)
    with left:
        st.download_button(
            "Download labelled data (CSV)",
            # Built only when clicked: a large table is not written out on every rerun.
            data=lambda: labelled_csv(frame, result, used_rows=used_rows),
            file_name=csv_name(dataset, result),
            mime="text/csv",
            key=state.DOWNLOAD_CSV,
            on_click="ignore",
            type="primary",
            icon=":material/download:",
        )
        st.caption(
            f"All {len(frame):,} rows with their original {frame.shape[1]} columns, plus component (1 to "
            f"{result.n_components}), max_responsibility, uncertainty and responsibility_1 to "
            f"responsibility_{result.n_components}. Rows left out of the fit have empty labels."
        )
    with right:
        st.download_button(
            "Download model (JSON)",
            data=model_json(model),
            file_name=f"{stem}_model.json",
            mime="application/json",
            key=state.DOWNLOAD_JSON,
            on_click="ignore",
            icon=":material/download:",
        )
        st.caption(
            "Weights, means and full covariance matrices, every setting, the criteria, the data source "
            "with a hash of the fitted matrix, and library versions."
        )
    with third:
        if source is None:
            st.caption(
                f"scikit-learn has no {result.mclust_name} model, so there is no Python script for it; the R "
                "script below continues it with mclust."
            )
        else:
            st.download_button(
                "Download reproduction script (Python)",
                data=source,
                file_name=f"{stem}_reproduce.py",
                mime="text/x-python",
                key=state.DOWNLOAD_SCRIPT,
                on_click="ignore",
                icon=":material/download:",
            )
            st.caption(
                "Refits this model with plain scikit-learn from the labelled CSV (put both in one folder and run "
                "it with Python); it prints how many labels agree and the BIC."
            )
        st.download_button(
            "Download mclust script (R)",
            data=r_source,
            file_name=f"{stem}_mclust.R",
            mime="text/plain",
            key=state.DOWNLOAD_R_SCRIPT,
            on_click="ignore",
            icon=":material/download:",
        )
        st.caption(
            "Runs R's mclust EM from this model on the labelled CSV (`Rscript` in the same folder; needs the "
            "mclust package); it prints how many labels agree and mclust's BIC, the negative of ours."
        )


def preview(dataset: Dataset, result: FitResult, model: dict, source: str | None, r_source: str) -> None:
    """The first rows of the labelled data, the model document and the script, as they will be downloaded."""
    st.subheader("Preview")
    data_tab, model_tab, script_tab, r_tab = st.tabs(
        ["Labelled data", "Model JSON", "Python script (scikit-learn)", "R script (mclust)"]
    )
    frame = dataset.table.frame
    with data_tab:
        labelled = labelled_frame(frame, result, used_rows=dataset.used_rows).head(PREVIEW_ROWS)
        probabilities = labelled.columns[frame.shape[1] + 1 :]  # after the original columns and component
        st.dataframe(
            display_frame(labelled), key="export_preview",
            column_config={name: st.column_config.NumberColumn(format="%.4g") for name in probabilities},
        )
        st.caption(f"First {min(PREVIEW_ROWS, len(frame)):,} of {len(frame):,} rows.")
    with model_tab:
        st.json(model, expanded=2)
    with script_tab:
        if source is None:
            st.caption(f"scikit-learn has no {result.mclust_name} model.")
        else:
            st.code(source, language="python")
    with r_tab:
        st.code(r_source, language="r")
