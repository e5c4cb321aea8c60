"""The Streamlit side of the lab: session state, sidebar, results views, the one click path, downloads, page registry."""
