"""The one judgement of rows shown together: a page's headline, its table's check marks, its chart, Home's line for it, a
prediction's answer and the command line all read the `Judgement` that `judge` makes, so no two screens can disagree.

Rows are grouped by the settings they were made with (seed, epochs, kernel, engine, backend) and by kernel start, unless
their scenario spans kernel starts (a new kernel per rerun, or a restart): the scenario says so, no caller does. The
headline judges the newest group, the one the latest row joined."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from repro_core.machine import compact_changes
from repro_core.records import VERDICTS, Repeats, RestartCheck, RunRecord, Verdict, in_order, repeats, restart_check, verdict
from repro_core.vocabulary import SCENARIOS, backend_label, engine_label


@dataclass(frozen=True)
class RowSettings:
    """What a row was made with, as the row itself carries it: rows with other settings are never judged together."""

    seed: int
    epochs: int
    kernelspec: str
    engine: str
    backend: str
    tensorflow: str
    keras: str
    machine: str = ""  # the kernel's traits that change the bits (oneDNN, threads, ISA cap, CPU features): Fingerprint.compact()

    @classmethod
    def of(cls, record: RunRecord) -> RowSettings:
        return cls(record.seed, record.epochs, record.kernelspec, record.engine, record.backend, record.tensorflow, record.keras,
                   record.machine)

    @property
    def label(self) -> str:
        """"seed 42, 3 epochs, Keras 3 on TensorFlow 2.21.0 (kernel lab-python)": how every screen names a group's settings."""
        seed = f"seed {self.seed}, {self.epochs} epochs" if self.seed or self.epochs else "seed and epochs not recorded"
        on = self.tensorflow if self.backend == "tensorflow" else ""
        runs_on = f"{backend_label(self.backend)} {on}".strip()
        return f"{seed}, {engine_label(self.engine)} on {runs_on} (kernel {self.kernelspec})"

    def differences(self, other: RowSettings) -> list[str]:
        """What differs, in words, settings first: ["seed 1234 → 42", "epochs 10 → 3"]."""
        pairs = [("seed", self.seed, other.seed), ("epochs", self.epochs, other.epochs), ("kernel", self.kernelspec, other.kernelspec),
                 ("engine", engine_label(self.engine), engine_label(other.engine)),
                 ("backend", backend_label(self.backend), backend_label(other.backend)),
                 ("TensorFlow", self.tensorflow, other.tensorflow), ("Keras", self.keras, other.keras)]  # fmt: skip
        return [f"{name} {a} → {b}" for name, a, b in pairs if a != b] + compact_changes(self.machine, other.machine)


@dataclass(frozen=True)
class RowGroup:
    """Rows judged together: one scenario's rows of one settings and one kernel start (`kernel_start` None when the
    scenario spans kernel starts)."""

    scenario: str
    settings: RowSettings
    kernel_start: int | None
    records: tuple[RunRecord, ...]

    @property
    def verdict(self) -> str:
        return verdict(self.records)

    @property
    def repeats(self) -> Repeats:
        return repeats(self.records)

    @property
    def kernel_starts(self) -> list[int]:
        return sorted({r.kernel_start for r in self.records})

    @property
    def where(self) -> str:
        """"kernel start #3" or "kernel starts #3 to #5", for captions."""
        starts = self.kernel_starts
        return f"kernel start #{starts[0]}" if len(starts) == 1 else f"kernel starts #{starts[0]} to #{starts[-1]}"


@dataclass(frozen=True)
class Judgement:
    """One scenario's rows judged once: every screen reads this value."""

    scenario: str
    records: tuple[RunRecord, ...]  # as given (the table's order)
    groups: tuple[RowGroup, ...]  # in order of their first row
    newest: RowGroup | None  # the group the latest row joined: what the headline judges
    outcome: Verdict  # what the headline says: the newest group's verdict, or the restart check's outcome
    repeats: Repeats  # what the headline compared: the newest group's rows, or the two first runs of the restart check
    restart: RestartCheck | None
    same_as_first: tuple[bool, ...]  # per record: the fingerprints of its group's first row?

    @property
    def earlier(self) -> tuple[RowGroup, ...]:
        return tuple(group for group in self.groups if group is not self.newest)


def spans_kernel_starts(scenario: str) -> bool:
    return scenario in SCENARIOS and SCENARIOS[scenario].spans_kernel_starts


def row_groups(records: Sequence[RunRecord]) -> list[RowGroup]:
    """Rows grouped by (scenario, settings, kernel start unless the scenario spans them), each group in (kernel start, rerun)
    order, the groups in the order of their first row."""
    keyed: dict[tuple, list[RunRecord]] = {}
    for record in records:
        start = None if spans_kernel_starts(record.scenario) else record.kernel_start
        keyed.setdefault((record.scenario, RowSettings.of(record), start), []).append(record)
    return [RowGroup(scenario, settings, start, tuple(in_order(rows))) for (scenario, settings, start), rows in keyed.items()]


def judge(records: Sequence[RunRecord]) -> Judgement:
    """Judge one scenario's rows (pass rows of one scenario: a page's table)."""
    rows = tuple(records)
    if not rows:
        return Judgement("", rows, (), None, VERDICTS["no-records"], Repeats(None, None), None, ())
    groups = tuple(row_groups(rows))
    newest = next(group for group in groups if rows[-1] in group.records)
    check = restart_check(newest.records) if SCENARIOS.get(newest.scenario) and SCENARIOS[newest.scenario].restart_then_once else None
    if check is not None:
        outcome = VERDICTS["restart-reproduces" if check.reproduces else "restart-differs"]
        found = Repeats(check.before.before_sha256 == check.after.before_sha256, check.before.after_sha256 == check.after.after_sha256)
    else:
        outcome, found = VERDICTS[newest.verdict], newest.repeats
    firsts = {id(record): group.records[0] for group in groups for record in group.records}
    same = tuple(record.fingerprints == firsts[id(record)].fingerprints for record in rows)
    return Judgement(newest.scenario, rows, groups, newest, outcome, found, check, same)


def judge_each(records: Sequence[RunRecord]) -> dict[str, Judgement]:
    """Each scenario's judgement (a report's, a command's), in order of first appearance."""
    grouped: dict[str, list[RunRecord]] = {}
    for record in records:
        grouped.setdefault(record.scenario, []).append(record)
    return {name: judge(rows) for name, rows in grouped.items()}
