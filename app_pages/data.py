"""Data page: generate, pick a built-in data set or upload a CSV file; choose the feature columns."""

import streamlit as st

from ui import data_controls, state

st.title("Data")
table = data_controls.source_table()
if table is not None:
    data_controls.choose_dataset(table)
data_controls.preview(state.dataset())
