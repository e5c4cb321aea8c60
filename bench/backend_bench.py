"""Rerun time per Keras 3 backend, measured side by side: the same factory-full-seed cell on TensorFlow (the bundled
kernel), JAX (keras-jax) and PyTorch (keras-torch, when provisioned), in rounds that take the backends in turn so the
machine's noise hits each of them.

Run by hand (not in CI):  python bench/backend_bench.py [--reruns 4] [--rounds 2]
Per backend: the first rerun of a fresh kernel (it traces or compiles the training step) and the median of the later ones,
both as the kernel's record times them (the cell's own clock), and the later reruns' median as a ratio to TensorFlow's.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from repro_core.experiments.story import run_story  # noqa: E402
from repro_core.kernels.kernel import available_kernels  # noqa: E402
from repro_core.recipes.settings import StoryParams  # noqa: E402
from repro_core.vocabulary import DEFAULT_KERNEL, backend_label  # noqa: E402

KERNELS = {"tensorflow": DEFAULT_KERNEL, "jax": "keras-jax", "torch": "keras-torch"}
SCENARIO = "factory-full-seed"


def one_round(backend: str, reruns: int) -> tuple[list[float], float, str]:
    """(each rerun's seconds, the wall time of the whole run: kernel start, setup and reruns, the last after-training SHA)."""
    started = time.perf_counter()
    [result] = run_story(StoryParams(reruns=reruns, backend=backend), [SCENARIO], KERNELS[backend])
    return [r.seconds for r in result.records], time.perf_counter() - started, result.records[-1].after_sha256


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reruns", type=int, default=4)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    installed = available_kernels()
    backends = [b for b, kernel in KERNELS.items() if kernel in installed]
    missing = [f"{b} ({KERNELS[b]})" for b in KERNELS if b not in backends]
    print(f"backends: {', '.join(backends)}" + (f"; not provisioned: {', '.join(missing)}" if missing else ""))
    first: dict[str, list[float]] = {b: [] for b in backends}
    later: dict[str, list[float]] = {b: [] for b in backends}
    walls: dict[str, list[float]] = {b: [] for b in backends}
    fingerprints: dict[str, set[str]] = {b: set() for b in backends}
    for index in range(args.rounds):
        order = backends if index % 2 == 0 else backends[::-1]
        for backend in order:
            seconds, wall, sha = one_round(backend, args.reruns)
            first[backend].append(seconds[0])
            later[backend].extend(seconds[1:])
            walls[backend].append(wall)
            fingerprints[backend].add(sha)
            print(f"round {index + 1} {backend_label(backend):10s} reruns {' '.join(f'{s:.2f}' for s in seconds)} s, whole run {wall:.1f} s")
    base = statistics.median(later["tensorflow"]) if "tensorflow" in later and later["tensorflow"] else None
    print(f"\n{'backend':10s} {'rerun 1':>8s} {'later (median)':>15s} {'whole run':>10s} {'later / TF':>11s}  same trained weights every round")
    for backend in backends:
        median = statistics.median(later[backend]) if later[backend] else float("nan")
        ratio = f"{median / base:.2f}" if base else "-"
        print(f"{backend_label(backend):10s} {statistics.median(first[backend]):7.2f}s {median:14.2f}s {statistics.median(walls[backend]):9.1f}s "
              f"{ratio:>11s}  {len(fingerprints[backend]) == 1}")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
