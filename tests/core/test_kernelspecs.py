"""The kernel picker's labels and the engines each kernel offers, read from interpreter metadata (no kernel starts)."""

from __future__ import annotations

import importlib.metadata
import os
import sys

from repro_core.kernels import kernelspecs
from repro_core.kernels.kernel import available_kernels
from repro_core.kernels.kernelspecs import (
    KernelSpecInfo,
    backend_for,
    describe,
    engine_for,
    interpreter_of,
    kernel_labels,
    old_tensorflow_kernel,
)
from repro_core.recipes.settings import StoryParams
from repro_core.records import KernelVersions
from repro_core.results.report import build_report, parse_report, report_json, settings_of
from repro_core.views.story import settings_label
from repro_core.vocabulary import SELECTABLE_ENGINES

TF29 = "repro-tf29"
OLD = KernelSpecInfo("old", "Python 3.8 · TensorFlow 2.9.3", "/x/python", False, python="3.8.18", tensorflow="2.9.3", keras="2.9.0")
NEW = KernelSpecInfo("lab-python", "this", sys.executable, True, python="3.11.7", tensorflow="2.21.0", keras="3.15.1", tf_keras="2.21.0")
JAX = KernelSpecInfo("keras-jax", "Keras 3.15.1 · JAX 0.10.2", "/j/python", False, python="3.11.7", keras="3.15.1", jax="0.10.2")
TORCH = KernelSpecInfo("keras-torch", "Keras 3.15.1 · PyTorch 2.13.0", "/t/python", False, python="3.11.7", keras="3.15.1", torch="2.13.0+cpu")
PROVISION = "python -m timeline --provision-only --backend"
JAX_KERNEL = "keras-jax"
TORCH_KERNEL = "keras-torch"
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
    assert settings_label(params) == "seed 1234, 10 epochs, Keras 2"
    assert settings_label(StoryParams(), KERAS2).endswith("Keras 2")  # what the kernel reported wins
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


def test_a_kernel_without_tensorflow_runs_keras3_on_jax_or_torch():
    assert (JAX.backend, TORCH.backend, OLD.backend, NEW.backend) == ("jax", "torch", "tensorflow", "tensorflow")
    assert JAX.label == "Keras 3.15.1 · JAX 0.10.2 · Python 3.11" and TORCH.label == "Keras 3.15.1 · PyTorch 2.13.0 · Python 3.11"
    assert JAX.backend_version == "0.10.2" and TORCH.backend_version == "2.13.0+cpu"  # the label drops the build tag, the info keeps it
    for info in (JAX, TORCH):
        assert info.engines == ("keras3",) and engine_for(info, "tf_keras") == "keras3" and engine_for(info, "keras2") == "keras3"
        assert info.engine_note().startswith("Keras 3 (the only engine on ") and "need TensorFlow" in info.engine_note()
    assert "JAX" in JAX.engine_note() and "PyTorch" in TORCH.engine_note()
    both = KernelSpecInfo("odd", "Odd", "/p", False, python="3.11.7", tensorflow="2.21.0", keras="3.15.1", jax="0.10.2", torch="2.13.0")
    assert both.backend == "tensorflow" and both.label == "TensorFlow 2.21.0 · Python 3.11"  # TensorFlow first, as Keras' default
    assert KernelSpecInfo("j", "J", "/p", False, jax="0.4.1", torch="2.1.0").backend == "jax"  # then JAX, then PyTorch
    assert KernelSpecInfo("k", "Bare", "/p", False, python="3.12.1", jax="0.10.2").label == "No Keras · JAX 0.10.2 · Python 3.12"


def test_backend_for_names_the_kernels_backend_and_tensorflow_when_unknown():
    assert backend_for(JAX) == "jax" and backend_for(TORCH) == "torch" and backend_for(OLD) == backend_for(NEW) == "tensorflow"
    assert backend_for(None) == "tensorflow"
    assert backend_for(KernelSpecInfo("odd", "Odd", "/p", False, problem="interpreter not found")) == "tensorflow"
    assert backend_for(KernelSpecInfo("bare", "Bare", "/p", False, python="3.12.1")) == "tensorflow"


def _fake_interpreter(path, answer: str):
    path.write_text(f"#!/bin/sh\necho '{answer}'\n")
    path.chmod(0o755)
    return str(path)


def test_the_probe_reads_jax_and_torch_from_a_fake_interpreter(tmp_path):
    jax = _fake_interpreter(tmp_path / "python-jax", '{"python": "3.11.7", "tensorflow": "", "keras": "3.15.1", "tf_keras": "", "jax": "0.10.2"}')
    info = describe("fake-jax", "Fake JAX", [jax, "-m", "ipykernel_launcher"])
    assert (info.problem, info.jax, info.torch, info.tensorflow, info.backend) == ("", "0.10.2", "", "", "jax")
    assert info.label == "Keras 3.15.1 · JAX 0.10.2 · Python 3.11" and info.engines == ("keras3",)
    torch = _fake_interpreter(tmp_path / "python-torch", '{"python": "3.11.7", "keras": "3.15.1", "torch": "2.13.0+cpu"}')
    info = describe("fake-torch", "Fake torch", [torch, "-m", "ipykernel_launcher"])
    assert info.backend == "torch" and info.torch == "2.13.0+cpu" and info.label == "Keras 3.15.1 · PyTorch 2.13.0 · Python 3.11"
    odd = _fake_interpreter(tmp_path / "python-odd", '{"python": "3.11.7", "jax": "<b>1</b>", "torch": "2.13.0"}')
    info = describe("fake-odd", "Fake odd", [odd, "-m", "ipykernel_launcher"])
    assert info.jax == "" and info.backend == "torch"  # a version that is no version is dropped, as for TensorFlow's


def test_the_probe_script_reads_jax_and_torch_without_importing_them():
    assert '"jax": version("jax")' in kernelspecs.PROBE_SCRIPT and '"torch": version("torch")' in kernelspecs.PROBE_SCRIPT
    assert "import jax" not in kernelspecs.PROBE_SCRIPT and "import torch" not in kernelspecs.PROBE_SCRIPT
    info = describe("probe-bundled-backends", "probe", [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"])
    assert info.backend == "tensorflow" and "jax" not in sys.modules and "torch" not in sys.modules


def test_the_jax_kernelspec_is_labelled_from_its_own_metadata(require):
    require("REQUIRE_JAX", JAX_KERNEL in available_kernels(), f"kernelspec {JAX_KERNEL!r} is not installed ({PROVISION} jax)")
    kernelspecs._cache.clear()
    info = kernelspecs.kernelspecs()[JAX_KERNEL]
    assert os.path.isfile(info.interpreter) and not info.bundled and not info.problem, info
    assert info.tensorflow == "" and info.backend == "jax" and info.engines == ("keras3",)
    assert info.label == f"Keras {info.keras} · JAX {info.jax} · Python {'.'.join(info.python.split('.')[:2])}"
    assert info.python.startswith("3.11.") and info.display_name == f"Keras {info.keras} · JAX {info.jax}"


def test_the_torch_kernelspec_is_labelled_from_its_own_metadata(require):
    require("REQUIRE_TORCH", TORCH_KERNEL in available_kernels(), f"kernelspec {TORCH_KERNEL!r} is not installed ({PROVISION} torch)")
    kernelspecs._cache.clear()
    info = kernelspecs.kernelspecs()[TORCH_KERNEL]
    assert not info.problem and info.tensorflow == "" and info.jax == "" and info.backend == "torch" and info.engines == ("keras3",)
    assert info.label == f"Keras {info.keras} · PyTorch {info.torch.split('+')[0]} · Python {'.'.join(info.python.split('.')[:2])}"
