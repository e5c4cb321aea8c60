"""Every notebook cell the lab shows and runs: the string a page displays is the one the kernel executes.
Variable parts are validated numbers or allow-listed names, so no visitor text reaches code. Cells run on Python >= 3.8 and
TensorFlow 2.9 to 2.21, or Keras 3 on JAX or PyTorch (the backend is set in the setup cell).
A notebook: the setup cell, the environment cell, optionally the recorder cell, then a recipe cell re-run N times."""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

from repro_core.machine import DEFAULT_MACHINE, ISA_VARIABLE, ONEDNN_VARIABLE, MachineSettings
from repro_core.recipes.model_spec import ACTIVATIONS, OPTIMIZERS, ModelSpec
from repro_core.recipes.settings import NETWORKS, StoryParams
from repro_core.validation import Refusal, choice, whole_number
from repro_core.vocabulary import BACKENDS, DEFAULT_BACKEND, DEFAULT_SEED, ENGINES, HASH_SEED_MAX, RESEEDS, SCENARIOS, Recipe, check_backend

ARTICLE_TF_VERSION = "2.9"

# The article's published checksums (TensorFlow 2.9 era), shown as a labelled reference only.
ARTICLE_FIGURES = {
    "global-model": [(-1.3297259211540, -1.2190857985988), (-1.2190857985988, -1.0630745515227)],
    "factory-tf-seed": [(-1.3297259211540, -1.2190857985988), (-1.3297259211540, -1.2190857985988)],
}

# Seeds of the start-of-notebook block, as in the article.
NOTEBOOK_NUMPY_SEED = 123
NOTEBOOK_PYTHON_SEED = 123
DIFF_CAP = 64  # weight-difference matrices read back at most DIFF_CAP x DIFF_CAP

# Allow-listed name -> the exact source text put into a cell (never the visitor's string itself).
_OPTIMIZER_SOURCE = {"adam": "keras.optimizers.Adam", "sgd": "keras.optimizers.SGD", "rmsprop": "keras.optimizers.RMSprop"}
_ACTIVATION_SOURCE = {name: repr(name) for name in ACTIVATIONS}
assert set(_OPTIMIZER_SOURCE) == set(OPTIMIZERS)


@dataclass(frozen=True)
class ArticleModel:
    """The article's 2-3-1 network on three samples of three ones; `dropout` adds a Dropout(0.5) (the matrix)."""

    seed: int = DEFAULT_SEED  # the TensorFlow seed of the start-of-notebook block
    dropout: bool = False


@dataclass(frozen=True)
class WideModel:
    """A network wide enough for threads and instruction sets to change its bits: Dense 256→1024→1024→10 on 2,048 samples
    drawn from NumPy's RandomState(`data_seed`) (the same data on every backend)."""

    seed: int = DEFAULT_SEED  # the backend seed of the start-of-notebook block
    data_seed: int = 7
    samples: int = 2048
    features: int = 256
    hidden: tuple[int, ...] = (1024, 1024)
    outputs: int = 10


@dataclass(frozen=True)
class Training:
    optimizer: str  # the optimizer expression's exact source
    epochs: int
    batch_size: int
    validation_split: float
    shuffle: bool | None = None  # None leaves fit's default (shuffle=True) implicit, as in the article
    metrics: bool = False


def article_training(params: StoryParams, shuffle: bool | None = None) -> Training:
    """The article's training step: Adam with its beta/epsilon, a 10 % validation split, accuracy reported."""
    optimizer = f"keras.optimizers.Adam(learning_rate={float(params.learning_rate)!r}, beta_1=0.9, beta_2=0.999, epsilon=1e-08)"
    return Training(optimizer, int(params.epochs), int(params.batch_size), 0.1, shuffle, metrics=params.network == "article")


def spec_training(spec: ModelSpec) -> Training:
    optimizer = f"{_OPTIMIZER_SOURCE[spec.optimizer]}(learning_rate={float(spec.learning_rate)!r})"
    return Training(optimizer, int(spec.epochs), int(spec.batch_size), float(spec.validation_split), bool(spec.shuffle))


# The checksum helper every lab notebook defines.
CHECKSUM_CELL_SOURCE = '''checksums = {}


def weight_checksum(net, label):
    """The article's sum of all weights, plus a SHA-256 over every weight's dtype, shape and bytes."""
    weights = net.get_weights()
    total = sum(w.sum() for w in weights)
    digest = hashlib.sha256()
    for w in weights:
        digest.update((str(w.dtype) + str(w.shape)).encode())
        digest.update(np.ascontiguousarray(w).tobytes())
    checksums[label] = {"sum": float(total), "sha256": digest.hexdigest()}
    print("summary of trainable variables %s: %.13f  sha256 %s" % (label, total, digest.hexdigest()[:12]))
    return total
'''


def engine_preamble(engine: str, hash_seed: int | None = None, backend: str = DEFAULT_BACKEND) -> str:
    """A reader's plain kernel lacks the lab's TF_USE_LEGACY_KERAS, so the cell sets the engine before TensorFlow is imported
    (and KERAS_BACKEND before Keras is); PYTHONHASHSEED cannot be set from inside a running interpreter, so the cell only says
    what the kernel was started with."""
    choice("engine", engine, ENGINES)
    if check_backend(backend) != DEFAULT_BACKEND:
        lines = [
            f"# Keras engine: Keras 3 on {BACKENDS[backend].label}. Keras reads KERAS_BACKEND when it is first imported, so it is",
            "# set here, before `import keras` (the lab started this kernel without it).",
            "import os",
            f'os.environ["KERAS_BACKEND"] = "{backend}"',
        ]
    elif engine == "tf_keras":
        lines = [
            "# Keras engine: tf_keras. TensorFlow reads TF_USE_LEGACY_KERAS when it is first imported, so it is set",
            "# here, before `import tensorflow` (the lab also started this kernel with it; TF < 2.16 ignores it).",
            "import os",
            'os.environ["TF_USE_LEGACY_KERAS"] = "1"',
        ]
    elif engine == "keras2":
        lines = [
            "# Keras engine: Keras 2, the tf.keras of TensorFlow < 2.16 (its only one). TF_USE_LEGACY_KERAS stays unset,",
            "# as the lab started this kernel (TensorFlow >= 2.16 would give Keras 3 here).",
            "import os",
            'os.environ.pop("TF_USE_LEGACY_KERAS", None)',
        ]
    else:
        lines = [
            "# Keras engine: Keras 3. TensorFlow reads TF_USE_LEGACY_KERAS when it is first imported; unset, tf.keras",
            "# is Keras 3 (the lab started this kernel without it; TF < 2.16 ignores it).",
            "import os",
            'os.environ.pop("TF_USE_LEGACY_KERAS", None)',
        ]
    if hash_seed is None:
        lines.append("# Hash seed: the lab started this kernel without PYTHONHASHSEED, so string hashing is randomised.")
    else:
        seed = whole_number("hash seed", hash_seed, 0, HASH_SEED_MAX)
        lines.append(f"# Hash seed: the lab started this kernel with PYTHONHASHSEED={seed} (read only at start-up:")
        lines.append(f"# to repeat that, start Jupyter with PYTHONHASHSEED={seed} in its environment).")
    return "\n".join(lines) + "\n\n"


def machine_import_lines(machine: MachineSettings, backend: str = DEFAULT_BACKEND) -> str:
    """The machine switches read when the backend is imported or first runs, set before `import tensorflow` / `import keras`
    (after the engine preamble's `import os`). Nothing for the machine's defaults."""
    lines = []
    if machine.onednn != "default":
        value = machine.variables()[ONEDNN_VARIABLE]
        lines += [
            f"# oneDNN's custom operations: {machine.onednn}. TensorFlow reads {ONEDNN_VARIABLE} when it is first imported, so it is",
            "# set here, before `import tensorflow` (the lab also started this kernel with it: a forked kernel imported TensorFlow",
            "# before this cell). Unset, TensorFlow decides from the CPU's features (and says so in its import log).",
            f'os.environ["{ONEDNN_VARIABLE}"] = "{value}"',
        ]
    if machine.isa != "default":
        lines += [
            f"# Instruction-set cap: oneDNN dispatches to {machine.isa} and older only. It reads {ISA_VARIABLE} once, before its",
            "# first kernel runs (the lab also started this kernel with it). It changes nothing while oneDNN's operations are off.",
            f'os.environ["{ISA_VARIABLE}"] = "{machine.isa}"',
        ]
    if machine.threads and backend == "jax":
        flags = _xla_thread_flags(machine.threads)
        lines += [
            f"# Threads: XLA's CPU backend computes with {machine.threads} thread(s). It reads XLA_FLAGS when JAX first runs.",
            f'os.environ["XLA_FLAGS"] = "{flags}"',
        ]
    return "\n".join(lines) + "\n\n" if lines else ""


def _xla_thread_flags(threads: int) -> str:
    """XLA_FLAGS for `threads` CPU threads: one turns Eigen's multi-threading off; more size its pool."""
    count = whole_number("threads", threads, 1, 64)
    return f"--xla_cpu_multi_thread_eigen={'false' if count == 1 else 'true'} intra_op_parallelism_threads={count}"


def machine_thread_lines(machine: MachineSettings, backend: str = DEFAULT_BACKEND) -> str:
    """The thread count and op determinism, set right after the imports and before the first op (TensorFlow refuses a
    thread count later)."""
    lines = ""
    plural = "s" if machine.threads > 1 else ""
    if machine.threads and backend == "torch":
        lines += (f"# Threads: PyTorch computes with {machine.threads} thread{plural} (its default: one per core).\n"
                  f"torch.set_num_threads({int(machine.threads)})\n")  # fmt: skip
    elif machine.threads and backend == DEFAULT_BACKEND:
        lines += (f"# Threads: {machine.threads} intra-op thread{plural} (TensorFlow's default: one per core). Set before the first op runs.\n"
                  f"tf.config.threading.set_intra_op_parallelism_threads({int(machine.threads)})\n")  # fmt: skip
    if machine.op_determinism and backend == "torch":
        lines += ("# Op determinism on: PyTorch uses deterministic algorithms (and refuses an op that has none).\n"
                  "torch.use_deterministic_algorithms(True)\n")  # fmt: skip
    elif machine.op_determinism and backend == DEFAULT_BACKEND:
        lines += ("# Op determinism on: deterministic kernels, and unseeded random ops refused. It cannot be switched off again.\n"
                  "tf.config.experimental.enable_op_determinism()\n")  # fmt: skip
    return lines


def _keras_imports(backend: str) -> str:
    """TensorFlow's cells import its tf.keras, as the article does; on another backend, Keras 3 itself (and torch, whose
    seed the cells call)."""
    if backend == DEFAULT_BACKEND:
        return ("import tensorflow as tf\n"
                "from tensorflow import keras  # Keras 3, or tf_keras when TF_USE_LEGACY_KERAS=1\n"
                "from tensorflow.keras import layers\n")  # fmt: skip
    torch = "import torch\n" if backend == "torch" else ""
    return f"import keras  # Keras 3 on {BACKENDS[backend].label} (KERAS_BACKEND above)\nfrom keras import layers\n{torch}"


def backend_seed_line(backend: str, seed: int) -> str:
    """The backend's own seed call, or a comment saying it has none (JAX draws from explicit keys)."""
    call = BACKENDS[check_backend(backend)].seed_call
    if not call:
        return f"# No backend seed: {BACKENDS[backend].label} has no global generator to seed (tf.random.set_seed has no counterpart).\n"
    return f"{call}({int(seed)})\n"


def _notebook_head(backend: str, machine: MachineSettings, seed: int) -> str:
    """The article's start-of-notebook block, which every story network's setup cell begins with: imports, the machine's
    thread lines, then the three seeds."""
    return f'''# Start of the notebook: seed every generator, as the article recommends.
os.environ["PYTHONHASHSEED"] = "0"  # only affects processes started later, not this kernel

import hashlib
import random
import numpy as np
{_keras_imports(backend)}{machine_thread_lines(machine, backend)}
np.random.seed({NOTEBOOK_NUMPY_SEED})
random.seed({NOTEBOOK_PYTHON_SEED})
{backend_seed_line(backend, seed)}
'''


def _article_model_lines(model: ArticleModel, backend: str = DEFAULT_BACKEND, machine: MachineSettings = DEFAULT_MACHINE) -> str:
    dropout_line = "    net.add(layers.Dropout(0.5))  # a second source of randomness\n" if model.dropout else ""
    data = "tf.ones((3, 3))" if backend == DEFAULT_BACKEND else "keras.ops.ones((3, 3))"
    return f'''{_notebook_head(backend, machine, model.seed)}# Three samples of three ones, three targets.
x = {data}
y = np.array([3, 2, 1])


def MLP():
    """A fresh 2-3-1 dense network, built for inputs of shape (10, 3)."""
    net = keras.Sequential()
    net.add(layers.Dense(2, activation="relu"))
{dropout_line}    net.add(layers.Dense(3, activation="relu"))
    net.add(layers.Dense(1, activation="sigmoid"))
    net.build(input_shape=[10, 3])
    return net
'''


def _wide_model_lines(model: WideModel, backend: str = DEFAULT_BACKEND, machine: MachineSettings = DEFAULT_MACHINE) -> str:
    n, k, outputs, seed = int(model.samples), int(model.features), int(model.outputs), int(model.data_seed)
    hidden = "\n".join(f'    net.add(layers.Dense({int(units)}, activation="relu"))' for units in model.hidden)
    widths = "→".join(str(int(units)) for units in (k, *model.hidden, outputs))
    head = _notebook_head(backend, machine, model.seed)
    return head + f'''\
# A wide network's data: {n:,} samples of {k} features and {outputs} targets from NumPy's RandomState({seed}), the same on every backend.
data_rng = np.random.RandomState({seed})
x = data_rng.normal(size=({n}, {k})).astype("float32")
y = data_rng.normal(size=({n}, {outputs})).astype("float32")


def MLP():
    """A fresh wide network, Dense {widths}: enough arithmetic per step for threads and instruction sets to matter."""
    net = keras.Sequential()
    net.add(keras.Input(shape=({k},)))
{hidden}
    net.add(layers.Dense({outputs}))
    return net
'''


def _spec_model_lines(spec: ModelSpec, machine: MachineSettings = DEFAULT_MACHINE) -> str:
    layer_lines = []
    for index, layer in enumerate(spec.layers, start=1):
        name = repr(f"l{index}_{layer.kind}")  # Keras auto-names count up per process (dense, dense_1, ...): these line reruns up
        if layer.kind == "dense":
            layer_lines.append(f"    net.add(layers.Dense({int(layer.units)}, activation={_ACTIVATION_SOURCE[layer.activation]}, name={name}))")
        else:
            layer_lines.append(f"    net.add(layers.Dropout({float(layer.rate)!r}, name={name}))")
    layer_lines.append('    net.add(layers.Dense(1, name="output"))')
    determinism = (
        "# Op determinism on: deterministic kernels, and unseeded random ops refused. It cannot be switched off again.\n"
        "tf.config.experimental.enable_op_determinism()\n"
        if spec.op_determinism or machine.op_determinism
        else "# Op determinism: off.\n"
    )
    n, k, seed = int(spec.samples), int(spec.features), int(spec.data_seed)
    layers_text = "\n".join(layer_lines)
    return f'''import hashlib
import random
import numpy as np
import tensorflow as tf
from tensorflow import keras  # Keras 3, or tf_keras when TF_USE_LEGACY_KERAS=1
from tensorflow.keras import layers
{machine_thread_lines(replace(machine, op_determinism=False))}
{determinism}
# Data: {n} samples of {k} features from NumPy's RandomState({seed}).
data_rng = np.random.RandomState({seed})
x = data_rng.normal(size=({n}, {k})).astype("float32")
true_w = data_rng.normal(size=({k},))
y = (np.tanh(x @ true_w) + 0.1 * data_rng.normal(size=({n},))).astype("float32")


def MLP():
    """A NEW model from your spec, plus a Dense(1) output."""
    net = keras.Sequential(name="your_model")
    net.add(keras.Input(shape=({k},)))
{layers_text}
    return net
'''


def setup_cell(
    model: ArticleModel | WideModel | ModelSpec,
    engine: str,
    hash_seed: int | None = None,
    backend: str = DEFAULT_BACKEND,
    machine: MachineSettings = DEFAULT_MACHINE,
) -> str:
    """The first cell of every lab notebook: engine and machine switches, imports, data, the factory MLP(), the checksum,
    the global model."""
    if not isinstance(machine, MachineSettings):
        raise ValueError("machine must be MachineSettings")
    if isinstance(model, ArticleModel):
        body = _article_model_lines(model, check_backend(backend), machine)
    elif isinstance(model, WideModel):
        body = _wide_model_lines(model, check_backend(backend), machine)
    elif check_backend(backend) == DEFAULT_BACKEND:
        body = _spec_model_lines(model, machine)
    else:
        raise Refusal(f"your model's cells run on TensorFlow kernels only; this kernel runs Keras on {BACKENDS[backend].label}")
    return f'''{engine_preamble(engine, hash_seed, backend)}{machine_import_lines(machine, backend)}{body}

{CHECKSUM_CELL_SOURCE}
summarize_keras_trainable_variables = weight_checksum  # the article's name for it

model = MLP()  # the global model that the "global" recipes keep re-fitting
'''


def network_of(params: StoryParams) -> ArticleModel | WideModel:
    """The network `params.network` names, seeded with `params.seed`."""
    choice("network", params.network, NETWORKS)
    return WideModel(params.seed) if params.network == "wide" else ArticleModel(params.seed)


def story_setup_cell(params: StoryParams, hash_seed: int | None = None) -> str:
    return setup_cell(network_of(params), params.engine, hash_seed, params.backend, params.machine)


_GENERATOR_LINE = {"python": "random.seed({seed})\n", "numpy": "np.random.seed({seed})\n"}
_GENERATOR_WORDS = {"python": "Python's random", "numpy": "NumPy"}


def reseed_lines(reseed: str, seed: int, backend: str = DEFAULT_BACKEND) -> str:
    """The reseed's lines, one generator a line in RESEEDS order (keras.utils.set_random_seed alone for "full")."""
    found = RESEEDS[choice("reseed", reseed, RESEEDS)]
    if found.everything:
        return f"keras.utils.set_random_seed({int(seed)})\n"
    return "".join(backend_seed_line(backend, seed) if g == "backend" else _GENERATOR_LINE[g].format(seed=int(seed)) for g in found.generators)


def reseed_words(reseed: str, backend: str = DEFAULT_BACKEND) -> str:
    """"reseed TensorFlow", "reseed Python's random and PyTorch", "no reseeding": what the cell's first comment says."""
    found, label = RESEEDS[choice("reseed", reseed, RESEEDS)], BACKENDS[check_backend(backend)].label
    if found.everything:
        return f"seed Python, NumPy and {label if BACKENDS[backend].seed_call else 'Keras'} together"
    if not found.generators:
        return "no reseeding"
    names = [_GENERATOR_WORDS.get(g) or (label if BACKENDS[backend].seed_call else f"nothing on {label} (no global seed)") for g in found.generators]
    return "reseed " + (" and ".join(names) if len(names) < 3 else f"{', '.join(names[:-1])} and {names[-1]}")


_MODEL_LINE = {"global": "", "factory": "model = MLP()\n", "restored": "model.set_weights(initial_weights)\n"}
_MODEL_WORDS = {
    "global": "then compile and fit the SAME model again",
    "factory": "then build a NEW model, compile and fit it",
    "restored": "reset the global model's weights to the setup's (kept by the recorder cell), compile and fit",
}


def recipe_cell(recipe: Recipe, training: Training, seed: int, backend: str = DEFAULT_BACKEND) -> str:
    """The cell re-run once per rerun: the recipe's reseed and model lines, then compile, checksum, fit, checksum."""
    words = reseed_words(recipe.reseed, backend)
    head = f"{words[:1].upper()}{words[1:]}, {_MODEL_WORDS[recipe.model]}."
    if (recipe.model, recipe.reseed) == ("factory", "tf"):
        head = "The article's fix: " + head[:1].lower() + head[1:]
    elif recipe.model == "global":
        head = "Re-run this cell: " + head[:1].lower() + head[1:]
    metrics = ', metrics=["accuracy"]' if training.metrics else ""
    shuffle = "" if training.shuffle is None else f", shuffle={bool(training.shuffle)!r}"
    return (
        f"# {head}\n"
        + reseed_lines(recipe.reseed, seed, backend)
        + _MODEL_LINE[recipe.model]
        + f"optimizer = {training.optimizer}\n"
        + f'model.compile(loss="mse", optimizer=optimizer{metrics})\n'
        + 'weight_checksum(model, "before training")\n'
        + f"history = model.fit(x, y, epochs={int(training.epochs)}, batch_size={int(training.batch_size)}, "
        + f"validation_split={float(training.validation_split)!r}, verbose=0{shuffle})\n"
        + 'weight_checksum(model, "after training")\n'
    )


def scenario_cell(scenario: str, params: StoryParams) -> str:
    """A story scenario's cell: its recipe on the sidebar's engine, trained as in the article."""
    return recipe_cell(SCENARIOS[scenario].recipe(params.engine), article_training(params), params.seed, params.backend)


# Run after the setup cell by the matrix and the audit (see the cell's first line).
RECORDER_CELL = f'''# Keep every rerun's weights, so the differences to rerun 1 are computed in the kernel.
kept_weights = {{"before training": [], "after training": []}}
initial_weights = [np.array(w, copy=True) for w in model.get_weights()]
_plain_checksum = weight_checksum


def weight_checksum(net, label):
    """The checksum as before, plus a copy of every layer's weights: (layer, weight, array)."""
    kept = []
    for layer in net.layers:
        for variable, value in zip(layer.weights, layer.get_weights()):
            kept.append((layer.name, variable.name.split("/")[-1].split(":")[0], np.array(value, copy=True)))
    kept_weights.setdefault(label, []).append(kept)
    return _plain_checksum(net, label)


def _largest(one, two):
    return float(np.max(np.abs(two.astype("float64") - one.astype("float64")), initial=0.0))


def weight_table():
    """Per weight of rerun 1: layer, weight, shape, and the largest |difference| from rerun 1 before and after training."""
    rows = []
    for index, (layer_name, weight_name, value) in enumerate((kept_weights["after training"] or [[]])[0]):
        row = {{"layer": layer_name, "weight": weight_name, "shape": list(value.shape)}}
        for stage in ("before", "after"):
            runs = kept_weights[stage + " training"]
            row["max_abs_diff_" + stage] = max([_largest(runs[0][index][2], run[index][2]) for run in runs[1:]], default=0.0)
        rows.append(row)
    return rows


def weight_diffs(label="after training", cap={DIFF_CAP}):
    """Per weight: rerun 2 minus rerun 1 as a matrix (1-D weights as one row), at most cap x cap."""
    runs = kept_weights.get(label, [])
    if len(runs) < 2:
        return {{}}
    found = {{}}
    for (layer_name, weight_name, one), (_, _, two) in zip(runs[0], runs[1]):
        diff = (two.astype("float64") - one.astype("float64")).reshape(one.shape[0], -1) if one.ndim > 1 else (two - one).reshape(1, -1)
        found[layer_name + "/" + weight_name] = [[float(v) for v in row[:cap]] for row in diff[:cap]]
    return found
'''
# max |w_k - w_1| over every weight and every rerun k (0.0 with fewer than two reruns), from the weight table.
RECORDER_EXPRESSIONS = {f"delta_{stage}": f"max([row['max_abs_diff_{stage}'] for row in weight_table()], default=0.0)"
                        for stage in ("before", "after")}  # fmt: skip


# The seed article's own training cell (factory version), quoted for the diff view and run on engines that accept `lr=` (tf_keras).
ARTICLE_FACTORY_CELL = """# compile and fit model and observe weigths
tf.random.set_seed(1234)
model = MLP()
adm = keras.optimizers.Adam(lr=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-08)
model.compile(loss='mse',
               optimizer=adm,
               metrics=['accuracy'])
summarize_keras_trainable_variables(model, "before training")
history = model.fit(x,y, epochs=10, batch_size=1,
                     validation_split=0.1, verbose=0)
summarize_keras_trainable_variables(model, "after training")
"""

ENVIRONMENT_CELL = '''# What this kernel runs (read back by the lab after the setup cell).
import platform
import sys


def _keras_package():
    """Which package `keras` is here, and its version (the lab names the engine from these)."""
    if keras.__name__.startswith("tf_keras"):
        import tf_keras
        return "tf_keras", tf_keras.__version__
    version = getattr(keras, "__version__", None)
    if version is None:
        import keras as keras_package
        version = keras_package.__version__
    return "keras", version


def _backend():
    """Keras's backend and that library's version (tf.keras, Keras 2 included, always runs on TensorFlow)."""
    name = keras.backend.backend() if hasattr(keras.backend, "backend") else "tensorflow"
    return name, getattr(sys.modules.get(name), "__version__", "")


def _devices():
    if "tensorflow" in sys.modules:
        return "GPU" if sys.modules["tensorflow"].config.list_physical_devices("GPU") else "CPU"
    if _backend()[0] == "torch":
        return "GPU" if sys.modules["torch"].cuda.is_available() else "CPU"
    if _backend()[0] == "jax":
        return "CPU" if sys.modules["jax"].default_backend() == "cpu" else "GPU"
    return "CPU"


def _op_determinism():
    if _backend()[0] == "torch":
        return bool(sys.modules["torch"].are_deterministic_algorithms_enabled())
    if "tensorflow" not in sys.modules:
        return False
    try:
        from tensorflow.python.framework import config as tf_config
        return bool(tf_config.is_op_determinism_enabled())
    except (ImportError, AttributeError):
        return os.environ.get("TF_DETERMINISTIC_OPS", "") in ("1", "true", "True")


def _cpu():
    """The CPU's model name and which of the features that pick kernels it has (Linux's /proc/cpuinfo)."""
    name, flags = "", set()
    try:
        with open("/proc/cpuinfo") as handle:
            for line in handle:
                key, _, value = line.partition(":")
                if key.strip() == "model name" and not name:
                    name = value.strip()
                elif key.strip() == "flags" and not flags:
                    flags = set(value.split())
    except OSError:
        pass
    flags |= {"amx"} if "amx_tile" in flags else set()
    features = [f for f in ("avx2", "avx512f", "avx512_vnni", "avx512_bf16", "avx_vnni", "amx") if f in flags]
    return name or platform.processor() or platform.machine(), " ".join(features)


def _onednn():
    """Are oneDNN's custom operations on in this process? TensorFlow's own answer, tensorflow::IsMKLEnabled(), the function
    its ops ask (the Python IsMklEnabled says False on TF 2.9 whatever the setting; its import log line is what tells there)."""
    tf = sys.modules.get("tensorflow")
    if tf is None:
        return ""
    import ctypes
    try:
        library = ctypes.CDLL(os.path.join(os.path.dirname(tf.__file__), "libtensorflow_framework.so.2"))
        enabled = library["_ZN10tensorflow12IsMKLEnabledEv"]
        enabled.restype = ctypes.c_bool
        return "on" if enabled() else "off"
    except (OSError, AttributeError):
        try:
            from tensorflow.python.util import _pywrap_util_port
            return "on" if _pywrap_util_port.IsMklEnabled() else "off"
        except (ImportError, AttributeError):
            return "unknown"


def _nvidia_driver():
    import subprocess
    try:
        found = subprocess.run(["nvidia-smi", "--query-gpu=driver_version", "--format=csv,noheader"], capture_output=True, text=True, timeout=20)
        return found.stdout.strip().splitlines()[0] if found.returncode == 0 and found.stdout.strip() else ""
    except (OSError, subprocess.SubprocessError):
        return ""


def _gpu():
    """(model, driver, cuDNN) of the first GPU the backend sees; empty without one."""
    try:
        if "tensorflow" in sys.modules and _backend()[0] == "tensorflow":
            tf = sys.modules["tensorflow"]
            gpus = tf.config.list_physical_devices("GPU")
            if gpus:
                name = tf.config.experimental.get_device_details(gpus[0]).get("device_name", "GPU")
                return name, _nvidia_driver(), str(tf.sysconfig.get_build_info().get("cudnn_version", ""))
        elif _backend()[0] == "torch" and sys.modules["torch"].cuda.is_available():
            torch = sys.modules["torch"]
            return torch.cuda.get_device_name(0), _nvidia_driver(), str(torch.backends.cudnn.version() or "")
        elif _backend()[0] == "jax" and sys.modules["jax"].default_backend() != "cpu":
            return sys.modules["jax"].devices()[0].device_kind, _nvidia_driver(), ""
    except Exception:  # a GPU stack that half works must not stop the probe
        return "unknown GPU", "", ""
    return "", "", ""


def _machine():
    """The numerics fingerprint: what decides which kernels compute, read in this process (repro_core.machine.Fingerprint)."""
    cpu, features = _cpu()
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:
        cpus = os.cpu_count() or 0
    intra = inter = 0
    if "tensorflow" in sys.modules:
        threading = sys.modules["tensorflow"].config.threading
        intra, inter = threading.get_intra_op_parallelism_threads(), threading.get_inter_op_parallelism_threads()
    torch = sys.modules.get("torch") if _backend()[0] == "torch" else None
    gpu, driver, cudnn = _gpu()
    return {
        "cpu": cpu, "cpu_features": features, "cpus": cpus, "onednn": _onednn(),
        "onednn_setting": os.environ.get("TF_ENABLE_ONEDNN_OPTS", ""), "isa_cap": os.environ.get("ONEDNN_MAX_CPU_ISA", ""),
        "intra_op_threads": int(intra), "inter_op_threads": int(inter), "op_determinism": _op_determinism(), "device": _devices(),
        "gpu": gpu, "gpu_driver": driver, "cudnn": cudnn,
        "xla_flags": os.environ.get("XLA_FLAGS", "") if _backend()[0] == "jax" else "",
        "torch_threads": int(torch.get_num_threads()) if torch else 0,
        "torch_deterministic": bool(torch.are_deterministic_algorithms_enabled()) if torch else False,
    }


lab_environment = {
    "python": platform.python_version(),
    "numpy": np.__version__,
    "tensorflow": getattr(sys.modules.get("tensorflow"), "__version__", ""),
    "keras_package": _keras_package()[0],
    "keras": _keras_package()[1],
    "backend": _backend()[0],
    "backend_version": _backend()[1],
    "devices": _devices(),
    "op_determinism": _op_determinism(),
    "platform": platform.platform(),
    "hash_randomization": bool(sys.flags.hash_randomization),
    "machine": _machine(),
}
'''


# -- diagnose: your own script, run with the lab's recorder -------------------------------------------------------
# The recorder is a file of its own (a Python module that only ever runs as this cell inside a kernel), so it can be read,
# linted and shown on the page character for character.
RECORDER_IN_KERNEL = (Path(__file__).with_name("recorder_in_kernel.py")).read_text(encoding="utf-8")


def diagnose_setup_cell(engine: str, backend: str = DEFAULT_BACKEND, hash_seed: int | None = None) -> str:
    """Before your script: the engine (and backend) as the kernel was started with, and Keras imported, so that the
    recorder cell can wrap Model.fit. It seeds nothing."""
    return (
        f"{engine_preamble(engine, hash_seed, backend)}"
        "# Import Keras before your script so the recorder (next cell) can wrap Model.fit; nothing here seeds anything.\n"
        "import numpy as np\n"
        f"{_keras_imports(backend)}"
        "_lab_names = set(globals())  # the names your script must not find: the cleaning cell forgets the lab's\n"
    )


# After the environment and recorder cells: your script starts from the names a fresh kernel has (and _lab_recorder).
CLEAN_CELL = '''# Forget the names the lab's cells defined, so your script finds only what it imports itself (and _lab_recorder).
for _lab_name in set(globals()) - _lab_names - {"_lab_recorder", "_lab_names"}:
    if not _lab_name.startswith(("_i", "_lab", "LAB_")) and _lab_name not in ("In", "Out", "get_ipython", "exit", "quit"):
        del globals()[_lab_name]
for _lab_name in ("np", "keras", "layers", "tf", "torch", "os", "_lab_names"):
    globals().pop(_lab_name, None)
del _lab_name
'''
