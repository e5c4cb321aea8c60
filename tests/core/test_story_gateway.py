"""The story through Enterprise Gateway: `python -m repro_core story` with REPRO_GATEWAY_URL set leases every kernel from
the gateway (tests/gateway_service.py) and must give the fingerprints the same command gives on this machine's kernels.

Two scenarios, two reruns each, stand for the four: factory-tf-seed (reruns in one leased kernel, whose fingerprints
differ rerun to rerun) and fresh-kernel (a new leased kernel per rerun). A rerun's cell does not depend on how many
reruns follow, so they are the first two reruns of the default story on local kernels, shared with the story tests. The
global model through the gateway is the two-server load test's (tests/browser/test_load.py: the drift page's rows, leased
from a gateway, against the CLI's)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from story_runs import default_story

from repro_core.vocabulary import DEFAULT_KERNEL

pytestmark = pytest.mark.kernel
ROOT = Path(__file__).resolve().parents[2]


SCENARIOS = ("factory-tf-seed", "fresh-kernel")
RERUNS = 2


def test_the_story_through_the_gateway_matches_local_kernels_bit_for_bit(gateway):
    env = {**os.environ, **gateway.lab_environment}
    command = [sys.executable, "-m", "repro_core", "story", "--format", "json", "--reruns", str(RERUNS)]  # else the lab's defaults
    command += [arg for name in SCENARIOS for arg in ("--scenario", name)]
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr[-3000:]
    through_gateway: dict[str, list[tuple]] = {}
    for r in json.loads(done.stdout):
        through_gateway.setdefault(r["scenario"], []).append((r["before_sha256"], r["after_sha256"], r["before_sum"], r["after_sum"]))
    local = default_story(DEFAULT_KERNEL, "keras3")  # this machine's kernels, run once per process (story_runs.py)
    here = {r.scenario: [(x.before_sha256, x.after_sha256, x.before_sum, x.after_sum) for x in r.records[:RERUNS]] for r in local}
    assert list(through_gateway) == list(SCENARIOS)
    assert through_gateway == {name: here[name] for name in SCENARIOS}
    log = gateway.log.read_text(encoding="utf-8", errors="replace")
    assert log.count("Kernel started") >= 1, "the story did not lease its kernel from the gateway"
