"""A hosted server capped at 2 kernels: two visitors run the recipe matrix at the page's maximum parallelism while a
third runs the audit and a fourth the drift page. The pool owns every kernel, so the server never has more than 2
kernel processes, however much each page asks for; every page finishes with all its rows (the matrices their whole grid,
which they show only when every recipe ran) and the drift rows, as the page's CSV download gives them, equal the CLI's.
"""

from __future__ import annotations

import threading
import time

import pytest
from lab_browser import (
    LOAD_EPOCHS,
    LOAD_VIEWPORT,
    REPO_ROOT,
    StreamlitServer,
    button,
    fingerprinted_rows,
    kernel_pids,
    page_state,
    set_epochs,
    set_sidebar_number,
    wait_for_app_run,
)

from repro_core.experiments.matrix import PARALLELISM_MAX, MatrixOptions

pytestmark = [pytest.mark.browser, pytest.mark.load]

CAP = 2
RERUNS = 3  # the sidebar's default, used by the drift page
TIMEOUT_S = 1200.0


class KernelCounter(threading.Thread):
    """Samples the number of kernel processes under the server every 0.1 s until stopped."""

    def __init__(self, server_pid: int) -> None:
        super().__init__(daemon=True)
        self.server_pid, self.most, self.samples = server_pid, 0, 0
        self.done = threading.Event()

    def run(self) -> None:
        while not self.done.is_set():
            self.most = max(self.most, len(kernel_pids(self.server_pid)))
            self.samples += 1
            time.sleep(0.1)


def test_the_cap_holds_across_sessions_and_pages(browser, cli_story_rows, capsys):
    reference = cli_story_rows["global-model"]  # the CLI's drift rows at the same settings (browser/conftest.py)
    env = {"REPRO_HOSTED": "1", "REPRO_MAX_KERNELS": str(CAP), "REPRO_PREEMPT_SECONDS": "2", "REPRO_CLICK_BUDGET": "100"}
    with StreamlitServer("app.py", REPO_ROOT, log_name="streamlit-hosted-cap.log", env=env) as server:
        counter = KernelCounter(server.pid)
        counter.start()
        contexts = [browser.new_context(viewport=LOAD_VIEWPORT) for _ in range(4)]
        matrix_a, matrix_b, audit, drift = pages = [context.new_page() for context in contexts]
        try:
            for page, path in zip(pages, ("matrix", "matrix", "your-model", "drift"), strict=True):
                page.goto(f"{server.base_url}/{path}")
                wait_for_app_run(page)
            for page in (matrix_a, matrix_b):
                set_sidebar_number(page, "matrix_parallelism", PARALLELISM_MAX)
                set_sidebar_number(page, "matrix_reruns", 1)
                set_sidebar_number(page, "matrix_epochs", 1)
            set_epochs([drift], LOAD_EPOCHS)  # the CLI rows' epochs (browser/conftest.py)
            started = time.monotonic()
            for page, key in ((matrix_a, "matrix_run"), (matrix_b, "matrix_run"), (audit, "model_run"), (drift, "drift_run_many")):
                button(page, key).click()
            queued = set()
            grid = len(MatrixOptions().recipes())  # the matrix page's default grid: models x DEFAULT_RESEEDS x engines
            wanted = {0: grid, 1: grid, 2: 3, 3: RERUNS}  # audit: its reruns follow the sidebar (3)
            finished: set[int] = set()
            while len(finished) < len(pages):
                assert time.monotonic() - started < TIMEOUT_S, f"still running after {TIMEOUT_S:.0f} s: {sorted(finished)}"
                for index, page in enumerate(pages):
                    if index in finished:
                        continue
                    selector = '[data-testid="stMain"]' if index < 2 else (".st-key-model_results" if index == 2 else ".st-key-global-model_results")
                    state = page_state(page, [selector], "in the queue")  # one round trip per session and poll
                    assert not state["exceptions"], state["exceptions"]
                    if state["phrase"]:
                        queued.add(index)
                    if state["idle"] and state["rows"] == [wanted[index]]:
                        finished.add(index)
                time.sleep(0.3)
            counter.done.set()
            counter.join(5)

            shown = fingerprinted_rows(drift, "global-model")
            assert shown == reference, f"drift page {shown} != CLI {reference}"
            with capsys.disabled():
                print(f"\nhosted cap: {len(pages)} sessions (2 matrices at parallelism {PARALLELISM_MAX}, audit, drift), cap {CAP}, "
                      f"most kernel processes seen {counter.most} in {counter.samples} samples, "
                      f"sessions shown a queue place {len(queued)}")  # fmt: skip
            assert counter.samples > 50
            assert 1 <= counter.most <= CAP
            assert queued, "with 4 sessions on 2 kernels, someone must have been shown a place in the queue"
        finally:
            counter.done.set()
            for context in contexts:
                context.close()
