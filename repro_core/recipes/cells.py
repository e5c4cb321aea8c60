"""The notebook cells the lab shows and runs.

Each function returns one cell's source. The exact string returned is what a page
displays and what the kernel executes; all variable parts are validated numbers
from `StoryParams`, formatted with int()/repr(float()), so no visitor text reaches code.
Cells must run on Python >= 3.8 and TensorFlow 2.9 (Keras 2) up to 2.21 (Keras 3 or tf_keras).
"""

from __future__ import annotations

from repro_core.recipes.settings import ENGINES, StoryParams, whole_number

ARTICLE_TF_VERSION = "2.9"

# The article's published checksums (TensorFlow 2.9 era), shown as a labelled reference only.
ARTICLE_FIGURES = {
    "global-model": [(-1.3297259211540, -1.2190857985988), (-1.2190857985988, -1.0630745515227)],
    "factory-tf-seed": [(-1.3297259211540, -1.2190857985988), (-1.3297259211540, -1.2190857985988)],
}

# Seeds of the start-of-notebook block, as in the article.
NOTEBOOK_NUMPY_SEED = 123
NOTEBOOK_PYTHON_SEED = 123


# The checksum helper every lab notebook defines (the story's and the audit's setup cells).
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


def engine_preamble(engine: str, hash_seed: int | None = None) -> str:
    """The lines every setup cell starts with: what the kernel's environment sets, written into the cell.

    The lab starts a kernel with TF_USE_LEGACY_KERAS=1 for tf_keras (kernels.environment); a reader
    re-running the notebook in a plain kernel has no such variable, so the cell sets the engine itself,
    before TensorFlow is imported. PYTHONHASHSEED cannot be set from inside a running interpreter, so
    the cell only says what the kernel was started with.
    """
    if engine not in ENGINES:
        raise ValueError(f"engine must be one of {', '.join(ENGINES)}, got {engine!r}")
    if engine == "tf_keras":
        lines = [
            "# Keras engine: tf_keras. TensorFlow reads TF_USE_LEGACY_KERAS when it is first imported, so it is set",
            "# here, before `import tensorflow` (the lab also started this kernel with it; TF < 2.16 ignores it).",
            "import os",
            'os.environ["TF_USE_LEGACY_KERAS"] = "1"',
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
        seed = whole_number("hash seed", hash_seed, 0, 4294967295)
        lines.append(f"# Hash seed: the lab started this kernel with PYTHONHASHSEED={seed} (read only at start-up:")
        lines.append(f"# to repeat that, start Jupyter with PYTHONHASHSEED={seed} in its environment).")
    return "\n".join(lines) + "\n\n"


def setup_cell(params: StoryParams, *, dropout: bool = False, hash_seed: int | None = None) -> str:
    """Imports, the start-of-notebook seeding block, data, the model factory, the checksum and the global model.

    `dropout=True` (the recipe matrix) adds a Dropout(0.5) layer after the first Dense layer.
    `hash_seed`: the PYTHONHASHSEED the kernel was started with (None: randomised), stated in a comment.
    """
    dropout_line = '    net.add(layers.Dropout(0.5))  # a second source of randomness\n' if dropout else ""
    return engine_preamble(params.engine, hash_seed) + f'''# Start of the notebook: seed every generator, as the article recommends.
import os
os.environ["PYTHONHASHSEED"] = "0"  # only affects processes started later, not this kernel

import hashlib
import random
import numpy as np
import tensorflow as tf
from tensorflow import keras  # Keras 3, or tf_keras when TF_USE_LEGACY_KERAS=1
from tensorflow.keras import layers

np.random.seed({NOTEBOOK_NUMPY_SEED})
random.seed({NOTEBOOK_PYTHON_SEED})
tf.random.set_seed({params.seed})

# Three samples of three ones, three targets.
x = tf.ones((3, 3))
y = np.array([3, 2, 1])


def MLP():
    """A fresh 2-3-1 dense network, built for inputs of shape (10, 3)."""
    net = keras.Sequential()
    net.add(layers.Dense(2, activation="relu"))
{dropout_line}    net.add(layers.Dense(3, activation="relu"))
    net.add(layers.Dense(1, activation="sigmoid"))
    net.build(input_shape=[10, 3])
    return net


{CHECKSUM_CELL_SOURCE}

summarize_keras_trainable_variables = weight_checksum  # the article's name for it

model = MLP()  # the global model that the "global-model" cell keeps re-fitting
'''


def _train_lines(params: StoryParams, shuffle: bool | None = None) -> str:
    """Compile, checksum, fit, checksum: the article's training step with its Adam settings.

    `shuffle=None` leaves fit's default (shuffle=True) implicit, as in the article; True/False spell it out.
    """
    shuffle_arg = "" if shuffle is None else f", shuffle={bool(shuffle)!r}"
    return f'''optimizer = keras.optimizers.Adam(learning_rate={float(params.learning_rate)!r}, beta_1=0.9, beta_2=0.999, epsilon=1e-08)
model.compile(loss="mse", optimizer=optimizer, metrics=["accuracy"])
weight_checksum(model, "before training")
history = model.fit(x, y, epochs={params.epochs}, batch_size={params.batch_size}, validation_split=0.1, verbose=0{shuffle_arg})
weight_checksum(model, "after training")
'''


def scenario_cell(scenario: str, params: StoryParams, *, shuffle: bool | None = None) -> str:
    """The cell re-run once per rerun of `scenario` (fresh-kernel re-runs the factory-tf-seed cell).

    `shuffle` (the recipe matrix): None keeps the article's fit call; True/False pass shuffle= explicitly.
    """
    if scenario == "global-model":
        head = f"# Re-run this cell: reseed TensorFlow, then compile and fit the SAME model again.\ntf.random.set_seed({params.seed})\n"
    elif scenario in ("factory-tf-seed", "fresh-kernel"):
        head = (
            "# The article's fix: reseed TensorFlow, then build a NEW model, compile and fit it.\n"
            f"tf.random.set_seed({params.seed})\nmodel = MLP()\n"
        )
    elif scenario == "factory-full-seed":
        head = (
            "# Seed Python, NumPy and TensorFlow together, then build a NEW model, compile and fit it.\n"
            f"keras.utils.set_random_seed({params.seed})\nmodel = MLP()\n"
        )
    else:
        raise ValueError(f"unknown scenario {scenario!r}")
    return head + _train_lines(params, shuffle)


# The article's own training cell (factory version), quoted for the diff view and for
# running on engines that still accept `lr=` (tf_keras). Source: the seed article.
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

# Read back after the setup cell: the versions the kernel itself reports.
ENVIRONMENT_CELL = '''# What this kernel runs (read back by the lab after the setup cell).
import platform
import sys


def _keras_engine():
    if keras.__name__.startswith("tf_keras"):
        import tf_keras
        return "tf_keras", tf_keras.__version__
    version = getattr(keras, "__version__", None)
    if version is None:
        import keras as keras_package
        version = keras_package.__version__
    return ("keras3" if int(version.split(".")[0]) >= 3 else "keras2"), version


def _op_determinism():
    try:
        from tensorflow.python.framework import config as tf_config
        return bool(tf_config.is_op_determinism_enabled())
    except (ImportError, AttributeError):
        return os.environ.get("TF_DETERMINISTIC_OPS", "") in ("1", "true", "True")


lab_environment = {
    "python": platform.python_version(),
    "numpy": np.__version__,
    "tensorflow": tf.__version__,
    "keras": _keras_engine()[1],
    "engine": _keras_engine()[0],
    "devices": "GPU" if tf.config.list_physical_devices("GPU") else "CPU",
    "op_determinism": _op_determinism(),
    "platform": platform.platform(),
    "hash_randomization": bool(sys.flags.hash_randomization),
}
'''
