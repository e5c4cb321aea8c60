# The lab's recorder. This file is run as a notebook cell inside the kernel, before your script, character for character:
# the lab never imports it. It wraps Model.fit of every Keras loaded in this kernel (keras; tf_keras, which is tf.keras
# when TF_USE_LEGACY_KERAS=1) so that each fit call records
#   - every layer's initial weights (when training begins),
#   - the data handed to fit (x, y, sample weights, validation data; of a tf.data dataset, its first batches),
#   - every layer's weights after each training step,
#   - the final weights.
# Weights are kept as SHA-256 digests at every step, and, within a budget, as copies of each weight's first values, so the
# lab can say how far two runs are apart without moving whole models. Nothing else in your script is changed.
# Every name it defines starts with _lab or LAB_, so your script's own names never clash with it.
import base64 as _lab_base64
import hashlib as _lab_hashlib
import importlib.util as _lab_importlib_util
import inspect as _lab_inspect
import json as _lab_json
import sys as _lab_sys

import numpy as _lab_np

LAB_DIGEST_CHARS = 16  # hex characters kept of each SHA-256 digest
LAB_SAMPLE_VALUES = 1024  # values kept of each weight at each step (its first ones, flattened)
LAB_KEEP_BYTES = 16 * 2**20  # copies kept in all, per run; past this only digests are kept
LAB_DATA_BATCHES = 3  # batches of a dataset that are read and hashed (a fresh iteration, before fit iterates it)


def _lab_digest(value):
    array = _lab_np.ascontiguousarray(value)
    digest = _lab_hashlib.sha256(f"{array.dtype}{array.shape}".encode())
    digest.update(array.tobytes())
    return digest.hexdigest()[:LAB_DIGEST_CHARS]


def _lab_data_digest(value):
    """(digest, what it is) of one input to fit: arrays and nested lists/dicts of them, or a dataset's first batches."""
    if value is None:
        return None, "none"
    if hasattr(value, "take") and hasattr(value, "as_numpy_iterator"):  # a tf.data.Dataset
        digest = _lab_hashlib.sha256()
        for batch in value.take(LAB_DATA_BATCHES).as_numpy_iterator():
            for part in batch if isinstance(batch, tuple) else (batch,):
                for leaf in part.values() if isinstance(part, dict) else [part]:
                    digest.update(_lab_digest(leaf).encode())
        return digest.hexdigest()[:LAB_DIGEST_CHARS], f"tf.data dataset, first {LAB_DATA_BATCHES} batches"
    if isinstance(value, dict):
        parts = [(key, _lab_data_digest(item)[0]) for key, item in sorted(value.items())]
        return _lab_hashlib.sha256(repr(parts).encode()).hexdigest()[:LAB_DIGEST_CHARS], "dict of arrays"
    if isinstance(value, (list, tuple)) and value and not _lab_np.isscalar(value[0]):
        parts = [_lab_data_digest(item)[0] for item in value]
        return _lab_hashlib.sha256(repr(parts).encode()).hexdigest()[:LAB_DIGEST_CHARS], f"{len(value)} arrays"
    try:
        array = _lab_np.asarray(value)
    except Exception:  # a generator, a PyDataset, a DataLoader: reading it would consume what fit is to read
        return None, f"{type(value).__name__} (not read)"
    if array.dtype == object:
        return None, f"{type(value).__name__} (not read)"
    return _lab_digest(array), f"array {array.dtype} {list(array.shape)}"


class _LabRecorder:
    """Every fit call of every run in this kernel (a run is one execution of your script)."""

    def __init__(self):
        self.runs = []
        self.kept_bytes = 0
        self.patched = []

    def begin_run(self):
        self.runs.append([])
        self.kept_bytes = 0

    def _weights(self, model):
        """[(layer name, weight name, array)] for every layer of the model, in order."""
        sync = getattr(model, "jax_state_sync", None)  # JAX keeps the state outside the model while fit runs
        if sync is not None:
            sync()
        found = []
        for layer in model.layers:
            for variable, value in zip(layer.weights, layer.get_weights()):  # noqa: B905 - runs on Python 3.8 kernels too
                found.append((layer.name, str(variable.name).split("/")[-1].split(":")[0], value))
        return found

    def _keep(self, value):
        """A copy of the first values of a weight, while the budget lasts (None after)."""
        sample = _lab_np.array(_lab_np.ravel(value)[:LAB_SAMPLE_VALUES], copy=True)
        if self.kept_bytes + sample.nbytes > LAB_KEEP_BYTES:
            return None
        self.kept_bytes += sample.nbytes
        return sample

    def snapshot(self, model):
        weights = self._weights(model)
        return {"digests": [_lab_digest(value) for _, _, value in weights], "copies": [self._keep(value) for _, _, value in weights]}

    def start_fit(self, model, arguments):
        if not self.runs:
            self.begin_run()
        inputs = []
        for name in ("x", "y", "sample_weight", "validation_data", "class_weight"):
            digest, kind = _lab_data_digest(arguments.get(name))
            inputs.append({"name": name, "digest": digest, "kind": kind})
        record = {"model": model.name, "inputs": inputs, "initial": None, "steps": [], "final": None, "layers": [], "weights": []}
        self.runs[-1].append(record)
        return record

    def summary_json(self):
        """Digests only, as JSON text (what the lab reads first): runs -> fits -> stages."""
        return _lab_json.dumps([
            [
                {
                    "model": fit["model"],
                    "layers": fit["layers"],
                    "weights": fit["weights"],
                    "inputs": fit["inputs"],
                    "initial": fit["initial"]["digests"] if fit["initial"] else [],
                    "steps": [step["digests"] for step in fit["steps"]],
                    "final": fit["final"]["digests"] if fit["final"] else [],
                    "kept_steps": sum(1 for step in fit["steps"] if all(c is not None for c in step["copies"])),
                }
                for fit in run
            ]
            for run in self.runs
        ])

    def copies_json(self, run, fit):
        """The kept copies of one fit (0-based run and fit): per point ("initial", step 1.., "final"), per weight
        (dtype, base64 of the values), None where the budget ran out. Only what the lab asks for leaves the kernel."""
        record = self.runs[run][fit]
        points = [("initial", record["initial"])] + [(index, step) for index, step in enumerate(record["steps"], 1)]
        points.append(("final", record["final"]))

        def encode(copy):
            return None if copy is None else (str(copy.dtype), _lab_base64.b64encode(copy.tobytes()).decode("ascii"))

        return _lab_json.dumps({str(point): [encode(copy) for copy in snap["copies"]] for point, snap in points if snap is not None})


def _lab_callback_class(keras_module, recorder):
    class LabRecorderCallback(keras_module.callbacks.Callback):
        """Records the model's weights when training begins and after every training step."""

        def __init__(self, record):
            super().__init__()
            self.record = record

        def _describe(self):
            weights = recorder._weights(self.model)
            self.record["layers"] = [layer for layer, _, _ in weights]
            self.record["weights"] = [f"{layer}/{name}" for layer, name, _ in weights]

        def on_train_begin(self, logs=None):
            self._describe()
            self.record["initial"] = recorder.snapshot(self.model)

        def on_train_batch_end(self, batch, logs=None):
            self.record["steps"].append(recorder.snapshot(self.model))

    return LabRecorderCallback


def _lab_patch(keras_module, recorder):
    """Wrap keras_module.Model.fit once: the wrapped fit adds the recorder's callback and records the final weights."""
    model_class = keras_module.Model
    if getattr(model_class.fit, "_lab_recorded", False):
        return
    original = model_class.fit
    signature = _lab_inspect.signature(original)
    callback_class = _lab_callback_class(keras_module, recorder)

    def fit(self, *args, **kwargs):
        bound = signature.bind(self, *args, **kwargs)
        record = recorder.start_fit(self, bound.arguments)
        callbacks = list(bound.arguments.get("callbacks") or [])
        bound.arguments["callbacks"] = [*callbacks, callback_class(record)]
        history = original(*bound.args, **bound.kwargs)
        record["final"] = recorder.snapshot(self)
        if record["initial"] is None:  # a model built inside fit after on_train_begin: its first weights are unknown
            record["initial"] = {"digests": [], "copies": []}
        return history

    fit._lab_recorded = True
    fit.__wrapped__ = original
    model_class.fit = fit
    recorder.patched.append(f"{keras_module.__name__}.Model.fit")


class _LabImportWatch:
    """Wraps Model.fit of a Keras your script imports after this cell (tf_keras beside Keras 3, say) as it is imported."""

    def __init__(self, recorder):
        self.recorder = recorder

    def find_spec(self, name, path=None, target=None):
        if name not in ("keras", "tf_keras") or name in _lab_sys.modules:
            return None
        _lab_sys.meta_path.remove(self)  # find it the ordinary way, without asking this finder again
        try:
            spec = _lab_importlib_util.find_spec(name)
        finally:
            _lab_sys.meta_path.insert(0, self)
        if spec is None or spec.loader is None or not hasattr(spec.loader, "exec_module"):
            return spec
        load, recorder = spec.loader.exec_module, self.recorder

        def exec_module(module):
            load(module)
            if hasattr(module, "Model") and hasattr(module, "callbacks"):
                _lab_patch(module, recorder)

        spec.loader.exec_module = exec_module
        return spec


if __name__ == "__main__":  # a notebook cell runs in __main__; imported as a module (never by the lab), it patches nothing
    _lab_recorder = _LabRecorder()
    for _lab_name in ("keras", "tf_keras"):
        if _lab_name in _lab_sys.modules and hasattr(_lab_sys.modules[_lab_name], "Model"):
            _lab_patch(_lab_sys.modules[_lab_name], _lab_recorder)
    _lab_sys.meta_path.insert(0, _LabImportWatch(_lab_recorder))
    print("the lab's recorder is watching " + ", ".join(_lab_recorder.patched))
