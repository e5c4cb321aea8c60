"""The recipe matrix: a grid over recipes (model x reseed x engine), each re-run N times in a freshly started kernel, once per
machine setting asked for (oneDNN, threads, ISA cap: repro_core.machine; the machine's defaults unless asked).
The reseeds are the seed switches (vocabulary.RESEEDS: which generators a cell reseeds), so the grid tells which generator
controls the initial weights and which the trained ones; the cells are written for the kernel's backend (TensorFlow,
JAX or PyTorch). Recipes run side by side on as many kernels as the pool gives (up to `parallelism` per engine, one thread
per kernel)."""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from repro_core.experiments.runner import CellRunner, OnStatus
from repro_core.judgement import judge
from repro_core.kernels.environment import KernelKind
from repro_core.kernels.hosting import private_pool
from repro_core.kernels.kernel import LabKernel
from repro_core.kernels.pool import KernelPool, OnWait
from repro_core.machine import DEFAULT_MACHINE, MachineSettings
from repro_core.recipes import cells
from repro_core.recipes.settings import EPOCHS_MAX, NETWORKS, RERUNS_MAX, StoryParams
from repro_core.records import Repeats, RunRecord
from repro_core.validation import Refusal, choice, flag, whole_number
from repro_core.vocabulary import (
    BACKENDS,
    DEFAULT_BACKEND,
    DEFAULT_KERNEL,
    DEFAULT_RESEEDS,
    DEFAULT_SEED,
    MODELS,
    RESEEDS,
    SELECTABLE_ENGINES,
    Recipe,
    check_backend,
)

PARALLELISM_MAX = 8
DEFAULT_MODELS = ("global", "factory")  # "restored" is offered, not part of the default grid


@dataclass(frozen=True)
class MatrixOptions:
    """The whole grid's settings. Construction validates them (a Refusal with one line)."""

    reruns: int = 2
    epochs: int = 3
    seed: int = DEFAULT_SEED
    shuffle: bool = False
    dropout: bool = False
    engines: tuple[str, ...] = tuple(SELECTABLE_ENGINES)
    models: tuple[str, ...] = DEFAULT_MODELS
    reseeds: tuple[str, ...] = DEFAULT_RESEEDS
    backend: str = DEFAULT_BACKEND  # the kernel's: the cells set KERAS_BACKEND and call that backend's own seed
    machines: tuple[MachineSettings, ...] = (DEFAULT_MACHINE,)  # an axis: every recipe runs once per machine setting
    network: str = "article"  # recipes.settings.NETWORKS (dropout is the article network's)

    def __post_init__(self) -> None:
        check_backend(self.backend)
        choice("network", self.network, NETWORKS)
        machines = (self.machines,) if isinstance(self.machines, MachineSettings) else tuple(dict.fromkeys(self.machines))
        if not machines or not all(isinstance(m, MachineSettings) for m in machines):
            raise Refusal("choose at least one machine setting")
        object.__setattr__(self, "machines", machines)
        if self.dropout and self.network != "article":
            raise Refusal("dropout is offered on the article's network only")
        object.__setattr__(self, "reruns", whole_number("reruns", self.reruns, 1, RERUNS_MAX))
        object.__setattr__(self, "epochs", whole_number("epochs", self.epochs, 1, EPOCHS_MAX))
        flag("shuffle", self.shuffle)
        flag("dropout", self.dropout)
        for name, allowed in (("engines", SELECTABLE_ENGINES), ("models", MODELS), ("reseeds", RESEEDS)):
            values = getattr(self, name)
            values = tuple(dict.fromkeys((values,) if isinstance(values, str) else values))
            if not values:
                raise Refusal(f"choose at least one of the {name}: {', '.join(allowed)}")
            object.__setattr__(self, name, tuple(choice(name[:-1], value, allowed) for value in values))
        if self.backend != DEFAULT_BACKEND and self.engines != ("keras3",):
            raise Refusal(f"on {BACKENDS[self.backend].label} only Keras 3 runs: choose the engines ('keras3',), not {self.engines!r}")
        for machine in machines:
            self.params("keras3", machine)  # validates the seed, and the machine settings on this backend

    def params(self, engine: str, machine: MachineSettings = DEFAULT_MACHINE) -> StoryParams:
        return StoryParams(seed=self.seed, reruns=self.reruns, epochs=self.epochs, engine=engine, backend=self.backend, network=self.network,
                           batch_size=NETWORKS[self.network].batch_size, onednn=machine.onednn, threads=machine.threads, isa=machine.isa)  # fmt: skip

    def recipes(self) -> list[Recipe]:
        return [Recipe(m, r, e) for m in self.models for r in self.reseeds for e in self.engines]

    def cell(self, recipe: Recipe) -> str:
        """The cell a recipe re-runs: shuffle on keeps the article's fit call (its default), off says shuffle=False."""
        training = cells.article_training(self.params(recipe.engine), None if self.shuffle else False)
        return cells.recipe_cell(recipe, training, self.seed, self.backend)

    def setup(self, engine: str, machine: MachineSettings = DEFAULT_MACHINE) -> list[str]:
        network = cells.ArticleModel(self.seed, self.dropout) if self.network == "article" else cells.WideModel(self.seed)
        return [cells.setup_cell(network, engine, backend=self.backend, machine=machine), cells.RECORDER_CELL]


@dataclass
class RecipeResult:
    recipe: Recipe
    records: list[RunRecord]
    max_delta_before: float
    max_delta_after: float
    seconds: float
    cell: str = ""
    machine: MachineSettings = DEFAULT_MACHINE  # the machine setting it ran with (the matrix's machine axis)

    @property
    def verdict(self) -> str:
        return judge(self.records).outcome.name

    @property
    def repeats(self) -> Repeats:
        """Whether the initial and the trained weights repeated across its reruns (the one judgement's)."""
        return judge(self.records).repeats


@dataclass
class MatrixResult:
    options: MatrixOptions
    results: list[RecipeResult] = field(default_factory=list)
    seconds: float = 0.0
    kernels_used: int = 0  # the most kernels the pool gave this matrix at once


OnResult = Callable[[RecipeResult, int, int], None]


def check_parallelism(parallelism: object) -> int:
    return whole_number("parallelism", parallelism, 1, PARALLELISM_MAX)


def run_recipe(
    runner: CellRunner, recipe: Recipe, options: MatrixOptions, on_status: OnStatus | None = None, machine: MachineSettings = DEFAULT_MACHINE
) -> RecipeResult:
    """Set up the runner's kernel afresh, then re-run the recipe's cell `reruns` times."""
    started = time.monotonic()
    code = options.cell(recipe)
    runner.configure(options.setup(recipe.engine, machine))
    versions = runner.reset(on_status)
    if versions.backend != options.backend:
        raise Refusal(f"kernel {versions.kernelspec} runs Keras on {versions.backend}, but the matrix wrote its cells for {options.backend}")
    records: list[RunRecord] = []
    runner.rerun(code, recipe.name, options.reruns, records.append, on_status)
    values = runner.read(cells.RECORDER_EXPRESSIONS)
    return RecipeResult(
        recipe=recipe,
        records=records,
        max_delta_before=float(values["delta_before"]),
        max_delta_after=float(values["delta_after"]),
        seconds=round(time.monotonic() - started, 3),
        cell=code,
        machine=machine,
    )


def _run_side_by_side(
    kernels: Sequence[LabKernel], todo: Sequence[Recipe], options: MatrixOptions, done: Callable[[RecipeResult], None], machine: MachineSettings
) -> None:
    """One thread per kernel takes recipes from a shared queue; the first failure stops the rest and is re-raised."""
    waiting: queue.SimpleQueue[Recipe] = queue.SimpleQueue()
    for recipe in todo:
        waiting.put(recipe)
    failures: list[BaseException] = []
    finished: queue.SimpleQueue[RecipeResult] = queue.SimpleQueue()

    def work(kernel: LabKernel) -> None:
        runner = CellRunner(options.setup(todo[0].engine, machine), options.seed, options.epochs).attach(kernel)
        while not failures:
            try:
                recipe = waiting.get_nowait()
            except queue.Empty:
                return
            try:
                finished.put(run_recipe(runner, recipe, options, machine=machine))
            except BaseException as exc:  # noqa: BLE001 - handed to the calling thread
                failures.append(exc)

    threads = [threading.Thread(target=work, args=(k,), name="matrix", daemon=True) for k in kernels]
    for thread in threads:
        thread.start()
    while any(thread.is_alive() for thread in threads) or not finished.empty():
        try:
            done(finished.get(timeout=0.2))  # callbacks run in the calling thread (a Streamlit page needs that)
        except queue.Empty:
            continue
    if failures:
        raise failures[0]


def run_matrix(
    options: MatrixOptions,
    parallelism: int = 2,
    on_result: OnResult | None = None,
    kernel_name: str = DEFAULT_KERNEL,
    recipes: Sequence[Recipe] | None = None,
    pool: KernelPool | None = None,
    owner: str = "matrix",
    on_wait: OnWait | None = None,
) -> MatrixResult:
    """Every recipe (or the ones given), engine by engine, on up to `parallelism` kernels leased from the pool.
    `on_result(result, done, total)` runs in the calling thread; results come back in grid order."""
    workers = check_parallelism(parallelism)
    chosen = list(recipes) if recipes is not None else options.recipes()
    if not chosen:
        raise ValueError("no recipes to run")
    started = time.monotonic()
    results: dict[tuple[Recipe, MachineSettings], RecipeResult] = {}
    total = len(chosen) * len(options.machines)
    used = 0

    def done(result: RecipeResult) -> None:
        results[(result.recipe, result.machine)] = result
        if on_result is not None:
            on_result(result, len(results), total)

    with private_pool(pool, cap=workers) as kernels:
        for machine in options.machines:  # oneDNN and the ISA cap are read at import: each setting is a kernel kind of its own
            for engine in dict.fromkeys(recipe.engine for recipe in chosen):
                todo = [recipe for recipe in chosen if recipe.engine == engine]
                kind = KernelKind.of(kernel_name, engine, machine)
                with kernels.lease(owner, kind, count=min(workers, len(todo)), keep=False, on_wait=on_wait) as leased:
                    used = max(used, len(leased))
                    _run_side_by_side(leased, todo, options, done, machine)
    ordered = [results[(recipe, machine)] for machine in options.machines for recipe in chosen]
    return MatrixResult(options, ordered, round(time.monotonic() - started, 3), used)
