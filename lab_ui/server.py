"""What one Streamlit server shares across its sessions: the hosting settings and the one kernel pool."""

from __future__ import annotations

import streamlit as st

from lab_ui import session
from repro_core.kernels.hosting import HostingSettings, hosting_from_environment, server_pool
from repro_core.kernels.pool import KernelPool


@st.cache_resource
def hosting() -> HostingSettings:
    return hosting_from_environment()


@st.cache_resource
def kernel_pool() -> KernelPool:
    """One pool for every session and page of this server: a cap on live kernels, a fair queue, a reaper."""
    return server_pool(hosting())


def connect_pool() -> None:
    """This session's lab uses the server's pool, and its labs are kept as long as a kernel stays idle (the idle limit)."""
    session.use_pool(kernel_pool(), hosting().cell_timeout)
    session.use_store(hosting().idle_seconds)


def open_lab() -> None:
    """Find this session's lab (after a reload, the one the URL names) and say so when it has expired."""
    message = session.open_lab(st.session_state, st.query_params)
    if message:
        st.info(message, icon=":material/history:")
