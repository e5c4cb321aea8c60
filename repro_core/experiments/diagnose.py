"""Your training, diagnosed: run a script N times (each in a fresh kernel, or all in one), with the recorder cell watching
Model.fit, and find where two runs first part: the initial weights, the data handed to fit, a training step, or the final
weights. Digests are compared first; only the diverging fit's kept copies leave the kernels, to say how far apart the
runs are (largest |difference| and ULPs per layer, step by step). The doctor re-runs with the lab's switches.

One execution path (`_execute`), typed errors: a ScriptProblem is the script's doing (exit 2), a KernelError the lab's."""

from __future__ import annotations

import base64
import hashlib
import json
import re
import statistics
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field, replace

import numpy as np

from repro_core.experiments.runner import CELL_TIMEOUT, CellRunner, OnStatus
from repro_core.kernels.environment import KernelKind
from repro_core.kernels.hosting import private_pool
from repro_core.kernels.kernel import CellError, CellResult, CellTimeout, KernelDied
from repro_core.kernels.pool import KernelPool, OnWait
from repro_core.recipes import cells, scripts, switches
from repro_core.recipes.scripts import Script, ScriptProblem, ScriptReading
from repro_core.records import KernelVersions
from repro_core.validation import choice, flag, real_number, whole_number
from repro_core.vocabulary import BACKENDS, DEFAULT_BACKEND, DEFAULT_KERNEL, DEFAULT_SEED, ENGINES, check_backend

SCHEMA = "keras-lab-diagnose/1"
RUNS_MAX = 10
STAGES = ("initial-weights", "fit-inputs", "training-step", "final-weights")
GROWTH_POINTS_MAX = 200  # points of the step-by-step growth kept (evenly spaced over the fit) for the chart and the JSON
SAMPLE_NOTE = "differences are measured on the first {n} values of each weight (the recorder keeps no more per step)"
_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


class ScriptRaised(ScriptProblem):
    """The script raised in the kernel; `traceback` is the kernel's, as plain text."""

    def __init__(self, message: str, traceback: str, output: str = "") -> None:
        super().__init__(message)
        self.traceback = traceback
        self.output = output


class ScriptEndedKernel(ScriptProblem):
    """The kernel process died while the script ran (os._exit, a crash, out of memory)."""


class ScriptTimedOut(ScriptProblem):
    """The script ran past the time limit (it was interrupted, or its kernel restarted)."""


class NoFitCalled(ScriptProblem):
    """The script ran to the end without calling Model.fit: there is nothing to compare."""


@dataclass(frozen=True)
class DiagnoseOptions:
    runs: int = 2
    kernel: str = DEFAULT_KERNEL
    engine: str = "keras3"
    backend: str = DEFAULT_BACKEND
    same_kernel: bool = False
    doctor: bool = False
    seed: int = DEFAULT_SEED  # the seed the doctor's lines use
    timeout: float = CELL_TIMEOUT  # seconds per run of the script

    def __post_init__(self) -> None:
        object.__setattr__(self, "runs", whole_number("runs", self.runs, 2, RUNS_MAX))
        choice("engine", self.engine, ENGINES)
        check_backend(self.backend)
        flag("same kernel", self.same_kernel)
        flag("doctor", self.doctor)
        object.__setattr__(self, "seed", whole_number("seed", self.seed, 0, 2**31 - 1))
        object.__setattr__(self, "timeout", real_number("timeout", self.timeout, 1.0, 86_400.0))


# -- what a run recorded ---------------------------------------------------------------------------------------------
@dataclass
class FitTrace:
    """One fit call as the recorder saw it: digests per weight (in the model's layer order)."""

    model: str
    layers: list[str]  # each weight's layer
    weights: list[str]  # "layer/weight"
    inputs: list[dict]
    initial: list[str]
    steps: list[list[str]]
    final: list[str]
    kept_steps: int

    def fingerprints(self) -> dict[str, str]:
        def digest(parts: object) -> str:
            return hashlib.sha256(json.dumps(parts).encode()).hexdigest()[:16]

        return {"initial": digest(self.initial), "inputs": digest([i["digest"] for i in self.inputs]), "step_weights": digest(self.steps),
                "final": digest(self.final)}  # fmt: skip


@dataclass
class RunTrace:
    run: int  # 1-based
    fits: list[FitTrace]
    seconds: float  # the script cell's wall time in the kernel
    versions: KernelVersions
    stdout: str = ""
    stderr: str = ""

    def fingerprint(self) -> str:
        return hashlib.sha256(json.dumps([f.fingerprints() for f in self.fits]).encode()).hexdigest()

    def as_dict(self) -> dict[str, object]:
        return {"run": self.run, "seconds": round(self.seconds, 3), "sha256": self.fingerprint(),
                "fits": [{"fit": i, "model": f.model, "steps": len(f.steps), **f.fingerprints()} for i, f in enumerate(self.fits, 1)],
                "kernel": asdict(self.versions)}  # fmt: skip


def _fits(summary: list[dict]) -> list[FitTrace]:
    return [FitTrace(f["model"], f["layers"], f["weights"], f["inputs"], f["initial"], f["steps"], f["final"], f["kept_steps"]) for f in summary]


# -- where two runs part ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Divergence:
    stage: str
    fit: int  # 1-based
    step: int | None
    layer: str | None
    weight: str | None = None
    run: int = 2  # the run that differs from run 1
    inputs: tuple[str, ...] = ()  # which inputs to fit differ (fit-inputs)
    layers: tuple[str, ...] = ()  # every layer that differs at that point
    note: str = ""

    def as_dict(self) -> dict[str, object]:
        return {"stage": self.stage, "fit": self.fit, "step": self.step, "layer": self.layer, "weight": self.weight, "run": self.run,
                "inputs": list(self.inputs), "layers": list(self.layers), "note": self.note}  # fmt: skip


def _first_weight(a: list[str], b: list[str], fit: FitTrace) -> tuple[str | None, str | None, tuple[str, ...]]:
    differing = [i for i, (x, y) in enumerate(zip(a, b, strict=False)) if x != y] or ([min(len(a), len(b))] if len(a) != len(b) else [])
    if not differing:
        return None, None, ()
    first = differing[0]
    layers = tuple(dict.fromkeys(fit.layers[i] for i in differing if i < len(fit.layers)))
    if first >= len(fit.weights):
        return None, None, layers
    return fit.layers[first], fit.weights[first], layers


def first_divergence(one: RunTrace, other: RunTrace) -> Divergence | None:
    """The first point, in the order training passes them, where `other` differs from `one`; None when they agree."""
    for index, (a, b) in enumerate(zip(one.fits, other.fits, strict=False), start=1):
        if a.initial and b.initial and a.initial != b.initial:
            layer, weight, layers = _first_weight(a.initial, b.initial, a)
            return Divergence("initial-weights", index, None, layer, weight, other.run, layers=layers)
        differing = tuple(x["name"] for x, y in zip(a.inputs, b.inputs, strict=False) if x["digest"] != y["digest"])
        if differing:
            return Divergence("fit-inputs", index, None, None, None, other.run, inputs=differing)
        for step, (x, y) in enumerate(zip(a.steps, b.steps, strict=False), start=1):
            if x != y:
                layer, weight, layers = _first_weight(x, y, a)
                return Divergence("training-step", index, step, layer, weight, other.run, layers=layers)
        if len(a.steps) != len(b.steps):
            step = min(len(a.steps), len(b.steps)) + 1
            note = f"run 1 took {len(a.steps)} steps, run {other.run} {len(b.steps)}"
            return Divergence("training-step", index, step, None, None, other.run, note=note)
        if a.final != b.final:
            layer, weight, layers = _first_weight(a.final, b.final, a)
            return Divergence("final-weights", index, None, layer, weight, other.run, layers=layers)
    if len(one.fits) != len(other.fits):
        return Divergence("final-weights", min(len(one.fits), len(other.fits)) + 1, None, None, None, other.run,
                          note=f"run 1 called fit {len(one.fits)} time(s), run {other.run} {len(other.fits)}")  # fmt: skip
    return None


# -- how far apart ---------------------------------------------------------------------------------------------------
def _decode(item: list | None) -> np.ndarray | None:
    if item is None:
        return None
    dtype, data = item
    try:
        return np.frombuffer(base64.b64decode(data), dtype=np.dtype(dtype))
    except TypeError:  # a dtype this NumPy does not know (bfloat16 from ml_dtypes)
        return None


def ulps(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Units in the last place between two float arrays of one dtype (integers: their plain difference)."""
    if a.dtype.kind != "f":
        return np.abs(a.astype(np.float64) - b.astype(np.float64))
    width = {2: np.int16, 4: np.int32, 8: np.int64}[a.dtype.itemsize]
    low = np.iinfo(width).min

    def ordered(x: np.ndarray) -> np.ndarray:
        bits = x.view(width).astype(np.int64)
        return np.where(bits < 0, np.int64(low) - bits, bits)

    if a.dtype.itemsize == 8:  # two int64 can be 2**64 apart: Python's integers take the difference exactly
        return np.array([float(abs(int(x) - int(y))) for x, y in zip(ordered(a), ordered(b), strict=True)])
    return np.abs(ordered(a) - ordered(b)).astype(np.float64)


@dataclass
class Difference:
    """At the first divergence: each layer's largest |difference| and ULPs; then, step by step, how that grows."""

    point: str  # "initial", a step number, or "final"
    layers: list[dict] = field(default_factory=list)  # {layer, max_abs, max_ulps, values}
    growth: list[dict] = field(default_factory=list)  # {point, step, layer, max_abs, max_ulps}
    note: str = ""

    def as_dict(self) -> dict[str, object]:
        return {"point": self.point, "layers": self.layers, "growth": self.growth, "note": self.note}


def _by_layer(fit: FitTrace, one: list, two: list) -> list[dict]:
    rows: dict[str, dict] = {}
    for layer, a_item, b_item in zip(fit.layers, one, two, strict=False):
        a, b = _decode(a_item), _decode(b_item)
        row = rows.setdefault(layer, {"layer": layer, "max_abs": 0.0, "max_ulps": 0.0, "values": 0})
        if a is None or b is None or a.shape != b.shape or a.size == 0:
            continue
        row["max_abs"] = max(row["max_abs"], float(np.max(np.abs(a.astype(np.float64) - b.astype(np.float64)))))
        row["max_ulps"] = max(row["max_ulps"], float(np.max(ulps(a, b))))
        row["values"] += int(a.size)
    return list(rows.values())


def difference(fit: FitTrace, one: dict[str, list], two: dict[str, list], divergence: Divergence) -> Difference:
    """From the kept copies of the diverging fit in both runs (`copies_json`: point -> per weight)."""
    points = [p for p in one if p in two]
    start = {"initial-weights": "initial", "fit-inputs": "1", "training-step": str(divergence.step), "final-weights": "final"}[divergence.stage]
    if start not in points:
        start = "final" if "final" in points else (points[0] if points else "")
    found = Difference(start, _by_layer(fit, one[start], two[start]) if start else [])
    later = points[points.index(start):] if start in points else []
    if len(later) > GROWTH_POINTS_MAX:
        keep = set(np.linspace(0, len(later) - 1, GROWTH_POINTS_MAX).round().astype(int))
        later = [p for i, p in enumerate(later) if i in keep]
    for point in later:
        step = 0 if point == "initial" else len(fit.steps) + 1 if point == "final" else int(point)
        for row in _by_layer(fit, one[point], two[point]):
            found.growth.append({"point": point, "step": step, **{k: row[k] for k in ("layer", "max_abs", "max_ulps")}})
    kept = len(fit.steps) - fit.kept_steps
    found.note = SAMPLE_NOTE.format(n=_sample_values())
    if kept > 0:
        found.note += f"; the copy budget ran out, so {kept} of {len(fit.steps)} steps have digests only"
    return found


def _sample_values() -> int:
    match = re.search(r"^LAB_SAMPLE_VALUES = (\d+)", cells.RECORDER_IN_KERNEL, re.MULTILINE)
    return int(match.group(1)) if match else 0


# -- running ---------------------------------------------------------------------------------------------------------
def setup_cells(options: DiagnoseOptions) -> list[str]:
    """What runs before the script in each kernel: engine and Keras imports, (the environment probe,) the recorder, the cleaning."""
    return [cells.diagnose_setup_cell(options.engine, options.backend), cells.RECORDER_IN_KERNEL, cells.CLEAN_CELL]


def _traceback_text(exc: CellError) -> str:
    return _ANSI.sub("", "\n".join(exc.traceback)) or f"{exc.ename}: {exc.evalue}"


def _run_script(runner: CellRunner, script: Script, run: int, on_status: OnStatus | None) -> CellResult:
    """The script once, with its failures as ScriptProblems (a hang, a dead kernel, its own exception)."""
    try:
        return runner.run_code(script.source, on_status)
    except CellTimeout as exc:
        raise ScriptTimedOut(f"run {run}: the script ran past the time limit of {runner.cell_timeout:g} s ({exc})") from None
    except KernelDied:
        raise ScriptEndedKernel(f"run {run}: the kernel process ended while the script ran (os._exit, a crash, or out of memory)") from None
    except CellError as exc:
        last = (exc.evalue.splitlines() or [""])[0]
        raise ScriptRaised(f"run {run}: the script raised {exc.ename}: {last}", _traceback_text(exc), exc.stdout) from None


def _read_json(runner: CellRunner, expression: str) -> object:
    return json.loads(str(runner.read({"value": expression})["value"]))


@dataclass
class _Kernel:
    """A run's kernel while it is alive: its runner and the index of the run in its recorder."""

    runner: CellRunner
    index: int


@dataclass
class Execution:
    traces: list[RunTrace]
    cells: list[CellResult]  # run 1's kernel start: setup, probe, recorder, cleaning, script
    divergence: Divergence | None
    difference: Difference | None


def _trace(runner: CellRunner, index: int, run: int, result: CellResult) -> RunTrace:
    summary = _read_json(runner, "_lab_recorder.summary_json()")
    fits = _fits(summary[index]) if index < len(summary) else []
    return RunTrace(run, fits, result.seconds, runner.versions, result.stdout, result.stderr)


def _execute(script: Script, options: DiagnoseOptions, pool: KernelPool | None, owner: str, on_status: OnStatus | None,
             on_wait: OnWait | None, measure: bool = True) -> Execution:  # fmt: skip
    """Every run of the script, then the comparison; `measure`: also fetch the diverging fit's copies."""
    say = on_status or (lambda _text: None)
    wanted = 1 if options.same_kernel else options.runs
    with private_pool(pool, cap=2) as kernels, kernels.lease(owner, KernelKind(options.kernel, options.engine), count=wanted, keep=False,
                                                            on_wait=on_wait) as leased:  # fmt: skip
        runners = [CellRunner(setup_cells(options)).attach(kernel) for kernel in leased]
        for runner in runners:
            runner.cell_timeout = options.timeout
        alive: dict[int, _Kernel] = {}
        traces: list[RunTrace] = []
        run1_copies: dict[int, dict] = {}

        def one_run(run: int, runner: CellRunner, index: int) -> RunTrace:
            if options.same_kernel and index > 0:
                runner.read({"begun": "_lab_recorder.begin_run()"})
            result = _run_script(runner, script, run, None)
            return _trace(runner, index, run, result)

        if options.same_kernel:
            say(f"running the script {options.runs} times in one kernel")
            runners[0].reset(say)
            runners[0].read({"begun": "_lab_recorder.begin_run()"})
            for run in range(1, options.runs + 1):
                say(f"run {run} of {options.runs} (the same kernel)")
                traces.append(one_run(run, runners[0], run - 1))
                alive[run] = _Kernel(runners[0], run - 1)
        elif len(runners) >= options.runs:
            say(f"starting {options.runs} kernels and running the script in each")
            for runner in runners:
                runner.reset(None)
            with ThreadPoolExecutor(max_workers=options.runs) as workers:
                futures = [workers.submit(one_run, run, runners[run - 1], 0) for run in range(1, options.runs + 1)]
                traces = [future.result() for future in futures]
            alive = {run: _Kernel(runners[run - 1], 0) for run in range(1, options.runs + 1)}
        else:  # fewer kernels than runs: one after another, each in a restarted (fresh) kernel
            for run in range(1, options.runs + 1):
                runner = runners[(run - 1) % len(runners)]
                say(f"run {run} of {options.runs} in a fresh kernel")
                runner.reset(None)
                traces.append(one_run(run, runner, 0))
                if run == 1 and measure:  # its kernel is restarted for the next run: keep what a comparison may need
                    run1_copies = {fit: _read_json(runner, f"_lab_recorder.copies_json(0, {fit})") for fit in range(len(traces[0].fits))}
                alive = {run: _Kernel(runner, 0)}
        first = runners[0]
        run1_cells = [cell for cell in first.log if cell.kernel_start == 1]
        if not traces[0].fits:
            raise NoFitCalled("the script ran to the end without calling Model.fit, so there is no training to compare")
        divergence = next((found for trace in traces[1:] if (found := first_divergence(traces[0], trace)) is not None), None)
        found_difference = None
        if divergence is not None and measure and divergence.run in alive:
            fit_index = divergence.fit - 1
            if fit_index < len(traces[0].fits) and fit_index < len(traces[divergence.run - 1].fits):
                other = alive[divergence.run]
                two = _read_json(other.runner, f"_lab_recorder.copies_json({other.index}, {fit_index})")
                if 1 in alive:
                    one = _read_json(alive[1].runner, f"_lab_recorder.copies_json({alive[1].index}, {fit_index})")
                else:
                    one = run1_copies.get(fit_index, {})
                found_difference = difference(traces[0].fits[fit_index], one, two, divergence)
    return Execution(traces, run1_cells, divergence, found_difference)


# -- in words --------------------------------------------------------------------------------------------------------
def _seeded_before(reading: ScriptReading, line: int | None) -> bool:
    return any(seed < (line or 10**9) for seed in reading.seeding)


def cause_words(divergence: Divergence | None, reading: ScriptReading, script: Script, versions: KernelVersions) -> str:
    """Which generator or input explains the first divergence, from where it is and what the script does (read, not run)."""
    if divergence is None:
        return ""
    backend = BACKENDS.get(versions.backend)
    unseeded = "; ".join(f"{script.where(u.line)} makes {u.what} from the operating system's entropy (`{u.text}`)" for u in reading.unseeded)
    if divergence.stage == "initial-weights":
        where = f"layer {divergence.layer}" if divergence.layer else "the model"
        old_keras = versions.engine == "keras2" and tuple(int(p) for p in re.findall(r"\d+", versions.keras)[:2]) < (2, 10)
        source = "TensorFlow's global seed (`tf.random.set_seed`)" if old_keras else "Python's `random`"
        text = (f"Fit {divergence.fit} starts from different initial weights in {where}. Keras {versions.keras} seeds an initializer "
                f"(and a Dropout layer) from {source} when the layer is created, unless the layer is given a seed of its own.")
        if not _seeded_before(reading, reading.model_line):
            text += f" Nothing in the script seeds {source} before the model is built"
            text += f" ({script.where(reading.model_line)})." if reading.model_line else "."
        elif unseeded:
            text += f" The script seeds, but {unseeded}."
        else:
            text += " The script seeds a generator, but not the one the initializers draw from (or not before they draw)."
        return text
    if divergence.stage == "fit-inputs":
        text = f"Fit {divergence.fit} is handed different data ({', '.join(divergence.inputs)}) in the two runs, with the same initial weights."
        if unseeded:
            return f"{text} {unseeded[:1].upper()}{unseeded[1:]}: no seed switch reaches it."
        if reading.shuffle_line:
            text += f" The data are shuffled at {script.where(reading.shuffle_line)}"
            text += ", by a generator that is not seeded before it (a tf.data shuffle takes TensorFlow's global seed)." if not _seeded_before(
                reading, reading.shuffle_line) else ", by a generator that the script's seeds do not reach."
        return text
    if divergence.stage == "training-step":
        where = f" in layer {divergence.layer}" if divergence.layer else ""
        text = (f"The initial weights and the data handed to fit {divergence.fit} repeat, but step {divergence.step} gives different "
                f"weights{where}: a random draw inside training differs.")
        if reading.dropout:
            places = ", ".join(script.where(line) for line in reading.dropout[:3])
            text += f" The script has Dropout ({places}): its mask comes from the layer's seed."
        if unseeded:
            text += f" {unseeded[:1].upper()}{unseeded[1:]}."
        else:
            seed = backend.seed_call if backend and backend.seed_call else "NumPy's generator"
            text += f" fit(shuffle=True) also shuffles every epoch, from {seed}."
        return text + (f" ({divergence.note})" if divergence.note else "")
    where = f" in layer {divergence.layer}" if divergence.layer else ""
    return (f"Every step of fit {divergence.fit} repeats, but the final weights differ{where}: something changes the weights after "
            f"the last step (a callback such as EarlyStopping(restore_best_weights=True)). {divergence.note}").strip()


# -- the fix ---------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Fix:
    """A change to the script: lines inserted before a line, or one line rewritten; `verified` once two runs repeat with it."""

    kind: str  # "insert" or "rewrite"
    text: str  # the lines to add, or the new line
    line: int  # insert before this line / rewrite this line (1-based, in the script as given)
    where: str  # in words
    switches: tuple[str, ...] = ()
    was: str = ""  # the rewritten line as it was
    verified: bool = False
    seconds_ratio: float | None = None  # median script time with the fix / without it, measured

    def apply(self, script: Script) -> Script:
        if self.kind == "rewrite":
            return scripts.replace_line(script, self.line, self.text)
        return scripts.insert_lines(script, self.line, self.text)

    def as_dict(self) -> dict[str, object]:
        return {"kind": self.kind, "line_text": self.text.rstrip("\n"), "line": self.line, "where": self.where, "switches": list(self.switches),
                "was": self.was, "verified": self.verified, "seconds_ratio": self.seconds_ratio}  # fmt: skip


def _landmark_words(reading: ScriptReading, script: Script, stage: str | None) -> str:
    landmarks = []
    if reading.model_line and stage != "fit-inputs":
        landmarks.append(f"before the model is built ({script.where(reading.model_line)})")
    if reading.shuffle_line and stage in (None, "fit-inputs", "training-step"):
        landmarks.append(f"before the data are shuffled ({script.where(reading.shuffle_line)})")
    return " and ".join(landmarks)


def switch_fix(names: Sequence[str], script: Script, reading: ScriptReading, versions: KernelVersions, seed: int,
               stage: str | None) -> Fix | None:  # fmt: skip
    found = switches.switch_lines(names, versions.engine, versions.backend, seed)
    if not found:
        return None
    if "first-line" in found:
        return Fix("insert", found["first-line"] + found.get("after-imports", ""), 1, "at the very top, before any import", tuple(names))
    line = reading.prelude_end + 1
    after = f"after the imports ({script.where(reading.prelude_end)})" if reading.prelude_end else "at the top"
    landmarks = _landmark_words(reading, script, stage)
    return Fix("insert", found["after-imports"], line, f"{after}, {landmarks}" if landmarks else after, tuple(names))


def rewrite_fixes(reading: ScriptReading, script: Script, seed: int) -> list[Fix]:
    fixes = []
    for item in reading.unseeded:
        text = item.seeded_text(seed)
        if text is not None:
            fixes.append(Fix("rewrite", text, item.line, f"{script.where(item.line)}: give {item.what} a seed", was=item.text))
    return fixes


def suggested_fix(divergence: Divergence | None, script: Script, reading: ScriptReading, versions: KernelVersions, seed: int) -> Fix | None:
    """Without the doctor: the likeliest fix, not yet verified (an unseeded generator's line first; else Keras's one seed line)."""
    if divergence is None:
        return None
    rewrites = rewrite_fixes(reading, script, seed)
    if rewrites and divergence.stage != "initial-weights":
        return rewrites[0]
    return switch_fix(("keras",), script, reading, versions, seed, divergence.stage)


@dataclass
class Trial:
    """One doctor's attempt: the script with a fix, run twice."""

    fix: Fix
    repeats: bool
    seconds: float  # median script time
    stage: str | None = None  # where its runs still part

    def as_dict(self) -> dict[str, object]:
        return {"fix": self.fix.as_dict(), "repeats": self.repeats, "seconds": round(self.seconds, 3), "stage": self.stage}


@dataclass
class DoctorResult:
    trials: list[Trial]
    fix: Fix | None
    switches_help: bool  # did some set of the lab's switches make the runs repeat?
    words: str

    def as_dict(self) -> dict[str, object]:
        return {"trials": [t.as_dict() for t in self.trials], "switches_help": self.switches_help, "words": self.words,
                "fix": self.fix.as_dict() if self.fix else None}  # fmt: skip


def run_doctor(script: Script, options: DiagnoseOptions, reading: ScriptReading, versions: KernelVersions, baseline: float,
               divergence: Divergence | None, pool: KernelPool | None, owner: str, on_status: OnStatus | None,
               on_wait: OnWait | None) -> DoctorResult:  # fmt: skip
    """Everything the lab can switch first (if that does not repeat, no smaller set will); then the narrowest set that does.
    When none does, rewrite the unseeded generators' lines. Each try: the patched script, run twice (as the diagnosis ran)."""
    say = on_status or (lambda _text: None)
    trials: list[Trial] = []
    stage = divergence.stage if divergence else None
    trial_options = replace(options, runs=2, doctor=False)

    def attempt(fix: Fix, base: Script = script) -> Trial:
        say(f"the doctor tries: {fix.text.strip().splitlines()[-1]}")
        found = _execute(fix.apply(base), trial_options, pool, owner, None, on_wait, measure=False)
        seconds = statistics.median(t.seconds for t in found.traces)
        ratio = round(seconds / baseline, 3) if baseline > 0 else None
        trial = Trial(replace(fix, verified=found.divergence is None, seconds_ratio=ratio), found.divergence is None, seconds,
                      found.divergence.stage if found.divergence else None)  # fmt: skip
        trials.append(trial)
        return trial

    candidates = [fix for names in switches.CANDIDATES if (fix := switch_fix(names, script, reading, versions, options.seed, stage))]
    if candidates and attempt(candidates[-1]).repeats:
        best = trials[-1]
        for fix in candidates[:-1]:
            if (trial := attempt(fix)).repeats:
                best = trial
                break
        words = (f"Adding `{best.fix.text.strip().splitlines()[-1]}` {best.fix.where} makes the runs repeat "
                 f"({switches.describe(best.fix.switches)}); with it the script took {best.fix.seconds_ratio or 0:.2f}x the time.")  # fmt: skip
        return DoctorResult(trials, best.fix, True, words)
    nothing = "Nothing the lab can switch makes the runs repeat" + (
        f" (not even {switches.describe(candidates[-1].switches)})" if candidates else "")
    rewrites = rewrite_fixes(reading, script, options.seed)
    if not rewrites:
        return DoctorResult(trials, None, False, nothing + ", and the lab finds no unseeded generator in the script to seed.")
    named = "; ".join(f"{script.where(f.line)}: `{f.was}`" for f in rewrites)
    combined = rewrites[0]
    patched = script
    for fix in rewrites[1:]:
        patched = fix.apply(patched)
    if len(rewrites) > 1:  # every unseeded line at once, as one fix on the script as given
        combined = replace(rewrites[0], where=f"{rewrites[0].where} (and {len(rewrites) - 1} more line(s) likewise)")
    trial = attempt(combined, patched)
    words = f"{nothing}: {named} draws from the operating system's entropy, which no seed switch reaches. Give it a seed: `{combined.text}`"
    words += " makes the runs repeat." if trial.repeats else " (the runs still part after that; look for other unseeded randomness)."
    return DoctorResult(trials, trial.fix, False, words)


# -- the whole diagnosis ---------------------------------------------------------------------------------------------
@dataclass
class Diagnosis:
    script: Script
    options: DiagnoseOptions
    traces: list[RunTrace]
    divergence: Divergence | None
    difference: Difference | None
    cause: str
    fix: Fix | None
    doctor: DoctorResult | None
    cells: list[CellResult]
    seconds: float  # wall time of the whole diagnosis

    @property
    def repeats(self) -> bool:
        return self.divergence is None

    @property
    def versions(self) -> KernelVersions:
        return self.traces[0].versions

    def as_dict(self) -> dict[str, object]:
        return {
            "schema": SCHEMA,
            "script": {"name": self.script.name, "kind": self.script.kind, "sha256": self.script.sha256,
                       "lines": len(self.script.source.splitlines())},
            "settings": {"runs": self.options.runs, "same_kernel": self.options.same_kernel, "kernel": self.options.kernel,
                         "engine": self.options.engine, "seed": self.options.seed, "doctor": self.options.doctor, "timeout": self.options.timeout},
            "repeats": self.repeats,
            "first_divergence": None if self.divergence is None else self.divergence.as_dict(),
            "cause": self.cause or None,
            "fix": None if self.fix is None else self.fix.as_dict(),
            "difference": None if self.difference is None else self.difference.as_dict(),
            "doctor": None if self.doctor is None else self.doctor.as_dict(),
            "runs": [trace.as_dict() for trace in self.traces],
            "machine": asdict(self.versions),
            "seconds": round(self.seconds, 3),
            "output": self.traces[0].stdout,
        }  # fmt: skip


def diagnose(script: Script, options: DiagnoseOptions, pool: KernelPool | None = None, owner: str = "diagnose",
             on_status: OnStatus | None = None, on_wait: OnWait | None = None) -> Diagnosis:  # fmt: skip
    """Run the script `options.runs` times with the recorder, find the first divergence, say why, and (with the doctor)
    find and verify the fix. ScriptProblem for what the script did; KernelError when the lab could not run it."""
    started = time.monotonic()
    reading = scripts.read(script)
    found = _execute(script, options, pool, owner, on_status, on_wait)
    versions = found.traces[0].versions
    cause = cause_words(found.divergence, reading, script, versions)
    fix = suggested_fix(found.divergence, script, reading, versions, options.seed)
    doctor = None
    if options.doctor and found.divergence is not None:
        baseline = statistics.median(t.seconds for t in found.traces)
        doctor = run_doctor(script, options, reading, versions, baseline, found.divergence, pool, owner, on_status, on_wait)
        fix = doctor.fix or fix
    return Diagnosis(script, options, found.traces, found.divergence, found.difference, cause, fix, doctor, found.cells,
                     time.monotonic() - started)  # fmt: skip
