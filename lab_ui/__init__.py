"""Streamlit-side helpers of the lab (sidebar, environment card, results views). No TensorFlow here."""
