"""The four story scenarios on each TensorFlow release (oldest first), one report per engine it offers; then Keras 3 on each
other backend asked for (JAX, PyTorch). A release that fails to install or run still gets its reports: the error, no records.
With `provision_only`, venvs are installed and registered and nothing runs."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

from repro_core.experiments.story import run_story
from repro_core.kernels.kernel import KernelError
from repro_core.recipes.settings import StoryParams
from repro_core.records import RunRecord
from repro_core.results.report import Report, build_report, report_json
from repro_core.results.timeline import REPORTS, backend_report_filename, keras_release_of, release_key, report_filename
from repro_core.validation import Refusal
from repro_core.vocabulary import BACKEND_REPORT_SCENARIOS, STORY_SCENARIOS, engines_offered, requested_engine
from timeline.venvs import (
    DEFAULT_VENVS,
    REQUIREMENTS_DIR,
    BackendVenv,
    ReleaseVenv,
    Say,
    backend_venv,
    known_backends,
    known_releases,
    pin_lines,
    pinned_tensorflow,
    provision,
    register_kernel,
    release_venv,
)

DEFAULT_REPORTS = Path(str(REPORTS))  # the checkout's repro_core/timeline_reports/, which the app reads


@dataclass(frozen=True)
class TimelineOptions:
    releases: tuple[str, ...] = ()  # empty: every release with a pin file, unless backends are asked for
    venvs: Path = DEFAULT_VENVS
    reports: Path = DEFAULT_REPORTS
    requirements: Path = REQUIREMENTS_DIR
    python: str = ""  # base interpreter for new release venvs (pyenv's 3.10 by default)
    skip_install: bool = False
    backends: tuple[str, ...] = ()  # Keras 3 on these backends too ("jax", "torch")
    backend_python: str = ""  # base interpreter for new backend venvs (pyenv's 3.11 by default)
    provision_only: bool = False  # install and register the venvs; run nothing, write no report


@dataclass(frozen=True)
class ReleaseOutcome:
    """One report written (or, with provision_only, one venv provisioned: engine ""). `release` names the venv's
    TensorFlow release, or for a backend the venv ("keras-jax")."""

    release: str
    engine: str
    error: str

    @property
    def name(self) -> str:
        return self.release if self.release.startswith("keras-") else f"tf-{self.release}"


def timeline_settings(params: StoryParams, venv: ReleaseVenv, engine: str) -> dict[str, object]:
    """The report's settings: the story's knobs plus what identifies the release and how it was installed."""
    pins = venv.pins()
    return {
        **asdict(params),  # seed, reruns, epochs, batch size, learning rate, requested engine
        "kernel": venv.kernel_name,
        "release": venv.release,
        "release_engine": engine,
        "tensorflow_pin": pinned_tensorflow(pins),
        "pins": ", ".join(pin_lines(pins)),  # one text: a report's unknown settings are read back as text
    }


def run_engine(venv: ReleaseVenv, engine: str, say: Say) -> Report:
    """The four scenarios on one engine of one release, with the story's default settings; any failure becomes the report's error."""
    params = StoryParams(engine=requested_engine(engine))
    settings = timeline_settings(params, venv, engine)
    records: list[RunRecord] = []
    try:
        results = run_story(params, STORY_SCENARIOS, venv.kernel_name, on_record=records.append,
                            on_status=lambda text: say(f"tf-{venv.release} {engine}: {text}"))  # fmt: skip
    except (KernelError, Refusal, OSError) as exc:
        return build_report([], settings, None, error=f"run failed after {len(records)} reruns: {type(exc).__name__}: {exc}")
    versions = results[0].versions
    error = f"the kernel reports engine {versions.engine!r}, expected {engine!r}" if versions.engine != engine else ""
    return build_report(records, settings, versions, error=error)


def write_report(report: Report, directory: Path, release: str, engine: str) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / report_filename(release, engine)
    path.write_text(report_json(report) + "\n", encoding="utf-8")
    return path


def provision_and_register(venv: ReleaseVenv | BackendVenv, python: str, options: TimelineOptions, say: Say) -> str:
    """The venv installed (or reused) and its kernelspec registered; "" or the error."""
    error = provision(venv, python, say, options.skip_install) or register_kernel(venv)
    if not error:
        say(f"{venv.name}: kernelspec {venv.kernel_name} ({venv.display_name}) -> {venv.python}")
    return error


def run_release(release: str, options: TimelineOptions, say: Say) -> list[ReleaseOutcome]:
    started = time.monotonic()
    venv = release_venv(release, options.venvs, options.requirements)
    error = provision_and_register(venv, options.python, options, say)
    if options.provision_only:
        return [ReleaseOutcome(release, "", error)]
    outcomes = []
    for engine in engines_offered(release_key(release)):
        report = build_report([], timeline_settings(StoryParams(), venv, engine), None, error=error) if error else run_engine(venv, engine, say)
        path = write_report(report, options.reports, release, engine)
        verdicts = ", ".join(f"{name} {value}" for name, value in report.verdicts().items()) or "no records"
        say(f"tf-{release} {engine}: {verdicts}{' · ERROR ' + report.error.splitlines()[0][:200] if report.error else ''} -> {path.name}")
        outcomes.append(ReleaseOutcome(release, engine, report.error))
    say(f"tf-{release}: done in {time.monotonic() - started:.0f} s")
    return outcomes


def backend_settings(params: StoryParams, venv: BackendVenv) -> dict[str, object]:
    """A backend report's settings: the story's knobs (backend included) plus what identifies the Keras and backend pinned."""
    pins = venv.pins()
    return {
        **asdict(params),  # seed, reruns, epochs, batch size, learning rate, engine, backend
        "kernel": venv.kernel_name,
        "backend": venv.backend,
        "release_engine": "keras3",
        "keras_release": keras_release_of(venv.keras),
        "keras_pin": venv.keras,
        "backend_pin": venv.backend_version,
        "pins": ", ".join(pin_lines(pins)),
    }


def run_backend_report(venv: BackendVenv, say: Say) -> Report:
    """The backend report's scenarios (the story's four and the seed switches) on Keras 3 over one backend, with the story's
    default settings; any failure, or a kernel that reports another Keras or backend than pinned, becomes the report's error."""
    params = StoryParams(backend=venv.backend)
    settings = backend_settings(params, venv)
    records: list[RunRecord] = []

    def heard(record: RunRecord) -> None:
        records.append(record)
        say(f"{venv.name}: {record.scenario} rerun {record.rerun}: {record.seconds:.2f} s")

    try:
        results = run_story(params, BACKEND_REPORT_SCENARIOS, venv.kernel_name, on_record=heard, on_status=lambda text: say(f"{venv.name}: {text}"))
    except (KernelError, Refusal, OSError) as exc:
        return build_report([], settings, None, error=f"run failed after {len(records)} reruns: {type(exc).__name__}: {exc}")
    versions = results[0].versions
    found = (versions.engine, versions.keras, getattr(versions, "backend", ""))
    wanted = ("keras3", venv.keras, venv.backend)
    error = f"the kernel reports engine, Keras and backend {found}, expected {wanted}" if found != wanted else ""
    return build_report(records, settings, versions, error=error)


def run_backend(backend: str, options: TimelineOptions, say: Say) -> list[ReleaseOutcome]:
    started = time.monotonic()
    venv = backend_venv(backend, options.venvs, options.requirements)
    error = provision_and_register(venv, options.backend_python, options, say)
    if options.provision_only:
        say(f"{venv.name}: done in {time.monotonic() - started:.0f} s{' · ERROR ' + error.splitlines()[0][:200] if error else ''}")
        return [ReleaseOutcome(venv.name, "", error)]
    params = StoryParams(backend=backend)
    report = build_report([], backend_settings(params, venv), None, error=error) if error else run_backend_report(venv, say)
    path = options.reports / backend_report_filename(keras_release_of(venv.keras), backend)
    options.reports.mkdir(parents=True, exist_ok=True)
    path.write_text(report_json(report) + "\n", encoding="utf-8")
    verdicts = ", ".join(f"{name} {value}" for name, value in report.verdicts().items()) or "no records"
    say(f"{venv.name}: {verdicts}{' · ERROR ' + report.error.splitlines()[0][:200] if report.error else ''} -> {path.name}")
    say(f"{venv.name}: done in {time.monotonic() - started:.0f} s")
    return [ReleaseOutcome(venv.name, "keras3", report.error)]


def run_timeline(options: TimelineOptions, say: Say) -> list[ReleaseOutcome]:
    """Every requested release, then every requested backend, one at a time (each install and each kernel wants the
    machine's cores)."""
    releases = list(options.releases) or ([] if options.backends else known_releases(options.requirements))
    outcomes = []
    for index, release in enumerate(releases, start=1):
        say(f"== release {index} of {len(releases)}: TensorFlow {release}")
        outcomes.extend(run_release(release, options, say))
    for index, backend in enumerate(options.backends, start=1):
        say(f"== backend {index} of {len(options.backends)}: Keras 3 on {backend}")
        outcomes.extend(run_backend(backend, options, say))
    return outcomes


def check_releases(requested: Sequence[str], available: Sequence[str]) -> tuple[str, ...]:
    unknown = [name for name in requested if name not in available]
    if unknown:
        raise Refusal(f"no pin file for release {', '.join(unknown)}; choose from {', '.join(available)}")
    return tuple(dict.fromkeys(requested))


def check_backends(requested: Sequence[str], available: Sequence[str] | None = None) -> tuple[str, ...]:
    available = known_backends() if available is None else available
    unknown = [name for name in requested if name not in available]
    if unknown:
        raise Refusal(f"no pin file for backend {', '.join(unknown)}; choose from {', '.join(available)}")
    return tuple(dict.fromkeys(requested))
