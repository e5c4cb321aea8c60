"""The same story on the tf_keras engine (TF_USE_LEGACY_KERAS=1), where the article's own cell still runs."""

from __future__ import annotations

import pytest
from story_claims import assert_modern_tensorflow_story, run_cell, story_book
from story_runs import default_story

from repro_core.recipes.cells import ARTICLE_FACTORY_CELL
from repro_core.recipes.settings import StoryParams
from repro_core.records import verdict
from repro_core.vocabulary import DEFAULT_KERNEL

pytestmark = pytest.mark.kernel


@pytest.fixture(scope="module")
def story():
    return {r.scenario: r for r in default_story(DEFAULT_KERNEL, "tf_keras")}  # shared with test_timeline_live


def test_engine_is_tf_keras(story):
    versions = story["factory-tf-seed"].versions
    assert versions.engine == "tf_keras" and versions.keras.startswith("2.")


def test_modern_tensorflow_story(story):
    assert_modern_tensorflow_story(story)


def test_the_articles_own_cell_runs_and_matches_ours(story):
    """`Adam(lr=...)` still works on tf_keras; the article's cell drifts just like our equivalent."""
    params = StoryParams(engine="tf_keras")
    with story_book(params) as book:
        records = [run_cell(book, params, "factory-tf-seed", code=ARTICLE_FACTORY_CELL) for _ in range(3)]
    assert verdict(records) == verdict(story["factory-tf-seed"].records) == "drift"
    ours = story["factory-tf-seed"].records
    assert [(r.before_sha256, r.after_sha256) for r in records] == [(r.before_sha256, r.after_sha256) for r in ours]
