"""What the machine switches cost in time, measured side by side: the wide network's factory-full-seed cell on the bundled
TensorFlow kernel with the machine's defaults, with oneDNN's custom operations off, with them on, and with one intra-op
thread, in rounds that take the settings in turn (each round reversed) so the machine's noise hits each of them.

Run by hand (not in CI):  python bench/machine_bench.py [--rounds 2] [--reruns 3] [--network wide]
Per setting: the median of the reruns after the first (the first traces the training step), as the kernel's record times
them, and that median as a ratio to the machine's defaults; and whether every round gave the same trained weights.
"""

from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from repro_core.experiments.machines import run_on_machines  # noqa: E402
from repro_core.machine import MachineSettings  # noqa: E402
from repro_core.recipes.settings import network_params  # noqa: E402

SETTINGS = {
    "defaults": MachineSettings(),
    "oneDNN off": MachineSettings(onednn="off"),
    "oneDNN on": MachineSettings(onednn="on"),
    "1 thread": MachineSettings(threads=1),
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--reruns", type=int, default=3)
    parser.add_argument("--network", default="wide")
    args = parser.parse_args()
    params = network_params(args.network, reruns=args.reruns)
    later: dict[str, list[float]] = {name: [] for name in SETTINGS}
    trained: dict[str, set[str]] = {name: set() for name in SETTINGS}
    machine = ""
    for index in range(args.rounds):
        names = list(SETTINGS) if index % 2 == 0 else list(SETTINGS)[::-1]
        for name, run in zip(names, run_on_machines(params, [SETTINGS[n] for n in names]), strict=True):
            seconds = [r.seconds for r in run.result.records]
            later[name].extend(seconds[1:] or seconds)
            trained[name].update(r.after_sha256 for r in run.result.records)
            machine = machine or run.result.versions.machine.summary()
            print(f"round {index + 1} {name:10s} oneDNN {run.result.versions.machine.onednn:3s} reruns {' '.join(f'{s:.2f}' for s in seconds)} s")
    base = statistics.median(later["defaults"])
    print(f"\nmachine: {machine}\nnetwork {args.network}, {args.reruns} reruns per setting, {args.rounds} rounds")
    print(f"{'setting':10s} {'later reruns (median)':>22s} {'/ defaults':>11s}  same trained weights every rerun and round")
    for name in SETTINGS:
        median = statistics.median(later[name])
        print(f"{name:10s} {median:21.2f}s {median / base:11.2f}  {len(trained[name]) == 1}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
