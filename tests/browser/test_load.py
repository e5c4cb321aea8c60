"""Load: 8 browser sessions at once against a real server whose pool allows 3 kernels.

Every session clicks "Run N times" on the factory page. Each must finish with a table
bit-identical to a solo CLI run, those who waited must have been shown their place in the
queue, and the server must never have more than 3 kernels alive. Figures are printed.
"""

from __future__ import annotations

import contextlib
import json
import subprocess
import sys
import time

from lab_browser import (
    REPO_ROOT,
    StreamlitServer,
    button,
    exception_texts,
    grid_row_count,
    kernel_pids,
    normalise_sum,
    process_rss_mb,
    read_grid,
    wait_for_app_run,
)

SESSIONS = 8
CAP = 3
RERUNS = 3  # the sidebar default
TIMEOUT_S = 1200.0
QUEUE_TEXT = "in the queue"
TABLES = {"factory-tf-seed": ".st-key-factory_tf_results", "factory-full-seed": ".st-key-factory_full_results"}


def solo_reference() -> dict[str, list[tuple[str, str, str]]]:
    done = subprocess.run(
        [sys.executable, "-m", "repro_core", "story", "--format", "json", "--reruns", str(RERUNS),
         "--scenario", "factory-tf-seed", "--scenario", "factory-full-seed"],  # fmt: skip
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=600, check=True,
    )
    reference: dict[str, list[tuple[str, str, str]]] = {}
    for record in json.loads(done.stdout):
        reference.setdefault(record["scenario"], []).append(
            ("%.13f" % record["before_sum"], "%.13f" % record["after_sum"], record["after_sha256"][:12])
        )
    return reference


def test_eight_sessions_share_three_kernels(browser, capsys):
    reference = solo_reference()
    env = {"REPRO_MAX_KERNELS": str(CAP), "REPRO_IDLE_SECONDS": "600", "REPRO_PREEMPT_SECONDS": "2"}
    with StreamlitServer("app.py", REPO_ROOT, log_name="streamlit-load.log", env=env) as server:
        contexts = [browser.new_context(viewport={"width": 1400, "height": 1600}) for _ in range(SESSIONS)]
        pages = [context.new_page() for context in contexts]
        try:
            for page in pages:
                page.goto(f"{server.base_url}/factory")
                wait_for_app_run(page)
            started = time.monotonic()
            for page in pages:
                button(page, "factory_run_many").click()
            waited = [False] * SESSIONS
            finished = [False] * SESSIONS
            max_kernels, peak_mb = 0, 0.0
            while not all(finished):
                assert time.monotonic() - started < TIMEOUT_S, f"sessions still running after {TIMEOUT_S:.0f} s: {finished}"
                kernels = kernel_pids(server.pid)
                max_kernels = max(max_kernels, len(kernels))
                memory = process_rss_mb(server.pid)
                for pid in kernels:
                    with contextlib.suppress(OSError, RuntimeError):
                        memory += process_rss_mb(pid)
                peak_mb = max(peak_mb, memory)
                for index, page in enumerate(pages):
                    if finished[index]:
                        continue
                    errors = exception_texts(page)
                    assert not errors, f"session {index} raised: {errors}"
                    if page.get_by_text(QUEUE_TEXT, exact=False).count():
                        waited[index] = True
                    idle = page.locator("[data-testid='stApp'][data-test-script-state='notRunning']").count() == 1
                    rows = [grid_row_count(page.locator(selector)) for selector in TABLES.values()]
                    finished[index] = idle and rows == [RERUNS, RERUNS]
                time.sleep(0.3)
            wall = time.monotonic() - started
            for index, page in enumerate(pages):
                for scenario, selector in TABLES.items():
                    shown = [(normalise_sum(r["before sum"]), normalise_sum(r["after sum"]), r["after sha256"][:12])
                             for r in read_grid(page.locator(selector))]  # fmt: skip
                    assert shown == reference[scenario], f"session {index}, {scenario}: {shown} != solo {reference[scenario]}"
            with capsys.disabled():  # the figures belong in CI's output
                print(f"\nload: {SESSIONS} sessions, cap {CAP}, max kernels seen {max_kernels}, wall {wall:.1f} s, "
                      f"peak memory server+kernels {peak_mb:.0f} MB, sessions shown a queue place {sum(waited)}")  # fmt: skip
            assert max_kernels <= CAP
            assert sum(waited) >= SESSIONS - CAP, "every session that had to wait must have been shown its place"
        finally:
            for context in contexts:
                context.close()
