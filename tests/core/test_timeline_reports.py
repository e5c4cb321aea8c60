"""The committed timeline reports (repro_core/timeline_reports/): complete, consistent, and what the README says they are.

No kernel runs here; `test_timeline_live.py` re-runs the releases CI has kernels for.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path

import pytest

from repro_core.recipes.settings import StoryParams
from repro_core.results.report import READABLE_VERSIONS, SCHEMA
from repro_core.results.timeline import REPORTS, load_timeline, release_key, report_filename
from repro_core.vocabulary import STORY_SCENARIOS as SCENARIOS
from repro_core.vocabulary import engines_offered
from timeline.readme import replace_readme_table, verdict_table_markdown
from timeline.venvs import known_releases

ROOT = Path(__file__).resolve().parents[2]
REPORTS_DIR = Path(str(REPORTS))
EXPECTED_RELEASES = [f"2.{minor}" for minor in range(9, 22)]  # the range: 2.9 ... 2.21
SHARED_SETTINGS = ("seed", "reruns", "epochs", "batch_size", "learning_rate")


@pytest.fixture(scope="module")
def entries():
    return load_timeline()


def test_every_release_has_pins_and_one_report_per_engine(entries):
    assert known_releases() == EXPECTED_RELEASES
    expected = {(release, engine) for release in EXPECTED_RELEASES for engine in engines_offered(release_key(release))}
    found = [(e.release, e.engine) for e in entries]
    assert len(found) == len(set(found)), "two reports for one release and engine"
    assert set(found) == expected
    assert sorted(path.name for path in REPORTS_DIR.glob("*.json")) == sorted(report_filename(r, e) for r, e in expected)


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
        kernel = report.kernel
        assert kernel["engine"] == entry.engine, entry.path
        assert kernel["tensorflow"] == report.settings["tensorflow_pin"], entry.path
        assert kernel["numpy"] and kernel["python"] and kernel["keras"], entry.path
        per_scenario = {name: sorted(r.rerun for r in report.records if r.scenario == name) for name in SCENARIOS}
        assert per_scenario == {name: list(range(1, report.settings["reruns"] + 1)) for name in SCENARIOS}, entry.path
        assert {(r.tensorflow, r.engine, r.kernelspec) for r in report.records} == {(kernel["tensorflow"], entry.engine, kernel["kernelspec"])}


def test_readme_table_is_the_one_generated_from_the_reports(entries):
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert replace_readme_table(readme, verdict_table_markdown(entries)) == readme, "regenerate it: python -m timeline --readme README.md"


def test_every_report_names_the_engine_its_kernel_reported(entries):
    # settings.engine is what the kernel ran (build_report writes the reported one), so it agrees with kernel.engine and the rows
    for entry in entries:
        assert entry.report.settings["engine"] == entry.report.kernel["engine"] == entry.engine, entry.path
        assert {r.engine for r in entry.report.records} <= {entry.engine}, entry.path
