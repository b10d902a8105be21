"""EM step-through page: EM in motion from its start, and the same start under each covariance type."""

import streamlit as st

from ui import em_view, state, widgets
from ui.text import escape_markdown

st.title("EM step-through")
dataset = state.dataset()
settings = state.fit_settings()
view = widgets.current_fit()
st.caption(
    f"EM with the sidebar's K = {settings.n_components}, seed {settings.random_state}, reg_covar and tol on "
    f"{escape_markdown(dataset.table.name)} ({widgets.dataset_caption(dataset)}), "
    f"for at most {em_view.EM_MAX_ITER} iterations."
)
if dataset.X.shape[1] == 1:
    st.info(
        "EM step-through draws two columns at a time. Choose a y column on the Data page to watch EM move "
        "ellipses; the Fit page shows this one-column model as a histogram with its densities."
    )
    st.stop()
em_view.explorer(dataset, settings, view)
