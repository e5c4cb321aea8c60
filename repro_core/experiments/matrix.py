"""The recipe matrix: model strategy x reseed x engine, each combination in its own kernel.

Every combination re-runs one cell N times in a freshly started kernel (setup cell first),
exactly like a single scenario, and additionally measures inside the kernel the largest
absolute weight difference between each rerun and rerun 1 (before and after training).
Two extra randomness sources can be switched on for the whole grid: `fit(shuffle=True)`
(off means `shuffle=False` is passed explicitly) and a Dropout(0.5) layer in the MLP.

Independent combinations run in parallel kernels (one thread per running kernel; each
thread owns its Notebook and its jupyter_client connection). Nothing here imports TensorFlow.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field

from repro_core.experiments.story import CELL_TIMEOUT, Notebook, make_record
from repro_core.kernels.kernel import DEFAULT_KERNEL
from repro_core.recipes import cells
from repro_core.recipes.settings import ENGINES, EPOCHS_MAX, RERUNS_MAX, StoryParams, whole_number
from repro_core.results.records import KernelVersions, RunRecord, verdict

STRATEGIES: dict[str, str] = {
    "global": "one model built in the setup cell, re-fitted every rerun",
    "factory": "a new model from the factory every rerun",
}
# Not part of the default grid: the global model with its weights restored to the setup's initial
# weights every rerun, so the initial weights are identical by means other than seeding.
EXTRA_STRATEGIES: dict[str, str] = {
    "restored": "the global model, its weights reset with set_weights() to the setup's initial weights every rerun",
}
RESEEDS: dict[str, str] = {
    "none": "no reseeding in the cell",
    "tf": "tf.random.set_seed(seed)",
    "full": "keras.utils.set_random_seed(seed) (Python, NumPy and TensorFlow)",
}
PARALLELISM_MAX = 8

# The existing story scenarios whose cells the matrix reuses byte for byte (shuffle on, no dropout).
SCENARIO_OF: dict[tuple[str, str], str] = {
    ("global", "tf"): "global-model",
    ("factory", "tf"): "factory-tf-seed",
    ("factory", "full"): "factory-full-seed",
}

# Run once after the setup cell: wraps the checksum helper so every checksum also keeps a copy of the
# weights, and defines the in-kernel max |w_k - w_1| read back through user_expressions.
RECORDER_CELL = '''# Recipe matrix: keep every rerun's weights so the largest difference to rerun 1 is computed here.
matrix_weights = {"before training": [], "after training": []}
matrix_initial_weights = [np.array(w, copy=True) for w in model.get_weights()]
_matrix_plain_checksum = weight_checksum


def weight_checksum(net, label):
    matrix_weights.setdefault(label, []).append([np.array(w, copy=True) for w in net.get_weights()])
    return _matrix_plain_checksum(net, label)


def matrix_max_delta(label):
    """max |w_k - w_1| over every weight array and every rerun k (0.0 with fewer than two reruns)."""
    runs = matrix_weights.get(label, [])
    largest = 0.0
    for run in runs[1:]:
        for first, other in zip(runs[0], run):
            if first.size:
                largest = max(largest, float(np.max(np.abs(other.astype("float64") - first.astype("float64")))))
    return largest
'''

DELTA_EXPRESSIONS = {"before": "matrix_max_delta('before training')", "after": "matrix_max_delta('after training')"}


@dataclass(frozen=True)
class MatrixOptions:
    """The whole grid's settings. Construction validates them (ValueError with one line)."""

    reruns: int = 2
    epochs: int = 3
    seed: int = 1234
    shuffle: bool = False
    dropout: bool = False
    engines: tuple[str, ...] = tuple(ENGINES)
    strategies: tuple[str, ...] = tuple(STRATEGIES)
    reseeds: tuple[str, ...] = tuple(RESEEDS)

    def __post_init__(self) -> None:
        object.__setattr__(self, "reruns", whole_number("reruns", self.reruns, 1, RERUNS_MAX))
        object.__setattr__(self, "epochs", whole_number("epochs", self.epochs, 1, EPOCHS_MAX))
        for name in ("shuffle", "dropout"):
            if not isinstance(getattr(self, name), bool):
                raise ValueError(f"{name} must be True or False, got {getattr(self, name)!r}")
        for name, allowed in (("engines", ENGINES), ("strategies", {**STRATEGIES, **EXTRA_STRATEGIES}), ("reseeds", RESEEDS)):
            values = getattr(self, name)
            if isinstance(values, str):
                values = (values,)
            values = tuple(dict.fromkeys(values))
            if not values:
                raise ValueError(f"choose at least one of the {name}: {', '.join(allowed)}")
            unknown = [v for v in values if v not in allowed]
            if unknown:
                raise ValueError(f"unknown {name} {unknown[0]!r}; choose from {', '.join(allowed)}")
            object.__setattr__(self, name, values)
        self.params("keras3")  # validates the seed

    def params(self, engine: str) -> StoryParams:
        return StoryParams(seed=self.seed, reruns=self.reruns, epochs=self.epochs, engine=engine)

    def combinations(self) -> list[Combination]:
        return [Combination(s, r, e) for s in self.strategies for r in self.reseeds for e in self.engines]


@dataclass(frozen=True)
class Combination:
    """One cell of the matrix: how the model is made, how the cell reseeds, which Keras runs it."""

    strategy: str
    reseed: str
    engine: str

    def __post_init__(self) -> None:
        if self.strategy not in STRATEGIES and self.strategy not in EXTRA_STRATEGIES:
            raise ValueError(f"unknown strategy {self.strategy!r}")
        if self.reseed not in RESEEDS:
            raise ValueError(f"unknown reseed {self.reseed!r}")
        if self.engine not in ENGINES:
            raise ValueError(f"unknown engine {self.engine!r}")

    @property
    def label(self) -> str:
        return f"{self.strategy}+{self.reseed}"

    @property
    def name(self) -> str:
        return f"{self.strategy}+{self.reseed} on {self.engine}"


MatrixCell = Combination  # the name the page and the issue use


@dataclass
class CombinationResult:
    """What one combination's kernel produced."""

    combination: Combination
    records: list[RunRecord]
    versions: KernelVersions | None
    max_delta_before: float
    max_delta_after: float
    seconds: float
    cell: str = ""
    error: str = ""

    @property
    def verdict(self) -> str:
        return verdict(self.records) if not self.error else "error"


@dataclass
class MatrixResult:
    options: MatrixOptions
    results: list[CombinationResult] = field(default_factory=list)
    seconds: float = 0.0

    def get(self, strategy: str, reseed: str, engine: str) -> CombinationResult:
        for result in self.results:
            c = result.combination
            if (c.strategy, c.reseed, c.engine) == (strategy, reseed, engine):
                return result
        raise KeyError((strategy, reseed, engine))


def _reseed_line(reseed: str, seed: int) -> str:
    if reseed == "tf":
        return f"tf.random.set_seed({int(seed)})\n"
    if reseed == "full":
        return f"keras.utils.set_random_seed({int(seed)})\n"
    return ""


def combination_cell(combination: Combination, options: MatrixOptions) -> str:
    """The cell re-run by a combination; where a story scenario has the same recipe its cell is reused."""
    params = options.params(combination.engine)
    shuffle = None if options.shuffle else False  # on: fit's default, as in the article's cell
    scenario = SCENARIO_OF.get((combination.strategy, combination.reseed))
    if scenario is not None:
        return cells.scenario_cell(scenario, params, shuffle=shuffle)
    reseed = _reseed_line(combination.reseed, params.seed)
    if combination.strategy == "global":
        head = f"# Recipe matrix: global model, reseed {combination.reseed}; compile and fit the SAME model again.\n{reseed}"
    elif combination.strategy == "factory":
        head = f"# Recipe matrix: reseed {combination.reseed}, then build a NEW model, compile and fit it.\n{reseed}model = MLP()\n"
    else:
        head = (
            f"# Recipe matrix: reseed {combination.reseed}, reset the global model's weights to the setup's, compile and fit.\n"
            f"{reseed}model.set_weights(matrix_initial_weights)\n"
        )
    return head + cells._train_lines(params, shuffle)


def run_combination(
    combination: Combination,
    options: MatrixOptions,
    kernel_name: str = DEFAULT_KERNEL,
    stop: threading.Event | None = None,
) -> CombinationResult:
    """Start a kernel, run the setup (with dropout if asked) and the recorder, then the cell `reruns` times."""
    started = time.monotonic()
    params = options.params(combination.engine)
    code = combination_cell(combination, options)
    book = Notebook(params, kernel_name)
    records: list[RunRecord] = []
    try:
        book.kernel.start()
        book.kernel.run_cell(cells.setup_cell(params, dropout=options.dropout), timeout=CELL_TIMEOUT)
        probe = book.kernel.run_cell(cells.ENVIRONMENT_CELL, {"env": "lab_environment"}, timeout=CELL_TIMEOUT)
        versions = KernelVersions(kernelspec=book.kernel.kernel_name, **probe.values["env"])
        book.kernel.run_cell(RECORDER_CELL, timeout=CELL_TIMEOUT)
        deltas: dict[str, object] = {"before": 0.0, "after": 0.0}
        for rerun in range(1, options.reruns + 1):
            if stop is not None and stop.is_set():
                break
            last = rerun == options.reruns
            result = book.kernel.run_cell(code, {"checksums": "checksums", **(DELTA_EXPRESSIONS if last else {})}, timeout=CELL_TIMEOUT)
            records.append(make_record(combination.name, rerun, result, versions))
            if last:
                deltas = result.values
        return CombinationResult(
            combination=combination,
            records=records,
            versions=versions,
            max_delta_before=float(deltas["before"]),
            max_delta_after=float(deltas["after"]),
            seconds=round(time.monotonic() - started, 3),
            cell=code,
        )
    finally:
        book.close()


OnResult = Callable[[CombinationResult, int, int], None]


def check_parallelism(parallelism: object) -> int:
    return whole_number("parallelism", parallelism, 1, PARALLELISM_MAX)


def default_parallelism() -> int:
    return max(1, min(PARALLELISM_MAX, os.cpu_count() or 1))


def run_matrix(
    options: MatrixOptions,
    parallelism: int | None = None,
    on_result: OnResult | None = None,
    kernel_name: str = DEFAULT_KERNEL,
    combinations: Iterable[Combination] | None = None,
) -> MatrixResult:
    """Run every combination (or the ones given), up to `parallelism` kernels at a time.

    `on_result(result, done, total)` is called from the calling thread as each combination
    finishes. Results come back in grid order. The first kernel failure is re-raised after
    the running combinations finish; combinations not yet started are skipped.
    """
    workers = check_parallelism(default_parallelism() if parallelism is None else parallelism)
    chosen: Sequence[Combination] = list(combinations) if combinations is not None else options.combinations()
    if not chosen:
        raise ValueError("no combinations to run")
    started = time.monotonic()
    stop = threading.Event()
    done: dict[Combination, CombinationResult] = {}
    failure: BaseException | None = None
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="matrix") as pool:
        futures = {pool.submit(run_combination, c, options, kernel_name, stop): c for c in chosen}
        for future in as_completed(futures):
            try:
                result = future.result()
            except BaseException as exc:  # noqa: BLE001 - re-raised below, after the other kernels are done
                if failure is None:
                    failure = exc
                stop.set()
                for other in futures:
                    other.cancel()
                continue
            if stop.is_set():
                continue
            done[futures[future]] = result
            if on_result is not None:
                on_result(result, len(done), len(chosen))
    if failure is not None:
        raise failure
    return MatrixResult(options=options, results=[done[c] for c in chosen], seconds=round(time.monotonic() - started, 3))
