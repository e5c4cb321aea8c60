"""The "Your model" audit in real kernels, with a tiny spec (a few seconds of training in all)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from kernel_helpers import CountedPool

from repro_core.experiments.audit import Audit, run_audit
from repro_core.recipes.model_spec import LayerSpec, ModelSpec
from repro_core.validation import Refusal

ROOT = Path(__file__).resolve().parents[2]
TINY = ModelSpec(
    layers=(LayerSpec("dense", units=4, activation="relu"), LayerSpec("dropout", rate=0.2), LayerSpec("dense", units=3, activation="tanh")),
    samples=24, features=3, epochs=2, batch_size=8, validation_split=0.25,
)  # fmt: skip


def test_cells_show_exactly_what_runs():
    audit = Audit(TINY, reseed="tf")
    setup, cell = audit.setup()[0], audit.cell()
    assert "layers.Dense(4, activation='relu', name='l1_dense')" in setup and "layers.Dropout(0.2, name='l2_dropout')" in setup
    assert "enable_op_determinism" not in setup
    assert "tf.random.set_seed(1234)" in cell and "model = MLP()" in cell and "shuffle=True" in cell and "validation_split=0.25" in cell
    assert "enable_op_determinism()" in Audit(ModelSpec(op_determinism=True)).setup()[0]
    for bad in ({"reseed": "exec('x')"}, {"model": "eval"}, {"reruns": 0}, {"seed": -1}):
        with pytest.raises(Refusal):
            Audit(TINY, **bad)


@pytest.mark.kernel
def test_full_seed_is_stable_and_every_layer_difference_is_zero():
    audit = Audit(TINY, reseed="full", reruns=2)
    result = run_audit(audit)
    assert result.error is None and result.verdict == "stable"
    assert [row["layer"] for row in result.table] == ["l1_dense", "l1_dense", "l3_dense", "l3_dense", "output", "output"]
    assert all(row["max_abs_diff_before"] == 0.0 and row["max_abs_diff_after"] == 0.0 for row in result.table)
    assert result.default_layer == "l1_dense/kernel"
    matrix = result.diffs[result.default_layer]
    assert len(matrix) == 3 and all(len(row) == 4 and set(row) == {0.0} for row in matrix)
    assert [cell.code for cell in result.cells if "lab_environment" not in cell.code] == audit.setup() + [audit.cell()] * 2


@pytest.mark.kernel
def test_tf_seed_drifts_on_keras3_and_each_audit_gets_a_fresh_kernel_from_the_pool():
    pool = CountedPool(cap=1)
    try:
        drift = run_audit(Audit(TINY, reseed="tf", reruns=2), pool=pool, owner="visitor")
        assert drift.versions.engine == "keras3" and drift.versions.op_determinism is False
        assert drift.verdict == "drift"
        assert max(row["max_abs_diff_before"] for row in drift.table if row["weight"] == "kernel") > 0
        assert any(v != 0.0 for row in drift.diffs["l1_dense/kernel"] for v in row)

        # op determinism cannot be switched off in a running TensorFlow: a fresh kernel per audit makes that moot
        strict = ModelSpec.from_dict({**TINY.to_dict(), "op_determinism": True})
        refused = run_audit(Audit(strict, reseed="none", reruns=2), pool=pool, owner="visitor")
        assert refused.versions.op_determinism is True  # reported by the kernel itself
        assert refused.records == [] and refused.verdict == "error"
        assert "Random ops require a seed" in refused.error and "reseed" in refused.error.lower()
        again = run_audit(Audit(TINY, reseed="tf", reruns=1), pool=pool, owner="visitor")
        assert again.versions.op_determinism is False
        assert pool.max_live_seen == 1
    finally:
        pool.shutdown()


def cli(*args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "repro_core", "audit", *args], cwd=ROOT, capture_output=True, text=True, timeout=timeout)


@pytest.mark.kernel
def test_cli_audit_json(tmp_path):
    path = tmp_path / "model.json"
    path.write_text(json.dumps(TINY.to_dict(), indent=2))
    done = cli("--spec", str(path), "--reseed", "full", "--reruns", "2", "--format", "json")
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
    assert cli("--spec", str(ROOT / "examples" / "model.json"), "--reseed", "magic", timeout=60).returncode == 2
    assert cli("--spec", str(tmp_path / "missing.json"), timeout=60).returncode == 2
