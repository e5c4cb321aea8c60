"""Pure export builders and the Compare page's table (no kernel, no TensorFlow)."""

from __future__ import annotations

import csv
import io
import json
import subprocess

import nbformat

from repro_core.kernels.kernel import CellResult
from repro_core.recipes.settings import StoryParams
from repro_core.records import KernelVersions, RunRecord
from repro_core.results import report as report_module
from repro_core.results.exports import (
    COL_AFTER_SAME,
    COL_BEFORE_SAME,
    compare,
    comparison_frame,
    notebook_text,
    records_csv,
    report_summary,
    report_text,
)
from repro_core.results.ipynb_export import NotebookInfo
from repro_core.results.report import build_report, parse_report

VERSIONS = KernelVersions(python="3.11.7", tensorflow="2.21.0", keras="3.15.1", engine="keras3", kernelspec="lab-python")


def record(scenario: str, rerun: int, before: str, after: str, total: float = 0.1 + 0.2) -> RunRecord:
    return RunRecord(scenario=scenario, rerun=rerun, before_sum=total, after_sum=-total / 3, before_sha256=before * 64,
                     after_sha256=after * 64, seconds=1.2345, python="3.11.7", tensorflow="2.21.0", keras="3.15.1",
                     engine="keras3", kernelspec="lab-python")  # fmt: skip


RECORDS = [record("global-model", 1, "a", "b"), record("global-model", 2, "b", "c", 1 / 7)]


def test_csv_holds_every_field_at_full_precision():
    rows = list(csv.DictReader(io.StringIO(records_csv(RECORDS))))
    assert rows == [{name: str(value) for name, value in r.as_dict().items()} for r in RECORDS]
    assert [float(row["before_sum"]) for row in rows] == [r.before_sum for r in RECORDS]  # repr: the float exactly


def test_report_text_parses_back_with_settings_and_kernel():
    report = parse_report(report_text(RECORDS, StoryParams(reruns=2, epochs=2), "lab-python", VERSIONS))
    assert report.records == RECORDS
    assert report.settings["reruns"] == 2 and report.settings["kernel"] == "lab-python"
    assert report.kernel["tensorflow"] == "2.21.0"
    assert report.verdicts() == {"global-model": "drift-chain"}


def test_notebook_text_is_a_valid_notebook_with_outputs():
    cells = [CellResult(code="print('x')\n", stdout="x\n", stderr="")]
    book = nbformat.reads(notebook_text(cells, NotebookInfo(title="title", versions=VERSIONS, settings={})), as_version=4)
    assert book.metadata.kernelspec.name == "python3"  # every Jupyter has it; lab-python exists only in the lab
    assert [c.source for c in book.cells if c.cell_type == "code"] == ["print('x')"]


def test_comparison_frame_and_banner():
    a = build_report(RECORDS, {}, VERSIONS)
    other = [RECORDS[0], record("global-model", 2, "b", "d"), record("factory-tf-seed", 1, "e", "f")]
    b = build_report(other, {}, VERSIONS)
    comparison = compare(a, b)
    frame = comparison_frame(comparison)
    assert frame[["scenario", "rerun"]].values.tolist() == [["factory-tf-seed", 1], ["global-model", 1], ["global-model", 2]]
    assert frame[COL_BEFORE_SAME].tolist() == ["only in one report", "yes", "yes"]
    assert frame[COL_AFTER_SAME].tolist() == ["only in one report", "yes", "no"]
    # only reruns both reports hold are counted; the one-sided rerun is said apart
    assert (comparison.outcome, comparison.differing, comparison.paired, comparison.one_sided) == ("different", 1, 2, 1)
    assert comparison.headline().startswith("1 of 2 rerun(s) in both reports differ") and "1 rerun(s) are in one report only" in comparison.headline()
    assert compare(a, a).outcome == "same" and compare(a, a).headline().startswith("All 2 rerun(s) in both reports are identical")
    apart = compare(a, build_report([record("factory-tf-seed", 1, "e", "f")], {}, VERSIONS))
    assert apart.outcome == "nothing-paired" and apart.headline().startswith("No rerun is in both reports")
    assert dict(report_summary(a))["Kernel"].startswith("lab-python · Python 3.11.7 · TensorFlow 2.21.0")
    json.dumps(frame.to_dict())  # plain values only


def test_lab_commit_asks_git_once_per_process(monkeypatch):
    """Every rerun of a page with rows builds reports and exports; git must not run for each."""
    calls = []
    real_run = subprocess.run

    def counting_run(*args, **kwargs):
        calls.append(args[0] if args else kwargs.get("args"))
        return real_run(*args, **kwargs)

    monkeypatch.setattr(subprocess, "run", counting_run)
    report_module.lab_commit.cache_clear()
    try:
        first = report_module.lab_commit()
        for _ in range(20):
            assert report_module.lab_commit() == first
            build_report(RECORDS, {}, VERSIONS)
            records_csv(RECORDS)
            report_text(RECORDS, StoryParams(), "lab-python", VERSIONS)
    finally:
        report_module.lab_commit.cache_clear()
    git_calls = [command for command in calls if command[0] == "git"]  # platform.processor() may run `uname -p`
    assert git_calls == [["git", "rev-parse", "HEAD"]], calls
