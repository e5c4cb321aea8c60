"""The timeline: one committed report per (TensorFlow release, engine) and one per Keras 3 backend other than TensorFlow
(JAX, PyTorch), written by `python -m timeline`, and the live column. A report's release, engine and backend are read
from its settings, never guessed from its file name (which must agree with them)."""

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
from repro_core.validation import Refusal
from repro_core.vocabulary import BACKENDS, DEFAULT_BACKEND, ENGINES, STORY_SCENARIOS, backend_label, engines_offered

if TYPE_CHECKING:
    from importlib.resources.abc import Traversable

REPORTS: Traversable = resources.files("repro_core") / "timeline_reports"  # package data (pyproject ships it)

_RELEASE = re.compile(r"^2\.\d{1,2}$")
_KERAS_RELEASE = re.compile(r"^3\.\d{1,2}$")
TENSORFLOW = DEFAULT_BACKEND
# Keras 3's backends that get reports of their own (keras-<X.Y>-<backend>.json), their columns after TensorFlow's releases.
REPORT_BACKENDS = tuple(BACKENDS)


def check_release(text: str) -> str:
    """A TensorFlow minor release such as "2.10" (Refusal otherwise: it ends up in paths and names)."""
    if not isinstance(text, str) or not _RELEASE.match(text):
        raise Refusal(f"a release looks like 2.10, got {text!r}")
    return text


def release_key(release: str) -> tuple[int, int]:
    major, minor = check_release(release).split(".")
    return int(major), int(minor)


def report_filename(release: str, engine: str) -> str:
    if engine not in ENGINES:
        raise Refusal(f"unknown engine {engine!r}")
    return f"tf-{check_release(release)}-{engine}.json"


def check_keras_release(text: str) -> str:
    """A Keras 3 minor release such as "3.15" (Refusal otherwise: it ends up in paths and names)."""
    if not isinstance(text, str) or not _KERAS_RELEASE.match(text):
        raise Refusal(f"a Keras release looks like 3.15, got {text!r}")
    return text


def keras_release_of(version: str) -> str:
    """ "3.15.1" -> "3.15" ("" when it is no Keras 3 version)."""
    match = re.match(r"^(3\.\d{1,2})(\.|$)", version or "")
    return match.group(1) if match else ""


def backend_report_filename(keras_release: str, backend: str) -> str:
    """ "keras-3.15-jax.json": Keras 3 of that release on that backend."""
    if backend not in REPORT_BACKENDS:
        raise Refusal(f"unknown backend {backend!r}; reports exist for {', '.join(REPORT_BACKENDS)}")
    return f"keras-{check_keras_release(keras_release)}-{backend}.json"


@dataclass(frozen=True)
class TimelineEntry:
    """One column of the timeline: a report for one release and engine, recorded (committed) or live. On a backend other
    than TensorFlow, `release` is "" and `keras_release` names the Keras ("3.15"); the engine is keras3."""

    release: str
    engine: str
    report: Report
    source: str = "recorded"  # or "live" (run on the page just now)
    path: str = ""
    backend: str = TENSORFLOW
    keras_release: str = ""

    @property
    def is_release(self) -> bool:
        """A TensorFlow release's column (tf-*.json, or a live one of a TensorFlow kernel), not a Keras release on a backend."""
        return not self.keras_release

    @property
    def column(self) -> str:
        """ "2.10 · keras2" for a TensorFlow release, "Keras 3.15 · JAX" for a backend (unique among the recorded columns)."""
        label = f"{self.release} · {self.engine}" if self.is_release else f"Keras {self.keras_release or '?'} · {backend_label(self.backend)}"
        return f"{label} · live" if self.source == "live" else label

    @property
    def sort_key(self) -> tuple:
        """TensorFlow's releases oldest first (engines in ENGINES' order), then the other backends; live columns last."""
        order = list(ENGINES)
        engine = order.index(self.engine) if self.engine in order else len(order)
        if self.is_release:
            return (self.source == "live", 0, release_key(self.release) if _RELEASE.match(self.release) else (0, 0), engine)
        backend = REPORT_BACKENDS.index(self.backend) if self.backend in REPORT_BACKENDS else len(REPORT_BACKENDS)
        keras = tuple(int(part) for part in self.keras_release.split(".")) if _KERAS_RELEASE.match(self.keras_release) else (0, 0)
        return (self.source == "live", 1 + backend, keras, engine)


def _tensorflow_entry(report: Report, name: str) -> TimelineEntry:
    if str(report.settings.get("backend", TENSORFLOW)) != TENSORFLOW:
        raise Refusal(f"{name}: a TensorFlow release's report names backend {report.settings.get('backend')!r}")
    release = check_release(str(report.settings.get("release", "")))
    engine = str(report.settings.get("release_engine", ""))
    if engine not in engines_offered(release_key(release)):
        raise Refusal(f"{name}: engine {engine!r} is not one TensorFlow {release} offers")
    expected = report_filename(release, engine)
    if name != expected:
        raise Refusal(f"{name} holds TensorFlow {release} {engine}; it should be named {expected}")
    return TimelineEntry(release=release, engine=engine, report=report, path=name)


def _backend_entry(report: Report, name: str, backend: str) -> TimelineEntry:
    """A backend report: its settings name the backend, the Keras release and pin, and the engine keras3; the kernel it
    ran in (when it has records) must have reported the same."""
    if "release" in report.settings and backend in ("", TENSORFLOW):  # a TensorFlow release's report under a backend's name
        release, engine = check_release(str(report.settings["release"])), str(report.settings.get("release_engine", ""))
        raise Refusal(f"{name} holds TensorFlow {release} {engine}; it should be named {report_filename(release, engine)}")
    if backend not in REPORT_BACKENDS:
        raise Refusal(f"{name}: unknown backend {backend!r}; reports exist for {', '.join(REPORT_BACKENDS)}")
    settings = report.settings
    keras_release = check_keras_release(str(settings.get("keras_release", "")))
    keras_pin = str(settings.get("keras_pin", ""))
    if keras_release_of(keras_pin) != keras_release:
        raise Refusal(f"{name}: keras_pin {keras_pin!r} is not a Keras {keras_release} version")
    engine = str(settings.get("release_engine", ""))
    if engine != "keras3":
        raise Refusal(f"{name}: {backend_label(backend)} runs only Keras 3 (keras3), the report says {engine!r}")
    if "release" in settings:
        raise Refusal(f"{name}: a {backend_label(backend)} report names no TensorFlow release")
    expected = backend_report_filename(keras_release, backend)
    if name != expected:
        raise Refusal(f"{name} holds Keras {keras_release} on {backend_label(backend)}; it should be named {expected}")
    if report.records and (report.kernel.get("keras") != keras_pin or report.kernel.get("backend", backend) != backend):
        raise Refusal(f"{name}: its kernel reported Keras {report.kernel.get('keras')!r} on {report.kernel.get('backend')!r}, "
                         f"not the pinned {keras_pin} on {backend}")  # fmt: skip
    return TimelineEntry(release="", engine=engine, report=report, path=name, backend=backend, keras_release=keras_release)


def load_timeline(directory: Traversable = REPORTS, backends: bool = False) -> list[TimelineEntry]:
    """Every TensorFlow report in `directory` (tf-*.json), by release, then engine; with `backends`, also the Keras 3 backend
    reports (keras-*.json) after them. A misnamed or unreadable file is a Refusal. A report without a backend setting is
    TensorFlow's. (`backends` is opt-in: screens that draw release by release take only TensorFlow's columns.)"""
    entries = []
    prefixes = ("tf-", "keras-") if backends else ("tf-",)
    reports = (p for p in directory.iterdir() if p.name.startswith(prefixes) and p.name.endswith(".json"))
    for path in sorted(reports, key=lambda p: p.name):
        report = parse_report(path.read_bytes()[: MAX_REPORT_BYTES + 1])
        if path.name.startswith("tf-"):
            entry = _tensorflow_entry(report, path.name)
        else:  # keras-<X.Y>-<backend>.json: Keras 3 on one backend, TensorFlow's included
            entry = _backend_entry(report, path.name, str(report.settings.get("backend", "")))
        entries.append(entry)
    return sorted(entries, key=lambda e: e.sort_key)


def live_entry(
    runner: CellRunner, params: StoryParams, on_status: Callable[[str], None] | None = None, on_record: OnRecord | None = None
) -> TimelineEntry:
    """The four scenarios in a session's runner, as a *live* column with the same provenance as a report (`on_record`
    hears of each rerun as it finishes, for a progress bar)."""
    results = run_scenarios(runner, params, STORY_SCENARIOS, on_record=on_record, on_status=on_status)
    records = [record for result in results for record in result.records]
    versions = results[0].versions if results else runner.versions
    engine = versions.engine if versions is not None else params.engine
    backend = versions.backend if versions is not None else params.backend
    if backend != TENSORFLOW:  # Keras 3 on JAX or PyTorch: named by the Keras release, as the backend reports are
        keras_release = keras_release_of(versions.keras) if versions is not None else ""
        settings = {**settings_of(params, runner.kernel_name), "backend": backend, "release_engine": engine, "keras_release": keras_release}
        return TimelineEntry(release="", engine=engine, report=build_report(records, settings, versions), source="live", backend=backend,
                             keras_release=keras_release)  # fmt: skip
    release = release_of_version(versions.tensorflow) if versions is not None else ""
    settings = {**settings_of(params, runner.kernel_name), "release": release, "release_engine": engine}
    return TimelineEntry(release=release or "?", engine=engine, report=build_report(records, settings, versions), source="live")
