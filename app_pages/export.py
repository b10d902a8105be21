"""Export page: the labelled data as CSV, the model as JSON and a reproduction script, with previews."""

import streamlit as st

from ui import export_view, state, widgets

st.title("Export")
dataset = state.dataset()
if st.session_state.get(state.LINK_UPLOAD) is not None:
    widgets.seed_notice(dataset)  # what is exported is not the file the link was made with
view = widgets.current_fit()
widgets.show_fit_problem(view)
result = view.result
if result is not None:
    widgets.fit_heading(dataset, result)
    model = export_view.document(dataset, result)
    source = export_view.script(dataset, result)
    r_source = export_view.r_script(dataset, result)
    export_view.downloads(dataset, result, model, source, r_source)
    export_view.preview(dataset, result, model, source, r_source)
