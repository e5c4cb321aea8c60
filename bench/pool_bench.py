"""Warm-spare effect: time from "a visitor clicks" to the first row, with a warm spare vs without.

Run by hand:  python bench/pool_bench.py [--rounds 3]
Each round (alternating, so machine noise hits both): a pool with a warm spare that has had
time to warm up, and a pool without one; both serve one new session that runs one rerun
of the article's fix. Prints the medians and the ratio (target <= 0.5).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from repro_core.experiments.story import run_scenario, story_notebook  # noqa: E402
from repro_core.kernels.environment import KernelKind  # noqa: E402
from repro_core.kernels.pool import KernelPool  # noqa: E402
from repro_core.recipes.settings import StoryParams  # noqa: E402


def first_row_seconds(warm: bool) -> tuple[float, str]:
    pool = KernelPool(cap=2, warm_spare=warm)
    try:
        if warm:
            while pool.stats()["spare"] == 0:
                time.sleep(0.1)
        started = time.perf_counter()
        params = StoryParams(reruns=1)
        with pool.lease("visitor", KernelKind()) as [kernel]:
            record = run_scenario(story_notebook(params).attach(kernel), "factory-tf-seed", params).records[0]
        return time.perf_counter() - started, record.after_sha256
    finally:
        pool.shutdown()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    warm_times, cold_times = [], []
    for round_no in range(1, args.rounds + 1):
        warm, warm_sha = first_row_seconds(True)
        cold, cold_sha = first_row_seconds(False)
        assert warm_sha == cold_sha, "a warm spare must give the same weights as a cold kernel"
        warm_times.append(warm)
        cold_times.append(cold)
        print(f"round {round_no}: warm spare {warm:.2f} s, no spare {cold:.2f} s (same fingerprint {warm_sha[:12]})")
    warm_med, cold_med = statistics.median(warm_times), statistics.median(cold_times)
    print(f"\nfirst click to first row: warm {warm_med:.2f} s / cold {cold_med:.2f} s = {warm_med / cold_med:.2f}   target <= 0.5")


if __name__ == "__main__":
    main()
