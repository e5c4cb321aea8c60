"""Fixtures for the Streamlit app tests: AppTest on app.py, real kernels, shut down after each test."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from kernel_helpers import release_all
from streamlit.runtime.memory_media_file_storage import MemoryMediaFileStorage
from streamlit.testing.v1 import AppTest

from lab_ui import clicks, server, session, sidebar

APP = str(Path(__file__).resolve().parents[2] / "app.py")
RERUNS = 2
RUN_TIMEOUT = 240  # seconds for one script run that trains (2 shared cores, other TF jobs around)

PAGES = {
    "home": "lab_pages/home.py",
    "seed": "lab_pages/seed.py",
    "drift": "lab_pages/drift.py",
    "factory": "lab_pages/factory.py",
    "restart": "lab_pages/restart.py",
    "why": "lab_pages/why.py",
}


def open_page(path: str, at: AppTest | None = None) -> AppTest:
    """The app (a new one unless given) on the page at `path` (lab_pages/....py)."""
    at = at or AppTest.from_file(APP, default_timeout=60).run()
    return at.switch_page(path).run()


def close_kernel(at: AppTest) -> None:
    """Give back every kernel: tests run one at a time, so this is the test's own (pooled or not)."""
    release_all(session.pool())


@pytest.fixture(autouse=True)
def _no_fork_template_for_a_page_that_only_renders(request, monkeypatch):
    """The app's pool starts the fork template (TensorFlow's imports, ~750 MB) at the first page visit, so that the
    first click does not wait. An unmarked (fast-tier) test never clicks a button that trains: it runs the app as
    on a host without forked kernels (REPRO_FORK=0), where there is no template to start. Kernel tests keep forking."""
    if request.node.get_closest_marker("kernel") is None:
        monkeypatch.setenv("REPRO_FORK", "0")


class _Kept(logging.Handler):
    def __init__(self, kept: list[logging.LogRecord]) -> None:
        super().__init__(logging.ERROR)
        self.kept = kept

    def emit(self, record: logging.LogRecord) -> None:
        self.kept.append(record)


@pytest.fixture(autouse=True)
def click_bugs():
    """Every bug the click path caught (lab_ui/clicks.py logs each, hosted or not): a test in which one happened fails,
    even if the page went on. A test that causes one on purpose checks this list and empties it."""
    kept: list[logging.LogRecord] = []
    handler, logger = _Kept(kept), logging.getLogger(clicks.__name__)
    logger.addHandler(handler)
    try:
        yield kept
    finally:
        logger.removeHandler(handler)
    if kept:
        pytest.fail("a click's handler raised a bug (neither a Refusal nor a kernel's failure): "
                    + "; ".join(f"{r.exc_info[0].__name__}: {r.exc_info[1]}" if r.exc_info else r.getMessage() for r in kept),
                    pytrace=False)  # fmt: skip


@pytest.fixture
def app():
    """The app with reruns set to 2 in the sidebar, on its home page; the session's kernel is shut down afterwards."""
    at = AppTest.from_file(APP, default_timeout=60).run()
    at.number_input(key="reruns").set_value(RERUNS).run()
    assert at.session_state[session.LAB].settings.reruns == RERUNS
    try:
        yield at
    finally:
        close_kernel(at)


@pytest.fixture(scope="session", autouse=True)
def _shutdown_every_kernel():
    yield
    release_all(session.pool())


@pytest.fixture
def hosting_env(monkeypatch):
    """Set REPRO_* variables for one test; the cached hosting settings are re-read before and after."""

    def set_env(**values: str) -> None:
        for key, value in values.items():
            monkeypatch.setenv(key, value)
        server.hosting.clear()
        sidebar.kernel_choices.clear()

    yield set_env
    monkeypatch.undo()
    server.hosting.clear()
    sidebar.kernel_choices.clear()


@pytest.fixture
def media(monkeypatch) -> dict[str, bytes]:
    """Every file a run puts behind a download button, by file id (AppTest's media storage lives only during a run)."""
    stored: dict[str, bytes] = {}
    original = MemoryMediaFileStorage.load_and_get_id

    def keep(self, path_or_data, mimetype, kind, filename=None):
        file_id = original(self, path_or_data, mimetype, kind, filename)
        stored[file_id] = path_or_data if isinstance(path_or_data, bytes) else path_or_data.encode()
        return file_id

    monkeypatch.setattr(MemoryMediaFileStorage, "load_and_get_id", keep)
    return stored
