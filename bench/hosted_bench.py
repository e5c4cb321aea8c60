"""Hosted-capacity benchmark, run by hand (not in CI): `python bench/hosted_bench.py` (as root, for the memory limit).

One server in a 2700 MB memory cgroup (Streamlit Community Cloud's ceiling), no kernel cap set (the pool sizes itself
from measured memory), as tests/browser/test_load.py's hosted-capacity test runs it. In one run, side by side:

(a) solo clicks: one session alone presses "Run 3 times" on /drift, then on /factory (after one warm-up click that waits
    for the fork template's TensorFlow imports), each timed to its last row;
(b) a burst: 16 sessions (half on each page) press it at once; wall time to the last session's last row, p90 of
    click-to-last-row, most kernels seen, peak memory (the cgroup's and PSS of server, templates and kernels).

Ratio: burst wall / (the sessions' solo times summed / 2 cores). Target <= 1.5: sharing 2 cores among 16 visitors costs
at most half again the time the same clicks take one after another. The load test asserts what must hold (no OOM kill,
every table the CLI's); this prints how fast. Nothing here imports TensorFlow.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import statistics
import sys
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT / "tests" / "browser"))
sys.path.insert(0, str(REPO_ROOT))

from lab_browser import (  # noqa: E402
    CHROMIUM_ARGS,
    LOAD_VIEWPORT,
    RUN_MANY,
    MemoryCgroup,
    StreamlitServer,
    button,
    chromium_executable,
    load_all,
    process_pss_mb,
    server_family,
    session_finished,
    solo_click,
)

TARGET_RATIO = 1.5
CORES = 2
RERUNS = 3  # the sidebar's default: what "Run 3 times" runs


def family_pss_mb(server_pid: int, templates: list[int], kernels: list[int]) -> float:
    total = 0.0
    for pid in [server_pid, *templates, *kernels]:
        with contextlib.suppress(OSError, RuntimeError):
            total += process_pss_mb(pid)
    return total


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sessions", type=int, default=16, help="sessions in the burst, half on each page (default 16)")
    parser.add_argument("--limit-mb", type=int, default=2700, help="the server's memory cgroup limit (default 2700)")
    args = parser.parse_args()

    chromium = chromium_executable()
    if chromium is None:
        print("Chromium not found; the benchmark needs /usr/bin/chromium", file=sys.stderr)
        return 2
    from playwright.sync_api import sync_playwright

    cgroup, reason = MemoryCgroup.create(f"repro-bench-{os.getpid()}", args.limit_mb)
    print(f"memory limit: {args.limit_mb} MB cgroup at {cgroup.path}" if cgroup else f"memory limit: NONE ({reason})")
    os.environ.pop("REPRO_MAX_KERNELS", None)  # no cap: the pool sizes itself from measured memory
    env = {"REPRO_IDLE_SECONDS": "600", "REPRO_PREEMPT_SECONDS": "2"}
    names = [name for name in RUN_MANY for _ in range(args.sessions // len(RUN_MANY))]
    try:
        with (
            sync_playwright() as playwright,
            StreamlitServer("app.py", REPO_ROOT, log_name="bench-hosted.log", env=env, cgroup_procs=cgroup.procs if cgroup else None) as server,
        ):
            browser = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS, headless=True)
            warm = solo_click(browser, server.base_url, "drift", RERUNS)
            solo = {name: solo_click(browser, server.base_url, name, RERUNS) for name in RUN_MANY}
            print(f"(a) solo clicks: warm-up /drift {warm:.1f} s, then " + ", ".join(f"/{n} {s:.1f} s" for n, s in solo.items()))

            contexts = [browser.new_context(viewport=LOAD_VIEWPORT) for _ in names]
            pages = [context.new_page() for context in contexts]
            load_all(pages, [f"{server.base_url}/{name}" for name in names])
            if cgroup:
                (cgroup.path / "memory.max_usage_in_bytes").write_text("0")  # the burst's peak only
            started = time.monotonic()
            for name, page in zip(names, pages, strict=True):
                button(page, RUN_MANY[name][0]).click()
            finished: list[float | None] = [None] * len(pages)
            max_kernels, peak_pss = 0, 0.0
            while None in finished:
                if server.proc is None or server.proc.poll() is not None:
                    print("the server died:\n" + server.log_tail(), file=sys.stderr)
                    return 1
                templates, kernels = server_family(server.pid)
                max_kernels = max(max_kernels, len(kernels))
                peak_pss = max(peak_pss, family_pss_mb(server.pid, templates, kernels))
                for index, (name, page) in enumerate(zip(names, pages, strict=True)):
                    if finished[index] is None and session_finished(page, RUN_MANY[name][1], RERUNS):
                        finished[index] = time.monotonic() - started
                time.sleep(0.25)
            times = [t for t in finished if t is not None]
            wall, p90 = max(times), statistics.quantiles(times, n=10, method="inclusive")[-1]
            for context in contexts:
                context.close()
            browser.close()
        solo_sum = sum(solo[name] for name in names)
        ratio = wall / (solo_sum / CORES)
        memory = ""
        if cgroup:
            memory = (f"; peak cgroup usage {cgroup.read_int('memory.max_usage_in_bytes') / 2**20:.0f} MB, OOM kills {cgroup.oom_kills()}, "
                      f"limit hits (failcnt) {cgroup.read_int('memory.failcnt')}")  # fmt: skip
        print(f"(b) burst: {len(pages)} sessions ({', '.join(f'{names.count(n)} on /{n}' for n in RUN_MANY)}); wall {wall:.1f} s, "
              f"p90 click-to-last-row {p90:.1f} s; most kernels {max_kernels}; "
              f"peak PSS server+templates+kernels {peak_pss:.0f} MB{memory}")  # fmt: skip
        print()
        print(f"{'measure':<44}  {'figures':<26}  {'ratio':>6}  target  ok")
        print(f"{'burst wall / (solo clicks summed / cores)':<44}  {f'{wall:.1f} s / ({solo_sum:.1f} s / {CORES})':<26}  {ratio:>6.2f}  "
              f"<= {TARGET_RATIO}  {'yes' if ratio <= TARGET_RATIO else 'NO'}")  # fmt: skip
    finally:
        if cgroup:
            cgroup.remove()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
