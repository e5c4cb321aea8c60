"""What one Streamlit server shares across its sessions: the hosting settings and the one kernel pool."""

from __future__ import annotations

import atexit

import streamlit as st

from lab_ui import session
from repro_core.kernels.hosting import HostingSettings, hosting_from_environment
from repro_core.kernels.pool import KernelPool


@st.cache_resource
def hosting() -> HostingSettings:
    return hosting_from_environment()


@st.cache_resource
def kernel_pool() -> KernelPool:
    """One pool for every session of this server: a cap on live kernels, a fair queue, a reaper."""
    settings = hosting()
    pool = KernelPool(cap=settings.max_kernels, idle_seconds=settings.idle_seconds, preempt_seconds=settings.preempt_seconds, prestart_template=True)
    pool.start_reaper()
    atexit.register(pool.shutdown)
    return pool


def connect_pool() -> None:
    session.use_pool(kernel_pool(), hosting().cell_timeout)
