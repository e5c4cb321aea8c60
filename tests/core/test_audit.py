"""The "Your model" audit in real kernels, with a tiny spec (a few seconds of training in all)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from repro_core.experiments.audit import AuditKernel, recipe_cell, run_audit, setup_cell
from repro_core.recipes.model_spec import LayerSpec, ModelSpec

ROOT = Path(__file__).resolve().parents[2]
TINY = ModelSpec(
    layers=(LayerSpec("dense", units=4, activation="relu"), LayerSpec("dropout", rate=0.2), LayerSpec("dense", units=3, activation="tanh")),
    samples=24, features=3, epochs=2, batch_size=8, validation_split=0.25,
)  # fmt: skip


def test_cells_show_exactly_what_runs():
    setup, cell = setup_cell(TINY), recipe_cell(TINY, "tf-seed")
    assert "layers.Dense(4, activation='relu', name='l1_dense')" in setup and "layers.Dropout(0.2, name='l2_dropout')" in setup
    assert "enable_op_determinism" not in setup
    assert "tf.random.set_seed(1234)" in cell and "shuffle=True" in cell and "validation_split=0.25" in cell
    assert "enable_op_determinism()" in setup_cell(ModelSpec(op_determinism=True))
    with pytest.raises(ValueError):
        recipe_cell(TINY, "exec('x')")


def test_full_seed_is_stable_and_every_layer_difference_is_zero():
    result = run_audit(TINY, "full-seed", reruns=2)
    assert result.error is None and result.verdict == "stable"
    assert [row["layer"] for row in result.table] == ["l1_dense", "l1_dense", "l3_dense", "l3_dense", "output", "output"]
    assert all(row["max_abs_diff_before"] == 0.0 and row["max_abs_diff_after"] == 0.0 for row in result.table)
    assert result.default_layer == "l1_dense/kernel"
    matrix = result.diffs[result.default_layer]
    assert len(matrix) == 3 and all(len(row) == 4 and set(row) == {0.0} for row in matrix)
    assert result.cells == [setup_cell(TINY), recipe_cell(TINY, "full-seed")]


def test_tf_seed_drifts_on_keras3_then_op_determinism_restarts_the_kernel():
    book = AuditKernel()
    notes: list[str] = []
    try:
        drift = run_audit(TINY, "tf-seed", reruns=2, audit_kernel=book)
        assert drift.versions.engine == "keras3" and drift.versions.op_determinism is False
        assert drift.verdict == "drift"
        assert max(row["max_abs_diff_before"] for row in drift.table if row["weight"] == "kernel") > 0
        assert any(v != 0.0 for row in drift.diffs["l1_dense/kernel"] for v in row)
        first_pid = book.kernel.pid

        strict = ModelSpec.from_dict({**TINY.to_dict(), "op_determinism": True})
        refused = run_audit(strict, "none", reruns=2, audit_kernel=book, on_status=notes.append)
        assert book.kernel.pid != first_pid and book.kernel.env["TF_DETERMINISTIC_OPS"] == "1"
        assert refused.versions.op_determinism is True  # reported by the kernel itself
        assert any("op determinism is now on" in note for note in notes)
        assert refused.records == [] and refused.verdict == "error"
        assert "Random ops require a seed" in refused.error and "recipe" in refused.error.lower()
    finally:
        book.close()


def cli(*args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "repro_core", "audit", *args], cwd=ROOT, capture_output=True, text=True, timeout=timeout)


def test_cli_audit_json(tmp_path):
    path = tmp_path / "model.json"
    path.write_text(TINY.to_json())
    done = cli("--spec", str(path), "--recipe", "full-seed", "--reruns", "2", "--format", "json")
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["verdict"] == "stable" and len(report["records"]) == 2 and report["default_layer"] == "l1_dense/kernel"
    assert report["spec"] == TINY.to_dict()


@pytest.mark.parametrize(
    "text, fragment",
    [
        ('{"epochs": 0}', "epochs must be between 1 and 50"),
        ('{"layers": [{"kind": "dense", "units": 4, "activation": "os.system"}]}', "activation must be one of"),
        ("{not json", "not valid JSON"),
        ('{"surprise": true}', "unknown key"),
    ],
)
def test_cli_bad_spec_exits_2_with_one_line(tmp_path, text, fragment):
    path = tmp_path / "model.json"
    path.write_text(text)
    done = cli("--spec", str(path), timeout=60)
    assert done.returncode == 2 and done.stdout == ""
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and fragment in lines[0]


def test_cli_bad_recipe_and_missing_file_exit_2(tmp_path):
    assert cli("--spec", str(ROOT / "examples" / "model.json"), "--recipe", "magic", timeout=60).returncode == 2
    assert cli("--spec", str(tmp_path / "missing.json"), timeout=60).returncode == 2
