"""The seed switches and the backends in the one vocabulary, the cells written from them, and `records.repeats`
(no kernel: what the kernels make of these cells is in tests/core/test_backend_kernels.py)."""

from __future__ import annotations

import ast
import json

import pytest

from repro_core.recipes import cells
from repro_core.recipes.settings import StoryParams
from repro_core.records import RunRecord, repeats
from repro_core.results.report import build_report, parse_report, report_json
from repro_core.validation import Refusal
from repro_core.vocabulary import (
    BACKEND_REPORT_SCENARIOS,
    BACKENDS,
    RESEEDS,
    SCENARIOS,
    STORY_SCENARIOS,
    SWITCH_SCENARIOS,
    Recipe,
    switch_scenario_name,
)


def test_every_reseed_has_one_factory_scenario_and_the_report_holds_each_once():
    assert [SCENARIOS[name].reseed for name in SWITCH_SCENARIOS] == list(RESEEDS)
    assert all(SCENARIOS[name].model == "factory" for name in SWITCH_SCENARIOS)
    assert switch_scenario_name("tf") == "factory-tf-seed" and switch_scenario_name("full") == "factory-full-seed"
    assert BACKEND_REPORT_SCENARIOS[: len(STORY_SCENARIOS)] == STORY_SCENARIOS
    assert len(set(BACKEND_REPORT_SCENARIOS)) == len(BACKEND_REPORT_SCENARIOS) == len(STORY_SCENARIOS) + len(RESEEDS) - 2


def test_a_reseed_is_a_set_of_generators_named_by_each_backends_own_call():
    assert RESEEDS["python-tf"].code("tensorflow") == "random.seed + tf.random.set_seed"
    assert RESEEDS["python-tf"].code("torch") == "random.seed + torch.manual_seed"
    assert RESEEDS["tf"].code("jax") == "no backend seed on JAX"
    assert RESEEDS["full"].code("jax") == "keras.utils.set_random_seed"
    assert Recipe("factory", "numpy").title_on("torch") == "factory + np.random.seed"


@pytest.mark.parametrize("backend", list(BACKENDS))
@pytest.mark.parametrize("scenario", list(SCENARIOS))
def test_cells_on_each_backend_are_python_and_call_only_that_backends_seed(backend, scenario):
    params = StoryParams(seed=77, backend=backend)
    setup, cell = cells.story_setup_cell(params), cells.scenario_cell(scenario, params)
    ast.parse(setup), ast.parse(cell)
    reseed, lines = RESEEDS[SCENARIOS[scenario].reseed], cell.splitlines()
    assert ("random.seed(77)" in lines) == ("python" in reseed.generators and not reseed.everything)
    assert ("np.random.seed(77)" in lines) == ("numpy" in reseed.generators and not reseed.everything)
    assert ("keras.utils.set_random_seed(77)" in lines) == reseed.everything
    if backend == "tensorflow":
        assert "KERAS_BACKEND" not in setup and "tf.random.set_seed(77)" in setup
        assert ("tf.random.set_seed(77)" in lines) == ("backend" in reseed.generators and not reseed.everything)
        return
    # Keras 3 itself, its backend set in the cell before Keras is imported, and no TensorFlow anywhere.
    assert setup.index(f'os.environ["KERAS_BACKEND"] = "{backend}"') < setup.index("\nimport keras")
    code = [line.split("#")[0] for line in (setup + cell).splitlines()]
    assert not [line for line in code if "tensorflow" in line or "tf." in line]
    assert "x = keras.ops.ones((3, 3))" in setup
    if backend == "torch":
        assert "import torch" in setup and "torch.manual_seed(77)" in setup
        assert ("torch.manual_seed(77)" in lines) == ("backend" in reseed.generators and not reseed.everything)
    else:
        assert "No backend seed: JAX has no global generator" in setup
        assert ("No backend seed" in cell) == ("backend" in reseed.generators and not reseed.everything)


def test_tensorflow_cells_are_unchanged_by_the_backends():
    """The committed TensorFlow reports were made with these exact lines (the article's cell, word for word but lr)."""
    cell = cells.scenario_cell("factory-tf-seed", StoryParams())
    head = "# The article's fix: reseed TensorFlow, then build a NEW model, compile and fit it.\n"
    assert cell.startswith(head + "tf.random.set_seed(1234)\nmodel = MLP()\n")
    assert "from tensorflow import keras" in cells.story_setup_cell(StoryParams()) and "x = tf.ones((3, 3))" in cells.story_setup_cell(StoryParams())


def test_only_keras3_runs_on_jax_and_torch_and_your_model_stays_on_tensorflow():
    with pytest.raises(Refusal, match="only Keras 3 runs on jax"):
        StoryParams(backend="jax", engine="tf_keras")
    with pytest.raises(Refusal, match="backend must be one of"):
        StoryParams(backend="mxnet")
    from repro_core.recipes.model_spec import ModelSpec

    with pytest.raises(Refusal, match="TensorFlow kernels only"):
        cells.setup_cell(ModelSpec(), "keras3", backend="torch")


def _record(k: int, before: str, after: str, **extra) -> RunRecord:
    return RunRecord("factory-python-seed", k, 0.5, 0.25, before * 64, after * 64, 0.1, "3.11.7", "", "3.15.1", "keras3", "keras-jax", **extra)


def test_repeats_tells_initial_from_trained_weights():
    assert repeats([_record(1, "a", "b")]) == repeats([]) and repeats([]).initial is None
    found = repeats([_record(1, "a", "b"), _record(2, "a", "c"), _record(3, "a", "d")])
    assert (found.initial, found.trained) == (True, False)
    assert found.words == "initial weights repeat, trained weights differ"
    assert repeats([_record(1, "a", "b"), _record(2, "c", "b")]) .initial is False
    assert repeats([_record(1, "a", "b"), _record(2, "a", "b")]).words == "initial weights repeat, trained weights repeat"


def test_a_report_keeps_the_backend_and_reads_old_records_as_tensorflow():
    records = [_record(1, "a", "b", backend="jax", backend_version="0.10.2"), _record(2, "a", "b", backend="jax", backend_version="0.10.2")]
    back = parse_report(report_json(build_report(records, {"backend": "jax", "seed": 1234}, None)))
    assert [(r.backend, r.backend_version, r.tensorflow) for r in back.records] == [("jax", "0.10.2", "")] * 2
    assert back.settings["backend"] == "jax"
    old = json.loads(report_json(build_report(records, {}, None)))
    for item in old["records"]:
        del item["backend"], item["backend_version"]
    old["schema_version"] = 2
    assert {r.backend for r in parse_report(json.dumps(old)).records} == {"tensorflow"}
    hostile = json.loads(report_json(build_report(records, {}, None)))
    hostile["records"][0]["backend"] = "<script>"
    with pytest.raises(Refusal, match="backend"):
        parse_report(json.dumps(hostile))
