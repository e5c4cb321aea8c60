"""Parameters, generated cells and verdict rules (pure logic, no kernel needed)."""

from __future__ import annotations

import ast
import math

import pytest

from repro_core.judgement import judge
from repro_core.recipes import cells
from repro_core.recipes.settings import StoryParams
from repro_core.records import RunRecord, verdict
from repro_core.validation import Refusal
from repro_core.vocabulary import SCENARIOS


def test_defaults_are_the_articles():
    p = StoryParams()
    assert (p.seed, p.epochs, p.batch_size, p.learning_rate, p.engine) == (1234, 10, 1, 0.001, "keras3")


@pytest.mark.parametrize(
    "kwargs, fragment",
    [
        ({"reruns": 0}, "reruns"),
        ({"reruns": 11}, "reruns"),
        ({"seed": -1}, "seed"),
        ({"seed": 2**31}, "seed"),
        ({"seed": "1; import os"}, "seed"),
        ({"epochs": 2.5}, "epochs"),
        ({"epochs": True}, "epochs"),
        ({"learning_rate": math.nan}, "learning rate"),
        ({"learning_rate": 0}, "learning rate"),
        ({"learning_rate": "0.1"}, "learning rate"),
        ({"engine": "jax"}, "engine"),
    ],
)
def test_bad_values_are_rejected_with_a_clear_message(kwargs, fragment):
    with pytest.raises(Refusal, match=fragment):
        StoryParams(**kwargs)


def test_integral_floats_from_widgets_are_accepted():
    assert StoryParams(reruns=4.0, epochs=3.0).reruns == 4


@pytest.mark.parametrize("scenario", list(SCENARIOS))
def test_cells_are_valid_python_and_embed_the_validated_values(scenario):
    params = StoryParams(seed=77, epochs=5, batch_size=2, learning_rate=0.01)
    source = cells.scenario_cell(scenario, params)
    ast.parse(source)
    assert ("77)" in source) == (SCENARIOS[scenario].reseed != "none")
    assert "epochs=5" in source and "batch_size=2" in source and "learning_rate=0.01" in source
    ast.parse(cells.story_setup_cell(params))
    assert "tf.random.set_seed(77)" in cells.story_setup_cell(params)


def test_article_cell_keeps_lr_and_ours_uses_learning_rate():
    assert "Adam(lr=0.001" in cells.ARTICLE_FACTORY_CELL
    ours = cells.scenario_cell("factory-tf-seed", StoryParams())
    assert "Adam(learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-08)" in ours
    assert "lr=" not in ours.replace("learning_rate=", "")


def _rec(k: int, before: str, after: str) -> RunRecord:
    return RunRecord("s", k, 0.0, 0.0, before, after, 0.1, "3", "2", "3", "keras3", "lab-python")


def test_verdict_rules():
    assert verdict([_rec(1, "a", "b")]) == "single-run"
    assert verdict([_rec(1, "a", "b"), _rec(2, "a", "b")]) == "stable"
    assert verdict([_rec(1, "a", "b"), _rec(2, "b", "c"), _rec(3, "c", "d")]) == "drift-chain"
    assert verdict([_rec(1, "a", "b"), _rec(2, "c", "d")]) == "drift"
    assert verdict([_rec(1, "a", "b"), _rec(2, "a", "c")]) == "drift"
    assert judge([_rec(1, "a", "b"), _rec(2, "a", "b"), _rec(3, "a", "c")]).same_as_first == (True, True, False)
