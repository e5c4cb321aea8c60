"""The article's story as runs: a notebook (kernel + setup cell) re-running one scenario cell."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace

from repro_core.kernels.kernel import DEFAULT_KERNEL, CellResult, LabKernel, kernel_environment
from repro_core.recipes import cells
from repro_core.recipes.settings import SCENARIOS, StoryParams
from repro_core.results.records import KernelVersions, RunRecord, verdict

CELL_TIMEOUT = 300.0
SETUP_TIMEOUT = 180.0

OnRecord = Callable[[RunRecord], None]
OnStatus = Callable[[str], None]


@dataclass
class ScenarioResult:
    scenario: str
    records: list[RunRecord]
    versions: KernelVersions
    # Every cell the run executed, with its output (setup, environment, each rerun's cell; per kernel
    # start for fresh-kernel): what the notebook export is built from.
    cells: list[CellResult] = field(default_factory=list)

    @property
    def verdict(self) -> str:
        return verdict(self.records)


class Notebook:
    """A session's notebook: one kernel, its setup cell, and scenario cells re-run on demand.

    `run(scenario)` is Shift-Enter on that scenario's cell; `reset()` is "restart the kernel
    and run the setup cell". Each scenario is its own notebook: running a different
    scenario's cell than the one this kernel has been re-running restarts the kernel first,
    so a page's rows never depend on what another page ran before it.
    """

    def __init__(
        self, params: StoryParams, kernel_name: str = DEFAULT_KERNEL, hash_seed: int | None = None, kernel: LabKernel | None = None
    ) -> None:
        """`kernel`: an already started kernel (a pool's warm spare) to use as is for the first setup."""
        self.params = params
        self.kernel = kernel if kernel is not None else LabKernel(kernel_name, kernel_environment(params.engine, hash_seed))
        self._pristine = kernel is not None  # started, but no setup cell has run in it yet
        self.cell_timeout = CELL_TIMEOUT  # a hosted server may set a tighter one
        self.versions: KernelVersions | None = None
        self.cells_run: list[CellResult] = []
        self._setup_generation = -1
        self._reruns: dict[str, int] = {}
        self.scenario: str | None = None  # the scenario this kernel generation has been running

    @property
    def kernel_name(self) -> str:
        return self.kernel.kernel_name

    def reset(self, on_status: OnStatus | None = None) -> KernelVersions:
        """Start or restart the kernel, then run the setup and environment cells."""
        say = on_status or (lambda _text: None)
        if self._pristine and self.kernel.state == "idle":
            say("using a warm kernel")
        elif self.kernel.generation == 0 and self.kernel.state == "not started":
            say("starting kernel")
            self.kernel.start()
        else:
            say("restarting kernel")
            self.kernel.restart()
        self._pristine = False
        say("running the setup cell (imports TensorFlow)")
        started_with = self.kernel.env.get("PYTHONHASHSEED", "")  # the setup cell states it (issue 10)
        hash_seed = int(started_with) if started_with.isdigit() else None
        self.cells_run = [self.kernel.run_cell(cells.setup_cell(self.params, hash_seed=hash_seed), timeout=SETUP_TIMEOUT)]
        probe = self.kernel.run_cell(cells.ENVIRONMENT_CELL, {"env": "lab_environment"}, timeout=SETUP_TIMEOUT)
        self.cells_run.append(probe)
        env = probe.values["env"]
        self.versions = KernelVersions(kernelspec=self.kernel.kernel_name, **env)
        self._setup_generation = self.kernel.generation
        self._reruns = {}
        self.scenario = None
        return self.versions

    def ensure_ready(self, on_status: OnStatus | None = None) -> KernelVersions:
        """Run the setup if this kernel generation has not had it (first use, or after a crash/restart)."""
        if self._setup_generation != self.kernel.generation or self.kernel.state in ("dead", "not started") or self.versions is None:
            return self.reset(on_status)
        return self.versions

    def run(self, scenario: str, code: str | None = None, on_status: OnStatus | None = None) -> RunRecord:
        """Run the scenario's cell once more in this kernel (or `code`, e.g. the article's own cell)."""
        if scenario not in SCENARIOS or scenario == "fresh-kernel":
            raise ValueError(f"scenario {scenario!r} cannot be re-run inside one kernel")
        versions = self.ensure_ready(on_status)
        if self.scenario not in (None, scenario):
            versions = self.reset(on_status)
        self.scenario = scenario
        rerun = self._reruns.get(scenario, 0) + 1
        if on_status:
            on_status(f"{scenario}: rerun {rerun}")
        source = code if code is not None else cells.scenario_cell(scenario, self.params)
        result = self.kernel.run_cell(source, {"checksums": "checksums"}, timeout=self.cell_timeout)
        self.cells_run.append(result)
        self._reruns[scenario] = rerun
        return make_record(scenario, rerun, result, versions)

    def configure(self, params: StoryParams) -> None:
        """New settings for the same engine: the next run re-runs the setup cell in a restarted kernel."""
        if params.engine != self.params.engine:
            raise ValueError("a different engine needs a kernel started for it; close this notebook and open a new one")
        cells_change = replace(params, reruns=self.params.reruns) != self.params  # reruns alone changes no cell
        self.params = params
        if cells_change:
            self._setup_generation = -1

    def reruns_done(self, scenario: str) -> int:
        """How many times `scenario`'s cell has run since the last setup."""
        return self._reruns.get(scenario, 0)

    def close(self) -> None:
        self.kernel.shutdown()


def make_record(scenario: str, rerun: int, result: CellResult, versions: KernelVersions) -> RunRecord:
    sums = result.values["checksums"]
    before, after = sums["before training"], sums["after training"]
    return RunRecord(
        scenario=scenario,
        rerun=rerun,
        before_sum=float(before["sum"]),
        after_sum=float(after["sum"]),
        before_sha256=str(before["sha256"]),
        after_sha256=str(after["sha256"]),
        seconds=round(result.seconds, 4),
        python=versions.python,
        tensorflow=versions.tensorflow,
        keras=versions.keras,
        engine=versions.engine,
        kernelspec=versions.kernelspec,
    )


def run_scenario(
    scenario: str,
    params: StoryParams,
    kernel_name: str = DEFAULT_KERNEL,
    notebook: Notebook | None = None,
    on_record: OnRecord | None = None,
    on_status: OnStatus | None = None,
) -> ScenarioResult:
    """Run `params.reruns` reruns of `scenario` from a freshly (re)started kernel.

    Pass `notebook` to reuse a session's kernel (it is restarted first); otherwise a
    kernel is started for this call and shut down at the end.
    """
    if scenario not in SCENARIOS:
        raise ValueError(f"unknown scenario {scenario!r}; choose from {', '.join(SCENARIOS)}")
    own = notebook is None
    book = notebook or Notebook(params, kernel_name)
    records: list[RunRecord] = []
    starts: list[list[CellResult]] = []  # each kernel start's cells_run (the list grows as cells run)
    try:
        for index in range(params.reruns):
            if scenario == "fresh-kernel" or index == 0:
                book.reset(on_status)
            inner = "factory-tf-seed" if scenario == "fresh-kernel" else scenario
            record = book.run(inner, on_status=on_status)
            if not starts or starts[-1] is not book.cells_run:
                starts.append(book.cells_run)
            record = RunRecord(**{**record.as_dict(), "scenario": scenario, "rerun": index + 1})
            records.append(record)
            if on_record:
                on_record(record)
        return ScenarioResult(scenario, records, book.versions, [cell for start in starts for cell in start])
    finally:
        if own:
            book.close()


def run_story(
    params: StoryParams,
    scenarios: Iterable[str] = tuple(SCENARIOS),
    kernel_name: str = DEFAULT_KERNEL,
    on_record: OnRecord | None = None,
    on_status: OnStatus | None = None,
) -> list[ScenarioResult]:
    """Every requested scenario, one after another, sharing one kernel process (restarted between)."""
    book = Notebook(params, kernel_name)
    try:
        return [run_scenario(name, params, notebook=book, on_record=on_record, on_status=on_status) for name in scenarios]
    finally:
        book.close()
