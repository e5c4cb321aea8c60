"""Shared by the browser tests and bench/ui_bench.py: a Streamlit server subprocess,
the system Chromium, a page's downloads, and the row count of its tables.

No pytest and no TensorFlow in here.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Self

from lab_ui.pages import PAGES as LAB_PAGES
from repro_core.kernels import proc

REPO_ROOT = Path(__file__).resolve().parents[2]
SCREENSHOT_DIR = REPO_ROOT / "test-artifacts" / "screenshots"
LOG_DIR = REPO_ROOT / "test-artifacts" / "logs"

CHROMIUM_PATH = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
HEALTH_TIMEOUT_S = 60.0


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def chromium_executable() -> str | None:
    """The Chromium binary to drive, or None when this machine has none."""
    if os.path.isfile(CHROMIUM_PATH) and os.access(CHROMIUM_PATH, os.X_OK):
        return CHROMIUM_PATH
    for name in ("chromium", "chromium-browser"):
        found = shutil.which(name)
        if found:
            return found
    return None


def browser_required() -> bool:
    return os.environ.get("REQUIRE_BROWSER", "").strip().lower() in ("1", "true", "yes")


def wait_for_health(base_url: str, proc: subprocess.Popen, timeout: float = HEALTH_TIMEOUT_S) -> None:
    deadline = time.monotonic() + timeout
    last_error = "no answer yet"
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"streamlit server exited early with code {proc.returncode}")
        try:
            with urllib.request.urlopen(f"{base_url}/_stcore/health", timeout=2) as response:
                body = response.read().decode("utf-8", "replace").strip()
                if response.status == 200 and body == "ok":
                    return
                last_error = f"HTTP {response.status}: {body!r}"
        except (urllib.error.URLError, OSError) as exc:
            last_error = str(exc)
        time.sleep(0.25)
    raise TimeoutError(f"{base_url}/_stcore/health not 'ok' after {timeout:.0f} s ({last_error})")


class StreamlitServer:
    """`python -m streamlit run <script>` on a free port; use as a context manager."""

    def __init__(
        self, script: str | Path, cwd: str | Path, log_name: str = "streamlit-server.log", env: dict[str, str] | None = None,
        cgroup_procs: Path | None = None,
    ) -> None:  # fmt: skip
        """`cgroup_procs`: a cgroup.procs file the server joins before it starts (its templates and kernels follow)."""
        self.cgroup_procs = cgroup_procs
        self.env = {**os.environ, **(env or {})}
        self.script = str(script)
        self.cwd = str(cwd)
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        LOG_DIR.mkdir(parents=True, exist_ok=True)
        self.log_path = LOG_DIR / log_name
        self.proc: subprocess.Popen | None = None

    def start(self) -> StreamlitServer:
        command = [
            sys.executable,
            "-m",
            "streamlit",
            "run",
            self.script,
            "--server.port",
            str(self.port),
            "--server.address",
            "127.0.0.1",
            "--server.headless",
            "true",
            "--browser.gatherUsageStats",
            "false",
            "--server.fileWatcherType",
            "none",
        ]
        if self.cgroup_procs is not None:  # join the cgroup, then become the server (same pid)
            command = ["/bin/sh", "-c", 'echo $$ > "$0" && exec "$@"', str(self.cgroup_procs), *command]
        log = open(self.log_path, "w")  # noqa: SIM115 - closed in stop()
        self._log = log
        # Own process group, so stop() can end the server and any kernels it started.
        self.proc = subprocess.Popen(command, cwd=self.cwd, env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        try:
            wait_for_health(self.base_url, self.proc)
        except BaseException:
            self.stop()
            raise
        return self

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def log_tail(self, chars: int = 4000) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-chars:]
        except OSError:
            return ""

    def stop(self) -> None:
        proc, self.proc = self.proc, None
        if proc is not None and proc.poll() is None:
            proc.send_signal(signal.SIGTERM)  # streamlit shuts down its sessions (and their kernels) on SIGTERM
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=10)
        if proc is not None:
            # leftovers of this server's own process group only (e.g. kernels it spawned)
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(proc.pid, signal.SIGTERM)
        log = getattr(self, "_log", None)
        if log is not None:
            log.close()
            self._log = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


# --- what st.dataframe shows: its row count only ---------------------------------------------------
#
# st.dataframe draws its cells on a <canvas> (glide-data-grid). Glide also keeps an accessibility table inside the canvas
# element, <table role="grid" aria-rowcount=N>, whose row count says how many rows the visitor has. The tests take that
# count and nothing more: the values a table shows come from the page's CSV or JSON download (download_rows,
# download_report below) or from AppTest (`at.dataframe[i].value`), never from the drawn grid
# (tests/test_no_grid_reading.py checks it).

ROW_COUNT_JS = """
(root) => {
  const grid = root.querySelector('table[role=grid]');
  return grid ? Number(grid.getAttribute('aria-rowcount')) - 1 : -1;
}
"""


PAGE_STATE_JS = r"""
([tables, phrase]) => {
  const rows = (selector) => {
    const frame = document.querySelector(`${selector} [data-testid="stDataFrame"]`);
    const grid = frame ? frame.querySelector('table[role=grid]') : null;
    return grid ? Number(grid.getAttribute('aria-rowcount')) - 1 : -1;
  };
  let found = false;
  if (phrase) {
    const skip = new Set(['SCRIPT', 'STYLE', 'NOSCRIPT', 'TEMPLATE']);
    const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT,
      { acceptNode: (node) => (skip.has(node.parentElement && node.parentElement.tagName) ? NodeFilter.FILTER_REJECT : NodeFilter.FILTER_ACCEPT) });
    const parts = [];
    while (walker.nextNode()) parts.push(walker.currentNode.nodeValue);
    found = parts.join('').replace(/\s+/g, ' ').toLowerCase().includes(phrase.toLowerCase());
  }
  return {
    exceptions: [...document.querySelectorAll('[data-testid="stException"]')].map((el) => el.textContent.trim()),
    idle: document.querySelectorAll("[data-testid='stApp'][data-test-script-state='notRunning']").length === 1,
    rows: tables.map(rows),
    phrase: found,
  };
}
"""


def page_state(page, tables: list[str] | tuple[str, ...] = (), phrase: str = "") -> dict:
    """What the load tests poll, in one round trip and without forcing a layout: the exception boxes' texts (as
    exception_texts), whether the script is idle (as wait_for_app_run's check), each selector's grid_row_count, and whether
    `phrase` occurs in the page's text (case and whitespace ignored, as get_by_text(phrase, exact=False)). Eight or sixteen
    sessions polled call by call kept Chromium busier than the kernels it was waiting for."""
    return page.evaluate(PAGE_STATE_JS, [list(tables), phrase])


def grid_row_count(container) -> int:
    """Data rows of the first st.dataframe in a locator (aria-rowcount minus the header), -1 if none yet."""
    frame = container.locator('[data-testid="stDataFrame"]')
    if frame.count() == 0:
        return -1
    return int(frame.first.evaluate(ROW_COUNT_JS))




def server_family(server_pid: int) -> tuple[list[int], list[int]]:
    """(fork templates, Jupyter kernels) of the server, from one pass over the process table (repro_core/kernels/proc.py)."""
    return proc.server_family(server_pid)


def template_pids(server_pid: int) -> list[int]:
    """The server's fork templates (repro_core/kernels/fork_template.py processes)."""
    return server_family(server_pid)[0]


def kernel_pids(server_pid: int) -> list[int]:
    """Jupyter kernels of the server: spawned ones (its children running ipykernel_launcher) and forked ones (children of its templates)."""
    return server_family(server_pid)[1]


process_pss_mb = proc.pss_mb  # shared pages split among their users, in MB
process_rss_mb = proc.rss_mb  # resident memory, in MB


# --- a memory limit for the server: a cgroup-v1 memory controller child -----------------------------------


class MemoryCgroup:
    """A cgroup-v1 memory cgroup made for one test, nested under this process's own memory cgroup.

    Nested, not at the root: a limit already imposed on the test runner still applies to the server.
    `create()` returns None and a reason when the controller is missing or not writable (not root,
    cgroup v2 only, read-only /sys/fs/cgroup).
    """

    MOUNT = Path("/sys/fs/cgroup/memory")

    def __init__(self, path: Path) -> None:
        self.path = path

    @classmethod
    def create(cls, name: str, limit_mb: int) -> tuple[MemoryCgroup | None, str]:
        if not (cls.MOUNT / "memory.limit_in_bytes").exists():
            return None, f"no cgroup-v1 memory controller at {cls.MOUNT}"
        own = ""
        try:
            for line in Path("/proc/self/cgroup").read_text().splitlines():
                _, controllers, path = line.split(":", 2)
                if "memory" in controllers.split(","):
                    own = path.lstrip("/")
        except (OSError, ValueError):
            pass
        parent = cls.MOUNT / own if (cls.MOUNT / own / "memory.limit_in_bytes").exists() else cls.MOUNT
        path = parent / name
        try:
            path.mkdir(exist_ok=True)
            (path / "memory.limit_in_bytes").write_text(str(limit_mb * 1024 * 1024))
        except OSError as exc:
            with contextlib.suppress(OSError):
                path.rmdir()
            return None, f"cannot create a memory cgroup under {parent}: {exc}"
        return cls(path), ""

    @property
    def procs(self) -> Path:
        return self.path / "cgroup.procs"

    def read_int(self, name: str) -> int:
        return int((self.path / name).read_text().split()[0])

    def oom_kills(self) -> int:
        """Processes the OOM killer ended in this cgroup (memory.oom_control's oom_kill, Linux 4.13+), -1 if not reported."""
        for line in (self.path / "memory.oom_control").read_text().splitlines():
            key, _, value = line.partition(" ")
            if key == "oom_kill":
                return int(value)
        return -1

    def under_oom(self) -> bool:
        return "under_oom 1" in (self.path / "memory.oom_control").read_text()

    def pids(self) -> list[int]:
        return [int(line) for line in self.procs.read_text().split()]

    def remove(self, timeout: float = 30.0) -> None:
        """Wait for the test's processes to leave (kill any straggler of ours by pid), then remove the cgroup."""
        deadline = time.monotonic() + timeout
        while self.pids() and time.monotonic() < deadline:
            time.sleep(0.2)
        for pid in self.pids():
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                self.path.rmdir()
                return
            except OSError:
                time.sleep(0.2)


# --- driving the app --------------------------------------------------------------------

EXCEPTION_SELECTOR = '[data-testid="stException"]'


def at_widths(page, element, widths: tuple[int, ...] = (1440, 390)) -> Iterator[int]:
    """Each viewport width in turn (desktop, then phone, 900 px tall) with `element` scrolled into view, for checks of
    its size at both."""
    for width in widths:
        page.set_viewport_size({"width": width, "height": 900})
        page.wait_for_timeout(800)  # the chart re-lays itself out to the new width
        element.scroll_into_view_if_needed()
        yield width


def wait_for_app_run(page, timeout_ms: float = 60_000) -> None:
    """Like streamlit's e2e wait_for_app_run: connected, script not running, no skeletons left."""
    page.wait_for_timeout(155)
    page.locator("[data-testid='stApp'][data-test-connection-state='CONNECTED']").wait_for(state="attached", timeout=timeout_ms)
    page.locator("[data-testid='stApp'][data-test-script-state='notRunning']").wait_for(state="attached", timeout=timeout_ms)
    deadline = time.monotonic() + timeout_ms / 1000
    while page.locator('[data-testid="stSkeleton"]').count() and time.monotonic() < deadline:
        page.wait_for_timeout(100)


def exception_texts(page) -> list[str]:
    """Text of every Streamlit exception box on the page (empty when none)."""
    return [text.strip() for text in page.locator(EXCEPTION_SELECTOR).all_inner_texts()]


def path_of(url: str) -> str:
    """'http://host:port/drift?x=1' -> 'drift' ('' for the default page)."""
    from urllib.parse import urlparse

    return urlparse(url).path.strip("/")


def button(page, key: str):
    """The <button> of a keyed st.button (Streamlit puts class st-key-<key> on keyed elements)."""
    return page.locator(f".st-key-{key} button").first


def button_label(page, key: str) -> str:
    """A keyed button's label text, without its material icon's ligature name (e.g. 'replay')."""
    target = button(page, key)
    label = target.locator('[data-testid="stMarkdownContainer"]')
    return (label.first.inner_text() if label.count() else target.inner_text()).strip()


def wait_for_rows(page, container, rows: int, timeout_s: float) -> None:
    """Wait until the dataframe in `container` has `rows` rows and the script has finished; fail fast on an exception box."""
    deadline = time.monotonic() + timeout_s
    last = -1
    while time.monotonic() < deadline:
        errors = exception_texts(page)
        if errors:
            raise AssertionError("the app raised while running:\n" + "\n---\n".join(errors))
        last = grid_row_count(container)
        idle = page.locator("[data-testid='stApp'][data-test-script-state='notRunning']").count() == 1
        if last == rows and idle:
            return
        if last > rows and idle:
            raise AssertionError(f"table has {last} rows, expected {rows}")
        page.wait_for_timeout(250)
    raise AssertionError(f"table did not reach {rows} rows within {timeout_s:.0f} s (last seen: {last})")


def set_sidebar_number(page, key: str, value: int) -> None:
    """Set a keyed sidebar st.number_input / st.slider / st.selectbox-free numeric widget to `value`."""
    widget = page.locator(f".st-key-{key}").first
    widget.wait_for(state="visible")
    number = widget.locator("input[type='number'], input[inputmode], input").first
    slider = widget.locator("[role='slider']").first
    if slider.count():
        slider.focus()
        current = int(float(slider.get_attribute("aria-valuenow")))
        low = int(float(slider.get_attribute("aria-valuemin") or 0))
        slider.press("Home")
        for _ in range(value - low):
            slider.press("ArrowRight")
        del current
    elif number.count():
        number.fill(str(value))
        number.press("Enter")
    else:
        raise AssertionError(f"widget '{key}' is neither a number input nor a slider")
    wait_for_app_run(page)


# --- what a visitor downloads -----------------------------------------------------------------------
# The values a page shows (sums, fingerprints, verdicts) are checked in the files it offers under its results
# (lab_ui/downloads.py: keyed st.download_button "<scenario>_csv", "<scenario>_json", "<scenario>_ipynb"), fetched as a
# visitor does:
# a click on the button and the browser's download.

DOWNLOAD_TIMEOUT_MS = 120_000  # a loaded 2-core machine with 16 sessions polling: the file itself is a few kB
DOWNLOAD_ATTEMPTS = 3


@dataclass(frozen=True)
class Downloaded:
    """One file as the browser saved it: the name it suggested and the bytes."""

    name: str
    data: bytes

    @property
    def text(self) -> str:
        return self.data.decode("utf-8")


def download(page, key: str, timeout_ms: float = DOWNLOAD_TIMEOUT_MS) -> Downloaded:
    """Click the keyed st.download_button `key` and return the file the browser got.

    Waits for the script to be idle and the button to be visible and enabled first (a click during a rerun can land on a
    button that is being replaced), and clicks again when a download fails (the file a button points at is dropped once
    two reruns no longer show it).
    """
    from playwright.sync_api import expect

    target = page.locator(f".st-key-{key} [data-testid='stDownloadButton'] button").first
    problem = "no attempt"
    for _ in range(DOWNLOAD_ATTEMPTS):
        wait_for_app_run(page, timeout_ms)
        target.wait_for(state="visible", timeout=timeout_ms)
        expect(target).to_be_enabled(timeout=timeout_ms)
        with page.expect_download(timeout=timeout_ms) as waiting:
            target.click(timeout=timeout_ms)
        got = waiting.value
        problem = got.failure() or ""  # waits for the download to finish
        if not problem:
            return Downloaded(got.suggested_filename, Path(got.path()).read_bytes())
    raise AssertionError(f"download '{key}' failed {DOWNLOAD_ATTEMPTS} times, last: {problem}")


def download_rows(page, scenario: str) -> list[dict[str, str]]:
    """The rows of a page's results table from its "Table (CSV)" download: every record field, full fingerprints, floats
    as Python's repr (float(text) is the exact value)."""
    return list(csv.DictReader(io.StringIO(download(page, f"{scenario}_csv").text)))


def download_report(page, scenario: str) -> dict:
    """A page's "Report (JSON)" download, parsed (settings, kernel, verdicts, records)."""
    return json.loads(download(page, f"{scenario}_json").text)


# --- many sessions at once (the load tests and bench/hosted_bench.py) -------------------------------------------------
# page path -> (its "Run N times" button key, the scenarios whose tables it fills: each table and download is keyed by its
# scenario, "<scenario>_results", "<scenario>_csv")
RUN_MANY = {name: (f"{name}_run_many", LAB_PAGES[name].scenarios) for name in ("drift", "factory")}
LOAD_VIEWPORT = {"width": 1400, "height": 1600}
LOAD_EPOCHS = 2  # what the load tests set in each session's sidebar (and cli_story_rows runs): their claims are not about training


def set_epochs(pages, epochs: int, timeout_ms: float = 60_000) -> None:
    """Type `epochs` into every session's sidebar at once, then wait until each page shows its cell with that many epochs
    (the page's code is the cell it runs) and its script is idle."""
    for page in pages:
        box = page.locator(".st-key-epochs input").first
        box.fill(str(epochs))
        box.press("Enter")
    for page in pages:
        page.locator("[data-testid='stCode']", has_text=f"epochs={epochs},").first.wait_for(state="attached", timeout=timeout_ms)
        wait_for_app_run(page, timeout_ms)


def results_selector(scenario: str) -> str:
    return f".st-key-{scenario}_results"


def load_all(pages, urls: list[str], epochs: int | None = None) -> None:
    """Navigate every page at once, then wait for each app's first run: the sessions load side by side (as visitors'
    would) instead of one after another. With `epochs`, then set it in every session's sidebar."""
    for page, url in zip(pages, urls, strict=True):
        page.goto(url, wait_until="commit")
    for page in pages:
        wait_for_app_run(page)
    if epochs is not None:
        set_epochs(pages, epochs)


def session_finished(page, scenarios, rows: int) -> bool:
    """Is the session idle with `rows` rows in each scenario's table? Fails on an exception box. One round trip (page_state)."""
    state = page_state(page, [results_selector(scenario) for scenario in scenarios])
    assert not state["exceptions"], f"a session raised: {state['exceptions']}"
    return state["idle"] and all(count == rows for count in state["rows"])


def fingerprinted_rows(page, scenario: str) -> list[tuple[float, float, str, str]]:
    """A scenario's rows from the page's CSV download as (before sum, after sum, before sha256, after sha256): exact values,
    what cli_story_rows gives for the same scenario."""
    return [(float(r["before_sum"]), float(r["after_sum"]), r["before_sha256"], r["after_sha256"]) for r in download_rows(page, scenario)]


def solo_click(browser, base_url: str, name: str, rows: int, timeout_s: float = 600.0, epochs: int | None = None) -> float:
    """One session alone on page `name` of RUN_MANY (at `epochs`, if given): click its "Run N times" and time it until every
    table has `rows` rows and the script is idle; the session is closed afterwards."""
    key, scenarios = RUN_MANY[name]
    context = browser.new_context(viewport=LOAD_VIEWPORT)
    try:
        page = context.new_page()
        page.goto(f"{base_url}/{name}")
        wait_for_app_run(page)
        if epochs is not None:
            set_epochs([page], epochs)
        started = time.monotonic()
        button(page, key).click()
        while not session_finished(page, scenarios, rows):
            assert time.monotonic() - started < timeout_s, f"a solo click on /{name} did not finish in {timeout_s:.0f} s"
            time.sleep(0.1)
        return time.monotonic() - started
    finally:
        context.close()
