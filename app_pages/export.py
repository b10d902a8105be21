"""Export page: the labelled data as CSV, the model as JSON and a reproduction script, with previews."""

import streamlit as st

from ui import export_view, state, widgets
from ui.tables import model_label
from ui.text import escape_markdown

st.title("Export")
dataset = state.dataset()
view = widgets.current_fit()
widgets.show_fit_problem(view)
result = view.result
if result is not None:
    st.markdown(
        f"**{escape_markdown(model_label(result.n_components, result.covariance_type))}** on "
        f"{escape_markdown(dataset.table.name)} · {widgets.dataset_caption(dataset)}"
    )
    model = export_view.document(dataset, result)
    source = export_view.script(dataset, result)
    export_view.downloads(dataset, result, model, source)
    export_view.preview(dataset, result, model, source)
