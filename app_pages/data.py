"""Data page: generate, pick a built-in data set or upload a CSV file; choose the feature columns."""

import streamlit as st

from ui import data_controls, state

st.title("Data")
table = data_controls.source_table()
if table is not None:
    if data_controls.choose_dataset(table) is not None:
        st.page_link("app_pages/fit.py", label="See the mixture fitted to these columns", icon=":material/scatter_plot:")
data_controls.preview(state.dataset())
