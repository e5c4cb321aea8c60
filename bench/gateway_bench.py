"""Kernels leased from Enterprise Gateway vs spawned on this machine, side by side in one run.

Run by hand:  python bench/gateway_bench.py [--cells 20] [--stories 1]
(needs `python tests/gateway_service.py --provision-only` once: EG 3.3.0 in .venv-gateway; this script starts it)
1. A trivial cell's round trip (`run_cell("1")`, execute request to idle status), median of --cells, on one kernel of
   each kind, alternating. Target through the gateway <= 15 ms.
2. `python -m repro_core story` wall time (fresh interpreters, the lab's defaults), REPRO_GATEWAY_URL set / REPRO_FORK=0
   (local spawned kernels: a gateway's kernels are full processes too), alternating. Target gateway / spawned <= 1.10.
The two stories' fingerprints are compared on the way. Machines are noisy: compare the ratios.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

import gateway_service  # noqa: E402

from repro_core.kernels.environment import KernelKind  # noqa: E402
from repro_core.kernels.gateway import GatewayProvider  # noqa: E402
from repro_core.kernels.kernel import LabKernel  # noqa: E402
from repro_core.kernels.provider import SpawnProvider  # noqa: E402


def verdict(value: float, target: float) -> str:
    return f"(target <= {target}: {'met' if value <= target else 'NOT met'})"


def round_trips(kernels: dict[str, LabKernel], cells: int) -> dict[str, float]:
    """Median milliseconds per trivial cell, for each kernel, measured in turns so both see the same machine."""
    for kernel in kernels.values():
        for _ in range(3):
            kernel.run_cell("1")  # warm-up: the first cells pay for compiling and the socket's slow start
    seconds: dict[str, list[float]] = {name: [] for name in kernels}
    for _ in range(cells):
        for name, kernel in kernels.items():
            started = time.perf_counter()
            kernel.run_cell("1")
            seconds[name].append(time.perf_counter() - started)
    return {name: statistics.median(values) * 1000 for name, values in seconds.items()}


def story(env: dict[str, str]) -> tuple[float, list[tuple]]:
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "repro_core", "story", "--format", "json"], cwd=ROOT, check=True,
                          capture_output=True, text=True, env={**os.environ, **env})  # fmt: skip
    wall = time.perf_counter() - started
    return wall, [(r["scenario"], r["before_sha256"], r["after_sha256"]) for r in json.loads(done.stdout)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cells", type=int, default=20, help="trivial cells per kind (median; default 20)")
    parser.add_argument("--stories", type=int, default=1, help="story runs per kind (best of; default 1)")
    args = parser.parse_args()
    gateway_service.provision()
    with gateway_service.running_gateway(max_kernels=4) as gateway:
        settings = gateway.settings
        kernels = {"gateway": GatewayProvider(settings).new_kernel(KernelKind(), "bench"), "spawned": SpawnProvider().new_kernel(KernelKind())}
        try:
            for kernel in kernels.values():
                kernel.start()
            trips = round_trips(kernels, args.cells)
        finally:
            for kernel in kernels.values():
                kernel.shutdown()
        print(f"1. trivial cell round trip, median of {args.cells}: gateway {trips['gateway']:.1f} ms, spawned {trips['spawned']:.1f} ms")
        print(f"   gateway {trips['gateway']:.1f} ms {verdict(trips['gateway'], 15)}")

        through = gateway.lab_environment
        walls: dict[str, list[float]] = {"gateway": [], "spawned": []}
        prints = {}
        for _ in range(args.stories):
            for name, env in (("gateway", through), ("spawned", {"REPRO_FORK": "0"})):
                wall, prints[name] = story(env)
                walls[name].append(wall)
        gateway_wall, spawned_wall = min(walls["gateway"]), min(walls["spawned"])
        assert prints["gateway"] == prints["spawned"], "the story's fingerprints differ through the gateway"
        ratio = gateway_wall / spawned_wall
        print(f"2. python -m repro_core story wall: gateway {gateway_wall:.1f} s, spawned {spawned_wall:.1f} s (fingerprints equal)")
        print(f"   gateway / spawned {ratio:.3f} {verdict(ratio, 1.10)}")


if __name__ == "__main__":
    main()
