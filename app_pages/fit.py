"""Fit page: the sidebar's model on the current data, drawn and tabulated."""

import streamlit as st

from ui import fit_view, state, widgets

st.title("Fit")
dataset = state.dataset()
widgets.seed_notice(dataset)
view = widgets.current_fit()
widgets.show_fit_problem(view)
result = view.result
if result is not None:
    widgets.fit_heading(dataset, result)
    fit_view.start_notice(dataset, view)
    before = widgets.model_before(dataset, result)
    fit_view.metrics(result, before)
    fit_view.changes(result, view.slots, before)
    fit_view.fit_warnings(result)
    fit_view.diagnostics(dataset, result)
    match = fit_view.label_match(dataset, result)
    fit_view.chart(dataset, result, view.slots, match)
    fit_view.pairs(dataset, result, view.slots)
    left, right = st.columns([3, 2])
    with left:
        fit_view.parameters(dataset, result)
    with right:
        fit_view.responsibilities(dataset, result)
    fit_view.known_labels(dataset, match)
