"""Machine switches and the numerics fingerprint as plain data: settings, the cells they write, the kernel kinds they need,
reports that carry the fingerprint, and what Compare names as the likely cause (no kernel here)."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from repro_core.experiments.machines import MachineRun
from repro_core.experiments.matrix import MatrixOptions
from repro_core.experiments.story import ScenarioResult
from repro_core.kernels.environment import KernelKind, environment_of
from repro_core.kernels.preloaded import forkable
from repro_core.machine import (
    DEFAULT_MACHINE,
    MACHINE_PRESETS,
    Fingerprint,
    MachineSettings,
    block_summary,
    machine_words,
    parse_machine_label,
    presets_for,
    trait_differences,
    traits_key,
)
from repro_core.recipes import cells
from repro_core.recipes.model_spec import ModelSpec
from repro_core.recipes.settings import StoryParams, network_params, with_machine
from repro_core.records import KernelVersions, RunRecord
from repro_core.results.exports import causes_heading, compare, likely_causes
from repro_core.results.machines import machine_settings_of, report_filename, report_of
from repro_core.results.report import SCHEMA_VERSION, build_report, parse_report, report_json, settings_of
from repro_core.views.machines import COL_INITIAL, COL_TRAINED, findings, live_rows, machine_frame

ROOT = Path(__file__).resolve().parents[2]
EPYC = Fingerprint(cpu="AMD EPYC", cpu_features="avx2", cpus=2, onednn="off")


def versions(machine: Fingerprint = EPYC, **changes: object) -> KernelVersions:
    base = KernelVersions(python="3.11.7", tensorflow="2.21.0", keras="3.15.1", engine="keras3", kernelspec="lab-python", numpy="2.4.6",
                          backend_version="2.21.0", machine=machine)  # fmt: skip
    return replace(base, **changes)


def record(after: str = "b", before: str = "a", machine: Fingerprint = EPYC, rerun: int = 1) -> RunRecord:
    return RunRecord(scenario="factory-full-seed", rerun=rerun, before_sum=1.5, after_sum=-0.25, before_sha256=before * 64,
                     after_sha256=after * 64, seconds=1.0, python="3.11.7", tensorflow="2.21.0", keras="3.15.1", engine="keras3",
                     kernelspec="lab-python", backend_version="2.21.0", machine=machine.compact())  # fmt: skip


# -- settings ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("kwargs, fragment", [
    ({"onednn": "maybe"}, "oneDNN must be one of default, on, off"),
    ({"threads": 65}, "threads must be between 0 and 64"),
    ({"threads": -1}, "threads must be between 0 and 64"),
    ({"threads": True}, "threads must be a whole number"),
    ({"isa": "AVX3; import os"}, "ISA cap must be one of"),
    ({"op_determinism": "yes"}, "op determinism must be true or false"),
])  # fmt: skip
def test_machine_settings_refuse_bad_values_with_one_line(kwargs, fragment):
    with pytest.raises(ValueError, match=fragment):
        MachineSettings(**kwargs)
    with pytest.raises(ValueError, match=fragment):
        StoryParams(**kwargs)


def test_labels_name_settings_both_ways_and_only_allowed_parts():
    for label in MACHINE_PRESETS:
        assert parse_machine_label(label).label() == label
    assert parse_machine_label("onednn-on+isa-AVX2") == MachineSettings(onednn="on", isa="AVX2")
    assert parse_machine_label("threads-1+determinism").words() == "1 thread · op determinism"
    assert DEFAULT_MACHINE.words() == "the machine's defaults" and DEFAULT_MACHINE.is_default
    for bad in ("threads-x", "gpu-2", "onednn-maybe", "isa-AVX3"):
        with pytest.raises(ValueError):
            parse_machine_label(bad)


def test_only_the_thread_count_is_offered_off_tensorflow():
    assert presets_for(False) == ("default", "threads-1", "threads-2")
    assert set(presets_for(True)) == set(MACHINE_PRESETS)
    with pytest.raises(ValueError, match="on jax only the thread count"):
        StoryParams(backend="jax", onednn="off")
    with pytest.raises(ValueError, match="JAX's CPU backend has none"):
        StoryParams(backend="jax", op_determinism=True)
    assert StoryParams(backend="torch", threads=1, op_determinism=True).machine == MachineSettings(threads=1, op_determinism=True)


def test_networks_bring_their_training_unless_it_is_set():
    wide = network_params("wide", seed=7)
    assert (wide.network, wide.epochs, wide.batch_size, wide.seed) == ("wide", 2, 256, 7)
    assert network_params("wide", epochs=3, threads=None).epochs == 3
    assert (network_params().epochs, network_params().batch_size) == (10, 1)
    with pytest.raises(ValueError, match="network must be one of article, wide"):
        network_params("deep")


# -- cells ------------------------------------------------------------------------------------------------
def test_the_machines_defaults_write_nothing_new_into_the_setup_cell():
    cell = cells.story_setup_cell(StoryParams())
    for word in ("TF_ENABLE_ONEDNN_OPTS", "ONEDNN_MAX_CPU_ISA", "set_intra_op_parallelism_threads", "XLA_FLAGS", "enable_op_determinism"):
        assert word not in cell
    assert cells.story_setup_cell(StoryParams()) == cells.setup_cell(cells.ArticleModel(), "keras3")


def test_import_time_switches_come_before_the_import_and_threads_before_the_first_op():
    params = StoryParams(onednn="off", isa="AVX2", threads=1, op_determinism=True)
    cell = cells.story_setup_cell(params)
    ast.parse(cell)
    position = cell.index
    assert position('os.environ["TF_ENABLE_ONEDNN_OPTS"] = "0"') < position("import tensorflow as tf")
    assert position('os.environ["ONEDNN_MAX_CPU_ISA"] = "AVX2"') < position("import tensorflow as tf")
    assert position("import tensorflow as tf") < position("tf.config.threading.set_intra_op_parallelism_threads(1)") < position("tf.random.set_seed")
    assert position("tf.config.experimental.enable_op_determinism()") < position("tf.random.set_seed")
    assert 'os.environ["TF_ENABLE_ONEDNN_OPTS"] = "1"' in cells.story_setup_cell(StoryParams(onednn="on"))


def test_other_backends_get_their_own_thread_lines():
    jax = cells.story_setup_cell(StoryParams(backend="jax", threads=1))
    assert jax.index('os.environ["XLA_FLAGS"] = "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1"') < jax.index("\nimport keras")
    torch = cells.story_setup_cell(StoryParams(backend="torch", threads=2, op_determinism=True))
    assert torch.index("\nimport torch") < torch.index("torch.set_num_threads(2)") < torch.index("torch.manual_seed")
    assert "torch.use_deterministic_algorithms(True)" in torch
    for cell in (jax, torch):
        ast.parse(cell)
        assert "TF_ENABLE_ONEDNN_OPTS" not in cell


def test_the_wide_network_is_the_issues_shape_on_every_backend():
    for backend in ("tensorflow", "jax", "torch"):
        cell = cells.story_setup_cell(network_params("wide", backend=backend))
        ast.parse(cell)
        assert "size=(2048, 256)" in cell and "size=(2048, 10)" in cell
        assert cell.count('layers.Dense(1024, activation="relu")') == 2 and "layers.Dense(10)" in cell
    training = cells.article_training(network_params("wide"))
    assert (training.epochs, training.batch_size, training.metrics) == (2, 256, False)


def test_your_models_cells_take_the_switches_and_say_op_determinism_once():
    cell = cells.setup_cell(ModelSpec(), "keras3", machine=MachineSettings(onednn="off", threads=2, op_determinism=True))
    ast.parse(cell)
    assert cell.count("enable_op_determinism()") == 1 and "# Op determinism: off." not in cell
    assert cell.index('"TF_ENABLE_ONEDNN_OPTS"] = "0"') < cell.index("\nimport tensorflow")


# -- kernels ------------------------------------------------------------------------------------------------
def test_import_time_switches_make_a_kernel_kind_of_their_own_that_still_forks():
    plain, off = KernelKind(), KernelKind.of("lab-python", "keras3", MachineSettings(onednn="off", isa="AVX2", threads=1))
    assert (off.onednn, off.isa) == ("off", "AVX2") and off != plain
    assert KernelKind.of("lab-python", "keras3", MachineSettings(threads=1)) == plain  # threads are the cell's alone
    env = environment_of(off)
    assert env["TF_ENABLE_ONEDNN_OPTS"] == "0" and env["ONEDNN_MAX_CPU_ISA"] == "AVX2"
    assert "TF_ENABLE_ONEDNN_OPTS" not in environment_of(plain)
    assert forkable(env)  # a template of its own (preloaded.template_for keys templates by environment)
    with pytest.raises(ValueError, match="oneDNN"):
        KernelKind(onednn="sometimes")


# -- the fingerprint ------------------------------------------------------------------------------------------
def test_a_probe_becomes_a_typed_fingerprint_and_unknown_keys_are_dropped():
    found = Fingerprint.from_probe({"cpu": "Intel Xeon", "cpu_features": "avx2 avx512f avx512_vnni", "cpus": 8, "onednn": "on",
                                    "intra_op_threads": 1, "op_determinism": 1, "surprise": "x", "torch_threads": "many"})  # fmt: skip
    assert (found.cpu, found.cpus, found.onednn, found.intra_op_threads, found.op_determinism) == ("Intel Xeon", 8, "on", 1, True)
    assert found.torch_threads == 0 and not hasattr(found, "surprise")
    assert "Intel" not in found.compact() and "onednn=on" in found.compact() and "intra=1" in found.compact()
    assert found.as_text()["op_determinism"] == "on" and found.as_text()["cpus"] == "8"


def test_like_with_like_is_decided_by_traits_not_the_cpus_name():
    a = Fingerprint(cpu="AMD EPYC", cpu_features="avx2", cpus=2, onednn="off").as_text()
    assert traits_key(a) == traits_key({**a, "cpu": "AMD EPYC 7B12"})
    assert traits_key(a) != traits_key({**a, "onednn": "on"})


def test_trait_differences_name_the_switches_first_and_the_features_each_side_has():
    a = Fingerprint(cpu="Intel Xeon", cpu_features="avx2 avx512f avx512_vnni", cpus=2, onednn="on").as_text()
    b = Fingerprint(cpu="AMD EPYC", cpu_features="avx2", cpus=2, onednn="off", intra_op_threads=1).as_text()
    assert trait_differences(a, b) == ["oneDNN on in A, off in B", "intra-op threads default in A, 1 in B",
                                       "CPU features: A has avx512_vnni, avx512f, B lacks it",
                                       "CPU model Intel Xeon in A, AMD EPYC in B"]  # fmt: skip
    assert trait_differences({"cpu": "x"}, {"cpu": "y"}) == ["CPU model x in A, y in B"]
    assert trait_differences({}, {}) == []
    assert machine_words(a) == "Intel Xeon (avx2 avx512f avx512_vnni; 2 cores; CPU)"
    assert machine_words({"cpu": "Intel Xeon"}) == "Intel Xeon (no fingerprint recorded)"
    assert block_summary({"cpu": "Intel Xeon"}) == "" and "oneDNN on" in block_summary(a)


# -- reports and compare ----------------------------------------------------------------------------------------
def test_a_report_carries_the_fingerprint_as_its_machine_block_and_reads_back():
    params = StoryParams(threads=1, onednn="off")
    report = parse_report(report_json(build_report([record()], settings_of(params, "lab-python"), versions(replace(EPYC, intra_op_threads=1)))))
    assert json.loads(report_json(report))["schema_version"] == SCHEMA_VERSION == 4
    assert report.machine["onednn"] == "off" and report.machine["intra_op_threads"] == "1" and report.machine["cpu"] == "AMD EPYC"
    assert "machine" not in report.kernel and report.settings["threads"] == 1 and report.settings["onednn"] == "off"
    assert report.records[0].machine == EPYC.compact()


def test_a_report_from_before_fingerprints_still_reads():
    old = json.loads(report_json(build_report([record()], settings_of(StoryParams(), "lab-python"), versions())))
    old["schema_version"] = 3
    old["machine"] = {"platform": "Linux", "cpu": "Intel Xeon"}
    for key in ("network", "onednn", "threads", "isa", "op_determinism"):
        old["settings"].pop(key)
    del old["records"][0]["machine"]
    report = parse_report(json.dumps(old))
    assert report.records[0].machine == "" and machine_settings_of(report) == DEFAULT_MACHINE


def _report(path: Path, fingerprint: Fingerprint, after: str, **settings: object) -> Path:
    params = StoryParams(**settings)
    rows = [record(after, machine=fingerprint), record(after, machine=fingerprint, rerun=2)]
    path.write_text(report_json(build_report(rows, settings_of(params, "lab-python"), versions(fingerprint))), encoding="utf-8")
    return path


def test_compare_names_the_thread_count_first_and_keeps_its_exit_status(tmp_path):
    one = _report(tmp_path / "one.json", replace(EPYC, intra_op_threads=1), "b", threads=1)
    two = _report(tmp_path / "two.json", replace(EPYC, intra_op_threads=2), "c", threads=2)
    a, b = (parse_report(path.read_bytes()) for path in (one, two))
    causes = likely_causes(a, b)
    assert causes == ["intra-op threads 1 in A, 2 in B"]
    assert causes_heading(compare(a, b), causes).startswith("Likely causes")
    done = subprocess.run([sys.executable, "-m", "repro_core", "compare", str(one), str(two)], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 1, done.stderr
    assert "Likely causes, settings and machine traits first, then packages:\n  - intra-op threads 1 in A, 2 in B" in done.stdout


def test_settings_and_traits_come_before_packages_and_a_same_result_says_they_did_not_matter(tmp_path):
    a = parse_report(_report(tmp_path / "a.json", replace(EPYC, onednn="on"), "b", onednn="on").read_bytes())
    b_path = tmp_path / "b.json"
    params = StoryParams(onednn="off", seed=7)
    rows = [record("b"), record("b", rerun=2)]
    b_path.write_text(report_json(build_report(rows, settings_of(params, "lab-python"), versions(tensorflow="2.20.0", backend_version="2.20.0"))))
    b = parse_report(b_path.read_bytes())
    causes = likely_causes(a, b)
    assert causes == ["seed 1234 in A, 7 in B", "oneDNN on in A, off in B", "TensorFlow 2.21.0 in A, 2.20.0 in B"]
    assert causes_heading(compare(a, b), causes) == "The reports differ in these (they did not change the compared fingerprints):"


def test_reports_from_before_fingerprints_say_the_traits_are_unknown(tmp_path):
    a = parse_report(_report(tmp_path / "a.json", EPYC, "b").read_bytes())
    old = json.loads((tmp_path / "a.json").read_text())
    old["machine"] = {"platform": a.machine["platform"], "cpu": "Intel Xeon"}
    b = parse_report(json.dumps(old))
    assert likely_causes(a, b) == ["CPU AMD EPYC in A, Intel Xeon in B (report B predates fingerprints: which traits differ is unknown)"]


# -- the matrix axis and the page's tables ----------------------------------------------------------------------
def test_the_matrix_takes_machine_settings_as_an_axis():
    options = MatrixOptions(machines=(DEFAULT_MACHINE, MachineSettings(onednn="off"), DEFAULT_MACHINE), network="wide")
    assert options.machines == (DEFAULT_MACHINE, MachineSettings(onednn="off"))
    assert 'TF_ENABLE_ONEDNN_OPTS"] = "0"' in options.setup("keras3", options.machines[1])[0]
    with pytest.raises(ValueError, match="only the thread count"):
        MatrixOptions(backend="jax", engines=("keras3",), machines=(MachineSettings(onednn="off"),))
    with pytest.raises(ValueError, match="at least one machine setting"):
        MatrixOptions(machines=())
    with pytest.raises(ValueError, match="dropout is offered on the article's network only"):
        MatrixOptions(network="wide", dropout=True)


def test_the_machine_table_compares_each_setting_with_its_kernels_defaults():
    params = network_params("wide")
    default, one = DEFAULT_MACHINE, MachineSettings(threads=1)
    runs = [MachineRun(default, ScenarioResult("factory-full-seed", [record("b"), record("b", rerun=2)], versions())),
            MachineRun(one, ScenarioResult("factory-full-seed", [record("c"), record("c", rerun=2)],
                                           versions(replace(EPYC, intra_op_threads=1))))]  # fmt: skip
    frame = machine_frame(live_rows(runs, "wide"))
    assert list(frame[COL_INITIAL]) == ["reference", "same"] and list(frame[COL_TRAINED]) == ["reference", "different"]
    assert findings(live_rows(runs, "wide")) == [
        "live, TensorFlow 2.21.0 · keras3, wide network: 1 thread keeps the initial weights and changes the trained ones "
        "(against the machine's defaults)."]  # fmt: skip
    report = report_of(runs[1], params, "lab-python")
    assert report_filename(report) == "tf-2.21-wide-threads-1.json" and machine_settings_of(report) == one
    assert with_machine(params, one).threads == 1


def test_the_recorded_reports_say_which_machine_measured_them():
    from repro_core.results.timeline import TimelineEntry, load_timeline
    from repro_core.views.timeline import measured_on, timeline_caption

    committed = load_timeline(backends=True)
    assert measured_on(committed) == "Measured on one machine: AMD EPYC (avx2; 2 cores; CPU), TensorFlow ran with oneDNN off, default threads."
    assert measured_on(committed) in timeline_caption(committed)
    xeon = build_report([record()], {}, versions(Fingerprint(cpu="Intel Xeon", cpu_features="avx2 avx512f avx512_vnni", cpus=2, onednn="on")))
    old = replace(xeon, machine={"platform": "Linux", "cpu": "Intel Xeon"})
    mixed = [committed[0], TimelineEntry("2.9", "keras2", xeon), TimelineEntry("2.10", "keras2", old)]
    said = measured_on(mixed)
    assert said.startswith("Measured on 3 machines, so their trained digits may differ by machine, not version: ")
    assert "Intel Xeon (avx2 avx512f avx512_vnni; 2 cores; CPU), TensorFlow ran with oneDNN on" in said
    assert "Intel Xeon (no fingerprint recorded), default threads (1 report(s): 2.10 · keras2)" in said
