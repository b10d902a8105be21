"""GMM Explorer: the frame. Page config, session state, the shared sidebar, the pages and the link in the URL."""

import streamlit as st

from ui import share, state, uploads, widgets

st.set_page_config(page_title="GMM Explorer", page_icon=":material/scatter_plot:", layout="wide")
uploads.bound_upload_memory()  # once per server
share.read_link()  # a shared link's settings, on the first run of a session
state.init()
st.session_state.pop(state.CURRENT_VIEW, None)  # the current fit is computed once per run
summary = widgets.sidebar()
st.navigation(
    [
        st.Page("app_pages/data.py", title="Data", icon=":material/table:"),
        st.Page("app_pages/fit.py", title="Fit", icon=":material/scatter_plot:", default=True),
        st.Page("app_pages/em.py", title="EM step-through", icon=":material/animation:"),
        st.Page("app_pages/model_selection.py", title="Model selection", icon=":material/query_stats:"),
        st.Page("app_pages/export.py", title="Export", icon=":material/download:"),
    ]
).run()
# Filled after the page ran: the Data page may have changed the data.
widgets.sidebar_summary(summary)
share.write_link()
