"""Records of runs and the verdicts computed from them (never assumed)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, fields

VERDICTS = {
    "stable": "every rerun produced bit-identical weights before and after training",
    "drift-chain": "each rerun starts where the previous one ended: after(k) == before(k+1)",
    "drift": "reruns differ, and not as a chain",
    "single-run": "only one rerun: nothing to compare yet",
    "error": "a cell raised before two reruns could be compared",
}


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
    """One rerun of one scenario."""

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
    kernel_start: int = 1  # which start of the notebook's kernel the rerun ran in (the restart sequences have several)

    @property
    def fingerprints(self) -> tuple[str, str]:
        """What "the same rerun" means everywhere in the lab: the SHA-256 before and after training."""
        return self.before_sha256, self.after_sha256

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


RECORD_FIELDS = [f.name for f in fields(RunRecord)]


def verdict(records: Sequence[RunRecord]) -> str:
    """stable, drift-chain, drift, or single-run: judged on the SHA-256 fingerprints only."""
    if len(records) < 2:
        return "single-run"
    ordered = sorted(records, key=lambda r: (r.kernel_start, r.rerun))
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
    return {name: sorted(rows, key=lambda r: (r.kernel_start, r.rerun)) for name, rows in grouped.items()}


def same_as_first(records: Sequence[RunRecord]) -> list[bool]:
    """Per record: are its before and after fingerprints those of the first rerun (of the first kernel start)?"""
    if not records:
        return []
    first = min(records, key=lambda r: (r.kernel_start, r.rerun))
    return [r.fingerprints == first.fingerprints for r in records]


def format_sum(value: float) -> str:
    """The article's print format: 13 decimals."""
    return "%.13f" % value
