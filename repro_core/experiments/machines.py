"""Another machine, on this one: the same seeded cell under several machine settings (oneDNN on and off, one thread or
more, an instruction-set cap), each on a kernel of its own kind leased from the pool, one after another. Which setting
changes the initial weights, which the trained ones, and does each still repeat within itself?"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from repro_core.experiments.runner import OnRecord, OnStatus
from repro_core.experiments.story import ScenarioResult, run_scenario, story_runner
from repro_core.kernels.environment import KernelKind
from repro_core.kernels.hosting import private_pool
from repro_core.kernels.pool import KernelPool, OnWait
from repro_core.machine import MachineSettings
from repro_core.recipes.settings import StoryParams, with_machine
from repro_core.validation import Refusal
from repro_core.vocabulary import DEFAULT_KERNEL, check_scenario

MACHINE_SCENARIO = "factory-full-seed"  # keras.utils.set_random_seed: repeats within one kernel on every engine and backend
SETTINGS_MAX = 8


@dataclass(frozen=True)
class MachineRun:
    """One machine setting's run: what was asked (`machine`) and what the kernel ran with (result.versions.machine)."""

    machine: MachineSettings
    result: ScenarioResult


def check_machines(machines: Sequence[MachineSettings], params: StoryParams) -> list[MachineSettings]:
    """Distinct settings, each valid on the kernel's backend (Refusal with one line otherwise)."""
    chosen = list(dict.fromkeys(machines))
    if not chosen:
        raise Refusal("choose at least one machine setting")
    if len(chosen) > SETTINGS_MAX:
        raise Refusal(f"at most {SETTINGS_MAX} machine settings at once, got {len(chosen)}")
    for machine in chosen:
        if not isinstance(machine, MachineSettings):
            raise ValueError("machine settings must be MachineSettings")
        with_machine(params, machine)  # StoryParams refuses oneDNN's switch on JAX or PyTorch
    return chosen


def run_on_machines(
    params: StoryParams,
    machines: Sequence[MachineSettings],
    kernel_name: str = DEFAULT_KERNEL,
    scenario: str = MACHINE_SCENARIO,
    on_record: OnRecord | None = None,
    on_status: OnStatus | None = None,
    pool: KernelPool | None = None,
    owner: str = "machines",
    on_wait: OnWait | None = None,
) -> list[MachineRun]:
    """`scenario` once per machine setting, each on a fresh kernel started for it (oneDNN's switch and the ISA cap are read
    when TensorFlow is imported) and given back after. `params` gives everything else (network, seed, reruns, epochs)."""
    check_scenario(scenario)
    chosen = check_machines(machines, params)
    runs = []
    with private_pool(pool) as kernels:
        for machine in chosen:
            run_params = with_machine(params, machine)
            say = None if on_status is None else (lambda text, m=machine: on_status(f"{m.words()}: {text}"))
            with kernels.lease(owner, KernelKind.of(kernel_name, run_params.engine, machine), keep=False, on_wait=on_wait) as leased:
                result = run_scenario(story_runner(run_params).attach(leased[0]), scenario, run_params, on_record, say)
            runs.append(MachineRun(machine, result))
    return runs
