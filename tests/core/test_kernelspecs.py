"""The kernel picker's labels and the engines each kernel offers, read from interpreter metadata (no kernel starts)."""

from __future__ import annotations

import importlib.metadata
import os
import sys

from repro_core.kernels import kernelspecs
from repro_core.kernels.kernel import available_kernels
from repro_core.kernels.kernelspecs import KernelSpecInfo, describe, engine_for, interpreter_of, kernel_labels, old_tensorflow_kernel
from repro_core.recipes.settings import StoryParams
from repro_core.records import KernelVersions
from repro_core.results.report import build_report, parse_report, report_json, settings_of
from repro_core.views.story import settings_label
from repro_core.vocabulary import SELECTABLE_ENGINES

TF29 = "repro-tf29"
OLD = KernelSpecInfo("old", "Python 3.8 · TensorFlow 2.9.3", "/x/python", False, python="3.8.18", tensorflow="2.9.3", keras="2.9.0")
NEW = KernelSpecInfo("lab-python", "this", sys.executable, True, python="3.11.7", tensorflow="2.21.0", keras="3.15.1", tf_keras="2.21.0")
KERAS2 = KernelVersions(python="3.8.18", tensorflow="2.9.3", keras="2.9.0", engine="keras2", kernelspec=TF29)


def test_labels_name_tensorflow_and_python():
    assert OLD.label == "TensorFlow 2.9.3 · Python 3.8"
    assert NEW.label == "TensorFlow 2.21.0 · bundled"
    failed = KernelSpecInfo("odd", "Odd kernel", "/nope", False, problem="interpreter not found")
    assert failed.label == "Odd kernel · TensorFlow unknown (interpreter not found)"
    assert KernelSpecInfo("bare", "Bare", "/p", False, python="3.12.1").label == "No TensorFlow · Python 3.12"
    twin = KernelSpecInfo("python3", "Python 3 (ipykernel)", sys.executable, True, python="3.11.7", tensorflow="2.21.0", tf_keras="2.21.0")
    assert kernel_labels({"lab-python": NEW, "python3": twin, "old": OLD}) == {
        "lab-python": "TensorFlow 2.21.0 · bundled", "python3": "TensorFlow 2.21.0 · bundled · kernelspec python3",
        "old": "TensorFlow 2.9.3 · Python 3.8",
    }  # fmt: skip


def test_engines_follow_the_kernels_tensorflow():
    assert OLD.engines == ("keras2",) and OLD.engine_note() == "Keras 2 (the only engine TensorFlow 2.9 has)"
    assert NEW.engines == ("keras3", "tf_keras") and NEW.engine_note() == ""
    no_tf_keras = KernelSpecInfo("k", "k", "/p", False, python="3.11.7", tensorflow="2.17.1", keras="3.5.0")
    assert no_tf_keras.engines == ("keras3",) and "without tf_keras" in no_tf_keras.engine_note()
    assert KernelSpecInfo("odd", "Odd", "/p", False, problem="x").engines == SELECTABLE_ENGINES
    assert engine_for(OLD, "keras3") == "keras2" and engine_for(NEW, "tf_keras") == "tf_keras" and engine_for(NEW, "keras2") == "keras3"
    assert old_tensorflow_kernel({"lab-python": NEW, "old": OLD}) is OLD and old_tensorflow_kernel({"lab-python": NEW}) is None


def test_keras2_settings_and_reports_name_the_kernels_engine():
    params = StoryParams(engine="keras2")  # decision 3: a TF < 2.16 kernel's only engine is a valid setting
    assert settings_label(params) == "seed 1234, 10 epochs, engine keras2"
    assert settings_label(StoryParams(), KERAS2).endswith("engine keras2")  # what the kernel reported wins
    report = build_report([], settings_of(StoryParams(), TF29), KERAS2)  # asked keras3 (the CLI default) on a TF 2.9 kernel
    assert report.settings["engine"] == report.kernel["engine"] == "keras2"
    assert parse_report(report_json(report)).settings["engine"] == "keras2"


def test_the_bundled_interpreter_is_probed_without_importing_tensorflow():
    info = describe("probe-bundled", "probe", [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"])
    assert info.bundled and not info.problem, info
    assert info.tensorflow == importlib.metadata.version("tensorflow") and info.label == f"TensorFlow {info.tensorflow} · bundled"
    assert interpreter_of(["python", "-m", "ipykernel_launcher"]) == sys.executable  # as jupyter_client resolves it
    assert "tensorflow" not in sys.modules


def test_a_kernelspec_whose_probe_fails_is_listed_honestly(tmp_path):
    missing = describe("gone", "Gone kernel", [str(tmp_path / "python"), "-m", "ipykernel_launcher"])
    assert missing.problem == "interpreter not found" and missing.label == "Gone kernel · TensorFlow unknown (interpreter not found)"
    liar = tmp_path / "python-liar"
    liar.write_text("#!/bin/sh\necho not json\n")
    liar.chmod(0o755)
    odd = describe("liar", "Liar", [str(liar), "-m", "ipykernel_launcher"])
    assert odd.problem == "not a Python the lab can read" and odd.engines == SELECTABLE_ENGINES


def test_the_tf29_kernelspec_is_labelled_from_its_own_metadata(require):
    require("REQUIRE_TF29", TF29 in available_kernels(), f"kernelspec {TF29!r} (Python 3.8, TF 2.9.3) is not installed")
    kernelspecs._cache.clear()
    info = kernelspecs.kernelspecs()[TF29]
    assert os.path.isfile(info.interpreter) and not info.bundled
    assert info.label == "TensorFlow 2.9.3 · Python 3.8" and info.engines == ("keras2",)
