"""Keras Reproducibility Lab's Streamlit entry point. TensorFlow never runs here: cells run in each session's own kernel."""

import streamlit as st

from lab_ui import pages, server, style
from lab_ui.sidebar import env_card, sidebar

st.set_page_config(page_title="Keras Reproducibility Lab", page_icon=":material/casino:", layout="wide")
style.apply()  # the code colours and phone layout the theme has no option for

if server.hosting().hosted:
    st.set_option("client.showErrorDetails", "none")  # visitors of a public demo see no paths or tracebacks
server.connect_pool()
server.open_lab()  # before the sidebar: a reload restores the settings its widgets show
page = pages.navigation()
sidebar()
env_slot = st.sidebar.empty()
with env_slot.container():
    env_card("env_card_before_page")
page.run()
# Redraw the card: the page may just have started, restarted or used the kernel.
with env_slot.container():
    env_card()
