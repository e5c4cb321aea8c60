"""The committed timeline: one report per (TensorFlow release, engine), named, found and read back.

Plain Python (no kernels, no TensorFlow): the app, the README table and the CI checks all read the
reports through here, so a report's release and engine are taken from its settings, never guessed
from a file name alone, and every verdict is recomputed from the records (`Report.verdicts`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from repro_core.results.report import MAX_REPORT_BYTES, Report, parse_report

TIMELINE_DIR = Path(__file__).resolve().parents[2] / "timeline"
REPORTS_DIR = TIMELINE_DIR / "reports"
REQUIREMENTS_DIR = TIMELINE_DIR / "requirements"

# TensorFlow 2.16 made Keras 3 its `tf.keras` and moved Keras 2 to the separate `tf_keras` package
# (https://github.com/tensorflow/tensorflow/releases/tag/v2.16.1). Before that, TF ships Keras 2 only.
KERAS3_FROM = (2, 16)
ENGINE_ORDER = ("keras2", "keras3", "tf_keras")

_RELEASE = re.compile(r"^2\.\d{1,2}$")
_REQUIREMENTS_FILE = re.compile(r"^tf-(2\.\d{1,2})\.txt$")
_TF_PIN = re.compile(r"^tensorflow(?:-cpu)?==(\d+\.\d+\.\d+\S*)", re.MULTILINE)


def check_release(text: str) -> str:
    """A TensorFlow minor release such as "2.10" (ValueError otherwise: it ends up in paths and names)."""
    if not isinstance(text, str) or not _RELEASE.match(text):
        raise ValueError(f"a release looks like 2.10, got {text!r}")
    return text


def release_key(release: str) -> tuple[int, int]:
    major, minor = check_release(release).split(".")
    return int(major), int(minor)


def engines_of(release: str) -> tuple[str, ...]:
    """The Keras engines a release offers, as the kernel reports them: its own Keras 2, or Keras 3 and tf_keras."""
    return ("keras3", "tf_keras") if release_key(release) >= KERAS3_FROM else ("keras2",)


def requested_engine(engine: str) -> str:
    """The StoryParams engine that gives `engine`: TF_USE_LEGACY_KERAS=1 only for tf_keras; keras2 is TF's default."""
    return "tf_keras" if engine == "tf_keras" else "keras3"


def kernel_name(release: str) -> str:
    return f"timeline-tf{check_release(release)}"


def report_filename(release: str, engine: str) -> str:
    if engine not in ENGINE_ORDER:
        raise ValueError(f"unknown engine {engine!r}")
    return f"tf-{check_release(release)}-{engine}.json"


def requirements_file(release: str, directory: Path = REQUIREMENTS_DIR) -> Path:
    return directory / f"tf-{check_release(release)}.txt"


def known_releases(directory: Path = REQUIREMENTS_DIR) -> list[str]:
    """The releases that have a committed pin file, oldest first (adding a file adds a release)."""
    found = [m.group(1) for path in directory.glob("tf-*.txt") if (m := _REQUIREMENTS_FILE.match(path.name))]
    return sorted(found, key=release_key)


def pinned_tensorflow(requirements: str) -> str:
    """The exact TensorFlow version a pin file installs ("" when it has no == pin)."""
    match = _TF_PIN.search(requirements)
    return match.group(1) if match else ""


def pin_lines(requirements: str) -> list[str]:
    """The requirement lines of a pin file, comments and blanks dropped."""
    lines = (line.split("#", 1)[0].strip() for line in requirements.splitlines())
    return [line for line in lines if line]


@dataclass(frozen=True)
class TimelineEntry:
    """One column of the timeline: a report for one release and engine, recorded (committed) or live."""

    release: str
    engine: str
    report: Report
    source: str = "recorded"  # "recorded" (a committed report) or "live" (run on the page just now)
    path: str = ""

    @property
    def column(self) -> str:
        label = f"{self.release} · {self.engine}"
        return f"{label} · live" if self.source == "live" else label

    def verdicts(self) -> dict[str, str]:
        """Recomputed from the records (a stored "verdicts" block is never read)."""
        return self.report.verdicts()

    @property
    def sort_key(self) -> tuple:
        engine = ENGINE_ORDER.index(self.engine) if self.engine in ENGINE_ORDER else len(ENGINE_ORDER)
        return (self.source == "live", release_key(self.release), engine)


def entry_of(report: Report, path: str = "") -> TimelineEntry:
    """Read the release and engine a timeline report was made for from its settings."""
    release = check_release(str(report.settings.get("release", "")))
    engine = str(report.settings.get("release_engine", ""))
    if engine not in engines_of(release):
        raise ValueError(f"{path or 'report'}: engine {engine!r} is not one TensorFlow {release} offers")
    return TimelineEntry(release=release, engine=engine, report=report, path=path)


def load_timeline(directory: Path = REPORTS_DIR) -> list[TimelineEntry]:
    """Every committed report, ordered by release then engine; a misnamed or unreadable file is a ValueError."""
    entries = []
    for path in sorted(directory.glob("tf-*.json")):
        report = parse_report(path.read_bytes()[: MAX_REPORT_BYTES + 1])
        entry = entry_of(report, path.name)
        expected = report_filename(entry.release, entry.engine)
        if path.name != expected:
            raise ValueError(f"{path.name} holds TensorFlow {entry.release} {entry.engine}; it should be named {expected}")
        entries.append(entry)
    return sorted(entries, key=lambda e: e.sort_key)


def release_of_version(tensorflow: str) -> str:
    """ "2.21.0" -> "2.21" (the minor release a kernel's reported TensorFlow belongs to; "" if unreadable)."""
    match = re.match(r"^(\d+)\.(\d+)", tensorflow or "")
    return f"{match.group(1)}.{match.group(2)}" if match else ""
