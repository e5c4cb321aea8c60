"""The committed timeline reports (repro_core/timeline_reports/): complete, consistent, and what docs/timeline.md says they are,
the TensorFlow releases' and the backends' (Keras 3 on JAX and PyTorch) alike.

No kernel runs here; `test_timeline_live.py` re-runs the releases CI has kernels for, `test_backend_kernels.py` the JAX report.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path

import pytest

from repro_core.recipes.settings import StoryParams
from repro_core.results.report import READABLE_VERSIONS, SCHEMA
from repro_core.results.timeline import REPORTS, backend_report_filename, load_timeline, release_key, report_filename
from repro_core.vocabulary import BACKEND_REPORT_SCENARIOS, engines_offered
from repro_core.vocabulary import STORY_SCENARIOS as SCENARIOS
from timeline.readme import TABLES_FILE, backend_tables_markdown, replace_readme_backend_tables, replace_readme_table, verdict_table_markdown
from timeline.venvs import REQUIREMENTS_DIR, backend_venv, known_backends, known_releases, pin_lines

ROOT = Path(__file__).resolve().parents[2]
REPORTS_DIR = Path(str(REPORTS))
EXPECTED_RELEASES = [f"2.{minor}" for minor in range(9, 22)]  # the range: 2.9 ... 2.21
SHARED_SETTINGS = ("seed", "reruns", "epochs", "batch_size", "learning_rate")


@pytest.fixture(scope="module")
def entries():
    return load_timeline(backends=True)


def test_every_release_has_pins_and_one_report_per_engine(entries):
    assert known_releases() == EXPECTED_RELEASES
    expected = {(release, engine) for release in EXPECTED_RELEASES for engine in engines_offered(release_key(release))}
    found = [(e.release, e.engine) for e in entries if e.is_release]
    assert len(found) == len(set(found)), "two reports for one release and engine"
    assert set(found) == expected
    backends = {e.backend: e for e in entries if not e.is_release}
    assert sorted(backends) == sorted(known_backends()) == ["jax", "tensorflow", "torch"], "one report per backend with a pin file"
    assert [e.is_release for e in entries] == sorted((e.is_release for e in entries), reverse=True), "TensorFlow's columns first"
    names = [report_filename(r, e) for r, e in expected] + [backend_report_filename(e.keras_release, b) for b, e in backends.items()]
    assert sorted(path.name for path in REPORTS_DIR.glob("*.json")) == sorted(names)


def test_reports_parse_with_the_current_schema():
    for path in sorted(REPORTS_DIR.glob("*.json")):
        document = json.loads(path.read_text(encoding="utf-8"))
        assert document["schema"] == SCHEMA and document["schema_version"] in READABLE_VERSIONS, path.name


def test_stored_verdicts_equal_the_ones_recomputed_from_records(entries):
    for entry in entries:
        stored = json.loads((REPORTS_DIR / entry.path).read_text(encoding="utf-8"))["verdicts"]
        assert stored == entry.report.verdicts(), entry.path


def test_every_report_has_the_same_settings_the_lab_defaults(entries):
    defaults = asdict(StoryParams())
    for entry in entries:
        settings = entry.report.settings
        assert {key: settings[key] for key in SHARED_SETTINGS} == {key: defaults[key] for key in SHARED_SETTINGS}, entry.path


def test_reports_with_records_are_complete_and_carry_provenance(entries):
    for entry in entries:
        report = entry.report
        assert len(report.lab_commit) == 40 and report.created and report.machine.get("cpu") and report.machine.get("platform"), entry.path
        if report.error:
            assert report.records == [], f"{entry.path}: an error report keeps no records"
            continue
        if not entry.is_release:
            continue  # test_backend_reports_are_complete_and_carry_provenance
        kernel = report.kernel
        assert kernel["engine"] == entry.engine, entry.path
        assert kernel["tensorflow"] == report.settings["tensorflow_pin"], entry.path
        assert kernel["numpy"] and kernel["python"] and kernel["keras"], entry.path
        per_scenario = {name: sorted(r.rerun for r in report.records if r.scenario == name) for name in SCENARIOS}
        assert per_scenario == {name: list(range(1, report.settings["reruns"] + 1)) for name in SCENARIOS}, entry.path
        assert {(r.tensorflow, r.engine, r.kernelspec) for r in report.records} == {(kernel["tensorflow"], entry.engine, kernel["kernelspec"])}


def test_backend_reports_are_complete_and_carry_provenance(entries):
    for entry in (e for e in entries if not e.is_release):
        report, settings, venv = entry.report, entry.report.settings, backend_venv(entry.backend, ROOT / "timeline" / ".venvs", REQUIREMENTS_DIR)
        assert not report.error and report.records, f"{entry.path}: a committed backend report has its records"
        assert (settings["kernel"], settings["backend"], settings["keras_pin"], settings["backend_pin"]) == (
            venv.kernel_name, entry.backend, venv.keras, venv.backend_version), f"{entry.path} was measured with today's pins"  # fmt: skip
        assert settings["pins"] == ", ".join(pin_lines(venv.pins())), entry.path
        kernel = report.kernel
        tensorflow = venv.backend_version if entry.backend == "tensorflow" else ""  # TensorFlow only in its own backend's venv
        assert (kernel["tensorflow"], kernel["engine"], kernel["backend"], kernel["keras"]) == (tensorflow, "keras3", entry.backend, venv.keras)
        assert kernel["backend_version"].split("+")[0] == venv.backend_version and kernel["python"].startswith("3.11.") and kernel["numpy"]
        per_scenario = {name: sorted(r.rerun for r in report.records if r.scenario == name) for name in BACKEND_REPORT_SCENARIOS}
        assert per_scenario == {name: list(range(1, settings["reruns"] + 1)) for name in BACKEND_REPORT_SCENARIOS}, entry.path
        assert {(r.tensorflow, r.engine, r.backend, r.backend_version, r.kernelspec) for r in report.records} == {
            (tensorflow, "keras3", entry.backend, kernel["backend_version"], kernel["kernelspec"])}  # fmt: skip


def test_the_docs_tables_are_the_ones_generated_from_the_reports(entries):
    assert TABLES_FILE == ROOT / "docs" / "timeline.md"
    text = TABLES_FILE.read_text(encoding="utf-8")
    assert replace_readme_table(text, verdict_table_markdown(entries)) == text, "regenerate it: python -m timeline --readme"
    tables = backend_tables_markdown(entries)
    assert replace_readme_backend_tables(text, tables) == text, "regenerate it: python -m timeline --readme"


def test_every_report_names_the_engine_its_kernel_reported(entries):
    # settings.engine is what the kernel ran (build_report writes the reported one), so it agrees with kernel.engine and the rows
    for entry in entries:
        assert entry.report.settings["engine"] == entry.report.kernel["engine"] == entry.engine, entry.path
        assert {r.engine for r in entry.report.records} <= {entry.engine}, entry.path
