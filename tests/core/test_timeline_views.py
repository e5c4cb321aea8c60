"""The timeline's views and bookkeeping on made-up reports: sentences, heatmap data, README table, failed releases."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from repro_core.records import RunRecord
from repro_core.results.report import Report, parse_report
from repro_core.results.timeline import TimelineEntry, load_timeline
from repro_core.validation import Refusal
from repro_core.views.timeline import cell_rows, find, heatmap_frame, live_agreement, summary_sentence, timeline_heatmap
from repro_core.vocabulary import STORY_SCENARIOS as SCENARIOS
from repro_core.vocabulary import engines_offered
from timeline.readme import README_BEGIN, README_END, replace_readme_table, verdict_table_markdown
from timeline.run import TimelineOptions, run_timeline, write_report
from timeline.venvs import BackendVenv, ReleaseVenv, known_releases, provision

ROOT = Path(__file__).resolve().parents[2]
SETTINGS = {"seed": 1234, "reruns": 2, "epochs": 10, "batch_size": 1, "learning_rate": 0.001}


def sha(label: str) -> str:
    return (label.encode().hex() * 64)[:64]


def records(scenario: str, shape: str, engine: str) -> list[RunRecord]:
    """Two reruns that are 'stable' (same fingerprints) or 'drift' (different ones)."""
    out = []
    for rerun in (1, 2):
        tag = "s" if shape == "stable" else f"d{rerun}"
        out.append(RunRecord(scenario, rerun, -1.0 - rerun / 10, 0.5, sha(f"b{tag}{scenario}"), sha(f"a{tag}{scenario}"), 1.0,
                             "3.10.13", "2.99.0", "2.99.0", engine, "timeline"))  # fmt: skip
    return out


def entry(release: str, engine: str, shapes: dict[str, str], source: str = "recorded", error: str = "") -> TimelineEntry:
    rows = [] if error else [r for name, shape in shapes.items() for r in records(name, shape, engine)]
    report = Report(settings={**SETTINGS, "release": release, "release_engine": engine}, kernel={"tensorflow": f"{release}.0", "keras": "2.99.0"},
                    machine={"cpu": "test CPU"}, records=rows, error=error)  # fmt: skip
    return TimelineEntry(release, engine, report, source=source)


STABLE = dict.fromkeys(SCENARIOS, "stable")
TF_DRIFTS = {**STABLE, "factory-tf-seed": "drift"}


def test_sentence_names_the_first_release_where_the_fix_stops_holding():
    timeline = [entry("2.9", "keras2", STABLE), entry("2.10", "keras2", TF_DRIFTS), entry("2.16", "keras3", TF_DRIFTS),
                entry("2.16", "tf_keras", TF_DRIFTS)]  # fmt: skip
    finding = find(timeline)
    assert (finding.first_stable, finding.first_break, finding.break_engines) == ("2.9", "2.10", (("keras2", "drift"),))
    sentence = summary_sentence(timeline)
    # both ends of each span, so "stable on 2.9" cannot be read as "from 2.9 onward"
    assert "is stable on TensorFlow 2.9, and on no engine of TensorFlow **2.10** to 2.16 (2.10: drift with Keras 2)." in sentence
    assert "held on every release that has it: stable in all 4 reports (every engine), TensorFlow 2.9 to 2.16" in sentence
    assert "factory-tf-seed" not in sentence and "keras2" not in sentence  # words, not ids


def test_sentence_reports_a_full_seed_failure_a_recovery_and_a_failed_release():
    full_drifts = {**TF_DRIFTS, "factory-full-seed": "drift"}
    timeline = [entry("2.9", "keras2", STABLE), entry("2.10", "keras2", full_drifts), entry("2.11", "keras2", STABLE),
                entry("2.12", "keras2", {}, error="install failed: no wheel")]  # fmt: skip
    sentence = summary_sentence(timeline)
    assert "and not on TensorFlow **2.10** (drift with Keras 2); it is stable again on TensorFlow 2.11 with Keras 2." in sentence
    assert "did **not** hold everywhere: TensorFlow 2.10 with Keras 2: drift" in sentence
    assert "No records (install or run failed) for: TensorFlow 2.12 with Keras 2." in sentence


def test_live_columns_do_not_change_the_recorded_sentence():
    recorded = [entry("2.9", "keras2", STABLE), entry("2.10", "keras2", TF_DRIFTS)]
    assert summary_sentence([*recorded, entry("2.9", "keras2", TF_DRIFTS, source="live")]) == summary_sentence(recorded)


def test_heatmap_frame_has_every_cell_with_fingerprints_and_a_selection():
    timeline = [entry("2.9", "keras2", STABLE), entry("2.12", "keras2", {}, error="install failed: no wheel"),
                entry("2.21", "keras3", TF_DRIFTS, source="live")]  # fmt: skip
    frame = heatmap_frame(timeline)
    assert len(frame) == 3 * len(SCENARIOS)
    assert list(dict.fromkeys(frame["column"])) == ["2.9 · keras2", "2.12 · keras2", "2.21 · keras3 · live"]
    first = frame.iloc[0]
    assert first["rerun_1"].startswith(sha("bsglobal-model")[:12] + " (-1.1000000000000) → ")
    assert set(frame[frame["release"] == "2.12"]["verdict"]) == {"error"}
    spec = timeline_heatmap(frame).to_dict()
    assert [param["name"] for param in spec.get("params", [])] == ["cell"]  # Altair lifts a layer's selection to the top
    assert list(cell_rows(timeline, "2.9 · keras2", "fresh-kernel")["rerun"]) == [1, 2]


def test_live_agreement_compares_only_like_with_like():
    recorded = entry("2.21", "keras3", STABLE)
    assert "All 8 live reruns have the same fingerprints" in live_agreement(entry("2.21", "keras3", STABLE, source="live"), [recorded])
    assert "0 of 8 live reruns" not in live_agreement(entry("2.21", "keras3", TF_DRIFTS, source="live"), [recorded])
    assert "6 of 8 live reruns" in live_agreement(entry("2.21", "keras3", TF_DRIFTS, source="live"), [recorded])
    other = entry("2.21", "keras3", STABLE, source="live")
    other.report.settings["epochs"] = 3
    assert "settings differ (epochs)" in live_agreement(other, [recorded])
    assert "No recorded report" in live_agreement(entry("2.22", "keras3", STABLE, source="live"), [recorded])


def test_readme_table_round_trips_between_its_markers():
    table = verdict_table_markdown([entry("2.9", "keras2", STABLE), entry("2.16", "tf_keras", TF_DRIFTS)])
    assert table.splitlines()[2] == "| 2.9.0 | keras2 | 2.99.0 | stable | stable | stable | stable |"
    text = f"intro\n{README_BEGIN}\nold\n{README_END}\noutro\n"
    assert replace_readme_table(text, table) == f"intro\n{README_BEGIN}\n{table}\n{README_END}\noutro\n"
    with pytest.raises(Refusal):
        replace_readme_table("no markers", table)


def test_a_release_that_cannot_install_gets_its_reports_with_the_error(tmp_path):
    pins = tmp_path / "requirements"
    pins.mkdir()
    (pins / "tf-2.16.txt").write_text("tensorflow-cpu==2.16.2\n", encoding="utf-8")
    assert known_releases(pins) == ["2.16"]
    options = TimelineOptions(venvs=tmp_path / "venvs", reports=tmp_path / "reports", requirements=pins, python=str(tmp_path / "no-python"))
    messages: list[str] = []
    outcomes = run_timeline(options, messages.append)
    assert [(o.release, o.engine) for o in outcomes] == [("2.16", engine) for engine in engines_offered((2, 16))]
    assert all("no base Python" in o.error for o in outcomes)
    for loaded in load_timeline(tmp_path / "reports"):
        assert loaded.report.records == [] and "no base Python" in loaded.report.error
        assert loaded.report.settings["pins"] == "tensorflow-cpu==2.16.2" and loaded.report.settings["release_engine"] == loaded.engine
    assert any("ERROR" in m for m in messages)


@pytest.mark.parametrize(
    ("make", "file", "pins", "changed"),
    [
        (lambda d, p: ReleaseVenv("2.9", d, p), "tf-2.9.txt", "tensorflow-cpu==2.9.3\n", "tensorflow-cpu==2.9.2\n"),
        (lambda d, p: BackendVenv("jax", d, p), "keras-jax.txt", "keras==3.15.1\njax[cpu]==0.10.2\n", "keras==3.15.1\njax[cpu]==0.10.3\n"),
    ],
    ids=["release", "backend"],
)
def test_a_stamped_venv_is_reused_and_a_changed_pin_file_is_not(tmp_path, make, file, pins, changed):
    """A release's venv and a backend's share the stamp: pins and base interpreter."""
    path = tmp_path / file
    path.write_text(pins, encoding="utf-8")
    venv = make(tmp_path / "venvs", path)
    venv.python.parent.mkdir(parents=True)
    venv.python.write_text("", encoding="utf-8")
    (venv.path / ".timeline-stamp").write_text(venv.stamp_text(sys.executable), encoding="utf-8")
    said: list[str] = []
    assert provision(venv, sys.executable, said.append) == "" and said == [f"{venv.name}: venv matches its pins, reused"]
    assert not venv.is_current("/another/python")  # the base interpreter is part of the stamp
    path.write_text(changed, encoding="utf-8")
    assert not venv.is_current(sys.executable)


def test_cli_rejects_an_unknown_release_and_prints_the_table():
    done = subprocess.run([sys.executable, "-m", "timeline", "--release", "2.99"], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and "no pin file for release 2.99" in done.stderr and "Traceback" not in done.stderr
    done = subprocess.run([sys.executable, "-m", "timeline", "--table"], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and done.stdout.startswith("| TensorFlow | engine | Keras |")


def test_report_round_trip_keeps_the_release_settings(tmp_path):
    path = write_report(entry("2.10", "keras2", STABLE).report, tmp_path, "2.10", "keras2")
    assert path.name == "tf-2.10-keras2.json"
    parsed = parse_report(path.read_bytes())
    assert parsed.settings["release"] == "2.10" and json.loads(path.read_text())["verdicts"] == parsed.verdicts()
