"""What a page's results download as (CSV, JSON report, notebook) and the Compare page's tables, shared with the CLI."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence

import nbformat
import pandas as pd

from repro_core.experiments.audit import AuditResult
from repro_core.experiments.diagnose import Diagnosis
from repro_core.kernels.kernel import CellResult
from repro_core.machine import block_summary, trait_differences
from repro_core.recipes.settings import StoryParams
from repro_core.records import RECORD_FIELDS, VERDICTS, KernelVersions, RecordsComparison, RunRecord, compare_records
from repro_core.results.ipynb_export import NotebookInfo, notebook_from_cells
from repro_core.results.report import Report, build_report, lab_commit, report_json, settings_of
from repro_core.vocabulary import DEFAULT_BACKEND, SCENARIOS, backend_release, engine_label, keras_release

COL_BEFORE_SAME, COL_AFTER_SAME = "before same?", "after same?"
COL_KERNEL_START = "kernel start"  # counted from the scenario's first kernel start in each report (how reruns pair)
COMPARE_COLUMNS = ["scenario", COL_KERNEL_START, "rerun", COL_BEFORE_SAME, COL_AFTER_SAME,
                   "A before sha256", "B before sha256", "A after sha256", "B after sha256"]


def records_csv(records: Sequence[RunRecord]) -> str:
    """One line per record, every field, full fingerprints, floats as repr (exact); also what `story --format csv` prints."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=RECORD_FIELDS, lineterminator="\n")
    writer.writeheader()
    for record in records:
        writer.writerow({name: repr(value) if isinstance(value, float) else value for name, value in record.as_dict().items()})
    return out.getvalue()


def report_text(records: Sequence[RunRecord], params: StoryParams, kernel_name: str, versions: KernelVersions | None) -> str:
    return report_json(build_report(records, settings_of(params, kernel_name), versions))


def notebook_text(cells: Sequence[CellResult], info: NotebookInfo) -> str:
    """The exact cells that ran, with their stdout, as .ipynb JSON: what a page offers and `--notebook` writes."""
    return nbformat.writes(notebook_from_cells(cells, info))


def story_notebook_info(title: str, params: StoryParams, kernel_name: str, versions: KernelVersions, file_name: str) -> NotebookInfo:
    return NotebookInfo(title=title, versions=versions, settings=settings_of(params, kernel_name, versions), file_name=file_name,
                        lab_commit=lab_commit())  # fmt: skip


def audit_notebook_info(result: AuditResult, file_name: str) -> NotebookInfo:
    audit = result.audit
    settings = {"recipe": audit.recipe.label, "seed": audit.seed, "reruns": len(result.records), "kernel": result.versions.kernelspec,
                **audit.spec.to_dict()}  # fmt: skip
    return NotebookInfo(title=f"Your model: recipe {audit.recipe.label}", versions=result.versions, settings=settings, file_name=file_name,
                        lab_commit=lab_commit())  # fmt: skip


def diagnose_json(found: Diagnosis) -> str:
    """The diagnosis as the page's download and `diagnose --format json` give it (with the lab's commit)."""
    return json.dumps({**found.as_dict(), "lab_commit": lab_commit()}, indent=2)


def diagnose_notebook_info(found: Diagnosis, file_name: str) -> NotebookInfo:
    settings = {"script": found.script.name, "script sha256": found.script.sha256, "runs": found.options.runs,
                "same kernel": found.options.same_kernel, "kernel": found.options.kernel}  # fmt: skip
    return NotebookInfo(title=f"Your training: {found.script.name}, run 1 with the lab's recorder", versions=found.versions, settings=settings,
                        file_name=file_name, lab_commit=lab_commit())  # fmt: skip


# -- compare ------------------------------------------------------------------------------------------
def _mark(value: bool | None) -> str:
    return "only in one report" if value is None else ("yes" if value else "no")


def comparison_frame(comparison: RecordsComparison) -> pd.DataFrame:
    data = []
    for row in comparison.rows:
        a, b = (record.fingerprints if record else ("", "") for record in (row.a, row.b))
        marks = [_mark(row.before_same), _mark(row.after_same)]
        data.append([row.scenario, row.kernel_start, row.rerun, *marks, a[0][:12], b[0][:12], a[1][:12], b[1][:12]])
    return pd.DataFrame(data, columns=COMPARE_COLUMNS)


def compare(a: Report, b: Report) -> RecordsComparison:
    """What differs between two reports' reruns: one definition for the Compare page and the `compare` command."""
    return compare_records(a.records, b.records)


def _on_off(value: object) -> str:
    return "on" if value is True else "off" if value is False else str(value or "?")


def report_summary(report: Report) -> list[tuple[str, str]]:
    """(label, value) lines about a report, in words: "Keras 3.15.1", "op determinism off", each scenario and verdict by its
    title (the JSON keeps the ids). The values come from an uploaded file: show them as plain text, never as Markdown."""
    k, s = report.kernel, report.settings
    engine = str(k.get("engine") or s.get("engine") or "")
    backend = str(k.get("backend") or s.get("backend") or DEFAULT_BACKEND)
    trained = backend_release(backend, str(k.get("backend_version") or k.get("tensorflow") or "?"))
    verdicts = "; ".join(f"{SCENARIOS[name].title_on(backend) if name in SCENARIOS else name}: "
                         f"{VERDICTS[v].headline.lower() if v in VERDICTS else v}" for name, v in sorted(report.verdicts().items()))  # fmt: skip
    lines = [
        ("Kernel", f"{k.get('kernelspec', '?')} · Python {k.get('python', '?')} · {trained} · {keras_release(engine, str(k.get('keras') or ''))} · "
                   f"NumPy {k.get('numpy') or '?'}"),  # fmt: skip
        ("Device", f"{k.get('devices', '?')} · op determinism {_on_off(k.get('op_determinism'))}"),
        ("Machine", f"{k.get('platform') or report.machine.get('platform', '?')} · {report.machine.get('cpu', '?')}"),
        ("Numerics", block_summary(report.machine) or "not recorded (a report from before the numerics fingerprint)"),
        ("Settings", f"seed {s.get('seed', '?')} · {s.get('reruns', '?')} reruns · {s.get('epochs', '?')} epochs · "
                     f"{engine_label(engine) if engine else 'engine not recorded'} · network {s.get('network', 'article')} · "
                     f"oneDNN {s.get('onednn', 'default')} · threads {s.get('threads', 0) or 'default'} · ISA cap {s.get('isa', 'default')}"),
        ("Rows", f"{len(report.records)} · created {report.created or '?'} · lab commit {report.lab_commit[:12] or '?'}"),
        ("Verdicts", verdicts or "none"),
    ]
    if report.error:
        lines.append(("Error", report.error))
    return lines


# What tells two reports' kernels apart (labels as shown; `_kernel_value` reads each from the report).
DIFFERS_FIELDS = ("engine", "TensorFlow", "Keras", "NumPy", "Python", "platform")


def _kernel_value(report: Report, label: str) -> str:
    k = report.kernel
    if label == "engine":
        return str(k.get("engine") or report.settings.get("engine") or "")
    if label == "platform":
        return str(k.get("platform") or report.machine.get("platform") or "")
    return str(k.get(label.lower()) or "")


def what_differs(a: Report, b: Report) -> list[tuple[str, str, str, bool]]:
    values = [(label, _kernel_value(a, label), _kernel_value(b, label)) for label in DIFFERS_FIELDS]
    return [(label, left or "?", right or "?", left == right) for label, left, right in values]


def differs_frame(rows: Sequence[tuple[str, str, str, bool]]) -> pd.DataFrame:
    return pd.DataFrame([(f, x, y, "yes" if same else "no") for f, x, y, same in rows], columns=["field", "report A", "report B", "same?"])


def differs_line(rows: Sequence[tuple[str, str, str, bool]]) -> str:
    """One sentence naming the fields that differ (field labels only: no text from the reports)."""
    differ = [field for field, _a, _b, same in rows if not same]
    if not differ:
        return "Same " + ", ".join(DIFFERS_FIELDS[:-1]) + f" and {DIFFERS_FIELDS[-1]} in both reports."
    return "The reports' kernels differ in: " + ", ".join(differ) + "."


# -- why two reports differ ------------------------------------------------------------------------------
# Settings that change the numbers, as (settings key, label); the machine switches are named by the traits that took effect.
CAUSE_SETTINGS = (("network", "network"), ("seed", "seed"), ("epochs", "epochs"), ("batch_size", "batch size"),
                  ("learning_rate", "learning rate"), ("backend", "backend"))  # fmt: skip
MACHINE_SETTINGS = (("onednn", "oneDNN setting", "default"), ("threads", "threads setting", 0), ("isa", "ISA cap setting", "default"),
                    ("op_determinism", "op determinism", False))  # fmt: skip


def _has_fingerprint(report: Report) -> bool:
    return "onednn" in report.machine


def likely_causes(a: Report, b: Report) -> list[str]:
    """What differs between two reports, most likely cause of different bits first: the settings and the machine traits
    that took effect ("oneDNN on in A, off in B", "intra-op threads 1 in A, 2 in B"), then the kernels' packages. Values
    come from uploaded files: show them as plain text."""
    causes = []
    for key, label in CAUSE_SETTINGS:
        left, right = a.settings.get(key), b.settings.get(key)
        if left is not None and right is not None and str(left) != str(right):
            causes.append(f"{label} {left} in A, {right} in B")
    if _has_fingerprint(a) and _has_fingerprint(b):
        causes += trait_differences(a.machine, b.machine)
    else:  # a report from before fingerprints: only the settings asked for, and the CPU's name, can be compared
        causes += [f"{label} {a.settings.get(key, default)} in A, {b.settings.get(key, default)} in B"
                   for key, label, default in MACHINE_SETTINGS if str(a.settings.get(key, default)) != str(b.settings.get(key, default))]  # fmt: skip
        if a.machine.get("cpu") != b.machine.get("cpu"):
            missing = " and ".join(name for name, report in (("A", a), ("B", b)) if not _has_fingerprint(report))
            causes.append(f"CPU {a.machine.get('cpu', '?')} in A, {b.machine.get('cpu', '?')} in B (report {missing} predates "
                          "fingerprints: which traits differ is unknown)")
    causes += [f"{label} {left} in A, {right} in B" for label, left, right, same in what_differs(a, b) if not same]
    return causes


def causes_heading(comparison: RecordsComparison, causes: Sequence[str]) -> str:
    """The line above the causes: why they are listed."""
    if not causes:
        return "The reports agree on every setting, machine trait and package the lab records."
    if comparison.outcome == "different":
        return "Likely causes, settings and machine traits first, then packages:"
    return "The reports differ in these (they did not change the compared fingerprints):"
