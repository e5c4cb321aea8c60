"""The session layer on a real kernel pool: a session that is gone gives its kernel back."""

from __future__ import annotations

import gc
import time

import pytest
from kernel_helpers import holds

from lab_ui import session
from repro_core.kernels.hosting import local_pool

pytestmark = pytest.mark.kernel


def test_a_session_that_is_gone_gives_its_kernel_back():
    pool = local_pool(1)
    session.use_pool(pool)
    try:
        state: dict = {}
        with session.click(state) as book:
            assert book.kernel.state == "idle"
        assert pool.live == 1 and holds(pool, state[session.SESSION_ID], book.kernel)
        del state, book  # Streamlit drops a session's state when the browser tab is gone
        gc.collect()
        deadline = time.monotonic() + 30
        while pool.live and time.monotonic() < deadline:
            time.sleep(0.1)
        assert pool.live == 0
    finally:
        session.use_pool(None)
        pool.shutdown()
