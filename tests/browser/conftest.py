"""Browser-test fixtures: a real `streamlit run app.py` server and headless Debian Chromium.

In the spirit of streamlit/streamlit's e2e_playwright/conftest.py: the server runs as a
subprocess on a free port, we poll /_stcore/health until it answers "ok", and stop it at
the end of the session. Chromium is the system one (/usr/bin/chromium); nothing is
downloaded. If it is missing the tests are skipped, unless REQUIRE_BROWSER=1, in which
case they fail with a clear message.
"""

from __future__ import annotations

import fcntl
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from lab_browser import (  # noqa: E402
    CHROMIUM_ARGS,
    CHROMIUM_PATH,
    LOAD_EPOCHS,
    REPO_ROOT,
    RUN_MANY,
    SCREENSHOT_DIR,
    StreamlitServer,
    browser_required,
    chromium_executable,
)


def missing_browser(reason: str) -> None:
    """Skip, or fail when REQUIRE_BROWSER=1 says the browser tests must run."""
    if browser_required():
        pytest.fail(f"REQUIRE_BROWSER=1 but the browser tests cannot run: {reason}", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def chromium_path() -> str:
    path = chromium_executable()
    if path is None:
        missing_browser(f"Chromium not found (looked for {CHROMIUM_PATH}, `chromium`, `chromium-browser`)")
    return path


@pytest.fixture(scope="session")
def app_server(chromium_path: str) -> Iterator[StreamlitServer]:
    """The lab's Streamlit server (app.py at the repo root)."""
    app = REPO_ROOT / "app.py"
    if not app.exists():
        missing_browser(f"{app} does not exist yet")
    server = StreamlitServer(app, REPO_ROOT)
    try:
        server.start()
    except (RuntimeError, TimeoutError) as exc:
        pytest.fail(f"streamlit server did not come up: {exc}\n--- server log ---\n{server.log_tail()}", pytrace=False)
    yield server
    server.stop()


@pytest.fixture(scope="session")
def app_url(app_server: StreamlitServer) -> str:
    return app_server.base_url


@pytest.fixture(scope="session")
def browser(chromium_path: str) -> Iterator[object]:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError as exc:  # pragma: no cover - depends on the machine
        missing_browser(f"playwright is not installed: {exc}")
    with sync_playwright() as playwright:
        try:
            instance = playwright.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS, headless=True)
        except Exception as exc:  # noqa: BLE001 - any launch failure means no browser here
            missing_browser(f"Chromium at {chromium_path} did not start: {exc}")
        yield instance
        instance.close()


@pytest.fixture
def page(browser: object) -> Iterator[object]:
    """A fresh browser context (a new Streamlit session) per test."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    context.set_default_timeout(30_000)
    tab = context.new_page()
    yield tab
    context.close()


@pytest.fixture(scope="session")
def screenshot_dir() -> Path:
    SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
    return SCREENSHOT_DIR


CLI_SCENARIOS = tuple(scenario for _, scenarios in RUN_MANY.values() for scenario in scenarios)  # the drift and factory pages' tables
CLI_RERUNS = 3  # the sidebar's default: what "Run 3 times" runs


Rows = dict[str, list[tuple[float, float, str, str]]]


@pytest.fixture(scope="session")
def cli_story_rows(tmp_path_factory, worker_id: str) -> Rows:
    """`python -m repro_core story --format json --reruns 3 --epochs 2` for the drift and factory pages' scenarios at the
    lab's other default settings (LOAD_EPOCHS: what the load tests set in their sessions' sidebars), in spawned kernels
    (REPRO_FORK=0: the servers' forked kernels are checked against spawned ones): per scenario, each rerun's (before sum,
    after sum, before sha256, after sha256), exact, as lab_browser.fingerprinted_rows reads a page's CSV download. Run
    once per test run, before the first server of the load and hosted-cap tests starts (outside any memory cgroup): the
    load tests are groups of their own, so under xdist the first worker that needs the rows runs the commands while
    holding a lock, and the others wait and read what it wrote into the run's shared temporary folder."""
    if worker_id == "master":  # no xdist: this process is the whole run
        return _cli_story_rows()
    shared = tmp_path_factory.getbasetemp().parent  # pytest-<n>/, the folder of this run's workers (popen-gw0, ...)
    saved = shared / "cli_story_rows.json"
    with open(shared / "cli_story_rows.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes, also when the commands fail
        if saved.exists():
            return {name: [tuple(row) for row in rows] for name, rows in json.loads(saved.read_text()).items()}
        rows = _cli_story_rows()
        saved.write_text(json.dumps(rows))  # floats as repr: exact
        return rows


def _cli_story_rows() -> Rows:
    """One command per scenario, all at once (2 cores): the story starts every scenario on a newly started kernel anyway,
    so the records are the same as one command's with several --scenario options, sooner (72 s -> 55 s measured on 2
    shared cores, for three)."""
    env = {**os.environ, "REPRO_FORK": "0"}
    running = {}
    for name in CLI_SCENARIOS:
        command = [sys.executable, "-m", "repro_core", "story", "--format", "json", "--reruns", str(CLI_RERUNS), "--epochs", str(LOAD_EPOCHS),
                   "--scenario", name]  # fmt: skip
        running[name] = subprocess.Popen(command, cwd=REPO_ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    rows: Rows = {}
    for name, proc in running.items():
        out, err = proc.communicate(timeout=600)
        assert proc.returncode == 0, err[-3000:]
        records = json.loads(out)
        assert {record["scenario"] for record in records} == {name}, records
        rows[name] = [(r["before_sum"], r["after_sum"], r["before_sha256"], r["after_sha256"]) for r in records]
    return rows
