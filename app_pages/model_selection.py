"""Model selection page: sweep K and covariance types, compare BIC, AIC and ICL, adopt a model."""

import streamlit as st

from ui import selection_view, state, widgets
from ui.text import escape_markdown

st.title("Model selection")
dataset = state.dataset()
st.caption(
    f"Fits every K in the range with each chosen covariance type to {escape_markdown(dataset.table.name)} "
    f"({widgets.dataset_caption(dataset)}), with the sidebar's seed, initialisation, reg_covar, tol and max_iter."
)
selection_view.sweep_controls(dataset)
record = st.session_state.get(state.SWEEP)
if record is None:
    st.info("Choose a K range and covariance types, then press Run sweep.")
elif record.content_hash != dataset.content_hash:
    st.info("The data changed since the last sweep. Press Run sweep to compare models on the current data.")
else:
    selection_view.results(record)
    selection_view.evidence(record)
    selection_view.stability_controls(dataset, record)
    selection_view.stability_results(dataset, record)
