"""Assertions shared by the Keras 3 and tf_keras story tests: claims pinned by comparing runs."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from repro_core.experiments.runner import CellRunner
from repro_core.experiments.story import ScenarioResult, story_runner
from repro_core.kernels.environment import KernelKind
from repro_core.kernels.hosting import private_pool
from repro_core.recipes import cells
from repro_core.recipes.settings import StoryParams
from repro_core.records import RunRecord
from repro_core.vocabulary import DEFAULT_KERNEL


def fingerprints(result: ScenarioResult) -> list[tuple[str, str]]:
    return [(r.before_sha256, r.after_sha256) for r in result.records]


def assert_modern_tensorflow_story(results: dict[str, ScenarioResult]) -> None:
    """What TF >= 2.10 does to the article's scenarios, checked run against run (no literals)."""
    glob, tf_seed = results["global-model"], results["factory-tf-seed"]
    full, fresh = results["factory-full-seed"], results["fresh-kernel"]
    major, minor = (int(p) for p in glob.versions.tensorflow.split(".")[:2])
    assert (major, minor) >= (2, 10), glob.versions

    # Re-fitting one global model: every rerun continues from the last one's weights.
    assert glob.verdict == "drift-chain"
    chain = fingerprints(glob)
    assert all(after == nxt_before for (_, after), (nxt_before, _) in zip(chain, chain[1:], strict=False))
    assert all(r.after_sum == n.before_sum for r, n in zip(glob.records, glob.records[1:], strict=False))

    # The article's fix: a new model after tf.random.set_seed still starts somewhere new each time.
    assert tf_seed.verdict == "drift"
    befores = [b for b, _ in fingerprints(tf_seed)]
    assert len(set(befores)) == len(befores), "every rerun should start from different weights"

    # Seeding Python, NumPy and TF together makes every rerun bit-identical.
    assert full.verdict == "stable"
    assert len(set(fingerprints(full))) == 1

    # Restart-and-run-all: each fresh kernel reproduces the first rerun of the article's fix.
    assert fresh.verdict == "stable"
    assert fingerprints(fresh)[0] == fingerprints(tf_seed)[0]
    assert fresh.records[0].before_sum == tf_seed.records[0].before_sum

    for result in results.values():
        assert [r.rerun for r in result.records] == [1, 2, 3]
        assert all(r.seconds > 0 for r in result.records)


@contextmanager
def story_book(params: StoryParams, kernel_name: str = DEFAULT_KERNEL) -> Iterator[CellRunner]:
    """A story notebook on a kernel leased from a pool of the test's own (shut down afterwards)."""
    with private_pool() as pool, pool.lease("test", KernelKind(kernel_name, params.engine), keep=False) as [kernel]:
        yield story_runner(params).attach(kernel)


def run_cell(runner: CellRunner, params: StoryParams, scenario: str, code: str | None = None) -> RunRecord:
    """Shift-Enter on the scenario's cell (or on `code`), as a page's Run cell does."""
    return runner.run(code if code is not None else cells.scenario_cell(scenario, params), scenario)
