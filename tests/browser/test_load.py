"""Load: many browser sessions at once against a real server.

1. 8 sessions against a pool capped at 3 kernels: every session clicks "Run N times" on the drift page
   (the factory page's two tables are the hosted-capacity test's); each must finish with a table
   bit-identical to a solo CLI run, those who waited must have been shown their place in the queue,
   and the server must never have more than 3 kernels alive.
2. Hosted capacity: the server runs inside a 2700 MB memory cgroup (Streamlit Community Cloud's
   ceiling) with no kernel cap set, so the pool sizes itself from measured memory; 16 sessions press
   "Run 3 times" at once on the drift and factory pages. No OOM kill, the server alive, every table
   bit-identical to the CLI. The wall time, the 90th-percentile click-to-last-row and the target
   (wall <= 1.5 x the sum of solo click times / 2 cores) are printed, not asserted: machines are noisy.
3. Two servers, one Enterprise Gateway with EG_MAX_KERNELS=3 (tests/gateway_service.py): 8 sessions split across
   them press "Run 3 times" on the drift page. Never more than 3 gateway kernels, none on the servers, every table the CLI's.
"""

from __future__ import annotations

import contextlib
import os
import statistics
import time
from collections.abc import Callable

import pytest
from lab_browser import (
    REPO_ROOT,
    MemoryCgroup,
    StreamlitServer,
    button,
    kernel_pids,
    normalise_sum,
    page_state,
    process_pss_mb,
    process_rss_mb,
    read_grid,
    server_family,
    wait_for_app_run,
)

pytestmark = [pytest.mark.browser, pytest.mark.load]

SESSIONS = 8
CAP = 3
RERUNS = 3  # the sidebar default
TIMEOUT_S = 1200.0
QUEUE_TEXT = "in the queue"
TABLES = {"factory-tf-seed": ".st-key-factory_tf_results", "factory-full-seed": ".st-key-factory_full_results"}


def _alerts(page) -> list[str]:
    """The texts of a page's alerts and status boxes (the last 300 characters of each): why a session did not finish."""
    boxes = page.locator('[data-testid="stAlert"], [data-testid="stExpander"] summary, [data-testid="stStatusWidget"]')
    return [text[-300:] for text in boxes.all_inner_texts()]


def _burst(pages, key: str, tables: dict[str, str], sample: Callable[[], None]) -> tuple[float, list[bool]]:
    """Click `key` on every page at once, then poll until each session is idle with RERUNS rows in every table, calling
    `sample` once per round. Returns the wall time and, per session, whether it was shown its place in the queue."""
    started = time.monotonic()
    for page in pages:
        button(page, key).click()
    waited, finished = [False] * len(pages), [False] * len(pages)
    while not all(finished):
        if time.monotonic() - started > TIMEOUT_S:
            shown = {index: _alerts(page) for index, page in enumerate(pages) if not finished[index]}
            raise AssertionError(f"sessions still running after {TIMEOUT_S:.0f} s: {finished}; what they show: {shown}")
        sample()
        for index, page in enumerate(pages):
            if finished[index]:
                continue
            state = page_state(page, list(tables.values()), QUEUE_TEXT)  # one round trip per session and poll
            assert not state["exceptions"], f"session {index} raised: {state['exceptions']}"
            waited[index] = waited[index] or bool(state["phrase"])
            finished[index] = state["idle"] and state["rows"] == [RERUNS] * len(tables)
        time.sleep(0.3)
    return time.monotonic() - started, waited


def test_eight_sessions_share_three_kernels(browser, cli_story_rows, capsys):
    reference = cli_story_rows  # a solo CLI run at the same settings (browser/conftest.py; shared with the tests below)
    key, tables = PAGES["drift"]
    env = {"REPRO_MAX_KERNELS": str(CAP), "REPRO_IDLE_SECONDS": "600", "REPRO_PREEMPT_SECONDS": "2"}
    with StreamlitServer("app.py", REPO_ROOT, log_name="streamlit-load.log", env=env) as server:
        contexts = [browser.new_context(viewport={"width": 1400, "height": 1600}) for _ in range(SESSIONS)]
        pages = [context.new_page() for context in contexts]
        try:
            _load_all(pages, [f"{server.base_url}/drift"] * SESSIONS)
            max_kernels, peak_mb = 0, 0.0

            def sample() -> None:
                nonlocal max_kernels, peak_mb
                kernels = kernel_pids(server.pid)
                max_kernels = max(max_kernels, len(kernels))
                memory = process_rss_mb(server.pid)
                for pid in kernels:
                    with contextlib.suppress(OSError, RuntimeError):
                        memory += process_rss_mb(pid)
                peak_mb = max(peak_mb, memory)

            wall, waited = _burst(pages, key, tables, sample)
            for index, page in enumerate(pages):
                for scenario, shown in _shown(page, tables).items():
                    assert shown == reference[scenario], f"session {index}, {scenario}: {shown} != solo {reference[scenario]}"
            with capsys.disabled():  # the figures belong in CI's output
                print(f"\nload: {SESSIONS} sessions, cap {CAP}, max kernels seen {max_kernels}, wall {wall:.1f} s, "
                      f"peak memory server+kernels {peak_mb:.0f} MB, sessions shown a queue place {sum(waited)}")  # fmt: skip
            assert max_kernels <= CAP
            assert sum(waited) >= SESSIONS - CAP, "every session that had to wait must have been shown its place"
        finally:
            for context in contexts:
                context.close()


# -- hosted capacity: 16 sessions inside a 2700 MB memory limit, cap from measured memory ----------------------
HOSTED_LIMIT_MB = 2700
HOSTED_SESSIONS = 16
CORES = 2
PAGES = {  # page path -> (its "Run N times" button key, {scenario: the table's container selector})
    "drift": ("drift_run_many", {"global-model": ".st-key-drift_results"}),
    "factory": ("factory_run_many", TABLES),
}


def _open(browser, url: str):
    context = browser.new_context(viewport={"width": 1400, "height": 1600})
    page = context.new_page()
    page.goto(url)
    wait_for_app_run(page)
    return context, page


def _load_all(pages, urls: list[str]) -> None:
    """Navigate every page at once, then wait for each app's first run: the sessions load side by side (as visitors'
    would) instead of one after another; the burst is timed only once all of them are up."""
    for page, url in zip(pages, urls, strict=True):
        page.goto(url, wait_until="commit")
    for page in pages:
        wait_for_app_run(page)


def _done(page, tables: dict[str, str]) -> bool:
    """Has the session finished (script idle, every table at RERUNS rows)?"""
    state = page_state(page, list(tables.values()))  # one round trip per session and poll
    assert not state["exceptions"], f"a session raised: {state['exceptions']}"
    return state["idle"] and all(rows == RERUNS for rows in state["rows"])


def _shown(page, tables: dict[str, str]) -> dict[str, list[tuple[str, str, str]]]:
    return {scenario: [(normalise_sum(r["before sum"]), normalise_sum(r["after sum"]), r["after sha256"][:12])
                       for r in read_grid(page.locator(selector))] for scenario, selector in tables.items()}  # fmt: skip


def _solo_click(browser, base_url: str, name: str) -> float:
    """One session alone: click "Run 3 times" and time it to the last row; the session is closed afterwards."""
    key, tables = PAGES[name]
    context, page = _open(browser, f"{base_url}/{name}")
    try:
        started = time.monotonic()
        button(page, key).click()
        while not _done(page, tables):
            assert time.monotonic() - started < 600, f"solo click on {name} did not finish"
            time.sleep(0.1)
        return time.monotonic() - started
    finally:
        context.close()


def _family_pss_mb(server_pid: int, templates: list[int], kernels: list[int]) -> float:
    total = 0.0
    for pid in [server_pid, *templates, *kernels]:
        with contextlib.suppress(OSError, RuntimeError):
            total += process_pss_mb(pid)
    return total


def test_sixteen_sessions_in_a_2700_mb_memory_limit(browser, cli_story_rows, capsys, require, monkeypatch):
    cgroup, reason = MemoryCgroup.create(f"repro-load-{os.getpid()}", HOSTED_LIMIT_MB)
    require("REQUIRE_CGROUP", cgroup is not None, f"hosted-capacity test needs a writable cgroup-v1 memory controller: {reason}")
    assert cgroup is not None
    monkeypatch.delenv("REPRO_MAX_KERNELS", raising=False)  # no cap: the pool sizes itself from measured memory
    reference = cli_story_rows  # a spawned CLI run, outside the limit
    env = {"REPRO_IDLE_SECONDS": "600", "REPRO_PREEMPT_SECONDS": "2"}
    contexts = []
    try:
        with StreamlitServer("app.py", REPO_ROOT, log_name="streamlit-hosted.log", env=env, cgroup_procs=cgroup.procs) as server:
            _solo_click(browser, server.base_url, "drift")  # warm-up: the first click waits for the template's imports
            solo = {name: _solo_click(browser, server.base_url, name) for name in PAGES}
            names = [name for name in PAGES for _ in range(HOSTED_SESSIONS // len(PAGES))]
            opened = [browser.new_context(viewport={"width": 1400, "height": 1600}) for _ in names]
            contexts += opened
            pages = [context.new_page() for context in opened]
            _load_all(pages, [f"{server.base_url}/{name}" for name in names])
            (cgroup.path / "memory.max_usage_in_bytes").write_text("0")  # peak of the burst only
            started = time.monotonic()
            for name, page in zip(names, pages, strict=True):
                button(page, PAGES[name][0]).click()
            finished: list[float | None] = [None] * len(pages)
            max_kernels, peak_pss = 0, 0.0
            while None in finished:
                assert time.monotonic() - started < TIMEOUT_S, f"sessions still running after {TIMEOUT_S:.0f} s"
                assert server.proc is not None and server.proc.poll() is None, "the server died\n" + server.log_tail()
                templates, kernels = server_family(server.pid)  # one pass over /proc per sample for both figures
                max_kernels = max(max_kernels, len(kernels))
                peak_pss = max(peak_pss, _family_pss_mb(server.pid, templates, kernels))
                for index, (name, page) in enumerate(zip(names, pages, strict=True)):
                    if finished[index] is None and _done(page, PAGES[name][1]):
                        finished[index] = time.monotonic() - started
                time.sleep(0.25)
            wall = max(t for t in finished if t is not None)
            for index, (name, page) in enumerate(zip(names, pages, strict=True)):
                for scenario, rows in _shown(page, PAGES[name][1]).items():
                    assert rows == reference[scenario], f"session {index} ({name}), {scenario}: {rows} != CLI {reference[scenario]}"
            alive = server.proc is not None and server.proc.poll() is None
            oom_kills, failcnt = cgroup.oom_kills(), cgroup.read_int("memory.failcnt")
            peak_usage = cgroup.read_int("memory.max_usage_in_bytes") / 2**20
        solo_sum = sum(solo[name] for name in names)
        target = 1.5 * solo_sum / CORES
        p90 = statistics.quantiles(finished, n=10)[-1]
        with capsys.disabled():
            print(f"\nhosted capacity: {len(pages)} sessions ({', '.join(f'{names.count(n)} on /{n}' for n in PAGES)}) in a "
                  f"{HOSTED_LIMIT_MB} MB memory cgroup, no kernel cap set; max kernels seen {max_kernels}; "
                  f"peak cgroup usage {peak_usage:.0f} MB, peak PSS server+templates+kernels {peak_pss:.0f} MB; "
                  f"OOM kills {oom_kills}, limit hits (failcnt) {failcnt}\n"
                  f"  solo click: /drift {solo['drift']:.1f} s, /factory {solo['factory']:.1f} s; "
                  f"wall {wall:.1f} s, p90 click-to-last-row {p90:.1f} s; "
                  f"target wall <= 1.5 x {solo_sum:.1f} s / {CORES} cores = {target:.1f} s: {'met' if wall <= target else 'NOT met'}")  # fmt: skip
        assert alive, "the server died during the burst"
        assert oom_kills <= 0, f"the OOM killer ended {oom_kills} process(es) in the {HOSTED_LIMIT_MB} MB cgroup"
        assert not cgroup.under_oom()
    finally:
        for context in contexts:
            context.close()
        cgroup.remove()


# -- two lab servers, one Enterprise Gateway (EG_MAX_KERNELS=3) --------------------------------------------------
GATEWAY_SESSIONS = 8


def test_two_servers_share_one_gateways_three_kernels(browser, cli_story_rows, gateway, capsys):
    """8 sessions, 4 on each of two servers, press "Run 3 times" on the drift page at once. Each server's own cap is
    far above 3: only the gateway's limit (its HTTP 403, which queues the visitor) holds them to 3 kernels together.
    Neither server starts a kernel of its own; every table is the CLI's."""
    reference = cli_story_rows["global-model"]
    key, tables = PAGES["drift"]
    env = {**gateway.lab_environment, "REPRO_IDLE_SECONDS": "10", "REPRO_PREEMPT_SECONDS": "2"}
    assert gateway.kernel_count() == 0, "the gateway has kernels another test left"
    with (
        StreamlitServer("app.py", REPO_ROOT, log_name="streamlit-gateway-a.log", env=env) as first,
        StreamlitServer("app.py", REPO_ROOT, log_name="streamlit-gateway-b.log", env=env) as second,
    ):
        servers = [first, second] * (GATEWAY_SESSIONS // 2)
        contexts = [browser.new_context(viewport={"width": 1400, "height": 1600}) for _ in servers]
        pages = [context.new_page() for context in contexts]
        try:
            _load_all(pages, [f"{server.base_url}/drift" for server in servers])
            most, local = 0, 0

            def sample() -> None:
                nonlocal most, local
                most = max(most, gateway.kernel_count())
                local = max(local, len(kernel_pids(first.pid)) + len(kernel_pids(second.pid)))

            wall, waited = _burst(pages, key, tables, sample)
            for index, page in enumerate(pages):
                shown = _shown(page, tables)["global-model"]
                assert shown == reference, f"session {index} (server {index % 2 + 1}): {shown} != the CLI's {reference}"
            with capsys.disabled():
                print(f"\ngateway load: {GATEWAY_SESSIONS} sessions on 2 servers, EG_MAX_KERNELS {gateway.max_kernels}, "
                      f"most gateway kernels seen {most}, wall {wall:.1f} s, sessions shown a queue place {sum(waited)}")  # fmt: skip
            assert most <= gateway.max_kernels
            assert local == 0, "a server started a kernel of its own instead of leasing one from the gateway"
            assert sum(waited) >= GATEWAY_SESSIONS - gateway.max_kernels, "every session that had to wait must have been shown its place"
        finally:
            for context in contexts:
                context.close()
