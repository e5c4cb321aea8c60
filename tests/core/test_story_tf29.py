"""The article's own stack: Python 3.8 + tensorflow-cpu 2.9.3 in a second kernel.

Here, and only here, the article's published figures are the expectation: this test checks that the lab reproduces
them on the version they were published with. Their trained digits need oneDNN's custom operations on, which TF 2.9
does by default only on CPUs with AVX512_VNNI, AVX512_BF16, AVX_VNNI or AMX; with them off the same cell gives other
digits (issue 28). The kernel's fingerprint says which ran, and the test expects that one's.
"""

from __future__ import annotations

import os

import pytest
from kernel_helpers import TF29_AFTER, tf29_after
from story_runs import default_story

from repro_core.kernels.kernel import available_kernels
from repro_core.records import format_sum

pytestmark = pytest.mark.kernel

TF29_KERNEL = os.environ.get("REPRO_TF29_KERNEL", "repro-tf29")


@pytest.fixture(scope="module")
def story(require):
    require("REQUIRE_TF29", TF29_KERNEL in available_kernels(), f"kernelspec {TF29_KERNEL!r} (Python 3.8, TF 2.9.3) is not installed")
    # The default story (all four scenarios, 3 reruns, the article's settings), run once for this and test_timeline_live
    return {r.scenario: r for r in default_story(TF29_KERNEL, "keras3")}


def test_kernel_is_the_articles_stack(story):
    versions = story["factory-tf-seed"].versions
    assert versions.tensorflow.startswith("2.9.") and versions.python.startswith("3.8.")
    assert versions.engine == "keras2"


def test_the_articles_fix_holds_and_matches_its_published_figures(story):
    fix = story["factory-tf-seed"]
    assert fix.verdict == "stable"
    assert [format_sum(r.before_sum) for r in fix.records] == ["-1.3297259211540"] * 3
    expected = tf29_after(fix.versions.machine)  # the article's digits with oneDNN on, the other ones off
    if expected is not None:
        assert [format_sum(r.after_sum) for r in fix.records] == [expected] * 3
    else:
        assert all(abs(r.after_sum - float(TF29_AFTER["on"])) < 1e-6 for r in fix.records)


def test_the_global_model_drifts_as_published(story):
    glob = story["global-model"]
    assert glob.verdict == "drift-chain"
    assert format_sum(glob.records[0].before_sum) == "-1.3297259211540"
    assert glob.records[1].before_sha256 == glob.records[0].after_sha256  # the chain, on any machine
    expected = tf29_after(glob.versions.machine)
    if expected is not None:
        assert format_sum(glob.records[1].before_sum) == expected
    if glob.versions.machine.onednn == "on" and expected is not None:
        assert format_sum(glob.records[1].after_sum) == "-1.0630745515227"  # the article's second figure
    else:
        assert abs(glob.records[1].before_sum - -1.2190857985988) < 1e-6 and abs(glob.records[1].after_sum - -1.0630745515227) < 1e-6
