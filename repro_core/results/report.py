"""Schema-versioned JSON reports of a lab run, their validation, and comparing two of them.

A report is what a visitor downloads and later uploads to compare machines; everything
read back is treated as hostile: size-capped, parsed as JSON only, type-checked field by field.
"""

from __future__ import annotations

import json
import math
import platform
import re
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, fields
from datetime import datetime, timezone
from pathlib import Path

from repro_core.results.records import RECORD_FIELDS, KernelVersions, RunRecord, verdict

SCHEMA = "keras-reproducibility-lab/report"
SCHEMA_VERSION = 2  # 2 adds the lab commit, an error field, and numpy among the kernel versions
READABLE_VERSIONS = (1, 2)
MAX_REPORT_BYTES = 1_000_000
_SHA = re.compile(r"^[0-9a-f]{64}$")
_COMMIT = re.compile(r"^([0-9a-f]{40}|)$")
_TEXT_FIELDS = {"scenario", "python", "tensorflow", "keras", "engine", "kernelspec"}


@dataclass(frozen=True)
class Report:
    settings: dict[str, object]
    kernel: dict[str, object]
    machine: dict[str, str]
    records: list[RunRecord]
    created: str = ""
    lab_commit: str = ""  # the lab's git commit that produced the report, when known
    error: str = ""  # why a run produced no records (e.g. a release that would not install)

    def verdicts(self) -> dict[str, str]:
        by_scenario: dict[str, list[RunRecord]] = {}
        for record in self.records:
            by_scenario.setdefault(record.scenario, []).append(record)
        return {name: verdict(rows) for name, rows in by_scenario.items()}


def machine_info() -> dict[str, str]:
    """Platform and CPU of the machine running the lab (kernels started here share it)."""
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as handle:
            for line in handle:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return {"platform": platform.platform(), "cpu": cpu}


def lab_commit() -> str:
    """The git commit of the lab's checkout (empty outside a git checkout)."""
    root = Path(__file__).resolve().parents[2]
    try:
        done = subprocess.run(["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return ""
    commit = done.stdout.strip()
    return commit if done.returncode == 0 and _COMMIT.match(commit) else ""


def build_report(
    records: Sequence[RunRecord], settings: Mapping[str, object], versions: KernelVersions | None, error: str = ""
) -> Report:
    return Report(
        settings=dict(settings),
        kernel=asdict(versions) if versions else {},
        machine=machine_info(),
        records=list(records),
        created=datetime.now(timezone.utc).isoformat(timespec="seconds"),
        lab_commit=lab_commit(),
        error=error,
    )


def report_json(report: Report) -> str:
    document = {
        "schema": SCHEMA,
        "schema_version": SCHEMA_VERSION,
        "created": report.created,
        "lab_commit": report.lab_commit,
        "error": report.error,
        "settings": report.settings,
        "kernel": report.kernel,
        "machine": report.machine,
        "verdicts": report.verdicts(),
        "records": [r.as_dict() for r in report.records],
    }
    return json.dumps(document, indent=2, sort_keys=False)


def _record(raw: object, index: int) -> RunRecord:
    where = f"records[{index}]"
    if not isinstance(raw, dict):
        raise ValueError(f"{where} must be an object")
    missing = [name for name in RECORD_FIELDS if name not in raw and name != "kernel_start"]  # schema 1 has no kernel_start
    if missing:
        raise ValueError(f"{where} lacks {', '.join(missing)}")
    values: dict[str, object] = {}
    for spec in fields(RunRecord):
        value = raw.get(spec.name, 1)
        if spec.name in _TEXT_FIELDS:
            if not isinstance(value, str) or len(value) > 200:
                raise ValueError(f"{where}.{spec.name} must be a short text")
        elif spec.name.endswith("sha256"):
            if not isinstance(value, str) or not _SHA.match(value):
                raise ValueError(f"{where}.{spec.name} must be 64 lowercase hex digits")
        elif spec.name in ("rerun", "kernel_start"):
            if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 10_000:
                raise ValueError(f"{where}.{spec.name} must be a whole number from 1")
        else:
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
                raise ValueError(f"{where}.{spec.name} must be a finite number")
            value = float(value)
        values[spec.name] = value
    return RunRecord(**values)


def parse_report(data: bytes | str, max_bytes: int = MAX_REPORT_BYTES) -> Report:
    """Read an uploaded report; every problem is a ValueError with a message fit to show a visitor."""
    raw = data.encode("utf-8") if isinstance(data, str) else bytes(data)
    limit = min(max_bytes, MAX_REPORT_BYTES)
    if len(raw) > limit:
        raise ValueError(f"the file is {len(raw):,} bytes; reports are at most {limit:,} bytes here")
    try:
        document = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
        raise ValueError(f"the file is not valid JSON ({type(exc).__name__})") from None
    if not isinstance(document, dict) or document.get("schema") != SCHEMA:
        raise ValueError("the file is not a Keras Reproducibility Lab report (no matching 'schema')")
    if document.get("schema_version") not in READABLE_VERSIONS:
        raise ValueError(f"unsupported report version {document.get('schema_version')!r}; this lab reads versions 1 and 2")
    records = document.get("records")
    if not isinstance(records, list):
        raise ValueError("'records' must be a list")
    for key in ("settings", "kernel", "machine"):
        if not isinstance(document.get(key, {}), dict):
            raise ValueError(f"'{key}' must be an object")
    machine = {str(k): str(v)[:200] for k, v in document.get("machine", {}).items()}
    return Report(
        settings=dict(document.get("settings", {})),
        kernel=dict(document.get("kernel", {})),
        machine=machine,
        records=[_record(item, i) for i, item in enumerate(records)],
        created=str(document.get("created", ""))[:40],
        lab_commit=commit if _COMMIT.match(commit := str(document.get("lab_commit", ""))) else "",
        error=str(document.get("error") or "")[:2000],
    )


@dataclass(frozen=True)
class Comparison:
    scenario: str
    rerun: int
    before_same: bool | None  # None: the rerun is only in one report
    after_same: bool | None
    a: RunRecord | None
    b: RunRecord | None


def compare_reports(a: Report, b: Report) -> list[Comparison]:
    """Pair records by (scenario, rerun) and say whether their fingerprints agree."""
    left = {(r.scenario, r.rerun): r for r in a.records}
    right = {(r.scenario, r.rerun): r for r in b.records}
    rows = []
    for key in sorted(set(left) | set(right)):
        x, y = left.get(key), right.get(key)
        both = x is not None and y is not None
        rows.append(
            Comparison(
                scenario=key[0],
                rerun=key[1],
                before_same=(x.before_sha256 == y.before_sha256) if both else None,
                after_same=(x.after_sha256 == y.after_sha256) if both else None,
                a=x,
                b=y,
            )
        )
    return rows
