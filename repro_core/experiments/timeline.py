"""`python -m repro_core timeline`: the article's four scenarios on every TensorFlow release, one report each.

For each release (oldest first): provision its venv from the committed pins, register it as a kernelspec,
run the story once per engine the release offers, and write one report per (release, engine). A release
that fails to install or run still gets its reports, with the error and no records.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

from repro_core.experiments.release_venvs import ReleaseVenv, provision, register_kernel, release_venv
from repro_core.experiments.runner import CellRunner
from repro_core.experiments.story import run_scenarios, run_story
from repro_core.kernels.kernel import KernelError
from repro_core.recipes.settings import StoryParams
from repro_core.records import RunRecord
from repro_core.results.report import Report, build_report, report_json
from repro_core.results.timeline import (
    REPORTS_DIR,
    REQUIREMENTS_DIR,
    TIMELINE_DIR,
    TimelineEntry,
    engines_of,
    known_releases,
    pin_lines,
    pinned_tensorflow,
    release_of_version,
    report_filename,
    requested_engine,
)
from repro_core.vocabulary import STORY_SCENARIOS

Say = Callable[[str], None]
DEFAULT_VENVS = TIMELINE_DIR / ".venvs"


@dataclass(frozen=True)
class TimelineOptions:
    releases: tuple[str, ...] = ()  # empty: every release with a pin file
    venvs: Path = DEFAULT_VENVS
    reports: Path = REPORTS_DIR
    requirements: Path = REQUIREMENTS_DIR
    python: str = ""  # base interpreter for new venvs (pyenv's 3.10 by default)
    skip_install: bool = False
    params: StoryParams = field(default_factory=StoryParams)


@dataclass(frozen=True)
class ReleaseOutcome:
    release: str
    engine: str
    path: Path
    verdicts: dict[str, str]
    error: str
    seconds: float


def timeline_settings(params: StoryParams, venv: ReleaseVenv, engine: str) -> dict[str, object]:
    """The report's settings: the story's knobs plus what identifies the release and how it was installed."""
    pins = venv.pins() if venv.requirements.exists() else ""
    return {
        **asdict(params),  # seed, reruns, epochs, batch size, learning rate, requested engine
        "kernel": venv.kernel_name,
        "release": venv.release,
        "release_engine": engine,
        "tensorflow_pin": pinned_tensorflow(pins),
        "pins": ", ".join(pin_lines(pins)),  # one text: a report's unknown settings are read back as text
    }


def run_engine(venv: ReleaseVenv, engine: str, base: StoryParams, say: Say) -> Report:
    """The four scenarios on one engine of one release; any failure becomes the report's error."""
    params = StoryParams(seed=base.seed, reruns=base.reruns, epochs=base.epochs, batch_size=base.batch_size,
                         learning_rate=base.learning_rate, engine=requested_engine(engine))  # fmt: skip
    settings = timeline_settings(params, venv, engine)
    records: list[RunRecord] = []
    try:
        results = run_story(params, STORY_SCENARIOS, venv.kernel_name, on_record=records.append,
                            on_status=lambda text: say(f"tf-{venv.release} {engine}: {text}"))  # fmt: skip
    except (KernelError, ValueError, OSError) as exc:
        return build_report([], settings, None, error=f"run failed after {len(records)} reruns: {type(exc).__name__}: {exc}")
    versions = results[0].versions
    all_records = [record for result in results for record in result.records]
    error = ""
    if versions.engine != engine:
        error = f"the kernel reports engine {versions.engine!r}, expected {engine!r}"
    return build_report(all_records, settings, versions, error=error)


def write_report(report: Report, directory: Path, release: str, engine: str) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / report_filename(release, engine)
    path.write_text(report_json(report) + "\n", encoding="utf-8")
    return path


def run_release(release: str, options: TimelineOptions, interpreter: str, say: Say) -> list[ReleaseOutcome]:
    """Provision, register and run one release: one outcome (and one written report) per engine."""
    started = time.monotonic()
    venv = release_venv(release, options.venvs, options.requirements)
    error = provision(venv, interpreter, say, options.skip_install)
    if not error:
        error = register_kernel(venv)
        error = f"kernelspec registration failed: {error}" if error else ""
    outcomes = []
    for engine in engines_of(release):
        engine_started = time.monotonic()
        if error:
            report = build_report([], timeline_settings(options.params, venv, engine), None, error=error)
        else:
            report = run_engine(venv, engine, options.params, say)
        path = write_report(report, options.reports, release, engine)
        outcome = ReleaseOutcome(release, engine, path, report.verdicts(), report.error, time.monotonic() - engine_started)
        verdicts = ", ".join(f"{name} {value}" for name, value in outcome.verdicts.items()) or "no records"
        say(f"tf-{release} {engine}: {verdicts}{' · ERROR ' + report.error.splitlines()[0][:200] if report.error else ''} -> {path.name}")
        outcomes.append(outcome)
    say(f"tf-{release}: done in {time.monotonic() - started:.0f} s")
    return outcomes


def run_timeline(options: TimelineOptions, interpreter: str, say: Say) -> list[ReleaseOutcome]:
    """Every requested release, one at a time (each install and each kernel wants the machine's cores)."""
    available = known_releases(options.requirements)
    releases = list(options.releases) or available
    outcomes = []
    for index, release in enumerate(releases, start=1):
        say(f"== release {index} of {len(releases)}: TensorFlow {release}")
        outcomes.extend(run_release(release, options, interpreter, say))
    return outcomes


def check_releases(requested: Sequence[str], available: Sequence[str]) -> tuple[str, ...]:
    """Validate --release values against the pin files (ValueError names the choices)."""
    unknown = [name for name in requested if name not in available]
    if unknown:
        raise ValueError(f"no pin file for release {', '.join(unknown)}; choose from {', '.join(available)}")
    return tuple(dict.fromkeys(requested))


def live_entry(runner: CellRunner, params: StoryParams, on_record: Callable[[RunRecord], None] | None = None,
               on_status: Say | None = None) -> TimelineEntry:  # fmt: skip
    """The four scenarios in a session's notebook, as a *live* timeline column with the same provenance as a report."""
    results = run_scenarios(runner, params, STORY_SCENARIOS, on_record, on_status)
    records = [record for result in results for record in result.records]
    versions = results[0].versions if results else runner.versions
    release = release_of_version(versions.tensorflow) if versions is not None else ""
    engine = versions.engine if versions is not None else params.engine
    settings = {**asdict(params), "kernel": runner.kernel_name, "release": release, "release_engine": engine}
    return TimelineEntry(release=release or "?", engine=engine, report=build_report(records, settings, versions), source="live")
