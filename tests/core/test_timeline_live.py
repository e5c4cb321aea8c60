"""Re-run live the releases CI has kernels for and require the committed reports' fingerprints.

CI has two of the timeline's releases: the Python 3.8 + TF 2.9.3 kernel (`repro-tf29`; the timeline
recorded 2.9.3 on Python 3.10) and the bundled kernel (`lab-python`). Each is run once (module-scoped)
with the timeline's settings. Trained weights must repeat bit for bit where the live kernel's machine traits are the
report's (its numerics fingerprint: oneDNN, threads, cores, CPU features; not the CPU's name); elsewhere the initial
weights and verdicts must. A mismatch is a finding about machines or Pythons, so the failure shows both sets of
fingerprints side by side, with the traits and versions of each.
"""

from __future__ import annotations

import os

import pytest
from kernel_helpers import trained_digits_comparable
from story_runs import default_story

from repro_core.judgement import judge_each
from repro_core.kernels.kernel import DEFAULT_KERNEL, available_kernels
from repro_core.machine import Fingerprint, block_summary
from repro_core.records import RunRecord
from repro_core.results.timeline import TimelineEntry, load_timeline, release_of_version
from repro_core.vocabulary import requested_engine

pytestmark = pytest.mark.kernel

TF29_KERNEL = os.environ.get("REPRO_TF29_KERNEL", "repro-tf29")


@pytest.fixture(scope="module")
def recorded() -> dict[tuple[str, str], TimelineEntry]:
    return {(e.release, e.engine): e for e in load_timeline()}


def live_records(kernel: str, engine: str) -> list[RunRecord]:
    """The four scenarios with the timeline's (default) settings, as `python -m timeline` runs them."""
    return [record for result in default_story(kernel, requested_engine(engine)) for record in result.records]


def live_machine(kernel: str, engine: str) -> Fingerprint:
    """The live kernel's numerics fingerprint (the same story run as live_records)."""
    return default_story(kernel, requested_engine(engine))[0].versions.machine


@pytest.fixture(scope="module")
def tf29(require) -> list[RunRecord]:
    require("REQUIRE_TF29", TF29_KERNEL in available_kernels(), f"kernelspec {TF29_KERNEL!r} (Python 3.8, TF 2.9.3) is not installed")
    return live_records(TF29_KERNEL, "keras2")


@pytest.fixture(scope="module")
def bundled_keras3() -> list[RunRecord]:
    return live_records(DEFAULT_KERNEL, "keras3")


@pytest.fixture(scope="module")
def bundled_tf_keras() -> list[RunRecord]:
    return live_records(DEFAULT_KERNEL, "tf_keras")


def side_by_side(entry: TimelineEntry, live: list[RunRecord]) -> str:
    """Every (scenario, rerun): the recorded and live before/after fingerprints (16 chars), with a mark where they differ."""
    kernel, first = entry.report.kernel, live[0]
    lines = [
        f"recorded {entry.path}: Python {kernel.get('python')}, TF {kernel.get('tensorflow')}, {kernel.get('engine')} {kernel.get('keras')}, "
        f"numpy {kernel.get('numpy')}, {block_summary(entry.report.machine) or 'CPU ' + entry.report.machine.get('cpu', '?')}",
        f"live {first.kernelspec}: Python {first.python}, TF {first.tensorflow}, {first.engine} {first.keras}, "
        f"{live_machine(first.kernelspec, first.engine).summary()}",
        f"{'scenario':<18} {'rerun':>5}  {'recorded before':<16} {'live before':<16}  {'recorded after':<16} {'live after':<16}",
    ]
    mine = {(r.scenario, r.rerun): r for r in live}
    for theirs in entry.report.records:
        ours = mine.get((theirs.scenario, theirs.rerun))
        ob, oa = (ours.before_sha256[:16], ours.after_sha256[:16]) if ours else ("-", "-")
        mark = "" if ours and (ours.before_sha256, ours.after_sha256) == (theirs.before_sha256, theirs.after_sha256) else "  <- differs"
        pair = f"{theirs.before_sha256[:16]:<16} {ob:<16}  {theirs.after_sha256[:16]:<16} {oa:<16}"
        lines.append(f"{theirs.scenario:<18} {theirs.rerun:>5}  {pair}{mark}")
    return "\n".join(lines)


def assert_same_fingerprints(recorded: dict, release: str, engine: str, live: list[RunRecord]) -> None:
    entry = recorded.get((release, engine))
    assert entry is not None, f"no committed report for TensorFlow {release} {engine}"
    assert entry.report.records, f"{entry.path} has no records: {entry.report.error}"
    fingerprints = lambda rows: {(r.scenario, r.rerun): (r.before_sha256, r.after_sha256) for r in rows}  # noqa: E731
    if trained_digits_comparable(entry.report.machine, live_machine(live[0].kernelspec, live[0].engine)):
        assert fingerprints(live) == fingerprints(entry.report.records), "live and recorded fingerprints differ:\n" + side_by_side(entry, live)
        return
    # other machine traits: the same initial weights and the same verdicts (the lab's claims), trained digits of their own
    # (a global model's rerun 2 starts from rerun 1's trained weights, so only its rerun 1 is initial weights)
    initial = lambda rows: {(r.scenario, r.rerun): r.before_sha256 for r in rows if r.rerun == 1 or r.scenario != "global-model"}  # noqa: E731
    assert initial(live) == initial(entry.report.records), "live and recorded initial weights differ:\n" + side_by_side(entry, live)
    assert {n: j.outcome.name for n, j in judge_each(live).items()} == entry.report.verdicts(), side_by_side(entry, live)


def test_tf29_kernel_matches_the_recorded_2_9_report(recorded, tf29):
    assert tf29[0].engine == "keras2"
    assert_same_fingerprints(recorded, release_of_version(tf29[0].tensorflow), "keras2", tf29)


def test_bundled_kernel_matches_its_release_on_keras3(recorded, bundled_keras3):
    assert bundled_keras3[0].engine == "keras3"
    assert_same_fingerprints(recorded, release_of_version(bundled_keras3[0].tensorflow), "keras3", bundled_keras3)


def test_bundled_kernel_matches_its_release_on_tf_keras(recorded, bundled_tf_keras):
    assert bundled_tf_keras[0].engine == "tf_keras"
    assert_same_fingerprints(recorded, release_of_version(bundled_tf_keras[0].tensorflow), "tf_keras", bundled_tf_keras)
