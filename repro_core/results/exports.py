"""What a page's results download as (CSV, JSON report, notebook) and the Compare page's tables.

Pure functions of records, settings and kernel outputs: no Streamlit, no TensorFlow.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping, Sequence
from dataclasses import asdict

import pandas as pd

from repro_core.kernels.kernel import CellResult
from repro_core.recipes.settings import StoryParams
from repro_core.results.notebook_export import notebook_from_cells, notebook_json
from repro_core.results.records import RECORD_FIELDS, KernelVersions, RunRecord
from repro_core.results.report import Comparison, Report, build_report, compare_reports, report_json

COL_SCENARIO = "scenario"
COL_RERUN = "rerun"
COL_BEFORE_SAME = "before same?"
COL_AFTER_SAME = "after same?"
COMPARE_COLUMNS = [COL_SCENARIO, COL_RERUN, COL_BEFORE_SAME, COL_AFTER_SAME, "A before sha256", "B before sha256", "A after sha256", "B after sha256"]


def settings_of(params: StoryParams, kernel_name: str) -> dict[str, object]:
    """The report's settings: the CLI's keys (seed, reruns, epochs, engine, kernel) plus batch size and learning rate."""
    return {**asdict(params), "kernel": kernel_name}


def records_csv(records: Sequence[RunRecord]) -> str:
    """One line per record, every field, full fingerprints (same columns as `story --format csv`)."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=RECORD_FIELDS, lineterminator="\n")
    writer.writeheader()
    for record in records:
        writer.writerow({name: repr(value) if isinstance(value, float) else value for name, value in record.as_dict().items()})
    return out.getvalue()


def records_from_csv(text: str) -> list[RunRecord]:
    """Read back records_csv (for tests and scripts; not for hostile uploads)."""
    rows = []
    for raw in csv.DictReader(io.StringIO(text)):
        values: dict[str, object] = dict(raw)
        values["rerun"] = int(raw["rerun"])
        values["kernel_start"] = int(raw.get("kernel_start") or 1)
        for name in ("before_sum", "after_sum", "seconds"):
            values[name] = float(raw[name])
        rows.append(RunRecord(**values))
    return rows


def report_text(records: Sequence[RunRecord], params: StoryParams, kernel_name: str, versions: KernelVersions | None) -> str:
    """The schema-versioned JSON report of these records (what `story --report` writes)."""
    return report_json(build_report(records, settings_of(params, kernel_name), versions))


def notebook_text(cells: Sequence[CellResult], kernel_name: str, display_name: str, title: str) -> str:
    """The exact cells that ran, with their stdout, as .ipynb JSON."""
    return notebook_json(notebook_from_cells(cells, kernel_name, display_name, title))


# -- compare ------------------------------------------------------------------------------------------
def _mark(value: bool | None) -> str:
    return "only in one report" if value is None else ("yes" if value else "no")


def comparison_frame(rows: Sequence[Comparison]) -> pd.DataFrame:
    """(scenario, rerun, before same?, after same?) plus 12-character fingerprint prefixes of each side."""
    data = []
    for row in rows:
        data.append(
            {
                COL_SCENARIO: row.scenario,
                COL_RERUN: row.rerun,
                COL_BEFORE_SAME: _mark(row.before_same),
                COL_AFTER_SAME: _mark(row.after_same),
                "A before sha256": row.a.before_sha256[:12] if row.a else "",
                "B before sha256": row.b.before_sha256[:12] if row.b else "",
                "A after sha256": row.a.after_sha256[:12] if row.a else "",
                "B after sha256": row.b.after_sha256[:12] if row.b else "",
            }
        )
    return pd.DataFrame(data, columns=COMPARE_COLUMNS)


def differing(rows: Sequence[Comparison]) -> int:
    """Reruns whose fingerprints differ, or that only one report has."""
    return sum(1 for row in rows if not (row.before_same and row.after_same))


def comparison_banner(rows: Sequence[Comparison]) -> tuple[str, str]:
    """(outcome, text): outcome is "empty", "same" or "different"; text starts with "N of M reruns differ"."""
    total = len(rows)
    if total == 0:
        return "empty", "0 of 0 reruns differ: the reports have no records to compare."
    n = differing(rows)
    text = f"**{n} of {total} reruns differ**"
    if n == 0:
        return "same", text + ": every paired rerun has the same SHA-256 fingerprints before and after training."
    return "different", text + " (fingerprints before or after training, or a rerun present in only one report)."


def compare(a: Report, b: Report) -> tuple[pd.DataFrame, tuple[str, str]]:
    rows = compare_reports(a, b)
    return comparison_frame(rows), comparison_banner(rows)


def report_summary(report: Report) -> list[tuple[str, str]]:
    """(label, value) lines about a report's kernel, machine, settings and verdicts."""
    k: Mapping[str, object] = report.kernel
    s: Mapping[str, object] = report.settings
    verdicts = ", ".join(f"{name}: {v}" for name, v in sorted(report.verdicts().items())) or "none"
    return [
        ("Kernel", f"{k.get('kernelspec', '?')} · Python {k.get('python', '?')} · TensorFlow {k.get('tensorflow', '?')} · "
                   f"{k.get('engine', '?')} {k.get('keras', '?')}"),  # fmt: skip
        ("Device", f"{k.get('devices', '?')} · op determinism {k.get('op_determinism', '?')}"),
        ("Machine", f"{report.machine.get('platform', '?')} · {report.machine.get('cpu', '?')}"),
        ("Settings", f"seed {s.get('seed', '?')} · {s.get('reruns', '?')} reruns · {s.get('epochs', '?')} epochs · engine {s.get('engine', '?')}"),
        ("Records", f"{len(report.records)} · created {report.created or '?'}"),
        ("Verdicts", verdicts),
    ]
