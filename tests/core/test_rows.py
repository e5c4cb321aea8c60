"""Rows shown together: absolute kernel starts, one judgement per scenario (groups by settings and kernel start), Compare
counting only what both hold."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from repro_core import cli
from repro_core.experiments.story import run_scenario
from repro_core.judgement import RowSettings, judge, judge_each, spans_kernel_starts
from repro_core.recipes.settings import StoryParams
from repro_core.records import RunRecord, by_scenario, compare_records, verdict
from repro_core.results.report import build_report, parse_report, report_json
from repro_core.results.timeline import REPORTS, load_timeline
from repro_core.vocabulary import SCENARIOS

TF221 = "tf-2.21-keras3.json"


def committed(name: str):
    return parse_report((REPORTS / name).read_text(encoding="utf-8"))


def shifted(records: list[RunRecord], by: int) -> list[RunRecord]:
    """The same rows as a page holds them: kernel starts counted by the session's runner, not from 1."""
    return [replace(r, kernel_start=r.kernel_start + by) for r in records]


def rec(scenario: str, start: int, rerun: int, before: str, after: str, seed: int = 1234, epochs: int = 10) -> RunRecord:
    return RunRecord(scenario, rerun, 0.0, 0.0, before * 64, after * 64, 0.1, "3.11", "2.21.0", "3.15.1", "keras3", "lab-python", start,
                     seed=seed, epochs=epochs)  # fmt: skip


def test_the_scenario_says_whether_its_rows_span_kernel_starts():
    assert {name for name in SCENARIOS if spans_kernel_starts(name)} == {"fresh-kernel", "restart"}
    assert not spans_kernel_starts("factory+tf on keras3")  # a matrix recipe, or anything unknown: one kernel start a group


def test_committed_reports_keep_their_verdicts_and_compare_identically_with_absolute_starts():
    for entry in load_timeline():
        records = entry.report.records
        # the headline verdict per scenario is what the whole scenario's rows gave before groups existed
        assert entry.report.verdicts() == {name: verdict(rows) for name, rows in by_scenario(records).items()}
        assert entry.report.verdicts() == {name: found.outcome.name for name, found in judge_each(records).items()}
        for moved in (records, shifted(records, 5)):
            found = compare_records(records, moved)
            assert found.outcome == "same" and found.paired == len(records) and found.one_sided == 0


def test_a_live_page_report_against_the_committed_221_report_counts_only_the_rerun_both_hold(tmp_path: Path):
    reference = committed(TF221)
    first = next(r for r in reference.records if r.scenario == "factory-full-seed" and r.rerun == 1)
    page = build_report([replace(first, kernel_start=6, seconds=1.0)], {"seed": 1234}, None)  # one Run cell row, kernel start #6
    found = compare_records(page.records, reference.records)
    assert (found.outcome, found.paired, found.differing, found.one_sided) == ("same", 1, 0, len(reference.records) - 1)
    assert found.headline().startswith("All 1 rerun(s) in both reports are identical")
    assert f"{len(reference.records) - 1} rerun(s) are in one report only" in found.headline()
    mine = tmp_path / "page.json"
    mine.write_text(report_json(page), encoding="utf-8")
    assert cli.main(["compare", str(mine), str(REPORTS / TF221)]) == 0


def test_a_drift_report_against_a_factory_report_pairs_nothing(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    drift = [rec("global-model", 4, k, str(k), str(k + 1)) for k in (1, 2, 3, 4)]
    factory = [rec("factory-tf-seed", 9, k, "a", "b") for k in (1, 2, 3, 4)]
    found = compare_records(drift, factory)
    assert (found.outcome, found.paired, found.one_sided) == ("nothing-paired", 0, 8)
    assert "differ" not in found.headline() and "No rerun is in both reports" in found.headline()
    paths = []
    for name, records in (("drift", drift), ("factory", factory)):
        paths.append(tmp_path / f"{name}.json")
        paths[-1].write_text(report_json(build_report(records, {"seed": 1234}, None)), encoding="utf-8")
    assert cli.main(["compare", *map(str, paths)]) == 1
    assert "No rerun is in both reports" in capsys.readouterr().out


def test_a_differing_rerun_and_the_exit_status_agree(tmp_path: Path):
    reference = committed(TF221)
    changed = [replace(r, after_sha256="f" * 64) if r.rerun == 2 else r for r in shifted(reference.records, 3)]
    found = compare_records(changed, reference.records)
    assert found.outcome == "different" and found.differing == 4 and found.paired == len(reference.records)
    mine = tmp_path / "changed.json"
    mine.write_text(report_json(build_report(changed, {"seed": 1234}, None)), encoding="utf-8")
    assert cli.main(["compare", str(mine), str(REPORTS / TF221)]) == 1


def test_rows_are_judged_per_kernel_start_unless_the_scenario_spans_them():
    story = [rec("global-model", 1, k, str(k), str(k + 1)) for k in (1, 2, 3)]  # a chain
    run_cell = [rec("global-model", 6, 1, "1", "2")]  # Run cell after the whole story: a new kernel start
    found = judge(story + run_cell)
    assert [(g.kernel_start, len(g.records), g.verdict) for g in found.groups] == [(1, 3, "drift-chain"), (6, 1, "single-run")]
    assert found.outcome.name == "single-run" and found.newest is found.groups[-1]  # the newest group's
    assert found.same_as_first == (True, False, False, True)  # like with like: rerun 1 of its own start
    assert found.repeats.words == ""  # one rerun: nothing to compare, and no sentence saying so twice
    restart = [rec("restart", 3, 1, "a", "b"), rec("restart", 3, 2, "c", "d"), rec("restart", 4, 1, "a", "b")]
    assert [g.kernel_start for g in judge(restart).groups] == [None]
    assert judge(restart).same_as_first == (True, False, True)


def test_other_settings_start_a_group_beside_the_old_one_and_the_headline_judges_the_newest():
    seed_1234 = [rec("factory-tf-seed", 2, k, "a", "b") for k in (1, 2, 3)]
    seed_42 = [rec("factory-tf-seed", 2, k, str(k), "c", seed=42, epochs=3) for k in (4, 5)]  # same kernel start, new settings
    found = judge(seed_1234 + seed_42)
    assert [(g.settings.seed, g.verdict) for g in found.groups] == [(1234, "stable"), (42, "drift")]
    assert found.outcome.name == "drift" and found.earlier == (found.groups[0],)
    assert found.same_as_first == (True, True, True, True, False)  # each row against its own group's first
    assert found.newest.settings.label.startswith("seed 42, 3 epochs, Keras 3 on TensorFlow 2.21.0")
    assert RowSettings.of(seed_1234[0]).differences(RowSettings.of(seed_42[0])) == ["seed 1234 → 42", "epochs 10 → 3"]
    # back to seed 1234: its rows join the first group again, and the headline judges that group (the latest row's)
    again = judge([*seed_1234, *seed_42, rec("factory-tf-seed", 2, 6, "a", "b")])
    assert len(again.groups) == 2 and again.newest is again.groups[0] and again.outcome.name == "stable"


def test_the_restart_outcome_is_the_restart_check_once_there_are_two_kernel_starts():
    one_start = [rec("restart", 3, 1, "a", "b"), rec("restart", 3, 2, "c", "d")]
    assert judge(one_start).outcome.name == "drift"
    found = judge([*one_start, rec("restart", 4, 1, "a", "b")])
    assert (found.outcome.name, found.outcome.role) == ("restart-reproduces", "good")
    assert found.repeats.words == "initial weights repeat, trained weights repeat"  # what the check compared, never a contradiction
    differs = judge([*one_start, rec("restart", 4, 1, "x", "b")])
    assert differs.outcome.name == "restart-differs" and differs.repeats.words == "initial weights differ, trained weights repeat"


def test_reports_written_with_absolute_starts_round_trip():
    records = shifted(committed(TF221).records, 7)
    back = parse_report(report_json(build_report(records, {"seed": 1234}, None)))
    assert [r.kernel_start for r in back.records] == [r.kernel_start for r in records]
    assert json.loads(report_json(back))["records"][0]["kernel_start"] == 8


class FakeRunner:
    """The parts of CellRunner that run_scenario drives: kernel starts counted on, one record per run."""

    def __init__(self, starts: int) -> None:
        self.kernel_starts, self.log, self.versions, self.reruns = starts, [], None, 0

    def configure(self, setup, seed=None, epochs=None) -> None:
        pass

    def reset(self, on_status=None) -> None:
        self.kernel_starts, self.reruns = self.kernel_starts + 1, 0

    def rerun(self, cell, label, times, on_record, on_status=None) -> None:
        for _ in range(times):
            self.reruns += 1
            on_record(rec(label, self.kernel_starts, self.reruns, "a", "b"))


@pytest.mark.parametrize(("scenario", "expected"), [
    ("global-model", [(6, 1), (6, 2), (6, 3)]),
    ("fresh-kernel", [(6, 1), (7, 2), (8, 3)]),
    ("restart", [(6, 1), (6, 2), (6, 3), (7, 1)]),
])  # fmt: skip
def test_run_scenario_keeps_the_runners_kernel_starts(scenario: str, expected: list[tuple[int, int]]):
    result = run_scenario(FakeRunner(starts=5), scenario, StoryParams(reruns=3))  # the sidebar said kernel start #5
    assert [(r.kernel_start, r.rerun) for r in result.records] == expected
