"""Recorded machine-setting runs: one report per (kernel, network, machine setting) in repro_core/machine_reports/, written
by `python -m repro_core machines --reports DIR` and shown beside the live rows of the Another machine page. Each is an
ordinary report (its machine block is the kernel's fingerprint as it took effect), so `compare` reads any two of them."""

from __future__ import annotations

import re
from collections.abc import Sequence
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

from repro_core.experiments.machines import MachineRun
from repro_core.machine import MachineSettings
from repro_core.recipes.settings import StoryParams, with_machine
from repro_core.results.report import MAX_REPORT_BYTES, Report, build_report, parse_report, report_json, settings_of
from repro_core.validation import Refusal
from repro_core.vocabulary import DEFAULT_BACKEND

if TYPE_CHECKING:
    from importlib.resources.abc import Traversable

MACHINE_REPORTS: Traversable = resources.files("repro_core") / "machine_reports"  # package data (pyproject ships it)
_NAME = re.compile(r"^(tf|jax|torch)-\d{1,2}\.\d{1,3}-(article|wide)-[A-Za-z0-9_.+-]{1,80}\.json$")


def report_of(run: MachineRun, params: StoryParams, kernel_name: str) -> Report:
    """One setting's run as a report: the settings asked for, the kernel's fingerprint as its machine block."""
    run_params = with_machine(params, run.machine)
    settings = {**settings_of(run_params, kernel_name, run.result.versions), "scenario": run.result.scenario}
    return build_report(run.result.records, settings, run.result.versions)


def machine_settings_of(report: Report) -> MachineSettings:
    """The machine setting a report's settings asked for (the machine's defaults for a report from before the switches)."""
    s = report.settings
    return MachineSettings(str(s.get("onednn", "default")), int(s.get("threads", 0) or 0), str(s.get("isa", "default")),  # type: ignore[arg-type]
                           s.get("op_determinism") is True)  # fmt: skip


def report_filename(report: Report) -> str:
    """"tf-2.21-wide-threads-1.json", "jax-0.10-wide-default.json": the kernel's backend and release, network, setting."""
    kernel = report.kernel
    backend = str(kernel.get("backend") or DEFAULT_BACKEND)
    version = str(kernel.get("backend_version") or kernel.get("tensorflow") or "")
    release = ".".join(version.split(".")[:2])
    prefix = "tf" if backend == DEFAULT_BACKEND else backend
    name = f"{prefix}-{release}-{report.settings.get('network', 'article')}-{machine_settings_of(report).label()}.json"
    if not _NAME.match(name):
        raise ValueError(f"cannot name a machine report for kernel {backend} {version!r}")
    return name


def write_reports(reports: Sequence[Report], directory: Path) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for report in reports:
        path = directory / report_filename(report)
        path.write_text(report_json(report) + "\n", encoding="utf-8")
        written.append(path)
    return written


def load_machine_reports(directory: Traversable = MACHINE_REPORTS) -> list[Report]:
    """Every recorded machine report, by file name; a misnamed or unreadable file is a Refusal."""
    found = []
    for path in sorted((p for p in directory.iterdir() if p.name.endswith(".json")), key=lambda p: p.name):
        report = parse_report(path.read_bytes()[: MAX_REPORT_BYTES + 1])
        if report_filename(report) != path.name:
            raise Refusal(f"{path.name} holds {report_filename(report)}")
        found.append(report)
    return found
