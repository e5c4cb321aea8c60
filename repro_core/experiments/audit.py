"""The "Your model" audit: your spec x one recipe, re-run N times in a kernel of its own (shut down after it), so no earlier
audit's seeds leak in and op determinism (which TensorFlow cannot switch off) starts clean. Which weights moved?"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from repro_core.experiments.runner import CellRunner, OnRecord, OnStatus
from repro_core.judgement import judge
from repro_core.kernels.environment import KernelKind
from repro_core.kernels.hosting import private_pool
from repro_core.kernels.kernel import CellError, CellResult
from repro_core.kernels.pool import KernelPool, OnWait
from repro_core.machine import DEFAULT_MACHINE, MachineSettings
from repro_core.recipes import cells
from repro_core.recipes.model_spec import ModelSpec
from repro_core.recipes.settings import RERUNS_MAX, SEED_MAX
from repro_core.records import KernelVersions, RunRecord
from repro_core.validation import whole_number
from repro_core.vocabulary import DEFAULT_KERNEL, DEFAULT_SEED, Recipe

SEED_ERROR_HINT = (
    "With op determinism on, TensorFlow refuses unseeded random ops (here: shuffling in fit, or another random op) "
    "unless a global seed is set. Reseed \"none\" sets no seed, so the cell raised instead of training: "
    "choose reseed tf or full, or turn shuffle off."
)


@dataclass(frozen=True)
class Audit:
    spec: ModelSpec
    reseed: str = "full"
    model: str = "factory"
    reruns: int = 2
    seed: int = DEFAULT_SEED
    machine: MachineSettings = DEFAULT_MACHINE  # oneDNN, threads, ISA cap: written into the setup cell

    def __post_init__(self) -> None:
        if not isinstance(self.spec, ModelSpec):
            raise ValueError("spec must be a ModelSpec")
        if not isinstance(self.machine, MachineSettings):
            raise ValueError("machine must be MachineSettings")
        Recipe(self.model, self.reseed, self.spec.engine)  # validates the model and the reseed
        object.__setattr__(self, "reruns", whole_number("reruns", self.reruns, 1, RERUNS_MAX))
        object.__setattr__(self, "seed", whole_number("seed", self.seed, 0, SEED_MAX))

    @property
    def recipe(self) -> Recipe:
        return Recipe(self.model, self.reseed, self.spec.engine)

    def setup(self) -> list[str]:
        return [cells.setup_cell(self.spec, self.spec.engine, machine=self.machine), cells.RECORDER_CELL]

    def cell(self) -> str:
        return cells.recipe_cell(self.recipe, cells.spec_training(self.spec), self.seed)

    def script(self) -> str:
        """The setup cell and one run of the recipe cell as one script: what Your training diagnoses for this spec."""
        return f"{cells.setup_cell(self.spec, self.spec.engine)}\n\n{self.cell()}"


@dataclass
class AuditResult:
    audit: Audit
    records: list[RunRecord] = field(default_factory=list)
    table: list[dict] = field(default_factory=list)
    diffs: dict[str, list[list[float]]] = field(default_factory=dict)
    cells: list[CellResult] = field(default_factory=list)  # every cell that ran, with its output
    versions: KernelVersions | None = None
    error: str | None = None  # the recipe cell raised (e.g. reseed none with op determinism on)

    @property
    def verdict(self) -> str:
        return "error" if self.error and len(self.records) < 2 else judge(self.records).outcome.name

    @property
    def default_layer(self) -> str | None:
        """The first Dense kernel (weight named 'kernel'), else the first weight with differences."""
        return next((key for key in self.diffs if key.endswith("/kernel")), next(iter(self.diffs), None))

    def as_dict(self) -> dict[str, object]:
        return {
            "spec": self.audit.spec.to_dict(),
            "recipe": self.audit.recipe.label,
            "machine_settings": self.audit.machine.label(),
            "verdict": self.verdict,
            "error": self.error,
            "versions": None if self.versions is None else asdict(self.versions),
            "records": [r.as_dict() for r in self.records],
            "table": self.table,
            "default_layer": self.default_layer,
        }


def _error_text(rerun: int, exc: CellError) -> str:
    needs_seed = "require a seed" in exc.evalue.lower() or "requires a seed" in exc.evalue.lower()
    first_line = exc.evalue.splitlines()[0].rstrip(".") if exc.evalue else ""
    return f"rerun {rerun}: the recipe cell raised {exc.ename}: {first_line}." + (f" {SEED_ERROR_HINT}" if needs_seed else "")


def run_audit(
    audit: Audit,
    kernel_name: str = DEFAULT_KERNEL,
    on_record: OnRecord | None = None,
    on_status: OnStatus | None = None,
    pool: KernelPool | None = None,
    owner: str = "audit",
    on_wait: OnWait | None = None,
) -> AuditResult:
    """Lease a fresh kernel, run the setup and recorder cells, re-run the recipe cell, read back the tables.
    A CellError in the recipe cell ends up in `result.error`; kernel failures (start, death, timeout) raise KernelError."""
    result = AuditResult(audit)

    def keep(record: RunRecord) -> None:
        result.records.append(record)
        if on_record:
            on_record(record)

    kind = KernelKind.of(kernel_name, audit.spec.engine, audit.machine)
    with private_pool(pool) as kernels, kernels.lease(owner, kind, keep=False, on_wait=on_wait) as leased:
        runner = CellRunner(audit.setup(), audit.seed, audit.spec.epochs).attach(leased[0])
        result.versions = runner.reset(on_status)
        try:
            runner.rerun(audit.cell(), audit.recipe.label, audit.reruns, keep, on_status)
        except CellError as exc:
            result.error = _error_text(len(result.records) + 1, exc)
        if result.records:
            (on_status or (lambda _text: None))("comparing every layer's weights inside the kernel")
            values = runner.read({"table": "weight_table()", "diffs": "weight_diffs()"})
            result.table, result.diffs = list(values["table"]), dict(values["diffs"])
        result.cells = list(runner.log)
    return result
