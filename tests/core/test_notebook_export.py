"""The notebook export on its own (no kernel): what the cells carry, the opening cell, and report shapes."""

from __future__ import annotations

import ast
import json

import nbformat
import pytest

from repro_core.cli import notebook_paths
from repro_core.experiments.audit import Audit
from repro_core.kernels.environment import lab_variables
from repro_core.kernels.kernel import CellResult
from repro_core.recipes import cells
from repro_core.recipes.model_spec import ModelSpec
from repro_core.recipes.settings import StoryParams
from repro_core.records import KernelVersions, RunRecord
from repro_core.results.exports import differs_line, notebook_text, story_notebook_info, what_differs
from repro_core.results.ipynb_export import (
    NotebookInfo,
    checksum_lines,
    kernel_start_groups,
    notebook_from_cells,
    pip_line,
    python_requirement,
)
from repro_core.results.report import build_report, parse_report, report_json
from repro_core.validation import Refusal

LINUX = "Linux-6.1.0-x86_64-with-glibc2.36"
KERAS3 = KernelVersions(python="3.11.7", tensorflow="2.21.0", keras="3.15.1", engine="keras3", kernelspec="lab-python",
                        platform=LINUX, numpy="2.4.6")  # fmt: skip
TF_KERAS = KernelVersions(python="3.11.7", tensorflow="2.21.0", keras="2.21.0", engine="tf_keras", kernelspec="lab-python",
                          platform=LINUX, numpy="2.4.6")  # fmt: skip
TF29 = KernelVersions(python="3.8.20", tensorflow="2.9.3", keras="2.9.0", engine="keras2", kernelspec="anything-at-all",
                      platform=LINUX, numpy="1.24.4")  # fmt: skip
LINE = "summary of trainable variables {}: 3.5910992622375  sha256 e5649c943694\n"


def run_cells(starts: int = 1) -> list[CellResult]:
    found = []
    for start in range(1, starts + 1):
        found += [
            CellResult(code=cells.story_setup_cell(StoryParams()), stdout="", stderr="", kernel_start=start),
            CellResult(code=cells.ENVIRONMENT_CELL, stdout="", stderr="", kernel_start=start),
            CellResult(code="weight_checksum(model, 'x')\n", stdout=LINE.format("before training") + LINE.format("after training"), stderr="",
                       kernel_start=start),
        ]
    return found


@pytest.mark.parametrize("engine", ["keras3", "tf_keras"])
@pytest.mark.parametrize("hash_seed", [None, 0, 42])
def test_setup_cells_set_the_engine_before_tensorflow_and_state_the_hash_seed(engine, hash_seed):
    for source in (cells.story_setup_cell(StoryParams(engine=engine), hash_seed=hash_seed), Audit(ModelSpec(engine=engine)).setup()[0]):
        ast.parse(source)
        head = source.split("\nimport tensorflow", 1)[0]
        if engine == "tf_keras":
            assert 'os.environ["TF_USE_LEGACY_KERAS"] = "1"' in head
        else:
            assert 'os.environ.pop("TF_USE_LEGACY_KERAS", None)' in head
        assert source.startswith(cells.engine_preamble(engine, hash_seed if "Start of the notebook" in source else None))
    story = cells.story_setup_cell(StoryParams(engine=engine), hash_seed=hash_seed)
    if hash_seed is None:
        assert "started this kernel without PYTHONHASHSEED" in story
    else:
        assert f"started this kernel with PYTHONHASHSEED={hash_seed}" in story
    # the cell and the kernel's environment say the same thing
    assert ("TF_USE_LEGACY_KERAS" in lab_variables(engine, hash_seed)) == (engine == "tf_keras")
    assert 'os.environ["PYTHONHASHSEED"] = "0"' in story  # the article's own line stays


def test_engine_preamble_refuses_unknown_values():
    with pytest.raises(Refusal):
        cells.engine_preamble("jax", None)
    with pytest.raises(Refusal):
        cells.engine_preamble("keras3", -1)


def test_pip_lines_follow_what_the_kernel_reported():
    assert pip_line(KERAS3) == 'pip install "tensorflow-cpu==2.21.0" "keras==3.15.1" "numpy==2.4.6"'
    assert pip_line(TF_KERAS) == 'pip install "tensorflow-cpu==2.21.0" "tf-keras==2.21.0" "numpy==2.4.6"'
    assert pip_line(TF29) == 'pip install "tensorflow-cpu==2.9.3" "numpy==1.24.4"'  # Keras 2.9 comes with TensorFlow
    mac = KernelVersions(**{**KERAS3.__dict__, "platform": "macOS-14.2-arm64-arm-64bit"})
    assert pip_line(mac).startswith('pip install "tensorflow==2.21.0"')
    assert "Python <= 3.10" in python_requirement(TF29) and "3.8" in python_requirement(TF29)
    assert "<=" not in python_requirement(KERAS3)  # no wheel table for this release: the kernel's Python only


def test_notebook_names_python3_and_opens_with_packages_settings_and_the_check_command():
    info = story_notebook_info("TF 2.9 run", StoryParams(reruns=2), "repro-tf29", TF29, "keras-lab-factory_full.ipynb")
    book = nbformat.reads(notebook_text(run_cells(), info), as_version=4)
    assert book.metadata.kernelspec.name == "python3"
    assert book.metadata.kernelspec.display_name == "Python 3 (Python 3.8.20, TensorFlow 2.9.3)"
    opening = book.cells[0].source
    assert book.cells[0].cell_type == "markdown"
    assert 'pip install "tensorflow-cpu==2.9.3" "numpy==1.24.4"' in opening and "Python <= 3.10" in opening
    assert "| seed | `1234` |" in opening and "| reruns | `2` |" in opening and "| kernel | `repro-tf29` |" in opening
    assert "python -m repro_core check-notebook keras-lab-factory_full.ipynb" in opening
    assert "jupyter nbconvert --to notebook --execute --output rerun.ipynb keras-lab-factory_full.ipynb" in opening
    code = [cell for cell in book.cells if cell.cell_type == "code"]
    assert [c.source for c in code] == [c.code.rstrip("\n") for c in run_cells()]
    assert checksum_lines(book) == [LINE.format("before training").strip(), LINE.format("after training").strip()]


def test_kernel_starts_are_marked_for_a_reader_and_for_the_checker():
    assert [len(start) for start in kernel_start_groups(run_cells(3))] == [3, 3, 3]
    book = notebook_from_cells(run_cells(2), NotebookInfo(title="restarts", versions=KERAS3, settings={}))
    starts = [cell.metadata["repro_lab"]["kernel_start"] for cell in book.cells if cell.cell_type == "code"]
    assert starts == [1, 1, 1, 2, 2, 2]
    assert any(cell.source.startswith("**Restart the kernel here.**") for cell in book.cells if cell.cell_type == "markdown")


def test_cli_notebook_paths_one_file_per_scenario():
    assert notebook_paths("run.ipynb", ["global-model"]) == {"global-model": "run.ipynb"}
    assert notebook_paths("out/run.ipynb", ["global-model", "factory-full-seed"]) == {
        "global-model": "out/run-global-model.ipynb",
        "factory-full-seed": "out/run-factory-full-seed.ipynb",
    }


def _report(versions: KernelVersions, **changes) -> dict:
    record = RunRecord(scenario="factory-full-seed", rerun=1, before_sum=1.0, after_sum=2.0, before_sha256="a" * 64,
                       after_sha256="b" * 64, seconds=1.0, python=versions.python, tensorflow=versions.tensorflow,
                       keras=versions.keras, engine=versions.engine, kernelspec=versions.kernelspec)  # fmt: skip
    document = json.loads(report_json(build_report([record], {"seed": 1234, "engine": "keras3", "kernel": "lab-python"}, versions)))
    for path, value in changes.items():
        block, _, key = path.partition("__")
        if key:
            document[block][key] = value
        else:
            document[block] = value
    return document


@pytest.mark.parametrize(
    "path, value, fragment",
    [
        ("kernel__tensorflow", "[x](https://example.invalid/a)", "kernel.tensorflow must be a version"),
        ("kernel__numpy", "<b>1</b>", "kernel.numpy must be a version"),
        ("kernel__kernelspec", "![](https://example.invalid/p.png)", "kernel.kernelspec must be a kernelspec name"),
        ("kernel__engine", "keras4", "kernel.engine must be one of"),
        ("kernel__devices", "<img src=x>", "kernel.devices must be one of"),
        ("kernel__op_determinism", "yes", "kernel.op_determinism must be true or false"),
        ("settings__engine", "<b>x</b>", "settings.engine must be one of"),
        ("settings__kernel", "a b", "settings.kernel must be a kernelspec name"),
        ("settings__seed", "1234", "settings.seed must be a whole number"),
        ("created", "<b>today</b>", "'created' must be a date"),
        ("lab_commit", "[x](y)", "'lab_commit' must be a git commit"),
        ("error", ["x"], "'error' must be a text"),
    ],
)
def test_fields_with_a_known_shape_refuse_anything_else(path, value, fragment):
    with pytest.raises(Refusal, match=fragment.replace("(", r"\(")):
        parse_report(json.dumps(_report(KERAS3, **{path: value})))


def test_records_fields_are_checked_by_shape():
    document = _report(KERAS3)
    document["records"][0]["keras"] = "[x](https://example.invalid/a)"
    with pytest.raises(Refusal, match=r"records\[0\].keras must be a version"):
        parse_report(json.dumps(document))


def test_free_text_is_kept_as_text_without_control_characters():
    crafted = "[x](https://example.invalid/a) <b>bold</b>\x1b[31m"
    report = parse_report(json.dumps(_report(KERAS3, machine={"platform": crafted, "cpu": crafted}, error=crafted)))
    assert report.machine["cpu"] == "[x](https://example.invalid/a) <b>bold</b> [31m"
    assert "\x1b" not in report.error


def test_what_differs_names_engine_and_versions():
    a = parse_report(report_json(build_report([], {}, KERAS3)))
    b = parse_report(report_json(build_report([], {}, TF_KERAS)))
    rows = {field: (x, y, same) for field, x, y, same in what_differs(a, b)}
    assert rows["engine"] == ("keras3", "tf_keras", False) and rows["Keras"] == ("3.15.1", "2.21.0", False)
    assert rows["TensorFlow"] == ("2.21.0", "2.21.0", True) and rows["NumPy"][2] and rows["Python"][2] and rows["platform"][2]
    assert differs_line(what_differs(a, b)) == "The reports' kernels differ in: engine, Keras."
    assert differs_line(what_differs(a, a)).startswith("Same engine, TensorFlow")
