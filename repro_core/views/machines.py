"""The Another machine page's tables: live and recorded machine-setting runs side by side, each compared with its own
kernel's reference setting (the machine's defaults where they ran), and the findings in words."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pandas as pd

from repro_core.experiments.machines import MachineRun
from repro_core.machine import MachineSettings, machine_words
from repro_core.records import RunRecord, format_sum, repeat_word, repeats
from repro_core.results.machines import machine_settings_of
from repro_core.results.report import Report
from repro_core.views.story import short
from repro_core.vocabulary import backend_release

COL_SOURCE, COL_KERNEL, COL_NETWORK, COL_SETTING = "source", "kernel", "network", "setting"
COL_ONEDNN, COL_ISA, COL_THREADS = "oneDNN (as it ran)", "ISA cap", "threads"
COL_INITIAL, COL_TRAINED, COL_REPEATS = "initial weights vs reference", "trained weights vs reference", "repeats within"
COL_AFTER, COL_AFTER_SHA, COL_SECONDS = "after sum", "after sha256", "seconds"
MACHINE_COLUMNS = [COL_SOURCE, COL_KERNEL, COL_NETWORK, COL_SETTING, COL_ONEDNN, COL_ISA, COL_THREADS, COL_INITIAL, COL_TRAINED,
                   COL_REPEATS, COL_AFTER, COL_AFTER_SHA, COL_SECONDS]  # fmt: skip
SAME, DIFFERENT, REFERENCE = "same", "different", "reference"


@dataclass(frozen=True)
class SettingRows:
    """One machine setting's rows, live or recorded, with the fingerprint its kernel reported (text values)."""

    source: str  # "live" or "recorded"
    kernel: str  # "TensorFlow 2.21.0 · keras3"
    network: str
    setting: MachineSettings
    machine: Mapping[str, str]
    records: list[RunRecord]

    @property
    def group(self) -> tuple[str, str, str]:
        """Rows compared with each other: one source, one kernel, one network."""
        return self.source, self.kernel, self.network


def _kernel_words(backend: str, version: str, engine: str) -> str:
    return f"{backend_release(backend, version)} · {engine}"


def live_rows(runs: Sequence[MachineRun], network: str) -> list[SettingRows]:
    found = []
    for run in runs:
        v = run.result.versions
        found.append(SettingRows("live", _kernel_words(v.backend, v.backend_release, v.engine), network, run.machine, v.machine.as_text(),
                                 list(run.result.records)))  # fmt: skip
    return found


def recorded_rows(reports: Sequence[Report]) -> list[SettingRows]:
    found = []
    for report in reports:
        k = report.kernel
        backend = str(k.get("backend") or "tensorflow")
        version = str(k.get("backend_version") or k.get("tensorflow") or "")
        kernel, network = _kernel_words(backend, version, str(k.get("engine", "?"))), str(report.settings.get("network", "article"))
        found.append(SettingRows("recorded", kernel, network, machine_settings_of(report), dict(report.machine), list(report.records)))
    return found


def _reference(rows: Sequence[SettingRows], group: tuple[str, str, str]) -> SettingRows:
    """The group's reference: its machine-defaults row, else its first."""
    members = [r for r in rows if r.group == group]
    return next((r for r in members if r.setting.is_default), members[0])


def _versus(row: SettingRows, reference: SettingRows, half: str) -> str:
    if row is reference:
        return REFERENCE
    if not row.records or not reference.records:
        return "no rows"
    mine, theirs = row.records[0], reference.records[0]
    same = mine.before_sha256 == theirs.before_sha256 if half == "initial" else mine.after_sha256 == theirs.after_sha256
    return SAME if same else DIFFERENT


def _threads(machine: Mapping[str, str]) -> str:
    for key, words in (("torch_threads", "torch"), ("intra_op_threads", "intra-op")):
        if machine.get(key, "0") not in ("", "0"):
            return f"{machine[key]} {words}"
    flags = machine.get("xla_flags", "")
    if "intra_op_parallelism_threads=" in flags:
        return f"{flags.split('intra_op_parallelism_threads=')[1].split()[0]} XLA"
    return f"default ({machine.get('cpus', '?')} cores)"


def machine_frame(rows: Sequence[SettingRows]) -> pd.DataFrame:
    """One row per setting: what ran, and whether its first rerun's initial and trained weights are its reference's."""
    data = []
    for row in rows:
        reference = _reference(rows, row.group)
        first = row.records[0] if row.records else None
        data.append({
            COL_SOURCE: row.source, COL_KERNEL: row.kernel, COL_NETWORK: row.network, COL_SETTING: row.setting.words(),
            COL_ONEDNN: row.machine.get("onednn", "") or "not TensorFlow", COL_ISA: row.machine.get("isa_cap", "") or "none",
            COL_THREADS: _threads(row.machine), COL_INITIAL: _versus(row, reference, "initial"), COL_TRAINED: _versus(row, reference, "trained"),
            COL_REPEATS: repeat_word(repeats(row.records).trained), COL_AFTER: format_sum(first.after_sum) if first else "",
            COL_AFTER_SHA: short(first.after_sha256) if first else "", COL_SECONDS: round(sum(r.seconds for r in row.records), 2),
        })  # fmt: skip
    return pd.DataFrame(data, columns=MACHINE_COLUMNS)


def findings(rows: Sequence[SettingRows]) -> list[str]:
    """Per setting that is not its group's reference: which weights it changed, in one sentence."""
    lines = []
    for row in rows:
        reference = _reference(rows, row.group)
        if row is reference or not row.records or not reference.records:
            continue
        initial, trained = _versus(row, reference, "initial"), _versus(row, reference, "trained")
        if initial == SAME and trained == SAME:
            effect = "changes nothing: the same initial and trained weights"
        elif initial == SAME:
            effect = "keeps the initial weights and changes the trained ones"
        else:
            effect = "changes the initial weights too"
        lines.append(f"{row.source}, {row.kernel}, {row.network} network: {row.setting.words()} {effect} (against {reference.setting.words()}).")
    return lines


def fingerprint_lines(rows: Sequence[SettingRows]) -> list[str]:
    """Each group's machine, once: where those rows were measured."""
    seen: dict[tuple[str, str, str], str] = {}
    for row in rows:
        seen.setdefault(row.group, machine_words(row.machine) or "no fingerprint recorded")
    return [f"{source}, {kernel}, {network}: {summary}" for (source, kernel, network), summary in seen.items()]
