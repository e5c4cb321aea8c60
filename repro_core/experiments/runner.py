"""The one way every experiment drives a kernel: setup cells give KernelVersions, a recipe cell a RunRecord.
The pool lends the kernel per click (`attach`); the runner counts kernel starts, so every cell and record carries one."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace

from repro_core.kernels.kernel import CellResult, KernelDied, LabKernel
from repro_core.machine import Fingerprint
from repro_core.recipes import cells
from repro_core.records import KernelVersions, RunRecord
from repro_core.vocabulary import reported_engine

SETUP_TIMEOUT = 180.0  # seconds for a setup cell (the first one imports Keras and its backend)
CELL_TIMEOUT = 300.0  # seconds for a recipe cell

OnRecord = Callable[[RunRecord], None]
OnStatus = Callable[[str], None]


def _quiet(_text: str) -> None:
    pass


class StartCounter:
    """Kernel starts counted across every runner of a session (one per page column), so the number a row carries, and
    the sidebar shows, names one kernel start in the whole session."""

    def __init__(self) -> None:
        self.count = 0

    def next(self) -> int:
        self.count += 1
        return self.count


class CellRunner:
    """`run(cell)` is Shift-Enter on a recipe cell, `reset()` "restart the kernel and run the setup cells".
    Running another recipe cell than this kernel start's restarts first, so rows never depend on what ran before.
    `seed` and `epochs` are the settings its cells were written with: every record carries them."""

    def __init__(self, setup: Sequence[str], seed: int = 0, epochs: int = 0, starts: StartCounter | None = None) -> None:
        self.setup = tuple(setup)
        self.seed, self.epochs = seed, epochs
        self.starts = starts or StartCounter()
        self.cell_timeout = CELL_TIMEOUT  # a hosted server sets a tighter one
        self.kernel: LabKernel | None = None
        self.versions: KernelVersions | None = None
        self.log: list[CellResult] = []  # every cell this runner ran, across kernel starts, in order
        self.kernel_starts = 0  # the number of the kernel start its setup last ran in (0: none yet); cells and records carry it
        self.cell: str | None = None  # the recipe cell this kernel start has been re-running
        self.reruns = 0  # how many times it has run since the setup
        self._set_up_in: tuple[int, int] | None = None  # (id(kernel), kernel.generation) of the last setup

    @property
    def kernel_name(self) -> str:
        return self.kernel.kernel_name if self.kernel is not None else ""

    def attach(self, kernel: LabKernel) -> CellRunner:
        """Use this (started) kernel from now on; the next run sets it up first if it is another one."""
        self.kernel = kernel
        return self

    def configure(self, setup: Sequence[str], seed: int | None = None, epochs: int | None = None) -> None:
        """New setup cells (other settings): the next run restarts the kernel and runs them."""
        if seed is not None:
            self.seed = seed
        if epochs is not None:
            self.epochs = epochs
        if tuple(setup) != self.setup:
            self.setup = tuple(setup)
            self._set_up_in = None

    @property
    def ready(self) -> bool:
        """Is the attached kernel the one the setup ran in, alive, with no restart since?"""
        kernel = self.kernel
        return (
            kernel is not None
            and self.versions is not None
            and self._set_up_in == (id(kernel), kernel.generation)
            and kernel.state in ("idle", "busy")
        )

    def reset(self, on_status: OnStatus | None = None) -> KernelVersions:
        """Restart the kernel unless it is fresh (a just-started one is used as is), then run the setup cells."""
        say = on_status or _quiet
        kernel = self._kernel()
        if kernel.state == "not started":
            say("starting the kernel")
            kernel.start()
        elif kernel.pristine and kernel.state == "idle":
            say("using a fresh kernel")
        else:
            say("restarting the kernel")
            kernel.restart()
        say("running the setup cell (imports Keras and its backend)")
        self.kernel_starts = self.starts.next()
        self._set_up_in = None
        for source in self.setup[:1]:
            self._run(source, timeout=SETUP_TIMEOUT)
        probe = self._run(cells.ENVIRONMENT_CELL, {"env": "lab_environment"}, timeout=SETUP_TIMEOUT).values["env"]
        for source in self.setup[1:]:
            self._run(source, timeout=SETUP_TIMEOUT)
        self.versions = versions_from_probe(probe, kernel.kernel_name)
        self._set_up_in = (id(kernel), kernel.generation)
        self.cell, self.reruns = None, 0
        return self.versions

    def run(self, cell: str, label: str, on_status: OnStatus | None = None) -> RunRecord:
        """Run `cell` once more, setting up or restarting first where needed."""
        if not self.ready or self.cell not in (None, cell):
            self.reset(on_status)
        rerun = self.reruns + 1
        (on_status or _quiet)(f"{label}: rerun {rerun}")
        result = self._run(cell, {"checksums": "checksums"}, timeout=self.cell_timeout)
        self.cell, self.reruns = cell, rerun
        return make_record(label, rerun, self.kernel_starts, result, self.versions, self.seed, self.epochs)

    def rerun(self, cell: str, label: str, times: int, on_record: OnRecord, on_status: OnStatus | None = None) -> None:
        """`run` `times` times, each record to `on_record` as it comes, so a CellError leaves the records so far."""
        for _ in range(times):
            on_record(self.run(cell, label, on_status))

    def run_code(self, source: str, on_status: OnStatus | None = None, timeout: float | None = None) -> CellResult:
        """Run any cell once (a user's script), setting up first where needed; logged like a recipe cell. CellError if it raised."""
        if not self.ready:
            self.reset(on_status)
        return self._run(source, timeout=self.cell_timeout if timeout is None else timeout)

    def read(self, expressions: Mapping[str, str]) -> dict[str, object]:
        """Values computed in the kernel (e.g. the recorder's weight table), without logging a cell."""
        return self._kernel().run_cell("pass", dict(expressions), timeout=self.cell_timeout).values

    def cells_of(self, kernel_start: int) -> list[CellResult]:
        """The cells one kernel start ran, in order (what a page's download holds)."""
        return [cell for cell in self.log if cell.kernel_start == kernel_start]

    def _run(self, source: str, expressions: Mapping[str, str] | None = None, timeout: float = CELL_TIMEOUT) -> CellResult:
        result = replace(self._kernel().run_cell(source, dict(expressions or {}), timeout=timeout), kernel_start=self.kernel_starts)
        self.log.append(result)
        return result

    def _kernel(self) -> LabKernel:
        if self.kernel is None:
            raise KernelDied("no kernel is attached; run it again to get one")
        return self.kernel


def versions_from_probe(probe: Mapping[str, object], kernelspec: str) -> KernelVersions:
    """KernelVersions from what ENVIRONMENT_CELL's `lab_environment` holds (its `machine` dict becomes the Fingerprint)."""
    found = dict(probe)
    engine = reported_engine(str(found.pop("keras_package")), str(found["keras"]))
    machine = found.pop("machine", None)
    fingerprint = Fingerprint.from_probe(machine) if isinstance(machine, Mapping) else Fingerprint()
    return KernelVersions(kernelspec=kernelspec, engine=engine, machine=fingerprint, **found)


def probe_kernel(kernel: LabKernel, timeout: float = SETUP_TIMEOUT) -> KernelVersions:
    """Run the environment cell in a kernel whose setup cell has run (it needs `keras` and `np`): what the kernel reports
    about itself, its numerics fingerprint included (KernelVersions.machine)."""
    return versions_from_probe(kernel.run_cell(cells.ENVIRONMENT_CELL, {"env": "lab_environment"}, timeout=timeout).values["env"], kernel.kernel_name)


def make_record(label: str, rerun: int, kernel_start: int, result: CellResult, versions: KernelVersions, seed: int = 0, epochs: int = 0) -> RunRecord:
    sums = result.values["checksums"]
    before, after = sums["before training"], sums["after training"]
    return RunRecord(
        scenario=label,
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
        kernel_start=kernel_start,
        backend=versions.backend,
        backend_version=versions.backend_version,
        seed=seed,
        epochs=epochs,
        machine=versions.machine.compact(),
    )
