"""Kernel overhead: the same N factory-full-seed reruns, bare in-process vs through repro_core's kernel.

Run by hand (not in CI):  python bench/core_bench.py [--reruns 7] [--rounds 2]
(a) a bare Python process executes the very cells the lab generates (setup once, then the
    factory-full-seed cell N times) and times each rerun itself;
(b) repro_core runs the same cells in a Jupyter kernel; each rerun is timed around CellRunner.run
    in this process, so messaging and result parsing are included.
Rounds alternate (a) and (b) so machine noise hits both. Prints per-rerun ratios b/a and medians.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from repro_core.experiments.story import story_runner  # noqa: E402
from repro_core.kernels.environment import KernelKind, kernel_environment  # noqa: E402
from repro_core.kernels.hosting import private_pool  # noqa: E402
from repro_core.recipes import cells  # noqa: E402
from repro_core.recipes.settings import StoryParams  # noqa: E402

BARE = r"""
import json, os, sys, time
setup, cell, reruns = json.loads(sys.stdin.read())
namespace = {}
exec(compile(setup, "<setup>", "exec"), namespace)
times, fingerprints = [], []
for _ in range(reruns):
    started = time.perf_counter()
    exec(compile(cell, "<cell>", "exec"), namespace)
    times.append(time.perf_counter() - started)
    fingerprints.append(namespace["checksums"]["after training"]["sha256"])
print(json.dumps({"times": times, "fingerprints": fingerprints}))
"""


def bare_run(params: StoryParams) -> dict:
    payload = json.dumps([cells.story_setup_cell(params), cells.scenario_cell("factory-full-seed", params), params.reruns])
    done = subprocess.run(
        [sys.executable, "-c", BARE], input=payload, capture_output=True, text=True, check=True, env=kernel_environment(params.engine)
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def kernel_run(params: StoryParams) -> dict:
    cell = cells.scenario_cell("factory-full-seed", params)
    with private_pool() as pool, pool.lease("bench", KernelKind(engine=params.engine)) as [kernel]:
        runner = story_runner(params).attach(kernel)
        runner.reset()
        times, fingerprints = [], []
        for _ in range(params.reruns):
            started = time.perf_counter()
            record = runner.run(cell, "factory-full-seed")
            times.append(time.perf_counter() - started)
            fingerprints.append(record.after_sha256)
        return {"times": times, "fingerprints": fingerprints}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reruns", type=int, default=7)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--engine", default="keras3")
    args = parser.parse_args()
    params = StoryParams(reruns=args.reruns, engine=args.engine)
    bare_times: list[float] = []
    kernel_times: list[float] = []
    for round_no in range(1, args.rounds + 1):
        bare, kern = bare_run(params), kernel_run(params)
        assert bare["fingerprints"] == kern["fingerprints"], "bare and kernel runs must compute the same weights"
        print(f"round {round_no}: same fingerprints in both ({kern['fingerprints'][0][:12]})")
        bare_times += bare["times"]
        kernel_times += kern["times"]
    print(f"\n{'rerun':>5}  {'bare s':>8}  {'kernel s':>8}  {'ratio':>6}")
    ratios = []
    for index, (a, b) in enumerate(zip(bare_times, kernel_times, strict=True), start=1):
        ratios.append(b / a)
        print(f"{index:>5}  {a:8.3f}  {b:8.3f}  {b / a:6.3f}")
    med_a, med_b = statistics.median(bare_times), statistics.median(kernel_times)
    print(f"\nmedian bare {med_a:.3f} s, median kernel {med_b:.3f} s")
    print(f"median per-rerun ratio (b)/(a): {statistics.median(ratios):.3f}   ratio of medians: {med_b / med_a:.3f}   target <= 1.10")


if __name__ == "__main__":
    main()
