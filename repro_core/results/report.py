"""Schema-versioned JSON reports of a lab run. Visitors upload them to compare machines, so everything read back is hostile:
size-capped, parsed as JSON only, checked field by field."""

from __future__ import annotations

import contextlib
import json
import math
import platform
import re
import subprocess
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from functools import cache, partial
from pathlib import Path

from repro_core.judgement import judge_each
from repro_core.machine import ISA_CAPS, ONEDNN_CHOICES, THREADS_MAX
from repro_core.recipes.settings import NETWORKS, StoryParams
from repro_core.records import RECORD_FIELDS, KernelVersions, RunRecord
from repro_core.validation import Refusal, choice, flag, matching, real_number, whole_number
from repro_core.vocabulary import BACKENDS, ENGINES

SCHEMA = "keras-reproducibility-lab/report"
# 2 adds the lab commit, an error field, and numpy among the kernel versions; 3 the Keras backend; 4 each record's seed,
# epochs and machine traits, and the numerics fingerprint (the machine block as the kernel reports it: CPU features,
# oneDNN, ISA cap, threads...)
SCHEMA_VERSION = 4
READABLE_VERSIONS = (1, 2, 3, 4)
MACHINE_KEYS_MAX = 40
MAX_REPORT_BYTES = 1024 * 1024  # 1 MB as Streamlit's uploaders count it (their limit is whole megabytes): one limit, stated as enforced
_SHA = re.compile(r"^[0-9a-f]{64}$")
_COMMIT = re.compile(r"^([0-9a-f]{40}|)$")

# Fields with a known shape are checked against it, so nothing else (a Markdown link, an HTML tag) can pass
# as a version or a name; the rest is free text, shown only as text (never as Markdown or HTML).
VERSION = re.compile(r"^\d{1,4}(\.\d{1,6}){1,3}([.+-]?[A-Za-z0-9]{0,20}){0,3}$")  # 2.21.0, 3.11.7, 2.16.0rc0, 3.12.1+
KERNELSPEC = re.compile(r"^[A-Za-z0-9._-]{1,64}$")  # Jupyter's own rule for kernelspec names
SCENARIO = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
CREATED = re.compile(r"^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?(Z|[+-]\d{2}:\d{2})?|)$")
DEVICES = ("CPU", "GPU")
FREE_TEXT_MAX = 200
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")  # terminal escapes and other control characters


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
        """Each scenario's outcome, as its page headlines it (repro_core.judgement)."""
        return {name: found.outcome.name for name, found in judge_each(self.records).items()}


def machine_info() -> dict[str, str]:
    """Platform and CPU of the machine running the lab (a report without a kernel's fingerprint says only this)."""
    cpu = platform.processor() or platform.machine()
    with contextlib.suppress(OSError), open("/proc/cpuinfo", encoding="utf-8") as handle:
        cpu = next((line.split(":", 1)[1].strip() for line in handle if line.startswith("model name")), cpu)
    return {"platform": platform.platform(), "cpu": cpu}


@cache
def lab_commit() -> str:
    """The checkout's HEAD, asked of git once per process: every rerun of a page with rows builds reports and exports."""
    try:  # git finds the checkout from this file's folder upwards
        done = subprocess.run(["git", "rev-parse", "HEAD"], cwd=Path(__file__).parent, capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return ""
    commit = done.stdout.strip()
    return commit if done.returncode == 0 and _COMMIT.match(commit) else ""


def machine_block(versions: KernelVersions | None) -> dict[str, str]:
    """The report's machine block: the kernel's numerics fingerprint as it took effect (oneDNN as TensorFlow decided, the
    ISA cap and threads the kernel ran with), as text, over the lab's platform (a gateway's kernels may run elsewhere)."""
    found = machine_info()
    return found if versions is None else found | versions.machine.as_text()


def settings_of(params: StoryParams, kernel_name: str, versions: KernelVersions | None = None) -> dict[str, object]:
    """The report's settings: the CLI's keys (seed, reruns, epochs, engine, kernel) plus batch size and learning rate.
    The engine is the one the kernel reports once it has (a TF 2.9 kernel runs Keras 2 whatever was asked)."""
    settings: dict[str, object] = {**asdict(params), "kernel": kernel_name}
    if versions is not None:
        settings["engine"] = versions.engine
    return settings


def build_report(records: Sequence[RunRecord], settings: Mapping[str, object], versions: KernelVersions | None, error: str = "") -> Report:
    """`settings.engine`, where present, is made the kernel's (`kernel.engine`): one report never names two engines."""
    settings = dict(settings)
    if versions is not None and "engine" in settings:
        settings["engine"] = versions.engine
    return Report(
        settings=settings,
        kernel={key: value for key, value in asdict(versions).items() if key != "machine"} if versions else {},
        machine=machine_block(versions),
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


def parse_report(data: bytes | str, max_bytes: int = MAX_REPORT_BYTES) -> Report:
    """Read an uploaded report; every problem is a Refusal with a message fit to show a visitor."""
    raw = data.encode("utf-8") if isinstance(data, str) else bytes(data)
    limit = min(max_bytes, MAX_REPORT_BYTES)
    if len(raw) > limit:
        raise Refusal(f"the file is {len(raw):,} bytes; reports are at most {limit:,} bytes here")
    try:
        document = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
        raise Refusal(f"the file is not valid JSON ({type(exc).__name__})") from None
    if not isinstance(document, dict) or document.get("schema") != SCHEMA:
        raise Refusal("the file is not a Keras Reproducibility Lab report (no matching 'schema')")
    if document.get("schema_version") not in READABLE_VERSIONS:
        readable = ", ".join(map(str, READABLE_VERSIONS))
        raise Refusal(f"unsupported report version {document.get('schema_version')!r}; this lab reads versions {readable}")
    records = document.get("records")
    if not isinstance(records, list):
        raise Refusal("'records' must be a list")
    for key in ("settings", "kernel", "machine"):
        if not isinstance(document.get(key, {}), dict):
            raise Refusal(f"'{key}' must be an object")
    created = matching("'created'", document.get("created", ""), CREATED, "a date and time such as 2025-01-31T12:00:00+00:00")
    commit = matching("'lab_commit'", document.get("lab_commit", ""), _COMMIT, "a git commit: 40 lowercase hex digits (or empty)")
    error = document.get("error") or ""
    if not isinstance(error, str):
        raise Refusal("'error' must be a text")
    settings = {free_text(key, 40): _SETTINGS.get(key, _text)(f"settings.{key}", value)
                for key, value in list(document.get("settings", {}).items())[:40]}  # fmt: skip
    # Records of reports before version 4 do not carry their seed and epochs: the report's settings were theirs.
    made_with = {key: settings[key] for key in ("seed", "epochs") if isinstance(settings.get(key), int)}
    return Report(
        settings=settings,
        kernel={key: _KERNEL[key](f"kernel.{key}", value) for key, value in document.get("kernel", {}).items() if key in _KERNEL},
        machine={free_text(str(k), 40): free_text(v) for k, v in list(document.get("machine", {}).items())[:MACHINE_KEYS_MAX]},
        records=[_record(item, i, made_with) for i, item in enumerate(records)],
        created=created,
        lab_commit=commit,
        error=free_text(error, 2000),
    )


def free_text(value: object, limit: int = FREE_TEXT_MAX) -> str:
    """Any value as a bounded one-line text without control characters (shown as text, never as markup)."""
    if isinstance(value, str):
        text = value
    else:
        try:
            text = json.dumps(value)
        except (RecursionError, ValueError):
            text = "(unreadable)"
    return _CONTROL.sub(" ", text)[:limit]


def _text(_name: str, value: object) -> str:
    return free_text(value)


def _version(example: str) -> partial[str]:
    return partial(matching, pattern=VERSION, description=f"a version such as {example}")


def _optional_version(example: str) -> Callable[[str, object], str]:
    """A version, or "" (version 1 reports have no numpy; a JAX or PyTorch kernel has no TensorFlow)."""
    check = _version(example)
    return lambda name, value: "" if value == "" else check(name, value)


_numpy = _optional_version("2.4.6")


# Each field's check, called as check("where.field", value).
_KERNELSPEC_NAME = partial(matching, pattern=KERNELSPEC, description="a kernelspec name (letters, digits, '.', '_', '-')")
_ANY_REAL = partial(real_number, low=-math.inf, high=math.inf, echo=False)
_FINGERPRINT = partial(matching, pattern=_SHA, description="64 lowercase hex digits")
_COUNT = partial(whole_number, low=1, high=10_000, echo=False)
_RECORD = {
    "scenario": partial(matching, pattern=SCENARIO, description="a scenario name (letters, digits, '.', '_', '-')"), "rerun": _COUNT,
    "before_sum": _ANY_REAL, "after_sum": _ANY_REAL, "before_sha256": _FINGERPRINT, "after_sha256": _FINGERPRINT, "seconds": _ANY_REAL,
    "python": _version("3.11.7"), "tensorflow": _optional_version("2.21.0"), "keras": _version("3.15.1"),
    "engine": partial(choice, allowed=ENGINES, echo=False), "kernelspec": _KERNELSPEC_NAME, "kernel_start": _COUNT,
    "backend": partial(choice, allowed=BACKENDS, echo=False), "backend_version": _optional_version("0.10.2"), "machine": _text,
    "seed": partial(whole_number, low=0, high=2**32, echo=False), "epochs": partial(whole_number, low=0, high=10_000, echo=False),
}  # fmt: skip
# Record fields a report may lack (older schemas), and the value they then have.
_RECORD_DEFAULTS = {"kernel_start": 1, "backend": "tensorflow", "backend_version": "", "seed": 0, "epochs": 0, "machine": ""}
# The lab's known settings; other keys (a newer lab's) are kept as bounded text.
_SETTINGS = {
    **dict.fromkeys(("seed", "reruns", "epochs", "batch_size"), partial(whole_number, low=0, high=2**32, echo=False)),
    "learning_rate": _ANY_REAL,
    "engine": partial(choice, allowed=ENGINES, echo=False),
    "backend": partial(choice, allowed=BACKENDS, echo=False),
    "kernel": _KERNELSPEC_NAME,
    "network": partial(choice, allowed=NETWORKS, echo=False),
    "onednn": partial(choice, allowed=ONEDNN_CHOICES, echo=False),
    "threads": partial(whole_number, low=0, high=THREADS_MAX, echo=False),
    "isa": partial(choice, allowed=ISA_CAPS, echo=False),
    "op_determinism": partial(flag, echo=False),
}
# What the kernel reports; any other key in the kernel block is not the lab's and is dropped.
_KERNEL = {
    **{key: _RECORD[key] for key in ("python", "tensorflow", "keras", "engine", "kernelspec", "backend", "backend_version")},
    "numpy": _numpy,
    "devices": partial(choice, allowed=DEVICES, echo=False),
    "op_determinism": partial(flag, echo=False),
    "hash_randomization": partial(flag, echo=False),
    "platform": _text,
}


def _record(raw: object, index: int, made_with: Mapping[str, int]) -> RunRecord:
    """A record; fields an older report lacks take `made_with` (its settings), else _RECORD_DEFAULTS."""
    where = f"records[{index}]"
    if not isinstance(raw, dict):
        raise Refusal(f"{where} must be an object")
    missing = [name for name in RECORD_FIELDS if name not in raw and name not in _RECORD_DEFAULTS]
    if missing:
        raise Refusal(f"{where} lacks {', '.join(missing)}")
    defaults = {**_RECORD_DEFAULTS, **made_with}
    return RunRecord(**{name: _RECORD[name](f"{where}.{name}", raw.get(name, defaults.get(name))) for name in RECORD_FIELDS})
