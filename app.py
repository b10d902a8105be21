"""GMM Explorer: the frame (a placeholder until the app pages land)."""

import streamlit as st

st.set_page_config(page_title="GMM Explorer", page_icon=":material/scatter_plot:", layout="wide")
st.title("GMM Explorer")
