"""The "Your model" audit: build the visitor's model from a validated ModelSpec, re-run one recipe
cell N times in a freshly started kernel, and report which weights moved between reruns.

Cells are generated from validated values only: numbers via int()/repr(float()), names from the
allow-lists in `repro_core.recipes.model_spec`. The string a page shows is the string the kernel executes.
Per-layer differences are computed inside the kernel and read back through user_expressions.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable
from dataclasses import dataclass, field

from repro_core.kernels.kernel import DEFAULT_KERNEL, CellError, CellResult, LabKernel, kernel_environment
from repro_core.recipes import cells
from repro_core.recipes.model_spec import ACTIVATIONS, OPTIMIZERS, RECIPES, ModelSpec, check_recipe
from repro_core.recipes.settings import RERUNS_MAX, whole_number
from repro_core.results.records import KernelVersions, RunRecord, verdict

RECIPE_SEED = 1234  # the article's seed, used by the tf-seed and full-seed recipes
DIFF_CAP = 64  # heatmaps show at most DIFF_CAP x DIFF_CAP differences per weight
SETUP_TIMEOUT = 180.0
CELL_TIMEOUT = 300.0

# Allow-listed name -> the exact source text put into a cell (never the visitor's string itself).
_OPTIMIZER_SOURCE = {"adam": "keras.optimizers.Adam", "sgd": "keras.optimizers.SGD", "rmsprop": "keras.optimizers.RMSprop"}
_ACTIVATION_SOURCE = {name: repr(name) for name in ACTIVATIONS}
assert set(_OPTIMIZER_SOURCE) == set(OPTIMIZERS)

SEED_ERROR_HINT = (
    "With op determinism on, TensorFlow refuses unseeded random ops (here: shuffling in fit, or another random op) "
    "unless a global seed is set. Recipe \"none\" sets no seed, so the cell raised instead of training: "
    "choose tf-seed or full-seed, or turn shuffle off."
)

OnRecord = Callable[[RunRecord], None]
OnStatus = Callable[[str], None]


def layer_name(index: int, kind: str) -> str:
    """Stable names (Keras auto-names count up per process: dense, dense_1, ...), so reruns line up."""
    return f"l{int(index)}_{'dense' if kind == 'dense' else 'dropout'}"


def kernel_env(spec: ModelSpec) -> dict[str, str]:
    """The kernel's start-up environment: engine, and TF_DETERMINISTIC_OPS=1 when op determinism is on."""
    env = kernel_environment(spec.engine)
    env.pop("TF_DETERMINISTIC_OPS", None)
    if spec.op_determinism:
        env["TF_DETERMINISTIC_OPS"] = "1"
    return env


def _layer_lines(spec: ModelSpec) -> str:
    lines = []
    for index, layer in enumerate(spec.layers, start=1):
        name = repr(layer_name(index, layer.kind))
        if layer.kind == "dense":
            lines.append(f"    net.add(layers.Dense({int(layer.units)}, activation={_ACTIVATION_SOURCE[layer.activation]}, name={name}))")
        else:
            lines.append(f"    net.add(layers.Dropout({float(layer.rate)!r}, name={name}))")
    lines.append('    net.add(layers.Dense(1, name="output"))')
    return "\n".join(lines)


def setup_cell(spec: ModelSpec) -> str:
    """Imports, op determinism, the data, the model factory, the checksum and the weight-keeping helpers."""
    determinism = (
        "# Op determinism: the kernel was started with TF_DETERMINISTIC_OPS=1; enable it explicitly too.\n"
        "tf.config.experimental.enable_op_determinism()\n"
        if spec.op_determinism
        else "# Op determinism: off (the kernel was started without TF_DETERMINISTIC_OPS).\n"
    )
    return cells.engine_preamble(spec.engine, None) + f'''# Setup cell, generated from your validated model spec.
import os
import hashlib
import random
import numpy as np
import tensorflow as tf
from tensorflow import keras  # Keras 3, or tf_keras when TF_USE_LEGACY_KERAS=1
from tensorflow.keras import layers

{determinism}
# Data: {int(spec.samples)} samples of {int(spec.features)} features from NumPy's RandomState({int(spec.data_seed)}).
data_rng = np.random.RandomState({int(spec.data_seed)})
x = data_rng.normal(size=({int(spec.samples)}, {int(spec.features)})).astype("float32")
true_w = data_rng.normal(size=({int(spec.features)},))
y = (np.tanh(x @ true_w) + 0.1 * data_rng.normal(size=({int(spec.samples)},))).astype("float32")


def build_model():
    """A NEW model from your spec, plus a Dense(1) output (the factory strategy)."""
    net = keras.Sequential(name="your_model")
    net.add(keras.Input(shape=({int(spec.features)},)))
{_layer_lines(spec)}
    return net


def make_optimizer():
    return {_OPTIMIZER_SOURCE[spec.optimizer]}(learning_rate={float(spec.learning_rate)!r})


{cells.CHECKSUM_CELL_SOURCE}audit_weights = []  # one entry per rerun: {{"before": [...], "after": [...]}} of (layer, weight, array)


def keep_weights(net, stage):
    """Keep a copy of every layer's weights for this rerun ("before" starts a new rerun)."""
    kept = []
    for layer in net.layers:
        for variable, value in zip(layer.weights, layer.get_weights()):
            kept.append((layer.name, variable.name.split("/")[-1].split(":")[0], np.array(value, copy=True)))
    if stage == "before":
        audit_weights.append({{}})
    audit_weights[-1][stage] = kept


def audit_table():
    """Per weight: shape and the largest |difference| from rerun 1 over all reruns, before and after training."""
    rows = []
    if not audit_weights or "after" not in audit_weights[0]:
        return rows
    first = audit_weights[0]
    for index, (layer_name, weight_name, value) in enumerate(first["after"]):
        row = {{"layer": layer_name, "weight": weight_name, "shape": list(value.shape)}}
        for stage in ("before", "after"):
            worst = 0.0
            for rerun in audit_weights[1:]:
                if stage in rerun:
                    worst = max(worst, float(np.max(np.abs(rerun[stage][index][2] - first[stage][index][2]), initial=0.0)))
            row["max_abs_diff_" + stage] = worst
        rows.append(row)
    return rows


def audit_diffs(stage="after", cap={DIFF_CAP}):
    """Per weight: rerun 2 minus rerun 1 as a matrix (1-D weights as one row), at most cap x cap."""
    if len(audit_weights) < 2 or stage not in audit_weights[1]:
        return {{}}
    found = {{}}
    for (layer_name, weight_name, one), (_, _, two) in zip(audit_weights[0][stage], audit_weights[1][stage]):
        diff = (two.astype("float64") - one.astype("float64")).reshape(one.shape[0], -1) if one.ndim > 1 else (two - one).reshape(1, -1)
        found[layer_name + "/" + weight_name] = [[float(v) for v in row[:cap]] for row in diff[:cap]]
    return found
'''


def recipe_cell(spec: ModelSpec, recipe: str) -> str:
    """The cell re-run once per rerun: the recipe's seeding, a NEW model from the factory, compile, fit."""
    recipe = check_recipe(recipe)
    if recipe == "none":
        head = "# Recipe none: no seeding at all, then a NEW model from the factory.\n"
    elif recipe == "tf-seed":
        head = f"# Recipe tf-seed: reseed TensorFlow only (the article's fix), then a NEW model.\ntf.random.set_seed({RECIPE_SEED})\n"
    else:
        head = f"# Recipe full-seed: seed Python, NumPy and TensorFlow together, then a NEW model.\nkeras.utils.set_random_seed({RECIPE_SEED})\n"
    return head + f'''model = build_model()
model.compile(loss="mse", optimizer=make_optimizer())
weight_checksum(model, "before training")
keep_weights(model, "before")
history = model.fit(x, y, epochs={int(spec.epochs)}, batch_size={int(spec.batch_size)}, shuffle={bool(spec.shuffle)!r}, \
validation_split={float(spec.validation_split)!r}, verbose=0)
weight_checksum(model, "after training")
keep_weights(model, "after")
'''


@dataclass
class AuditResult:
    spec: ModelSpec
    recipe: str
    records: list[RunRecord] = field(default_factory=list)
    table: list[dict] = field(default_factory=list)
    diffs: dict[str, list[list[float]]] = field(default_factory=dict)
    cells: list[str] = field(default_factory=list)
    cells_run: list[CellResult] = field(default_factory=list)  # setup, environment, each completed rerun, with output
    versions: KernelVersions | None = None
    error: str | None = None  # the recipe cell raised (e.g. recipe none with op determinism on)

    @property
    def verdict(self) -> str:
        return "error" if self.error and len(self.records) < 2 else verdict(self.records)

    @property
    def default_layer(self) -> str | None:
        """The first Dense kernel (weight named 'kernel'), else the first weight with differences."""
        for key in self.diffs:
            if key.endswith("/kernel"):
                return key
        return next(iter(self.diffs), None)

    def as_dict(self) -> dict[str, object]:
        return {
            "spec": self.spec.to_dict(),
            "recipe": self.recipe,
            "verdict": self.verdict,
            "error": self.error,
            "versions": None if self.versions is None else self.versions.__dict__,
            "records": [r.as_dict() for r in self.records],
            "table": self.table,
            "default_layer": self.default_layer,
        }


class AuditKernel:
    """A session's audit kernel. It is restarted for every audit (a fresh notebook, so "none" and
    "tf-seed" do not inherit an earlier audit's seeds), and its start-up environment follows the spec."""

    def __init__(self, kernel_name: str = DEFAULT_KERNEL) -> None:
        self.kernel_name = kernel_name
        self.kernel: LabKernel | None = None
        self._live: list[LabKernel] = []  # the running kernel, shared with the finalizer (which must not hold self)
        weakref.finalize(self, _shutdown_all, self._live)  # garbage collected (session ended) or interpreter exit
        self.op_determinism: bool | None = None  # what the running kernel was started with
        self.engine: str | None = None

    def start_for(self, spec: ModelSpec) -> str:
        """(Re)start the kernel for `spec`; returns a note when op determinism changed from the last kernel."""
        note = ""
        if self.op_determinism is not None and self.op_determinism != spec.op_determinism:
            note = f"op determinism is now {'on' if spec.op_determinism else 'off'}, so the kernel was restarted " + (
                "with TF_DETERMINISTIC_OPS=1"
                if spec.op_determinism
                else "without TF_DETERMINISTIC_OPS (it cannot be switched off in a running kernel)"
            )
        self.close()
        self.kernel = LabKernel(self.kernel_name, kernel_env(spec))
        self._live.append(self.kernel)
        self.kernel.start()
        self.op_determinism, self.engine = spec.op_determinism, spec.engine
        return note

    def close(self) -> None:
        _shutdown_all(self._live)
        self.kernel = None


def _shutdown_all(live: list[LabKernel]) -> None:
    while live:
        live.pop().shutdown()


def run_audit(
    spec: ModelSpec,
    recipe: str = "full-seed",
    reruns: int = 2,
    kernel_name: str = DEFAULT_KERNEL,
    on_record: OnRecord | None = None,
    on_status: OnStatus | None = None,
    audit_kernel: AuditKernel | None = None,
) -> AuditResult:
    """Start a kernel for `spec`, run the setup cell, re-run the recipe cell `reruns` times, read back the tables.

    A CellError in the recipe cell is reported in `result.error` (with a hint when op determinism
    refused an unseeded random op); kernel failures (start, death, timeout) raise KernelError.
    """
    if not isinstance(spec, ModelSpec):
        raise ValueError("spec must be a ModelSpec")
    recipe = check_recipe(recipe)
    reruns = whole_number("reruns", reruns, 1, RERUNS_MAX)
    say = on_status or (lambda _text: None)
    own = audit_kernel is None
    book = audit_kernel or AuditKernel(kernel_name)
    result = AuditResult(spec=spec, recipe=recipe)
    try:
        say("starting a fresh kernel" + (" with op determinism on" if spec.op_determinism else ""))
        note = book.start_for(spec)
        if note:
            say(note)
        kernel = book.kernel
        setup = setup_cell(spec)
        say("running the setup cell (imports TensorFlow)")
        result.cells_run.append(kernel.run_cell(setup, timeout=SETUP_TIMEOUT))
        probe = kernel.run_cell(cells.ENVIRONMENT_CELL, {"env": "lab_environment"}, timeout=SETUP_TIMEOUT)
        result.cells_run.append(probe)
        result.versions = KernelVersions(kernelspec=kernel.kernel_name, **probe.values["env"])
        code = recipe_cell(spec, recipe)
        result.cells = [setup, code]
        for rerun in range(1, reruns + 1):
            say(f"recipe {recipe}: rerun {rerun} of {reruns}")
            try:
                ran = kernel.run_cell(code, {"checksums": "checksums"}, timeout=CELL_TIMEOUT)
            except CellError as exc:
                hint = f" {SEED_ERROR_HINT}" if "require a seed" in exc.evalue.lower() or "requires a seed" in exc.evalue.lower() else ""
                first_line = exc.evalue.splitlines()[0].rstrip(".") if exc.evalue else ""
                result.error = f"rerun {rerun}: the recipe cell raised {exc.ename}: {first_line}.{hint}"
                break
            result.cells_run.append(ran)
            sums = ran.values["checksums"]
            v = result.versions
            record = RunRecord(
                scenario=recipe, rerun=rerun,
                before_sum=float(sums["before training"]["sum"]), after_sum=float(sums["after training"]["sum"]),
                before_sha256=str(sums["before training"]["sha256"]), after_sha256=str(sums["after training"]["sha256"]),
                seconds=round(ran.seconds, 4), python=v.python, tensorflow=v.tensorflow, keras=v.keras, engine=v.engine, kernelspec=v.kernelspec,
            )  # fmt: skip
            result.records.append(record)
            if on_record:
                on_record(record)
        if result.records:
            say("comparing every layer's weights inside the kernel")
            read = kernel.run_cell("pass", {"table": "audit_table()", "diffs": "audit_diffs()"}, timeout=CELL_TIMEOUT)
            result.table = list(read.values["table"])
            result.diffs = dict(read.values["diffs"])
        return result
    finally:
        if own:
            book.close()


def describe(recipe: str) -> str:
    return RECIPES[check_recipe(recipe)]
