"""The article's story on today's TensorFlow with Keras 3, in real kernels."""

from __future__ import annotations

import pytest
from story_claims import assert_modern_tensorflow_story, run_cell, story_book
from story_runs import default_story

from repro_core.kernels.kernel import CellError
from repro_core.recipes.cells import ARTICLE_FACTORY_CELL
from repro_core.recipes.settings import StoryParams
from repro_core.vocabulary import DEFAULT_KERNEL

pytestmark = pytest.mark.kernel


@pytest.fixture(scope="module")
def story():
    return {r.scenario: r for r in default_story(DEFAULT_KERNEL, "keras3")}  # shared with test_timeline_live


def test_versions_are_reported_by_the_kernel(story):
    versions = story["global-model"].versions
    assert versions.engine == "keras3" and versions.keras.startswith("3.")
    assert versions.kernelspec == "lab-python"
    record = story["global-model"].records[0]
    assert (record.engine, record.tensorflow, record.keras) == (versions.engine, versions.tensorflow, versions.keras)


def test_modern_tensorflow_story(story):
    assert_modern_tensorflow_story(story)


def test_the_articles_lr_cell_fails_on_keras3_and_the_kernel_stays_usable():
    params = StoryParams(engine="keras3")
    with story_book(params) as book:
        with pytest.raises(CellError) as info:
            run_cell(book, params, "factory-tf-seed", code=ARTICLE_FACTORY_CELL)
        assert "lr" in info.value.evalue
        record = run_cell(book, params, "factory-full-seed")
        assert record.rerun == 1 and record.engine == "keras3"
