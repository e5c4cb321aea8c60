"""`diagnose` on real kernels, TensorFlow and JAX: one small script per stage where two runs part, the doctor's fix for
each, and the fix applied to the script giving runs that repeat. The scripts import `keras` (Keras 3), so each runs on
either backend as the kernel has it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from repro_core.experiments.diagnose import DiagnoseOptions, diagnose
from repro_core.kernels.kernel import available_kernels
from repro_core.kernels.kernelspecs import backend_for, kernelspec_info
from repro_core.recipes.scripts import load_script

ROOT = Path(__file__).resolve().parents[2]
DATA = """
x = np.linspace(-1, 1, 64, dtype="float32").reshape(32, 2)
y = (x[:, 0] ** 2 - x[:, 1]).astype("float32")
"""
FIT = 'model.compile(optimizer="adam", loss="mse")\nmodel.fit(x, y, epochs=2, batch_size=8, shuffle=False, verbose=0)\n'
# The first layer has no weights: the first layer with a random initializer is "dense".
MODEL = ("model = keras.Sequential([keras.Input(shape=(2,)), keras.layers.Rescaling(1.0), keras.layers.Dense(4, activation='relu'), "
         "{extra}keras.layers.Dense(1)])\n")
SCRIPTS = {
    # Python's random never seeded: the initializers draw different seeds.
    "initial-weights": "import keras\nimport numpy as np\n" + DATA + MODEL.format(extra="") + FIT,
    # Everything seeded, then the data shuffled by a NumPy Generator made without a seed.
    "fit-inputs": "import keras\nimport numpy as np\n\nkeras.utils.set_random_seed(7)\n" + DATA
    + "rng = np.random.default_rng()\norder = rng.permutation(len(x))\nx, y = x[order], y[order]\n" + MODEL.format(extra="") + FIT,
    # Everything seeded, but the Dropout layer's seed comes from an unseeded Generator.
    "training-step": "import keras\nimport numpy as np\n\nkeras.utils.set_random_seed(7)\n" + DATA
    + MODEL.format(extra="keras.layers.Dropout(0.5, seed=int(np.random.default_rng().integers(2**31))), ") + FIT,
    "repeats": "import keras\nimport numpy as np\n\nkeras.utils.set_random_seed(7)\n" + DATA + MODEL.format(extra="") + FIT,
}  # fmt: skip
KERNELS = {"tensorflow": ("lab-python", None), "jax": ("keras-jax", "REQUIRE_JAX")}


def on(backend: str, require) -> str:
    name, flag = KERNELS[backend]
    if flag:
        require(flag, name in available_kernels(), f"kernelspec {name!r} is not installed (python -m timeline --backend jax --provision-only)")
    return name


@pytest.fixture(params=sorted(KERNELS))
def kernel(request, require) -> str:
    return on(request.param, require)


# Every stage on TensorFlow; on JAX the training step, where its Dropout masks part (keras-team/keras#18426): the JAX
# kernel's other stages are found by the same recorder code and cost the suite about 70 s (the JAX backend report and
# story tests cover that kernel's seeding).
STAGE_RUNS = [("tensorflow", "initial-weights"), ("tensorflow", "fit-inputs"), ("tensorflow", "training-step"), ("jax", "training-step")]


def options(kernel: str, **changes) -> DiagnoseOptions:
    return DiagnoseOptions(kernel=kernel, backend=backend_for(kernelspec_info(kernel)), timeout=240, **changes)


@pytest.mark.kernel
@pytest.mark.parametrize(("backend", "stage"), STAGE_RUNS, ids=[f"{b}-{s}" for b, s in STAGE_RUNS])
def test_each_stage_is_found_and_the_doctors_fix_repeats(backend, stage, require):
    kernel = on(backend, require)
    script = load_script(SCRIPTS[stage], f"{stage}.py")
    found = diagnose(script, options(kernel, doctor=True))
    assert not found.repeats
    report = found.as_dict()
    first = report["first_divergence"]
    assert first["stage"] == stage and first["fit"] == 1, first
    assert report["machine"]["backend"] == backend_for(kernelspec_info(kernel)) and report["machine"]["kernelspec"] == kernel
    assert len(report["runs"]) == 2 and report["runs"][0]["sha256"] != report["runs"][1]["sha256"]
    if stage == "initial-weights":
        assert first["layer"] == "dense" and first["step"] is None  # Rescaling has no weights
        assert found.fix.switches and found.doctor.switches_help  # a seed switch is enough
        assert found.fix.line == 3 and "before the model is built" in found.fix.where
    elif stage == "fit-inputs":
        assert first["inputs"] == ["x", "y"] and first["layer"] is None
        assert not found.doctor.switches_help and "Nothing the lab can switch" in found.doctor.words
        assert found.fix.kind == "rewrite" and found.fix.text == "rng = np.random.default_rng(1234)" and found.fix.line == 8
    else:
        assert first["step"] == 1 and first["layer"] == "dense"
        assert not found.doctor.switches_help and found.fix.kind == "rewrite" and "default_rng(1234)" in found.fix.text
    # how far apart, at the first divergence and step by step
    assert report["difference"]["layers"] and all(row["max_abs"] >= 0 for row in report["difference"]["layers"])
    assert max(row["max_ulps"] for row in report["difference"]["growth"]) > 0
    assert found.fix.verified and found.cause
    # the doctor's fix, applied to the script, repeats in two fresh kernels
    fixed = diagnose(found.fix.apply(script), options(kernel))
    assert fixed.repeats and fixed.as_dict()["first_divergence"] is None and fixed.fix is None


@pytest.mark.kernel
def test_a_fully_seeded_script_repeats_and_the_command_exits_0(kernel, tmp_path):
    path = tmp_path / "seeded.py"
    path.write_text(SCRIPTS["repeats"], encoding="utf-8")
    done = subprocess.run([sys.executable, "-m", "repro_core", "diagnose", str(path), "--kernel", kernel, "--format", "json",
                           "--notebook", str(tmp_path / "run.ipynb")], cwd=ROOT, capture_output=True, text=True, timeout=600)  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads(done.stdout)
    assert report["repeats"] is True and report["first_divergence"] is None and report["fix"] is None and report["cause"] is None
    assert report["runs"][0]["sha256"] == report["runs"][1]["sha256"] and report["runs"][0]["fits"][0]["steps"] == 8
    notebook = json.loads((tmp_path / "run.ipynb").read_text(encoding="utf-8"))
    sources = ["".join(cell["source"]) for cell in notebook["cells"] if cell["cell_type"] == "code"]
    assert any("_lab_recorder = _LabRecorder()" in source for source in sources)  # the recorder cell, readable
    assert sources[-1].strip() == SCRIPTS["repeats"].strip()  # then the script as given


@pytest.mark.kernel
def test_same_kernel_reruns_the_script_in_one_kernel(require):
    """The notebook's "re-run the cell": a script that seeds every generator at its top repeats even in one kernel."""
    kernel = on("tensorflow", require)
    found = diagnose(load_script(SCRIPTS["repeats"], "cell.py"), options(kernel, same_kernel=True, runs=3))
    assert found.repeats and [t.run for t in found.traces] == [1, 2, 3]
    assert found.as_dict()["settings"]["same_kernel"] is True and len({t.versions.kernelspec for t in found.traces}) == 1


@pytest.mark.kernel
def test_tf_keras_is_watched_as_the_engine_and_when_a_script_imports_it_late():
    """On the tf_keras engine `tf.keras` is tf_keras; on Keras 3 a script may still import tf_keras itself: its Model.fit is
    wrapped as it is imported."""
    tf_keras = SCRIPTS["initial-weights"].replace("import keras\n", "from tensorflow import keras\n")
    found = diagnose(load_script(tf_keras, "tf_keras.py"), options("lab-python", engine="tf_keras"))
    assert found.versions.engine == "tf_keras" and found.divergence.stage == "initial-weights" and found.divergence.layer == "dense"
    late = SCRIPTS["repeats"].replace("import keras\n", "import tf_keras as keras\n")
    found = diagnose(load_script(late, "late.py"), options("lab-python"))
    assert found.versions.engine == "keras3" and found.repeats and found.traces[0].fits[0].steps


@pytest.mark.kernel
def test_a_notebook_runs_as_its_code_cells_and_the_fix_names_its_cell(tmp_path):
    """An .ipynb: code cells joined in order, a magic left out; the fix's line is named by cell too."""
    first, second = SCRIPTS["initial-weights"].split(DATA)
    notebook = {"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": [
        {"cell_type": "markdown", "metadata": {}, "source": "# My training"},
        {"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": None, "source": "%matplotlib inline\n" + first},
        {"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": None, "source": DATA + second},
    ]}  # fmt: skip
    path = tmp_path / "training.ipynb"
    path.write_text(json.dumps(notebook), encoding="utf-8")
    done = subprocess.run([sys.executable, "-m", "repro_core", "diagnose", str(path), "--format", "json"], cwd=ROOT, capture_output=True,
                          text=True, timeout=600)  # fmt: skip
    assert done.returncode == 1, done.stderr[-3000:]
    report = json.loads(done.stdout)
    assert report["first_divergence"]["stage"] == "initial-weights" and report["script"]["name"] == "training.ipynb"
    assert report["fix"]["line"] == 4  # in the joined cells: after the magic and the two imports
    assert report["fix"]["where"] == "after the imports (cell 1, line 3), before the model is built (cell 2, line 4)"
