"""The article's story as runs: each scenario is a preset recipe re-run from a fresh kernel start.
`run_scenarios` uses the caller's runner (a page's click); `run_story` leases a kernel of its own (the command line)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace

from repro_core.experiments.runner import CellRunner, OnRecord, OnStatus, StartCounter
from repro_core.judgement import judge
from repro_core.kernels.environment import KernelKind
from repro_core.kernels.hosting import private_pool
from repro_core.kernels.kernel import CellResult
from repro_core.kernels.pool import KernelPool, OnWait
from repro_core.recipes import cells
from repro_core.recipes.settings import StoryParams
from repro_core.records import KernelVersions, RunRecord
from repro_core.vocabulary import DEFAULT_BACKEND, DEFAULT_KERNEL, STORY_SCENARIOS, check_scenario


@dataclass
class ScenarioResult:
    scenario: str
    records: list[RunRecord]
    versions: KernelVersions
    cells: list[CellResult] = field(default_factory=list)  # every cell run for these records, kernel start by kernel start

    @property
    def verdict(self) -> str:
        return judge(self.records).outcome.name


def story_runner(params: StoryParams, starts: StartCounter | None = None) -> CellRunner:
    return CellRunner([cells.story_setup_cell(params)], params.seed, params.epochs, starts)


def run_scenario(
    runner: CellRunner, scenario: str, params: StoryParams, on_record: OnRecord | None = None, on_status: OnStatus | None = None
) -> ScenarioResult:
    """`params.reruns` reruns of `scenario` from a restarted kernel (or one new kernel per rerun, or a restart at the end).
    Its records carry the runner's own kernel start numbers (as the sidebar shows them); with a new kernel per rerun,
    reruns are numbered across kernel starts."""
    preset = check_scenario(scenario)
    cell = cells.scenario_cell(scenario, params)
    runner.configure([cells.story_setup_cell(params)], params.seed, params.epochs)
    first_cell = len(runner.log)
    runner.reset(on_status)
    records: list[RunRecord] = []

    def keep(record: RunRecord) -> None:
        rerun = len(records) + 1 if preset.restart_every_rerun else record.rerun
        records.append(replace(record, rerun=rerun))
        if on_record:
            on_record(records[-1])

    runs_per_start = 1 if preset.restart_every_rerun else params.reruns
    for index in range(params.reruns // runs_per_start):
        if index > 0:
            runner.reset(on_status)
        runner.rerun(cell, scenario, runs_per_start, keep, on_status)
    if preset.restart_then_once:
        runner.reset(on_status)
        runner.rerun(cell, scenario, 1, keep, on_status)
    return ScenarioResult(scenario, records, runner.versions, list(runner.log[first_cell:]))


def run_scenarios(
    runner: CellRunner, params: StoryParams, scenarios: Iterable[str], on_record: OnRecord | None = None, on_status: OnStatus | None = None
) -> list[ScenarioResult]:
    """Every scenario in turn in this runner's kernel (restarted between)."""
    return [run_scenario(runner, name, params, on_record, on_status) for name in scenarios]


def run_story(
    params: StoryParams,
    scenarios: Iterable[str] = STORY_SCENARIOS,
    kernel_name: str = DEFAULT_KERNEL,
    on_record: OnRecord | None = None,
    on_status: OnStatus | None = None,
) -> list[ScenarioResult]:
    """The scenarios in one kernel from a pool of this call's own."""
    names = [check_scenario(name).name for name in scenarios]
    with private_pool() as kernels, kernels.lease("story", KernelKind.of(kernel_name, params.engine, params.machine), keep=False) as leased:
        return run_scenarios(story_runner(params).attach(leased[0]), params, names, on_record, on_status)


def run_on_kernels(
    params: StoryParams,
    scenario: str,
    engines: Mapping[str, str],
    on_record: OnRecord | None = None,
    on_status: OnStatus | None = None,
    pool: KernelPool | None = None,
    owner: str = "kernels",
    on_wait: OnWait | None = None,
) -> list[ScenarioResult]:
    """`scenario` once per TensorFlow kernelspec (`engines`: kernelspec -> the engine to run there), each on a fresh kernel
    leased from the pool and given back after: one TensorFlow next to another with the same cells (on TensorFlow's own
    backend, whichever kernel `params` came from). One kernel at a time, so a pool with room for one still serves it;
    results (and `on_record` calls) in the order given."""
    check_scenario(scenario)
    if not engines:
        raise ValueError("no kernels to run on")
    results = []
    with private_pool(pool) as kernels:
        for kernel_name, engine in engines.items():
            run_params = replace(params, engine=engine, backend=DEFAULT_BACKEND)
            with kernels.lease(owner, KernelKind.of(kernel_name, engine, params.machine), keep=False, on_wait=on_wait) as leased:
                runner = story_runner(run_params).attach(leased[0])
                results.append(run_scenario(runner, scenario, run_params, on_record, on_status))
    return results
