"""Forked vs spawned kernels, side by side in one run: start time, memory per kernel, story wall time.

Run by hand:  python bench/fork_bench.py [--starts 5] [--kernels 4]
1. Kernel start to setup done (setup cell + environment probe), median of --starts, forked and spawned
   alternately, with the template already running (a server's steady state; its own start is printed
   once). Target fork / spawn <= 0.15.
2. PSS one more live kernel adds after a 3-rerun story: --kernels kernels per mode stay alive, each has
   run what a page's "Run 3 times" leaves in a session's kernel: the setup cell and 3 reruns of one
   scenario (global-model, factory-tf-seed, factory-full-seed in turn). Forked:
   (template + its children now - the template alone before) / kernels; spawned: the kernels' PSS / kernels.
   Target fork / spawn <= 0.3.
3. `python -m repro_core story` wall time (fresh interpreters, defaults), REPRO_FORK=1 / REPRO_FORK=0.
   Target <= 0.65.
Fingerprints are compared across the two modes on the way. Machines are noisy: compare the ratios.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from repro_core.kernels import preloaded  # noqa: E402
from repro_core.kernels.environment import KernelKind, kernel_environment  # noqa: E402
from repro_core.kernels.fork_provisioner import ForkProvider  # noqa: E402
from repro_core.kernels.kernel import LabKernel  # noqa: E402
from repro_core.kernels.proc import child_pids, pss_mb, uss_mb  # noqa: E402
from repro_core.recipes import cells  # noqa: E402
from repro_core.recipes.settings import StoryParams  # noqa: E402

PARAMS = StoryParams()
STORY_CELLS = ("global-model", "factory-tf-seed", "factory-full-seed")
PROVIDER = ForkProvider()  # forks while REPRO_FORK is 1, spawns while it is 0


def set_mode(fork: bool) -> None:
    os.environ["REPRO_FORK"] = "1" if fork else "0"


def start_to_setup(fork: bool) -> tuple[float, str]:
    set_mode(fork)
    started = time.perf_counter()
    kernel = PROVIDER.new_kernel(KernelKind()).start()
    try:
        assert kernel.forked is fork
        kernel.run_cell(cells.story_setup_cell(PARAMS))
        kernel.run_cell(cells.ENVIRONMENT_CELL)
        seconds = time.perf_counter() - started
        first = kernel.run_cell(cells.scenario_cell("factory-tf-seed", PARAMS), {"c": "checksums"}).values["c"]
        return seconds, first["after training"]["sha256"]
    finally:
        kernel.shutdown()


def story_kernels(fork: bool, count: int) -> tuple[list[LabKernel], list[str]]:
    """`count` live kernels, each after the setup cell and 3 reruns of one in-kernel scenario (taken in turn)."""
    set_mode(fork)
    kernels, prints = [], []
    for index in range(count):
        kernel = PROVIDER.new_kernel(KernelKind()).start()
        kernels.append(kernel)
        kernel.run_cell(cells.story_setup_cell(PARAMS))
        for _ in range(3):
            source = cells.scenario_cell(STORY_CELLS[index % len(STORY_CELLS)], PARAMS)
            prints.append(kernel.run_cell(source, {"c": "checksums"}).values["c"]["after training"]["sha256"])
    return kernels, prints


def other_mappers(library: str, ours: set[int | None]) -> int:
    """How many processes outside `ours` map the file `library` (locating TensorFlow imports nothing)."""
    count = 0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) in ours:
            continue
        try:
            if library in (entry / "maps").read_text():
                count += 1
        except OSError:
            continue
    return count


def story_wall(fork: bool) -> float:
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "repro_core", "story", "--format", "csv"], cwd=ROOT, check=True,
                   capture_output=True, env={**os.environ, "REPRO_FORK": "1" if fork else "0"})  # fmt: skip
    return time.perf_counter() - started


def verdict(ratio: float, target: float) -> str:
    return f"{ratio:.3f}  (target <= {target}: {'met' if ratio <= target else 'NOT met'})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--starts", type=int, default=5)
    parser.add_argument("--only", choices=("start", "memory", "story"), help="run one of the three measurements")
    parser.add_argument("--kernels", type=int, default=4)
    args = parser.parse_args()
    template = preloaded.template_for(kernel_environment())
    assert template is not None, "this machine does not fork kernels (Linux with pidfd_open needed)"
    started = time.perf_counter()
    template.ensure_started()
    print(f"template start (once per server and engine): {time.perf_counter() - started:.2f} s, "
          f"{template.baseline_pss_mb:.0f} MB PSS on its own")  # fmt: skip

    if args.only in (None, "start"):
        measure_start(args.starts)
    if args.only in (None, "memory"):
        measure_memory(template, args.kernels)
    if args.only in (None, "story"):
        measure_story()


def measure_start(starts: int) -> None:
    times: dict[bool, list[float]] = {True: [], False: []}
    shas = set()
    for round_no in range(starts):
        for fork in (round_no % 2 == 0, round_no % 2 != 0):  # alternate which goes first
            seconds, sha = start_to_setup(fork)
            times[fork].append(seconds)
            shas.add(sha)
    assert len(shas) == 1, f"forked and spawned kernels disagree: {shas}"
    fork_start, spawn_start = statistics.median(times[True]), statistics.median(times[False])
    print(f"\n1. kernel start to setup done (median of {starts}): forked {fork_start:.2f} s, spawned {spawn_start:.2f} s")
    print(f"   fork / spawn = {verdict(fork_start / spawn_start, 0.15)}")


def measure_memory(template: preloaded.PreloadedInterpreter, count: int) -> None:
    assert template.pid is not None and not child_pids({template.pid}), "the template should have no kernels now"
    template_alone = pss_mb(template.pid)
    forked, fork_prints = story_kernels(True, count)
    fork_family = pss_mb(template.pid) + sum(pss_mb(k.pid) for k in forked)
    fork_added = (fork_family - template_alone) / count
    fork_each = statistics.mean(pss_mb(k.pid) for k in forked)
    fork_uss = statistics.mean(uss_mb(k.pid) for k in forked)
    for kernel in forked:
        kernel.shutdown()
    spawned, spawn_prints = story_kernels(False, count)
    spawn_added = sum(pss_mb(k.pid) for k in spawned) / count
    spawn_uss = statistics.mean(uss_mb(k.pid) for k in spawned)
    library = os.path.join(importlib.util.find_spec("tensorflow").submodule_search_locations[0], "libtensorflow_cc.so.2")
    strangers = other_mappers(library, {os.getpid(), template.pid, *(k.pid for k in spawned)})
    for kernel in spawned:
        kernel.shutdown()
    assert fork_prints == spawn_prints, "forked and spawned kernels disagree on the story's fingerprints"
    print(f"\n2. PSS one more live kernel adds after a 3-rerun story ({count} live kernels per mode):")
    print(f"   forked {fork_added:.0f} MB (template alone {template_alone:.0f} MB; each child's own PSS {fork_each:.0f} MB, "
          f"private {fork_uss:.0f} MB), "
          f"spawned {spawn_added:.0f} MB (private {spawn_uss:.0f} MB)")  # fmt: skip
    print(f"   fork / spawn = {verdict(fork_added / spawn_added, 0.3)}")
    if strangers:
        print(f"   ({strangers} other process(es) on this machine map the same TensorFlow library; PSS gives them a share of "
              f"those pages, which lowers the spawned figure)")  # fmt: skip


def measure_story() -> None:
    """The CLI story in fresh interpreters (each forked run starts its own template)."""
    fork_wall, spawn_wall = story_wall(True), story_wall(False)
    print(f"\n3. python -m repro_core story: REPRO_FORK=1 {fork_wall:.1f} s, REPRO_FORK=0 {spawn_wall:.1f} s")
    print(f"   fork / spawn = {verdict(fork_wall / spawn_wall, 0.65)}")


if __name__ == "__main__":
    main()
