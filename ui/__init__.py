"""GMM Explorer's Streamlit layer: state, cached core calls, figures, tables and shared widgets."""
