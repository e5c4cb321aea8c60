"""Run records and what they mean, for every screen, command and report: "the same rerun" is one pair of SHA-256 fingerprints,
and `compare_records` decides both the Compare page's headline and the exit status of `python -m repro_core compare`."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, fields


@dataclass(frozen=True)
class Verdict:
    """How a verdict is named, announced and explained. `role` is what screens colour it by (one palette, one alert each)."""

    name: str
    headline: str
    meaning: str
    role: str


VERDICTS: dict[str, Verdict] = {v.name: v for v in (
        Verdict("stable", "Stable", "every rerun produced bit-identical weights before and after training", "good"),
        Verdict("drift-chain", "Drift, as a chain", "each rerun starts where the previous one ended: after(k) == before(k+1)", "bad"),
        Verdict("drift", "Drift", "reruns differ, and not as a chain", "caution"),
        Verdict("single-run", "Single run", "only one rerun: nothing to compare yet", "neutral"),
        Verdict("error", "Error", "a cell raised before two reruns could be compared", "failed"),
        Verdict("no-records", "No records", "the run produced no records", "missing"),
)}  # fmt: skip


@dataclass(frozen=True)
class KernelVersions:
    """What the kernel reports about itself (read back from inside it, not guessed here)."""

    python: str
    tensorflow: str
    keras: str
    engine: str
    kernelspec: str
    devices: str = "CPU"
    op_determinism: bool = False
    platform: str = ""
    hash_randomization: bool = True
    numpy: str = ""


@dataclass(frozen=True)
class RunRecord:
    """One rerun of one scenario. `kernel_start` counts the kernel starts of the run that made it (1 = its first)."""

    scenario: str
    rerun: int
    before_sum: float
    after_sum: float
    before_sha256: str
    after_sha256: str
    seconds: float
    python: str
    tensorflow: str
    keras: str
    engine: str
    kernelspec: str
    kernel_start: int = 1

    @property
    def fingerprints(self) -> tuple[str, str]:
        """What "the same rerun" means everywhere in the lab: the SHA-256 before and after training."""
        return self.before_sha256, self.after_sha256

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


RECORD_FIELDS = [f.name for f in fields(RunRecord)]


def in_order(records: Sequence[RunRecord]) -> list[RunRecord]:
    return sorted(records, key=lambda r: (r.kernel_start, r.rerun))


def verdict(records: Sequence[RunRecord]) -> str:
    """stable, drift-chain, drift, or single-run: judged on the SHA-256 fingerprints only."""
    if len(records) < 2:
        return "single-run"
    ordered = in_order(records)
    if all(r.fingerprints == ordered[0].fingerprints for r in ordered):
        return "stable"
    if all(a.after_sha256 == b.before_sha256 for a, b in zip(ordered, ordered[1:], strict=False)):
        return "drift-chain"
    return "drift"


def by_scenario(records: Sequence[RunRecord]) -> dict[str, list[RunRecord]]:
    """Records grouped by scenario (in order of first appearance), each group in (kernel start, rerun) order."""
    grouped: dict[str, list[RunRecord]] = {}
    for record in records:
        grouped.setdefault(record.scenario, []).append(record)
    return {name: in_order(rows) for name, rows in grouped.items()}


def same_as_first(records: Sequence[RunRecord]) -> list[bool]:
    """Per record: are its fingerprints those of the first rerun of the same scenario (like is compared with like)?"""
    firsts = {name: rows[0] for name, rows in by_scenario(records).items()}
    return [r.fingerprints == firsts[r.scenario].fingerprints for r in records]


def format_sum(value: float) -> str:
    """The article's print format: 13 decimals."""
    return "%.13f" % value


# -- two sets of records side by side --------------------------------------------------------------------
@dataclass(frozen=True)
class PairedRerun:
    """One (scenario, kernel start, rerun) and the record each side holds for it (None: that side has no such rerun)."""

    scenario: str
    kernel_start: int
    rerun: int
    a: RunRecord | None
    b: RunRecord | None

    @property
    def paired(self) -> bool:
        return self.a is not None and self.b is not None

    @property
    def before_same(self) -> bool | None:
        return self.a.before_sha256 == self.b.before_sha256 if self.paired else None

    @property
    def after_same(self) -> bool | None:
        return self.a.after_sha256 == self.b.after_sha256 if self.paired else None

    @property
    def same(self) -> bool | None:
        return self.a.fingerprints == self.b.fingerprints if self.paired else None


@dataclass(frozen=True)
class RecordsComparison:
    """Reruns paired by (scenario, kernel start, rerun). Only reruns both sides hold are compared; the others are counted apart."""

    rows: list[PairedRerun]

    @property
    def paired(self) -> int:
        return sum(1 for row in self.rows if row.paired)

    @property
    def differing(self) -> int:
        return sum(1 for row in self.rows if row.same is False)

    @property
    def one_sided(self) -> int:
        return len(self.rows) - self.paired

    @property
    def outcome(self) -> str:
        """"same" (at least one rerun in common, all identical), "different", or "nothing-paired"."""
        if self.paired == 0:
            return "nothing-paired"
        return "different" if self.differing else "same"

    @property
    def role(self) -> str:
        return {"same": "good", "different": "bad", "nothing-paired": "caution"}[self.outcome]

    def headline(self) -> str:
        """One sentence, the same on the Compare page and from `python -m repro_core compare`."""
        apart = f"; {self.one_sided} rerun(s) are in one report only and not compared" if self.one_sided else ""
        if self.outcome == "nothing-paired":
            return f"No rerun is in both reports (no scenario and rerun in common){apart}."
        if self.outcome == "same":
            return f"All {self.paired} rerun(s) in both reports are identical (same SHA-256 fingerprints before and after training){apart}."
        return f"{self.differing} of {self.paired} rerun(s) in both reports differ (fingerprints before or after training){apart}."


def compare_records(a: Sequence[RunRecord], b: Sequence[RunRecord]) -> RecordsComparison:
    left = {(r.scenario, r.kernel_start, r.rerun): r for r in a}
    right = {(r.scenario, r.kernel_start, r.rerun): r for r in b}
    return RecordsComparison([PairedRerun(*key, left.get(key), right.get(key)) for key in sorted(set(left) | set(right))])


@dataclass(frozen=True)
class RestartCheck:
    """Does the first run after the latest restart reproduce the first run of the kernel start before it?"""

    before: RunRecord
    after: RunRecord

    @property
    def reproduces(self) -> bool:
        return self.before.fingerprints == self.after.fingerprints


def restart_check(records: Sequence[RunRecord]) -> RestartCheck | None:
    firsts: dict[int, RunRecord] = {}
    for record in records:
        firsts.setdefault(record.kernel_start, record)
    if len(firsts) < 2:
        return None
    starts = sorted(firsts)
    return RestartCheck(before=firsts[starts[-2]], after=firsts[starts[-1]])
