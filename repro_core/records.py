"""Run records and what they mean, for every screen, command and report: "the same rerun" is one pair of SHA-256 fingerprints,
and `compare_records` decides both the Compare page's headline and the exit status of `python -m repro_core compare`."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, fields

from repro_core.machine import Fingerprint


@dataclass(frozen=True)
class Verdict:
    """An outcome of rows judged together: how it is named, announced and explained. `role` is what screens colour it by
    (one palette, one alert each). The restart scenario's headline is the restart check, so it has two of its own."""

    name: str
    headline: str
    meaning: str
    role: str


VERDICTS: dict[str, Verdict] = {v.name: v for v in (
        Verdict("stable", "Stable", "every rerun gave bit-identical weights before and after training", "good"),
        Verdict("drift-chain", "Drift, as a chain", "each rerun started where the previous one ended: after(k) == before(k+1)", "bad"),
        Verdict("drift", "Drift", "the reruns gave other weights, and not as a chain", "caution"),
        Verdict("single-run", "Single run", "there is only one rerun, so nothing to compare yet", "neutral"),
        Verdict("error", "Error", "a cell raised before two reruns could be compared", "failed"),
        Verdict("no-records", "No records", "the run produced no records", "missing"),
        Verdict("restart-reproduces", "The restart reproduces",
                "the first run after the restart gave the same weights as the first run before it (same SHA-256 fingerprints)", "good"),
        Verdict("restart-differs", "The restart does not reproduce",
                "the first run after the restart gave other weights than the first run before it", "bad"),
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
    backend: str = "tensorflow"  # Keras 3's backend (tf.keras is always TensorFlow's)
    backend_version: str = ""  # that backend's version ("" in reports from before backends)
    machine: Fingerprint = field(default_factory=Fingerprint)  # the numerics fingerprint (issue 28): CPU features, oneDNN, threads...

    @property
    def backend_release(self) -> str:
        return backend_release_of(self)


@dataclass(frozen=True)
class RunRecord:
    """One rerun of one scenario, with the settings it was made with (seed, epochs, and the kernel: kernelspec, engine,
    backend), so a row never needs the page's current settings to be read. `kernel_start` is the session's count of kernel
    starts (what the sidebar shows as "kernel start #N"): a page's rows keep the numbers the learner saw; comparisons count
    from each scenario's first."""

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
    backend: str = "tensorflow"  # reports from before backends were all TensorFlow's
    backend_version: str = ""
    seed: int = 0  # the settings the row was made with (0: a report from before rows carried them, and it had none)
    epochs: int = 0
    machine: str = ""  # the kernel's traits that change the bits (Fingerprint.compact()); "" in older reports

    @property
    def fingerprints(self) -> tuple[str, str]:
        """What "the same rerun" means everywhere in the lab: the SHA-256 before and after training."""
        return self.before_sha256, self.after_sha256

    @property
    def backend_release(self) -> str:
        return backend_release_of(self)

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


RECORD_FIELDS = [f.name for f in fields(RunRecord)]


def backend_release_of(found: KernelVersions | RunRecord) -> str:
    """The backend's version of a kernel or a record; on TensorFlow, older reports name it only as `tensorflow`."""
    return found.backend_version or (found.tensorflow if found.backend == "tensorflow" else "")


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


@dataclass(frozen=True)
class Repeats:
    """Which half of a rerun repeated: the weights before training (initial: the initializers' seeds) and after it
    (trained: also the shuffle). None with fewer than two reruns. The seed switches tell the two apart."""

    initial: bool | None
    trained: bool | None

    @property
    def words(self) -> str:
        """"initial weights repeat, trained weights differ": the one phrasing on every screen ("" with nothing to compare)."""
        if self.initial is None:
            return ""
        return f"initial weights {repeat_word(self.initial)}, trained weights {repeat_word(self.trained)}"


def repeats(records: Sequence[RunRecord]) -> Repeats:
    """Did every rerun give the first one's before-training / after-training SHA-256? Pass rows judged together."""
    if len(records) < 2:
        return Repeats(None, None)
    first = in_order(records)[0]
    return Repeats(all(r.before_sha256 == first.before_sha256 for r in records), all(r.after_sha256 == first.after_sha256 for r in records))


REPEAT, DIFFER, ONE_RERUN = "repeat", "differ", "one rerun"


def repeat_word(repeated: bool | None) -> str:
    """One half of a Repeats in a table cell: "repeat", "differ", or "one rerun" (nothing to compare)."""
    return ONE_RERUN if repeated is None else REPEAT if repeated else DIFFER


def by_scenario(records: Sequence[RunRecord]) -> dict[str, list[RunRecord]]:
    """Records grouped by scenario (in order of first appearance), each group in (kernel start, rerun) order."""
    grouped: dict[str, list[RunRecord]] = {}
    for record in records:
        grouped.setdefault(record.scenario, []).append(record)
    return {name: in_order(rows) for name, rows in grouped.items()}


def format_sum(value: float) -> str:
    """The article's print format: 13 decimals."""
    return "%.13f" % value


# -- two sets of records side by side --------------------------------------------------------------------
@dataclass(frozen=True)
class PairedRerun:
    """One (scenario, kernel start, rerun) and the record each side holds for it (None: that side has no such rerun).
    `kernel_start` counts from 1, the scenario's first kernel start in each set of records."""

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
    """Reruns paired by (scenario, relative kernel start, rerun). Only reruns both sides hold are compared; the others are counted apart."""

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


def _keyed(records: Sequence[RunRecord]) -> dict[tuple[str, int, int], RunRecord]:
    """(scenario, kernel start counted from that scenario's first kernel start in these records, rerun) -> record:
    a page's rows (kernel start #6) and a CLI report (kernel start 1) of the same run pair up."""
    first = {name: rows[0].kernel_start for name, rows in by_scenario(records).items()}
    return {(r.scenario, r.kernel_start - first[r.scenario] + 1, r.rerun): r for r in records}


def compare_records(a: Sequence[RunRecord], b: Sequence[RunRecord]) -> RecordsComparison:
    left, right = _keyed(a), _keyed(b)
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
    for record in in_order(records):
        firsts.setdefault(record.kernel_start, record)
    if len(firsts) < 2:
        return None
    starts = sorted(firsts)
    return RestartCheck(before=firsts[starts[-2]], after=firsts[starts[-1]])
