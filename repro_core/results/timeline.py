"""The timeline: one committed report per (TensorFlow release, engine), written by `python -m timeline`, and the live column.
A report's release and engine are read from its settings, never guessed from its file name."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from importlib import resources
from typing import TYPE_CHECKING

from repro_core.experiments.runner import CellRunner, OnRecord
from repro_core.experiments.story import run_scenarios
from repro_core.recipes.settings import StoryParams
from repro_core.results.ipynb_export import release_of_version
from repro_core.results.report import MAX_REPORT_BYTES, Report, build_report, parse_report, settings_of
from repro_core.vocabulary import ENGINES, STORY_SCENARIOS, engines_offered

if TYPE_CHECKING:
    from importlib.resources.abc import Traversable

REPORTS: Traversable = resources.files("repro_core") / "timeline_reports"  # package data (pyproject ships it)

_RELEASE = re.compile(r"^2\.\d{1,2}$")


def check_release(text: str) -> str:
    """A TensorFlow minor release such as "2.10" (ValueError otherwise: it ends up in paths and names)."""
    if not isinstance(text, str) or not _RELEASE.match(text):
        raise ValueError(f"a release looks like 2.10, got {text!r}")
    return text


def release_key(release: str) -> tuple[int, int]:
    major, minor = check_release(release).split(".")
    return int(major), int(minor)


def report_filename(release: str, engine: str) -> str:
    if engine not in ENGINES:
        raise ValueError(f"unknown engine {engine!r}")
    return f"tf-{check_release(release)}-{engine}.json"


@dataclass(frozen=True)
class TimelineEntry:
    """One column of the timeline: a report for one release and engine, recorded (committed) or live."""

    release: str
    engine: str
    report: Report
    source: str = "recorded"  # or "live" (run on the page just now)
    path: str = ""

    @property
    def column(self) -> str:
        label = f"{self.release} · {self.engine}"
        return f"{label} · live" if self.source == "live" else label

    @property
    def sort_key(self) -> tuple:
        order = list(ENGINES)
        engine = order.index(self.engine) if self.engine in order else len(order)
        return (self.source == "live", release_key(self.release), engine)


def load_timeline(directory: Traversable = REPORTS) -> list[TimelineEntry]:
    """Every report in `directory`, ordered by release then engine; a misnamed or unreadable file is a ValueError."""
    entries = []
    for path in sorted((p for p in directory.iterdir() if p.name.startswith("tf-") and p.name.endswith(".json")), key=lambda p: p.name):
        report = parse_report(path.read_bytes()[: MAX_REPORT_BYTES + 1])
        release = check_release(str(report.settings.get("release", "")))
        engine = str(report.settings.get("release_engine", ""))
        if engine not in engines_offered(release_key(release)):
            raise ValueError(f"{path.name}: engine {engine!r} is not one TensorFlow {release} offers")
        expected = report_filename(release, engine)
        if path.name != expected:
            raise ValueError(f"{path.name} holds TensorFlow {release} {engine}; it should be named {expected}")
        entries.append(TimelineEntry(release=release, engine=engine, report=report, path=path.name))
    return sorted(entries, key=lambda e: e.sort_key)


def live_entry(
    runner: CellRunner, params: StoryParams, on_status: Callable[[str], None] | None = None, on_record: OnRecord | None = None
) -> TimelineEntry:
    """The four scenarios in a session's runner, as a *live* column with the same provenance as a report (`on_record`
    hears of each rerun as it finishes, for a progress bar)."""
    results = run_scenarios(runner, params, STORY_SCENARIOS, on_record=on_record, on_status=on_status)
    records = [record for result in results for record in result.records]
    versions = results[0].versions if results else runner.versions
    release = release_of_version(versions.tensorflow) if versions is not None else ""
    engine = versions.engine if versions is not None else params.engine
    settings = {**settings_of(params, runner.kernel_name), "release": release, "release_engine": engine}
    return TimelineEntry(release=release or "?", engine=engine, report=build_report(records, settings, versions), source="live")
