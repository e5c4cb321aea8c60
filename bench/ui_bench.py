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
    process_rss_mb,
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
from repro_core import StoryParams, cells

params = StoryParams(seed=1234, reruns=3, epochs=10, engine="keras3")
scope = {}
t0 = time.perf_counter()
exec(cells.setup_cell(params), scope)          # imports tensorflow, builds the global model
setup = time.perf_counter() - t0
cell = cells.scenario_cell("global-model", params)  # the drift page's cell: compile + fit 10 epochs
exec(cell, scope)                               # warm-up rerun
times = []
for _ in range(int(sys.argv[1])):
    t0 = time.perf_counter()
    exec(cell, scope)
    times.append(time.perf_counter() - t0)
import tensorflow as tf
print(json.dumps({"setup": setup, "reruns": times, "tensorflow": tf.__version__, "keras": scope["keras"].__version__}))
"""


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


def click_until_row(tab, button_key: str, container_key: str) -> tuple[float, int]:
    """Click a Run button and time until the table has one more row than before."""
    before = rows_shown(tab, container_key)
    started = time.perf_counter()
    button(tab, button_key).click()
    tab.wait_for_function(
        """([key, n]) => { const t = document.querySelector('.st-key-' + key + ' table[role=grid]');
                          return t && Number(t.getAttribute('aria-rowcount')) - 1 > n; }""",
        arg=[container_key, before],
        timeout=CLICK_TIMEOUT_MS,
        polling="raf",
    )
    elapsed = time.perf_counter() - started
    wait_for_app_run(tab, CLICK_TIMEOUT_MS)
    errors = tab.locator('[data-testid="stException"]').all_inner_texts()
    if errors:
        raise RuntimeError("the app raised:\n" + "\n".join(errors))
    return elapsed, rows_shown(tab, container_key)


def bare_reruns(count: int) -> dict:
    done = subprocess.run(
        [sys.executable, "-c", BARE_RERUN, str(count)], cwd=REPO_ROOT, capture_output=True, text=True, timeout=900, check=False
    )
    if done.returncode != 0:
        raise RuntimeError(f"bare rerun script failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


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
    parser.add_argument("--loads", type=int, default=5, help="measured page loads per page (default 5)")
    parser.add_argument("--clicks", type=int, default=5, help="measured Run cell clicks (default 5)")
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

            # (b) Run cell on a warm kernel vs one bare in-process rerun
            ctx = browser.new_context(viewport=viewport)
            tab = ctx.new_page()
            tab.goto(f"{app.base_url}/drift")
            wait_for_app_run(tab)
            button(tab, "drift_run_cell").wait_for(state="visible")
            warm, _ = click_until_row(tab, "drift_run_cell", "drift_results")
            print(f"warm-up click (kernel start + TF import + rerun 1): {warm:.2f} s")
            clicks = []
            for _ in range(args.clicks):
                elapsed, rows = click_until_row(tab, "drift_run_cell", "drift_results")
                clicks.append(elapsed)
            print(f"Run cell clicks (s): {', '.join(f'{t:.3f}' for t in clicks)} (table now {rows} rows)")
            rss_after_runs = process_rss_mb(app.pid)
            kernels = [(pid, process_rss_mb(pid)) for pid in child_pids(app.pid) if "kernel" in cmdline(pid)]
            ctx.close()

            bare = bare_reruns(args.clicks)
            print(f"bare reruns (s): {', '.join(f'{t:.3f}' for t in bare['reruns'])} "
                  f"(TensorFlow {bare['tensorflow']}, Keras {bare['keras']}; setup {bare['setup']:.2f} s)")  # fmt: skip
            click_median, bare_median = statistics.median(clicks), statistics.median(bare["reruns"])
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
