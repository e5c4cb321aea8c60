"""Keras Reproducibility Lab: the Streamlit entry point (navigation, shared sidebar, environment card).

TensorFlow never runs in this process: every cell runs in the session's own Jupyter kernel.
"""

import streamlit as st

from lab_ui import ui

st.set_page_config(page_title="Keras Reproducibility Lab", page_icon=":material/casino:", layout="wide")

PAGES = [
    st.Page("lab_pages/home.py", title="Home", icon=":material/home:", url_path="home", default=True),
    st.Page("lab_pages/seed.py", title="Seed the notebook", icon=":material/grass:", url_path="seed"),
    st.Page("lab_pages/drift.py", title="Rerun drift", icon=":material/trending_up:", url_path="drift"),
    st.Page("lab_pages/factory.py", title="Factory + reseed", icon=":material/factory:", url_path="factory"),
    st.Page("lab_pages/restart.py", title="Restart the kernel", icon=":material/restart_alt:", url_path="restart"),
    st.Page("lab_pages/why.py", title="Why", icon=":material/help:", url_path="why"),
    st.Page("lab_pages/versions.py", title="Across versions", icon=":material/timeline:", url_path="versions"),
    st.Page("lab_pages/your_model.py", title="Your model", icon=":material/model_training:", url_path="your-model"),
    st.Page("lab_pages/matrix.py", title="Recipe matrix", icon=":material/grid_view:", url_path="matrix"),
    st.Page("lab_pages/compare.py", title="Compare reports", icon=":material/compare_arrows:", url_path="compare"),
]

if ui.hosting().hosted:
    st.set_option("client.showErrorDetails", "none")  # visitors of a public demo see no paths or tracebacks
ui.connect_pool()
page = st.navigation(PAGES)
ui.sidebar()
with st.sidebar:
    env_slot = st.empty()
with env_slot.container():
    ui.env_card("env_card_before_page")
page.run()
# Redraw the card: the page may just have started, restarted or used the kernel.
with env_slot.container():
    ui.env_card()
