"""Load: many browser sessions at once against a real server. What is asserted: caps held, no OOM kill, every table
(the page's CSV download) bit-identical to a solo CLI run. How fast and how much memory is bench/hosted_bench.py's.
Each session sets 2 epochs in its sidebar first (LOAD_EPOCHS; the CLI run too): kernels, queue and memory are what is
under load here, not training.

1. 4 sessions against a pool capped at 2 kernels (two rounds): every session clicks "Run N times" on the drift page
   (the factory page's three tables are the hosted-capacity test's); each must finish with a table
   bit-identical to a solo CLI run, those who waited must have been shown their place in the queue,
   and the server must never have more than 2 kernels alive.
2. Hosted capacity: the server runs inside a 2700 MB memory cgroup (Streamlit Community Cloud's
   ceiling) with no kernel cap set, so the pool sizes itself from measured memory; 16 sessions (12 on the drift page,
   4 on the factory page, whose three recipes take a kernel each: 24 kernels asked for at once) press "Run 3 times".
   No OOM kill, the server alive, every table bit-identical to the CLI. (The wall time against the solo clicks and the
   peak memory: `python bench/hosted_bench.py`.)
3. Two servers, one Enterprise Gateway with EG_MAX_KERNELS=3 (tests/gateway_service.py): 6 sessions split across
   them press "Run 3 times" on the drift page. Never more than 3 gateway kernels, none on the servers, every table the CLI's.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable

import pytest
from lab_browser import (
    LOAD_EPOCHS,
    LOAD_VIEWPORT,
    REPO_ROOT,
    RUN_MANY,
    MemoryCgroup,
    StreamlitServer,
    button,
    fingerprinted_rows,
    kernel_pids,
    load_all,
    page_state,
    results_selector,
    solo_click,
)

pytestmark = [pytest.mark.browser, pytest.mark.load]

SESSIONS = 4  # two rounds on CAP kernels: half of them wait
CAP = 2
RERUNS = 3  # the sidebar default
TIMEOUT_S = 1200.0
QUEUE_TEXT = "in the queue"


def _alerts(page) -> list[str]:
    """The texts of a page's alerts and status boxes (the last 300 characters of each): why a session did not finish."""
    boxes = page.locator('[data-testid="stAlert"], [data-testid="stExpander"] summary, [data-testid="stStatusWidget"]')
    return [text[-300:] for text in boxes.all_inner_texts()]


def _burst(pages, names: list[str], sample: Callable[[], None], queue: bool = True) -> list[bool]:
    """Click "Run N times" on every page at once (pages[i] shows RUN_MANY[names[i]]), then poll until each session is idle
    with RERUNS rows in every table, calling `sample` once per round. Returns, per session, whether it was shown its
    place in the queue (looked for only with `queue`: it reads the page's whole text)."""
    started = time.monotonic()
    for page, name in zip(pages, names, strict=True):
        button(page, RUN_MANY[name][0]).click()
    waited, finished = [False] * len(pages), [False] * len(pages)
    while not all(finished):
        if time.monotonic() - started > TIMEOUT_S:
            shown = {index: _alerts(page) for index, page in enumerate(pages) if not finished[index]}
            raise AssertionError(f"sessions still running after {TIMEOUT_S:.0f} s: {finished}; what they show: {shown}")
        sample()
        for index, (page, name) in enumerate(zip(pages, names, strict=True)):
            if finished[index]:
                continue
            scenarios = RUN_MANY[name][1]
            state = page_state(page, [results_selector(scenario) for scenario in scenarios], QUEUE_TEXT if queue else "")  # one trip
            assert not state["exceptions"], f"session {index} raised: {state['exceptions']}"
            waited[index] = waited[index] or bool(state["phrase"])
            finished[index] = state["idle"] and state["rows"] == [RERUNS] * len(scenarios)
        time.sleep(1.0)  # every poll runs JavaScript in each page; a queued session waits a whole round of reruns
    return waited


def _assert_tables_are_the_clis(pages, names: list[str], reference: dict[str, list]) -> None:
    """Every session's tables, as its CSV downloads give them, equal the solo CLI run's rows of the same scenario."""
    for index, (page, name) in enumerate(zip(pages, names, strict=True)):
        for scenario in RUN_MANY[name][1]:
            shown = fingerprinted_rows(page, scenario)
            assert shown == reference[scenario], f"session {index} (/{name}), {scenario}: {shown} != the CLI's {reference[scenario]}"


def _sessions(browser, count: int) -> tuple[list, list]:
    contexts = [browser.new_context(viewport=LOAD_VIEWPORT) for _ in range(count)]
    return contexts, [context.new_page() for context in contexts]


def test_four_sessions_share_two_kernels(browser, cli_story_rows, capsys):
    names = ["drift"] * SESSIONS
    env = {"REPRO_MAX_KERNELS": str(CAP), "REPRO_IDLE_SECONDS": "600", "REPRO_PREEMPT_SECONDS": "2"}
    with StreamlitServer("app.py", REPO_ROOT, log_name="streamlit-load.log", env=env) as server:
        contexts, pages = _sessions(browser, SESSIONS)
        try:
            load_all(pages, [f"{server.base_url}/{name}" for name in names], LOAD_EPOCHS)
            max_kernels = 0

            def sample() -> None:
                nonlocal max_kernels
                max_kernels = max(max_kernels, len(kernel_pids(server.pid)))

            waited = _burst(pages, names, sample)
            _assert_tables_are_the_clis(pages, names, cli_story_rows)  # a solo CLI run at the same settings (browser/conftest.py)
            with capsys.disabled():
                print(f"\nload: {SESSIONS} sessions, cap {CAP}, max kernels seen {max_kernels}, sessions shown a queue place {sum(waited)}")
            assert max_kernels <= CAP
            assert sum(waited) >= SESSIONS - CAP, "every session that had to wait must have been shown its place"
        finally:
            for context in contexts:
                context.close()


# -- hosted capacity: 16 sessions inside a 2700 MB memory limit, cap from measured memory ----------------------
HOSTED_LIMIT_MB = 2700
HOSTED_SESSIONS = {"drift": 12, "factory": 4}  # 16 visitors; a factory session runs its three recipes, a kernel each: 24 kernels asked for


def test_sixteen_sessions_in_a_2700_mb_memory_limit(browser, cli_story_rows, capsys, require, monkeypatch):
    cgroup, reason = MemoryCgroup.create(f"repro-load-{os.getpid()}", HOSTED_LIMIT_MB)
    require("REQUIRE_CGROUP", cgroup is not None, f"hosted-capacity test needs a writable cgroup-v1 memory controller: {reason}")
    assert cgroup is not None
    monkeypatch.delenv("REPRO_MAX_KERNELS", raising=False)  # no cap: the pool sizes itself from measured memory
    env = {"REPRO_IDLE_SECONDS": "600", "REPRO_PREEMPT_SECONDS": "2"}
    names = [name for name, count in HOSTED_SESSIONS.items() for _ in range(count)]
    contexts = []
    try:
        with StreamlitServer("app.py", REPO_ROOT, log_name="streamlit-hosted.log", env=env, cgroup_procs=cgroup.procs) as server:
            solo_click(browser, server.base_url, "drift", RERUNS, epochs=LOAD_EPOCHS)  # as visitors find it: the template has imported TensorFlow
            contexts, pages = _sessions(browser, len(names))
            load_all(pages, [f"{server.base_url}/{name}" for name in names], LOAD_EPOCHS)

            def sample() -> None:
                assert server.proc is not None and server.proc.poll() is None, "the server died\n" + server.log_tail()

            _burst(pages, names, sample, queue=False)
            _assert_tables_are_the_clis(pages, names, cli_story_rows)  # a spawned CLI run, outside the limit
            alive = server.proc is not None and server.proc.poll() is None
            oom_kills, failcnt = cgroup.oom_kills(), cgroup.read_int("memory.failcnt")
        with capsys.disabled():
            print(f"\nhosted capacity: {len(pages)} sessions ({', '.join(f'{names.count(n)} on /{n}' for n in RUN_MANY)}) in a "
                  f"{HOSTED_LIMIT_MB} MB memory cgroup, no kernel cap set; OOM kills {oom_kills}, limit hits (failcnt) {failcnt}")  # fmt: skip
        assert alive, "the server died during the burst"
        assert oom_kills <= 0, f"the OOM killer ended {oom_kills} process(es) in the {HOSTED_LIMIT_MB} MB cgroup"
        assert not cgroup.under_oom()
    finally:
        for context in contexts:
            context.close()
        cgroup.remove()


# -- two lab servers, one Enterprise Gateway (EG_MAX_KERNELS=3) --------------------------------------------------
GATEWAY_SESSIONS = 6  # 3 on each server: two rounds on the gateway's 3 kernels


def test_two_servers_share_one_gateways_three_kernels(browser, cli_story_rows, gateway, capsys):
    """6 sessions, 3 on each of two servers, press "Run 3 times" on the drift page at once. Each server's own cap is
    far above 3: only the gateway's limit (its HTTP 403, which queues the visitor) holds them to 3 kernels together.
    Neither server starts a kernel of its own; every table is the CLI's."""
    names = ["drift"] * GATEWAY_SESSIONS
    env = {**gateway.lab_environment, "REPRO_IDLE_SECONDS": "10", "REPRO_PREEMPT_SECONDS": "2"}
    assert gateway.kernel_count() == 0, "the gateway has kernels another test left"
    with (
        StreamlitServer("app.py", REPO_ROOT, log_name="streamlit-gateway-a.log", env=env) as first,
        StreamlitServer("app.py", REPO_ROOT, log_name="streamlit-gateway-b.log", env=env) as second,
    ):
        servers = [first, second] * (GATEWAY_SESSIONS // 2)
        contexts, pages = _sessions(browser, len(servers))
        try:
            load_all(pages, [f"{server.base_url}/drift" for server in servers], LOAD_EPOCHS)
            most, local = 0, 0

            def sample() -> None:
                nonlocal most, local
                most = max(most, gateway.kernel_count())
                local = max(local, len(kernel_pids(first.pid)) + len(kernel_pids(second.pid)))

            waited = _burst(pages, names, sample)
            _assert_tables_are_the_clis(pages, names, cli_story_rows)
            with capsys.disabled():
                print(f"\ngateway load: {GATEWAY_SESSIONS} sessions on 2 servers, EG_MAX_KERNELS {gateway.max_kernels}, "
                      f"most gateway kernels seen {most}, sessions shown a queue place {sum(waited)}")  # fmt: skip
            assert most <= gateway.max_kernels
            assert local == 0, "a server started a kernel of its own instead of leasing one from the gateway"
            assert sum(waited) >= GATEWAY_SESSIONS - gateway.max_kernels, "every session that had to wait must have been shown its place"
        finally:
            for context in contexts:
                context.close()
