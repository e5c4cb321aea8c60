"""UI benchmark of the lab, run by hand (not in CI): `python bench/ui_bench.py`.

(a) Home page time to first render in headless Chromium (navigation until the main heading is
    visible; servers up and warmed), divided by a hello-world Streamlit page's, median of
    interleaved loads. Target <= 1.3.
(b) Drift page "Run cell" on a session whose kernel is already warm (one click first): click to
    new row, divided by one bare in-process rerun of the same cell (a subprocess importing
    TensorFlow and running the same setup and global-model cells, one warm-up, then timed).
    Target <= 1.5.
(c) Resident memory (VmRSS) of the Streamlit server process after the runs, kernels not
    included (they are listed separately). Target <= 250 MB.

Nothing here imports TensorFlow; it only runs in kernels and in the bare-rerun subprocess.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT / "tests" / "browser"))
sys.path.insert(0, str(REPO_ROOT))

from lab_browser import (  # noqa: E402
    CHROMIUM_ARGS,
    StreamlitServer,
    button,
    chromium_executable,
    download_rows,
    process_rss_mb,
    template_pids,
    wait_for_app_run,
)

TARGET_RENDER_RATIO = 1.3
TARGET_RUN_CELL_RATIO = 1.5
TARGET_RSS_MB = 250.0
CLICK_TIMEOUT_MS = 240_000
HEADING = '[data-testid="stMain"] h1'

HELLO_WORLD = """import streamlit as st

st.title("Hello, world")
st.write("A hello-world Streamlit page, the baseline of the lab's UI benchmark.")
"""

BARE_RERUN = """
import json, sys, time
from repro_core.recipes import cells
from repro_core.recipes.settings import StoryParams

params = StoryParams(seed=1234, reruns=3, epochs=10, engine="keras3")
scope = {}
t0 = time.perf_counter()
exec(cells.story_setup_cell(params), scope)          # imports tensorflow, builds the global model
setup = time.perf_counter() - t0
cell = cells.scenario_cell("global-model", params)  # the drift page's cell: compile + fit 10 epochs
exec(cell, scope)                               # warm-up rerun
import tensorflow as tf
print("@@", json.dumps({"setup": setup, "tensorflow": tf.__version__, "keras": scope["keras"].__version__}), flush=True)
for line in sys.stdin:                          # one timed rerun per line, so they interleave with the clicks
    t0 = time.perf_counter()
    exec(cell, scope)
    elapsed = time.perf_counter() - t0
    print("@@", json.dumps({"rerun": elapsed}), flush=True)
"""


class BareRerun:
    """A plain Python process running the drift page's cell in-process (no kernel, no Streamlit)."""

    def __init__(self) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-u", "-c", BARE_RERUN],
            cwd=REPO_ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        self.info = self._answer()

    def _answer(self) -> dict:
        """The next '@@ {json}' line (the cell's own prints are skipped)."""
        while True:
            line = self.proc.stdout.readline()
            if not line:
                raise RuntimeError(f"bare rerun process ended (exit {self.proc.wait()})")
            if line.startswith("@@ "):
                return json.loads(line[3:])

    def rerun(self) -> float:
        self.proc.stdin.write("run\n")
        self.proc.stdin.flush()
        return float(self._answer()["rerun"])

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.stdin.close()
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def _cpu_ticks(pid: int) -> int:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])  # utime + stime


def wait_for_quiet_template(server_pid: int, timeout: float = 60.0) -> float:
    """Wait until the server's fork templates (none when kernels are spawned) used no CPU time for a second."""
    started = time.monotonic()
    last = None
    while time.monotonic() - started < timeout:
        ticks = sum(_cpu_ticks(pid) for pid in template_pids(server_pid))
        if ticks == last:
            break
        last = ticks
        time.sleep(1.0)
    return time.monotonic() - started


def first_render_seconds(context, url: str) -> float:
    """Navigation start until the page's main heading is visible, in a new tab of a warmed context."""
    tab = context.new_page()
    try:
        started = time.perf_counter()
        tab.goto(url, wait_until="commit")
        tab.locator(HEADING).first.wait_for(state="visible", timeout=60_000)
        return time.perf_counter() - started
    finally:
        tab.close()


def rows_shown(tab, container_key: str) -> int:
    return int(
        tab.evaluate(
            """(key) => { const t = document.querySelector('.st-key-' + key + ' table[role=grid]');
                         return t ? Number(t.getAttribute('aria-rowcount')) - 1 : 0; }""",
            container_key,
        )
    )


# The grid's accessibility table (whose row count rows_shown reads) is updated about 0.2 s after
# the canvas shows new data, even in a trivial app; while a table has fewer than ~10 rows its
# height grows with each row, and that resize is when the new row becomes visible. So a row
# counts as shown at the first of: the grid resized, or the accessibility table has the row.
ARM_PHASES_JS = """
([key, n]) => {
  const app = document.querySelector('[data-testid="stApp"]');
  const t0 = performance.now();
  const phases = { running: null, resized: null, a11y: null, shown: null, done: null };
  window.__benchPhases = phases;
  const box = () => document.querySelector('.st-key-' + key + ' [data-testid="stDataFrameResizable"]');
  const height0 = box() ? box().style.height : null;
  const poll = () => {
    const now = performance.now() - t0;
    const state = app.getAttribute('data-test-script-state');
    if (state !== 'notRunning' && phases.running === null) phases.running = now;
    if (state === 'notRunning' && phases.running !== null && phases.done === null) phases.done = now;
    const resizable = box();
    if (phases.resized === null && resizable && resizable.style.height !== height0) phases.resized = now;
    const grid = document.querySelector('.st-key-' + key + ' table[role=grid]');
    if (phases.a11y === null && grid && Number(grid.getAttribute('aria-rowcount')) - 1 > n) phases.a11y = now;
    if (phases.shown === null && (phases.resized !== null || phases.a11y !== null)) phases.shown = now;
    if (phases.a11y === null || phases.done === null) requestAnimationFrame(poll);
  };
  requestAnimationFrame(poll);
}
"""


def click_until_row(tab, button_key: str, container_key: str) -> tuple[float, int, dict]:
    """Click a Run button; seconds until the table shows one more row (browser clock, from just before the click).

    Also returns the phases in seconds: script 'running', grid 'resized', 'a11y' row, row 'shown', script 'done'.
    """
    before = max(rows_shown(tab, container_key), 0)
    tab.evaluate(ARM_PHASES_JS, [container_key, before])
    button(tab, button_key).click()
    tab.wait_for_function("() => window.__benchPhases.a11y !== null", timeout=CLICK_TIMEOUT_MS, polling=50)
    wait_for_app_run(tab, CLICK_TIMEOUT_MS)
    tab.wait_for_function("() => window.__benchPhases.done !== null", timeout=CLICK_TIMEOUT_MS, polling=50)
    errors = tab.locator('[data-testid="stException"]').all_inner_texts()
    if errors:
        raise RuntimeError("the app raised:\n" + "\n".join(errors))
    phases = {k: (v / 1000 if v is not None else float("nan")) for k, v in tab.evaluate("() => window.__benchPhases").items()}
    return phases["shown"], rows_shown(tab, container_key), phases


ARM_RERUN_TIMER_JS = """
() => {
  const app = document.querySelector('[data-testid="stApp"]');
  const started = performance.now();
  window.__benchRerun = new Promise((resolve) => {
    let ran = false;
    const observer = new MutationObserver(() => {
      const state = app.getAttribute('data-test-script-state');
      if (state !== 'notRunning') ran = true;
      else if (ran) { observer.disconnect(); resolve(performance.now() - started); }
    });
    observer.observe(app, { attributes: true, attributeFilter: ['data-test-script-state'] });
    setTimeout(() => { observer.disconnect(); resolve(-1); }, 60000);
  });
  if (document.activeElement) document.activeElement.blur();
}
"""


def idle_rerun_seconds(tab) -> float:
    """A plain rerun of the page's script (Streamlit's 'r' shortcut, nothing clicked): start to finish, in the browser."""
    tab.evaluate(ARM_RERUN_TIMER_JS)
    tab.keyboard.press("r")
    milliseconds = float(tab.evaluate("() => window.__benchRerun"))
    wait_for_app_run(tab)
    tab.wait_for_timeout(300)
    return milliseconds / 1000 if milliseconds >= 0 else float("nan")


def child_pids(pid: int) -> list[int]:
    """Every descendant of `pid` (via /proc/<pid>/task/*/children)."""
    found: list[int] = []
    todo = [pid]
    while todo:
        current = todo.pop()
        for task in Path(f"/proc/{current}/task").glob("*"):
            try:
                kids = [int(k) for k in (task / "children").read_text().split()]
            except OSError:
                continue
            found += kids
            todo += kids
    return found


def cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace").strip()
    except OSError:
        return "?"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--loads", type=int, default=7, help="measured page loads per page (default 7)")
    parser.add_argument("--clicks", type=int, default=5, help="measured Run cell clicks and bare reruns (default 5)")
    args = parser.parse_args()

    chromium = chromium_executable()
    if chromium is None:
        print("Chromium not found; the UI benchmark needs /usr/bin/chromium", file=sys.stderr)
        return 2
    from playwright.sync_api import sync_playwright

    results: list[tuple[str, str, str, str]] = []
    with tempfile.TemporaryDirectory(prefix="lab-hello-") as tmp, sync_playwright() as playwright:
        hello_script = Path(tmp) / "hello.py"
        hello_script.write_text(HELLO_WORLD)
        app = StreamlitServer(REPO_ROOT / "app.py", REPO_ROOT, log_name="bench-app-server.log").start()
        hello = StreamlitServer(hello_script, tmp, log_name="bench-hello-server.log").start()
        browser = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS, headless=True)
        try:
            print(f"app server pid {app.pid} at {app.base_url}; hello-world server pid {hello.pid} at {hello.base_url}")
            app_rss, hello_rss = process_rss_mb(app.pid), process_rss_mb(hello.pid)
            print(f"after start: app server RSS {app_rss:.0f} MB, hello server RSS {hello_rss:.0f} MB")

            # (a) time to first render, interleaved, after one warm-up load each
            viewport = {"width": 1400, "height": 1000}
            app_ctx, hello_ctx = browser.new_context(viewport=viewport), browser.new_context(viewport=viewport)
            first_render_seconds(app_ctx, f"{app.base_url}/")
            first_render_seconds(hello_ctx, f"{hello.base_url}/")
            # The first visit creates the kernel pool, which starts the fork template: it imports TensorFlow in
            # the background, a one-off start-up cost. Time steady-state loads, once the template has gone quiet.
            print(f"waited {wait_for_quiet_template(app.pid):.1f} s for the fork template to settle")
            app_times, hello_times = [], []
            for _ in range(args.loads):
                app_times.append(first_render_seconds(app_ctx, f"{app.base_url}/"))
                hello_times.append(first_render_seconds(hello_ctx, f"{hello.base_url}/"))
            app_ctx.close()
            hello_ctx.close()
            app_ttfr, hello_ttfr = statistics.median(app_times), statistics.median(hello_times)
            render_ratio = app_ttfr / hello_ttfr
            print(f"home loads (s): {', '.join(f'{t:.3f}' for t in app_times)}")
            print(f"hello loads (s): {', '.join(f'{t:.3f}' for t in hello_times)}")
            results.append(("(a) home first render / hello-world", f"{app_ttfr:.3f} s / {hello_ttfr:.3f} s",
                            f"{render_ratio:.2f}", f"<= {TARGET_RENDER_RATIO}"))  # fmt: skip
            rss_after_loads = process_rss_mb(app.pid)

            # (b) Run cell on a warm kernel vs one bare in-process rerun, interleaved click / bare rerun
            bare = BareRerun()
            try:
                ctx = browser.new_context(viewport=viewport)
                tab = ctx.new_page()
                tab.goto(f"{app.base_url}/drift")
                wait_for_app_run(tab)
                button(tab, "drift_run_cell").wait_for(state="visible")
                warm, _, _ = click_until_row(tab, "drift_run_cell", "global-model_results")
                print(f"warm-up click (kernel start + TF import + rerun 1): {warm:.2f} s")
                clicks, bare_times, phases = [], [], []
                for _ in range(args.clicks):
                    elapsed, rows, phase = click_until_row(tab, "drift_run_cell", "global-model_results")
                    clicks.append(elapsed)
                    phases.append(phase)
                    bare_times.append(bare.rerun())
                kernel_seconds = [float(row["seconds"]) for row in download_rows(tab, "global-model")[1:]]  # the page's CSV
                idle = [idle_rerun_seconds(tab) for _ in range(args.clicks)]
            finally:
                bare.close()
            print(f"Run cell clicks (s): {', '.join(f'{t:.3f}' for t in clicks)} (table now {rows} rows)")
            print(f"  of which in the kernel (the table's seconds): {', '.join(f'{t:.3f}' for t in kernel_seconds)}")
            phase_names = (
                ("running", "script running"),
                ("done", "script done"),
                ("resized", "grid resized"),
                ("a11y", "a11y row"),
            )
            for name, label in phase_names:
                print(f"  click to {label} (in the browser): {', '.join(f'{p[name]:.3f}' for p in phases)}")
            print(f"  a plain rerun of the drift page script (no click, {rows} rows): {', '.join(f'{t:.3f}' for t in idle)}")
            rss_after_runs = process_rss_mb(app.pid)
            kernels = [(pid, process_rss_mb(pid)) for pid in child_pids(app.pid) if "kernel" in cmdline(pid)]
            ctx.close()

            info = bare.info
            print(f"bare reruns (s): {', '.join(f'{t:.3f}' for t in bare_times)} "
                  f"(TensorFlow {info['tensorflow']}, Keras {info['keras']}; setup {info['setup']:.2f} s)")  # fmt: skip
            click_median, bare_median = statistics.median(clicks), statistics.median(bare_times)
            kernel_median = statistics.median(kernel_seconds) if kernel_seconds else float("nan")
            print(f"click-to-row median {click_median:.3f} s = kernel cell {kernel_median:.3f} s "
                  f"+ {click_median - kernel_median:.3f} s messaging, Streamlit rerun and rendering")  # fmt: skip
            results.append(("(b) Run cell click-to-row / bare rerun", f"{click_median:.3f} s / {bare_median:.3f} s",
                            f"{click_median / bare_median:.2f}", f"<= {TARGET_RUN_CELL_RATIO}"))  # fmt: skip

            # (c) server memory (the server process only; kernels are separate processes)
            results.append(("(c) server RSS after the runs", f"{rss_after_runs:.0f} MB", "-", f"<= {TARGET_RSS_MB:.0f} MB"))
            print(f"server RSS: after page loads {rss_after_loads:.0f} MB, after the runs {rss_after_runs:.0f} MB")
            for pid, rss in kernels:
                print(f"  kernel pid {pid} (not counted): {rss:.0f} MB")
        finally:
            browser.close()
            hello.stop()
            app.stop()

    width = max(len(r[0]) for r in results)
    print()
    print(f"{'measure'.ljust(width)}  {'figures':<24}  {'ratio':>6}  {'target':<10}  ok")
    print(f"{'-' * width}  {'-' * 24}  {'-' * 6}  {'-' * 10}  --")
    for name, figures, ratio, target in results:
        value = float(ratio) if ratio != "-" else float(figures.split()[0])
        ok = value <= float(target.split()[1])
        print(f"{name.ljust(width)}  {figures:<24}  {ratio:>6}  {target:<10}  {'yes' if ok else 'NO'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
