"""diagnose without kernels: reading scripts and notebooks, where two recorded runs part, ULPs, the doctor's lines, the
hosted refusal, and the command's exit status 2 for bad input (before any kernel starts)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from repro_core import cli
from repro_core.experiments.diagnose import DiagnoseOptions, FitTrace, RunTrace, first_divergence, setup_cells, switch_fix, ulps
from repro_core.kernels.hosting import CodeRefused, check_code_allowed, hosting_from_environment
from repro_core.recipes import cells, scripts, switches
from repro_core.recipes.scripts import ScriptProblem, ScriptSyntaxError, load_script
from repro_core.records import KernelVersions

SCRIPT = """import os
os.environ["KERAS_BACKEND"] = "jax"
import keras
import numpy as np

rng = np.random.default_rng()
x = rng.permutation(10)
model = keras.Sequential([keras.layers.Dense(1)])
model.fit(x, x)
"""


def test_a_script_is_read_not_run():
    script = load_script(SCRIPT, "train.py")
    reading = scripts.read(script)
    assert reading.prelude_end == 4 and reading.model_line == 8 and reading.shuffle_line == 7 and reading.fit_lines == (9,)
    assert [(u.line, u.call, u.text) for u in reading.unseeded] == [(6, "np.random.default_rng", "rng = np.random.default_rng()")]
    assert reading.unseeded[0].seeded_text(42) == "rng = np.random.default_rng(42)"
    seeded = scripts.read(load_script("import random\nrandom.seed(1)\nr = random.Random()\ng = np.random.default_rng(3)\n", "s.py"))
    assert seeded.seeding == (2,) and [u.line for u in seeded.unseeded] == [3]


def test_a_notebook_runs_as_its_code_cells_joined_and_lines_are_named_by_cell():
    notebook = {"cells": [{"cell_type": "markdown", "source": "# hi"}, {"cell_type": "code", "source": ["%matplotlib inline\n", "import keras\n"]},
                          {"cell_type": "code", "source": "x = 1\ny = 2\n"}], "nbformat": 4}  # fmt: skip
    script = load_script(json.dumps(notebook), "run.ipynb", "uploaded")
    assert script.source == "# (IPython, left out by the lab) %matplotlib inline\nimport keras\nx = 1\ny = 2\n"
    assert script.cells == (1, 3) and script.where(4) == "cell 2, line 2"
    moved = scripts.insert_lines(script, 3, "import random\nrandom.seed(1)")
    assert moved.source.splitlines()[2:4] == ["import random", "random.seed(1)"] and moved.where(6) == "cell 2, line 2"


@pytest.mark.parametrize(
    "data, name, error, words",
    [
        ("def f(:\n", "bad.py", ScriptSyntaxError, "syntax error at line 1"),
        ("x = 1\n", "notes.txt", ScriptProblem, ".py file or an .ipynb"),
        (b"\xff\xfe", "bin.py", ScriptProblem, "not UTF-8"),
        ("{", "broken.ipynb", ScriptProblem, "not valid JSON"),
        ("#" * (scripts.SCRIPT_MAX_BYTES + 1), "huge.py", ScriptProblem, "the limit is"),
        ("   \n", "empty.py", ScriptProblem, "empty"),
    ],
    ids=["syntax", "extension", "utf8", "notebook-json", "size", "empty"],
)
def test_bad_scripts_are_refused_with_one_sentence(data, name, error, words):
    with pytest.raises(error, match=words):
        load_script(data, name)


def fit(initial, inputs, steps, final) -> FitTrace:
    return FitTrace("m", ["conv", "conv", "dense"], ["conv/kernel", "conv/bias", "dense/kernel"],
                    [{"name": "x", "digest": inputs, "kind": "array"}], initial, steps, final, len(steps))  # fmt: skip


def trace(run, *fits) -> RunTrace:
    return RunTrace(run, list(fits), 1.0, KernelVersions("3.11", "2.21.0", "3.15.1", "keras3", "lab-python"))


def test_the_first_divergence_is_the_first_point_training_passes():
    base = fit(["a", "b", "c"], "x1", [["a1", "b1", "c1"], ["a2", "b2", "c2"]], ["a2", "b2", "c2"])
    assert first_divergence(trace(1, base), trace(2, base)) is None
    found = first_divergence(trace(1, base), trace(2, fit(["a", "B", "c"], "x2", base.steps, base.final)))
    assert (found.stage, found.fit, found.step, found.layer, found.weight) == ("initial-weights", 1, None, "conv", "conv/bias")
    found = first_divergence(trace(1, base), trace(2, fit(base.initial, "x2", base.steps, base.final)))
    assert (found.stage, found.inputs, found.layer) == ("fit-inputs", ("x",), None)
    found = first_divergence(trace(1, base, base), trace(3, base, fit(base.initial, "x1", [base.steps[0], ["a2", "b2", "C2"]], base.final)))
    assert (found.stage, found.fit, found.step, found.layer, found.run) == ("training-step", 2, 2, "dense", 3)
    found = first_divergence(trace(1, base), trace(2, fit(base.initial, "x1", base.steps, ["a2", "b2", "Z"])))
    assert (found.stage, found.layer) == ("final-weights", "dense")
    assert first_divergence(trace(1, base), trace(2, base, base)).note == "run 1 called fit 1 time(s), run 2 2"


def test_ulps_count_representable_floats_between_two_values():
    one = np.array([1.0, -0.0, 0.0, -1.0], dtype=np.float32)
    two = np.array([np.nextafter(np.float32(1.0), np.float32(2.0)), 0.0, np.float32(1e-45), np.nextafter(np.float32(-1.0), np.float32(0))],
                   dtype=np.float32)  # fmt: skip
    assert list(ulps(one, two)) == [1.0, 0.0, 1.0, 1.0]
    assert ulps(np.array([1.0]), np.array([1.0 + 2**-52]))[0] == 1.0


def test_the_doctors_switches_are_data_with_lines_per_engine_and_backend():
    assert switches.CANDIDATES[-1] == ("keras", "op-determinism")
    assert switches.switch_lines(("backend",), "keras3", "jax", 1) is None  # JAX has no global seed
    assert switches.switch_lines(("keras",), "tf_keras", "tensorflow", 5) == {"after-imports": "import tf_keras\ntf_keras.utils.set_random_seed(5)\n"}
    versions = KernelVersions("3.11", "", "3.15.1", "keras3", "keras-jax", backend="jax")
    script = load_script(SCRIPT, "train.py")
    fix = switch_fix(("keras",), script, scripts.read(script), versions, 1234, "initial-weights")
    assert (fix.line, fix.text) == (5, "import keras\nkeras.utils.set_random_seed(1234)\n")
    assert fix.where == "after the imports (line 4), before the model is built (line 8)"
    assert fix.apply(script).source.splitlines()[4:6] == ["import keras", "keras.utils.set_random_seed(1234)"]


def test_the_cells_before_the_script_seed_nothing_and_show_the_recorder():
    cells_before = setup_cells(DiagnoseOptions())
    assert cells_before[1] == cells.RECORDER_IN_KERNEL and "Model.fit" in cells_before[1]
    assert not any(word in "".join(cells_before) for word in ("seed(", "set_random_seed", "set_seed"))
    with pytest.raises(ValueError, match="runs must be between 2"):
        DiagnoseOptions(runs=1)


def test_a_hosted_demo_refuses_visitors_code_unless_the_operator_allows_it_with_a_gateway(monkeypatch):
    monkeypatch.delenv("REPRO_GATEWAY_URL", raising=False)
    monkeypatch.setenv("REPRO_HOSTED", "1")
    for kind in ("typed", "uploaded"):
        with pytest.raises(CodeRefused, match="REPRO_ALLOW_CODE=1 and its kernels do not come from a gateway"):
            check_code_allowed(hosting_from_environment(), kind)
    check_code_allowed(hosting_from_environment(), "example")
    monkeypatch.setenv("REPRO_ALLOW_CODE", "1")
    with pytest.raises(CodeRefused, match="gateway"):
        check_code_allowed(hosting_from_environment(), "typed")  # allowed by the operator, but kernels would run here
    monkeypatch.setenv("REPRO_GATEWAY_URL", "http://127.0.0.1:9")
    assert hosting_from_environment().allow_code
    monkeypatch.delenv("REPRO_HOSTED")
    monkeypatch.delenv("REPRO_ALLOW_CODE")
    monkeypatch.delenv("REPRO_GATEWAY_URL")
    assert hosting_from_environment().allow_code  # one's own machine


def test_the_command_exits_2_for_bad_input_before_any_kernel(tmp_path, capsys):
    assert cli.main(["diagnose", str(tmp_path / "missing.py")]) == 2
    assert "no such file" in capsys.readouterr().err
    bad = tmp_path / "bad.py"
    bad.write_text("model.fit(\n", encoding="utf-8")
    assert cli.main(["diagnose", str(bad)]) == 2
    assert "syntax error at line 1" in capsys.readouterr().err
    assert cli.main(["diagnose", str(bad), "--runs", "1"]) == 2
    assert cli.main(["diagnose", str(bad), "--kernel", "no-such-kernel"]) == 2
