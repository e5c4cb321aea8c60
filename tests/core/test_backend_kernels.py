"""Keras 3 on JAX and PyTorch: the pin files, the venvs and kernelspecs `python -m timeline --backend` provisions, the test
command that provisions the JAX one, and (marked kernel) the committed backend reports re-run live through the CLI.
Fast tests here start no kernel and install nothing."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from kernel_helpers import trained_digits_comparable

from repro_core.judgement import judge_each
from repro_core.kernels.kernel import available_kernels
from repro_core.records import Repeats, RunRecord, by_scenario, repeats
from repro_core.results.report import build_report, parse_report, report_json
from repro_core.results.timeline import TimelineEntry, backend_report_filename, keras_release_of, load_timeline, report_filename
from repro_core.validation import Refusal
from repro_core.vocabulary import RESEEDS, STORY_SCENARIOS, switch_scenario_name
from timeline.readme import backend_tables_markdown
from timeline.run import TimelineOptions, check_backends, run_timeline
from timeline.venvs import (
    BACKEND_PYTHON,
    REQUIREMENTS_DIR,
    backend_venv,
    default_python,
    known_backends,
    pin_lines,
    pinned_version,
)

ROOT = Path(__file__).resolve().parents[2]


def test_each_backend_has_a_pin_file_with_exact_versions_and_no_tensorflow():
    assert known_backends() == ["tensorflow", "jax", "torch"]
    tensorflow = backend_venv("tensorflow", ROOT / "timeline" / ".venvs", REQUIREMENTS_DIR)
    assert (pinned_version(tensorflow.pins(), "tensorflow"), tensorflow.keras) == ("2.21.0", "3.15.1")  # the lab's own, on Python 3.11
    jax, torch = (backend_venv(name, ROOT / "timeline" / ".venvs", REQUIREMENTS_DIR) for name in ("jax", "torch"))
    for venv in (jax, torch):
        lines = pin_lines(venv.pins())
        assert lines and all("==" in line for line in lines), f"{venv.requirements.name}: every line pinned with =="
        assert not [line for line in lines if line.lower().startswith(("tensorflow", "tf-keras", "tf_keras"))], venv.requirements.name
        assert pinned_version(venv.pins(), "keras") == "3.15.1" and pinned_version(venv.pins(), "ipykernel")
    assert (jax.backend_version, pinned_version(jax.pins(), "jaxlib"), torch.backend_version) == ("0.10.2", "0.10.2", "2.13.0")
    assert "jax[cpu]==0.10.2" in pin_lines(jax.pins())  # the CPU extra: jaxlib without CUDA plugins
    assert "torch==2.13.0" in pin_lines(torch.pins())  # exactly this: another spec resolves to the 5.5 GB CUDA build


def test_a_backend_venv_is_named_and_registered_like_the_timelines():
    venv = backend_venv("jax", Path("/v"), REQUIREMENTS_DIR)
    assert (venv.name, venv.kernel_name, str(venv.python)) == ("keras-jax", "keras-jax", "/v/keras-jax/bin/python")
    assert venv.display_name == "Keras 3.15.1 · JAX 0.10.2"
    assert backend_venv("torch", Path("/v"), REQUIREMENTS_DIR).display_name == "Keras 3.15.1 · PyTorch 2.13.0"
    what, code = venv.check
    assert what == "Keras on JAX" and code.index('os.environ["KERAS_BACKEND"] = "jax"') < code.index("import keras")
    assert 'find_spec("tensorflow") is None' in code  # the JAX venv must not have TensorFlow beside it
    assert pinned_version("jax[cpu]==0.10.2\njaxlib==0.10.3\n", "jax") == "0.10.2" and pinned_version("jax>=0.4\n", "jax") == ""
    assert check_backends(["jax", "torch", "jax"]) == ("jax", "torch")


def test_provision_only_installs_nothing_it_cannot_and_writes_no_report(tmp_path):
    pins = tmp_path / "requirements"
    pins.mkdir()
    (pins / "keras-jax.txt").write_text("keras==3.15.1\njax[cpu]==0.10.2\n", encoding="utf-8")
    assert known_backends(pins) == ["jax"]
    options = TimelineOptions(venvs=tmp_path / "venvs", reports=tmp_path / "reports", requirements=pins, backends=("jax",),
                              backend_python=str(tmp_path / "no-python"), provision_only=True)  # fmt: skip
    messages: list[str] = []
    outcomes = run_timeline(options, messages.append)
    assert [(o.name, o.engine) for o in outcomes] == [("keras-jax", "")]  # --backend alone runs no TensorFlow release
    assert "no base Python" in outcomes[0].error and not (tmp_path / "reports").exists()
    assert any("ERROR" in m for m in messages)


def test_cli_rejects_an_unknown_backend():
    done = subprocess.run([sys.executable, "-m", "timeline", "--backend", "cuda", "--provision-only"], cwd=ROOT, capture_output=True,
                          text=True, timeout=60)  # fmt: skip
    assert done.returncode == 2 and "no pin file for backend cuda; choose from tensorflow, jax, torch" in done.stderr
    assert "Traceback" not in done.stderr


def test_backend_venvs_are_built_on_python_311():
    found = default_python(BACKEND_PYTHON)
    assert found == "" or Path(found).parents[1].name.startswith("3.11."), found  # never 3.1 or 3.110


def test_the_test_command_provisions_the_jax_kernel_and_ci_requires_it():
    script = (ROOT / "scripts" / "test.sh").read_text(encoding="utf-8")
    assert ".venv/bin/python -m timeline --backend jax --provision-only" in script and "REQUIRE_JAX" in script
    commands = [line for line in script.splitlines() if not line.lstrip().startswith("#")]
    assert not [line for line in commands if "--backend torch" in line]  # PyTorch (1.1 GB) is provisioned by hand only
    assert "REQUIRE_JAX=1" in (ROOT / ".ci" / "run").read_text(encoding="utf-8")


BACKEND_SETTINGS = {"seed": 1234, "reruns": 3, "epochs": 10, "batch_size": 1, "learning_rate": 0.001, "engine": "keras3"}


def _write(folder: Path, name: str, settings: dict[str, object]) -> None:
    (folder / name).write_text(report_json(build_report([], settings, None, error="made up")) + "\n", encoding="utf-8")


def _backend_settings(backend: str, **changes: object) -> dict[str, object]:
    return {**BACKEND_SETTINGS, "backend": backend, "kernel": f"keras-{backend}", "keras_release": "3.15", "keras_pin": "3.15.1",
            "release_engine": "keras3", **changes}  # fmt: skip


def test_backend_reports_load_beside_the_tensorflow_ones_and_sort_after_them(tmp_path):
    _write(tmp_path, "keras-3.15-torch.json", _backend_settings("torch"))
    _write(tmp_path, "keras-3.15-jax.json", _backend_settings("jax"))
    _write(tmp_path, "tf-2.21-keras3.json", {**BACKEND_SETTINGS, "release": "2.21", "release_engine": "keras3"})
    _write(tmp_path, "tf-2.9-keras2.json", {**BACKEND_SETTINGS, "release": "2.9", "release_engine": "keras2"})
    entries = load_timeline(tmp_path, backends=True)
    assert [e.backend for e in load_timeline(tmp_path)] == ["tensorflow", "tensorflow"]  # opt-in: release-by-release screens
    assert [(e.backend, e.release, e.keras_release, e.engine) for e in entries] == [
        ("tensorflow", "2.9", "", "keras2"), ("tensorflow", "2.21", "", "keras3"), ("jax", "", "3.15", "keras3"), ("torch", "", "3.15", "keras3"),
    ]  # fmt: skip
    assert [e.column for e in entries] == ["2.9 · keras2", "2.21 · keras3", "Keras 3.15 · JAX", "Keras 3.15 · PyTorch"]
    assert [e.is_release for e in entries] == [True, True, False, False]
    live = TimelineEntry("", "keras3", entries[2].report, source="live", backend="jax", keras_release="3.15")
    assert live.column == "Keras 3.15 · JAX · live" and sorted([live, *entries], key=lambda e: e.sort_key)[-1] is live
    assert backend_report_filename("3.15", "jax") == "keras-3.15-jax.json" and report_filename("2.9", "keras2") == "tf-2.9-keras2.json"
    assert keras_release_of("3.15.1") == "3.15" and keras_release_of("2.9.0") == "" and keras_release_of("3.150.1") == ""


@pytest.mark.parametrize(
    ("name", "settings", "message"),
    [
        ("keras-3.15-jax.json", _backend_settings("torch"), "it should be named keras-3.15-torch.json"),
        ("keras-3.14-jax.json", _backend_settings("jax"), "it should be named keras-3.15-jax.json"),
        ("keras-3.15-jax.json", _backend_settings("jax", keras_pin="3.14.0"), "keras_pin '3.14.0' is not a Keras 3.15 version"),
        ("keras-3.15-jax.json", _backend_settings("jax", release_engine="tf_keras"), "runs only Keras 3"),
        ("keras-3.15-jax.json", _backend_settings("jax", release="2.21"), "names no TensorFlow release"),
        ("keras-3.15-jax.json", _backend_settings("jax", keras_release="3"), "a Keras release looks like 3.15"),
        ("keras-3.15-mlx.json", _backend_settings("mlx"), "settings.backend must be one of"),
        ("keras-3.15-tensorflow.json", _backend_settings("jax"), "it should be named keras-3.15-jax.json"),
        ("tf-2.21-keras3.json", _backend_settings("jax"), "a TensorFlow release's report names backend 'jax'"),
        ("keras-3.15-jax.json", {**BACKEND_SETTINGS, "release": "2.21", "release_engine": "keras3"}, "it should be named tf-2.21-keras3.json"),
    ],
)
def test_a_backend_report_is_validated_as_strictly_as_a_release_report(tmp_path, name, settings, message):
    _write(tmp_path, name, settings)
    with pytest.raises(Refusal, match=message.replace("(", r"\(").replace(")", r"\)")):
        load_timeline(tmp_path, backends=True)


def _switch_records(backend: str, trained_needs: str) -> list[RunRecord]:
    """Made-up reruns of every seed switch: initial weights repeat when random is reseeded; trained ones also need
    `trained_needs` ("numpy" on JAX, "backend" on PyTorch) or keras.utils.set_random_seed."""
    rows = []
    for name, reseed in RESEEDS.items():
        initial = "python" in reseed.generators
        trained = initial and (reseed.everything or trained_needs in reseed.generators)
        for rerun in (1, 2, 3):
            before = "0" * 64 if initial else f"{rerun:064d}"
            after = "f" * 64 if trained else f"{rerun + 5:064d}"
            rows.append(RunRecord(switch_scenario_name(name), rerun, 0.5, 0.25, before, after, 1.0, "3.11.7", "", "3.15.1", "keras3",
                                  f"keras-{backend}", backend=backend, backend_version="1.0"))  # fmt: skip
    return rows


def test_the_readme_says_which_seed_controls_what_from_the_records():
    entries = []
    for backend, needs in (("jax", "numpy"), ("torch", "backend")):
        report = build_report(_switch_records(backend, needs), _backend_settings(backend), None)
        entries.append(TimelineEntry("", "keras3", report, path=f"keras-3.15-{backend}.json", backend=backend, keras_release="3.15"))
    tables = backend_tables_markdown(entries)
    assert "| random.seed | repeat / differ | repeat / differ |" in tables
    assert "| random.seed + np.random.seed | repeat / repeat | repeat / differ |" in tables
    assert "- **Keras 3.15 · JAX**: the initial weights repeat with `random.seed`; the trained weights with `random.seed + np.random.seed`." in tables
    assert "the trained weights with `random.seed + torch.manual_seed`." in tables
    assert backend_tables_markdown([]) == "No backend report has records yet."


# -- live: the committed backend reports re-run through the CLI (kernel tier) ----------------------------------------------
# One CLI run per backend covers every claim: the four story scenarios (their verdicts), and the two seed switches that tell
# the initial weights from the trained ones (random alone; random + np.random.seed). The other switches are in the report.
LIVE_SCENARIOS = (*STORY_SCENARIOS, "factory-python-seed", "factory-python-numpy-seed")
LIVE = {"jax": ("keras-jax", "REQUIRE_JAX"), "torch": ("keras-torch", "REQUIRE_TORCH")}


def _committed(backend: str) -> TimelineEntry:
    return next(e for e in load_timeline(backends=True) if e.backend == backend)


@pytest.fixture(scope="module", params=sorted(LIVE))
def live_backend(request, require, tmp_path_factory) -> tuple[str, list[RunRecord], Path]:
    """(backend, the live records, the CLI's --report file): `story --kernel keras-<backend>` with the reports' settings."""
    backend = request.param
    kernel, flag = LIVE[backend]
    require(flag, kernel in available_kernels(), f"kernelspec {kernel!r} is not installed (python -m timeline --provision-only --backend {backend})")
    report = tmp_path_factory.mktemp(f"live-{backend}") / "report.json"
    scenarios = [arg for name in LIVE_SCENARIOS for arg in ("--scenario", name)]
    done = subprocess.run([sys.executable, "-m", "repro_core", "story", "--kernel", kernel, *scenarios, "--format", "json", "--report", str(report)],
                          cwd=ROOT, capture_output=True, text=True, timeout=1200)  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    return backend, [RunRecord(**row) for row in json.loads(done.stdout)], report


@pytest.mark.kernel
def test_story_on_a_backend_kernel_gives_the_committed_verdicts(live_backend):
    backend, records, report = live_backend
    entry = _committed(backend)
    assert {(r.backend, r.engine, r.tensorflow, r.kernelspec) for r in records} == {(backend, "keras3", "", f"keras-{backend}")}
    live = {name: found.outcome.name for name, found in judge_each(records).items()}
    assert live == {name: entry.report.verdicts()[name] for name in LIVE_SCENARIOS}
    written = parse_report(report.read_bytes())
    assert written.settings["backend"] == written.kernel["backend"] == backend and written.verdicts() == live


@pytest.mark.kernel
def test_which_seed_controls_what_on_a_backend(live_backend):
    """keras.utils.set_random_seed is stable; Python's random alone repeats the initial weights but not the trained ones;
    with NumPy's generator too, JAX is stable (its shuffle draws from NumPy); each as the committed report says."""
    backend, records, _ = live_backend
    grouped, recorded = by_scenario(records), by_scenario(_committed(backend).report.records)
    found = {name: repeats(grouped[name]) for name in ("factory-full-seed", "factory-python-seed", "factory-python-numpy-seed")}
    assert found == {name: repeats(recorded[name]) for name in found}, found
    assert found["factory-full-seed"] == Repeats(True, True)
    assert found["factory-python-seed"] == Repeats(True, False)
    if backend == "jax":
        assert found["factory-python-numpy-seed"] == Repeats(True, True)


@pytest.mark.kernel
def test_the_committed_backend_report_rerun_live_gives_its_fingerprints(live_backend):
    backend, records, report = live_backend
    entry = _committed(backend)
    mine = {(r.scenario, r.rerun): r for r in records}
    theirs = {(r.scenario, r.rerun): r for r in entry.report.records if r.scenario in LIVE_SCENARIOS}
    assert mine.keys() == theirs.keys()
    initial = lambda rows: {key: r.before_sha256 for key, r in rows.items() if key[1] == 1 or key[0] != "global-model"}  # noqa: E731
    assert initial(mine) == initial(theirs), f"{entry.path}: live initial weights differ"
    if trained_digits_comparable(entry.report.machine, parse_report(report.read_bytes()).machine):
        assert {k: r.after_sha256 for k, r in mine.items()} == {k: r.after_sha256 for k, r in theirs.items()}, f"{entry.path}: trained differ"
    else:
        assert all(abs(mine[k].after_sum - theirs[k].after_sum) <= 1e-6 for k in mine), f"{entry.path}: trained sums differ beyond 1e-6"
