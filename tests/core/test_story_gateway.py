"""The story through Enterprise Gateway: `python -m repro_core story` with REPRO_GATEWAY_URL set leases every kernel from
the gateway (tests/gateway_service.py) and must give the fingerprints the same command gives on this machine's kernels."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from story_runs import default_story

from repro_core.vocabulary import DEFAULT_KERNEL, STORY_SCENARIOS

pytestmark = pytest.mark.kernel
ROOT = Path(__file__).resolve().parents[2]


def test_the_four_scenarios_through_the_gateway_match_local_kernels_bit_for_bit(gateway):
    env = {**os.environ, **gateway.lab_environment}
    command = [sys.executable, "-m", "repro_core", "story", "--format", "json"]  # every scenario, the lab's defaults
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr[-3000:]
    through_gateway: dict[str, list[tuple]] = {}
    for r in json.loads(done.stdout):
        through_gateway.setdefault(r["scenario"], []).append((r["before_sha256"], r["after_sha256"], r["before_sum"], r["after_sum"]))
    local = default_story(DEFAULT_KERNEL, "keras3")  # this machine's kernels, run once per process (story_runs.py)
    here = {r.scenario: [(x.before_sha256, x.after_sha256, x.before_sum, x.after_sum) for x in r.records] for r in local}
    assert list(through_gateway) == list(STORY_SCENARIOS)
    assert through_gateway == here
    log = gateway.log.read_text(encoding="utf-8", errors="replace")
    assert log.count("Kernel started") >= 1, "the story did not lease its kernel from the gateway"
