"""The session layer on a real kernel pool: a reload keeps the lab's kernel; a lab idle past its limit gives it back."""

from __future__ import annotations

import time

import pytest
from kernel_helpers import holds

from lab_ui import session
from repro_core.kernels.hosting import local_pool

pytestmark = pytest.mark.kernel


def test_a_reloaded_lab_keeps_its_kernel_and_an_expired_lab_gives_it_back():
    pool = local_pool(1)
    session.use_pool(pool)
    store = session.use_store(idle_seconds=3600)
    try:
        state, query = {}, {}
        session.open_lab(state, query)
        with session.click(state, "global-model") as book:
            assert book.kernel.state == "idle"
        owner = session.lab(state).owner("global-model")
        assert pool.live == 1 and holds(pool, owner, book.kernel)
        reloaded: dict = {}  # F5: Streamlit drops the old session state; the URL still names the lab
        session.open_lab(reloaded, dict(query))
        with session.click(reloaded, "global-model") as again:
            assert again is book and again.kernel is book.kernel  # the same kernel: "re-run the cell" still means it
        session.lab(reloaded).touched -= 3601
        assert store.expire() == [session.lab(reloaded).id]
        deadline = time.monotonic() + 30
        while pool.live and time.monotonic() < deadline:
            time.sleep(0.1)
        assert pool.live == 0
    finally:
        session.use_pool(None)
        pool.shutdown()
