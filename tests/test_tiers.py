"""The fast tier's guard (tests/conftest.py): an unmarked test cannot start a kernel, spawned or forked, nor a template."""

from __future__ import annotations

import pytest

from repro_core.kernels.environment import KernelKind, kernel_environment
from repro_core.kernels.fork_provisioner import ForkProvider
from repro_core.kernels.kernel import KernelStartError
from repro_core.kernels.preloaded import PreloadedInterpreter
from repro_core.kernels.provider import SpawnProvider


@pytest.mark.parametrize("provider", [ForkProvider, SpawnProvider], ids=["forked", "spawned"])
def test_an_unmarked_test_cannot_start_a_kernel(fast_tier_refusals, monkeypatch, provider):
    monkeypatch.setenv("REPRO_FORK", "1")  # where forking works, the fork provider's kernel goes through its provisioner
    kernel = provider().new_kernel(KernelKind())
    try:
        with pytest.raises(KernelStartError, match="not marked: mark it @pytest.mark.kernel"):
            kernel.start()
    finally:
        kernel.shutdown()
    assert fast_tier_refusals == ["launched a Jupyter kernel"]
    fast_tier_refusals.clear()  # refused, as it must be: not a failure of this test


def test_an_unmarked_test_cannot_start_a_fork_template(fast_tier_refusals):
    template = PreloadedInterpreter(kernel_environment())
    try:
        with pytest.raises(RuntimeError, match="started a fork template"):
            template.ensure_started()
    finally:
        template.stop()
    assert fast_tier_refusals == ["started a fork template (TensorFlow's imports)"]
    fast_tier_refusals.clear()


def test_the_test_commands_steps_run_every_test_exactly_once():
    """scripts/test.sh's -m expressions (fast; kernels, browser and load) must partition every combination of marks,
    or a test would run twice or never. Evaluated with pytest's own marker-expression parser."""
    import itertools
    import re
    from pathlib import Path

    from _pytest.mark.expression import Expression  # what `pytest -m` itself uses

    script = (Path(__file__).resolve().parents[1] / "scripts" / "test.sh").read_text(encoding="utf-8")
    steps = {name: Expression.compile(text) for name, text in re.findall(r'^(FAST|SLOW)="([^"]+)"$', script, re.M)}
    assert sorted(steps) == ["FAST", "SLOW"]
    for step in steps:
        assert f'"${step}"' in script, f"the step {step} is defined but never run"
    marks = ("kernel", "browser", "load")
    for present in itertools.product([False, True], repeat=len(marks)):
        have = {mark for mark, on in zip(marks, present, strict=True) if on}
        selected = [name for name, expression in steps.items() if expression.evaluate(lambda mark, have=have: mark in have)]
        assert len(selected) == 1, f"a test marked {sorted(have) or 'nothing'} runs in {selected or 'no step'}"
