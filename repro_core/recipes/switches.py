"""The switches the doctor may add to a script, as data: each one is the lines it inserts, per Keras engine or backend.
The doctor tries the CANDIDATES in order (narrowest first) and keeps the first set that makes two runs repeat. A machine
switch (oneDNN, threads) is one more DoctorSwitch entry and one more candidate; `placement` says where its lines must go."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from repro_core.validation import whole_number
from repro_core.vocabulary import GENERATORS


@dataclass(frozen=True)
class DoctorSwitch:
    """`sources`: lines with a `{seed}` field, looked up by the kernel's engine, then its backend, then "*"; "" means the
    switch does not exist there (JAX has no global seed). `placement`: "after-imports" (before the model is built and the
    data are shuffled) or "first-line" (settings read when a library is imported)."""

    name: str
    label: str
    sources: Mapping[str, str]
    placement: str = "after-imports"

    def source(self, engine: str, backend: str, seed: int) -> str | None:
        for key in (engine, backend, "*"):
            if key in self.sources:
                text = self.sources[key]
                return text.format(seed=whole_number("seed", seed, 0, 2**32 - 1)) if text else None
        return None


SWITCHES = {s.name: s for s in (
    DoctorSwitch("python", GENERATORS["python"].description, {"*": "import random\nrandom.seed({seed})"}),
    DoctorSwitch("numpy", GENERATORS["numpy"].description, {"*": "import numpy as np\nnp.random.seed({seed})"}),
    DoctorSwitch("backend", GENERATORS["backend"].description, {
        "tensorflow": "import tensorflow as tf\ntf.random.set_seed({seed})", "torch": "import torch\ntorch.manual_seed({seed})", "jax": ""}),
    DoctorSwitch("keras", "keras.utils.set_random_seed: Python, NumPy and the backend together", {
        "tf_keras": "import tf_keras\ntf_keras.utils.set_random_seed({seed})",
        "keras2": "from tensorflow import keras\nkeras.utils.set_random_seed({seed})",
        "*": "import keras\nkeras.utils.set_random_seed({seed})"}),
    DoctorSwitch("op-determinism", "op determinism: deterministic kernels (it costs speed)", {
        "tensorflow": "import tensorflow as tf\ntf.config.experimental.enable_op_determinism()",
        "torch": "import torch\ntorch.use_deterministic_algorithms(True)", "jax": ""}),
)}  # fmt: skip

# Narrowest first: one generator at a time, then Keras's one line for all of them, then that plus op determinism.
# The last candidate is "everything the lab can switch": when it does not make the runs repeat, no other set will.
CANDIDATES: tuple[tuple[str, ...], ...] = (("python",), ("numpy",), ("backend",), ("keras",), ("keras", "op-determinism"))


def switch_lines(names: Sequence[str], engine: str, backend: str, seed: int) -> dict[str, str] | None:
    """{placement: the lines} for a set of switches on this kernel; None when one of them does not exist there."""
    found: dict[str, str] = {}
    for name in names:
        switch = SWITCHES[name]
        text = switch.source(engine, backend, seed)
        if text is None:
            return None
        found[switch.placement] = found.get(switch.placement, "") + text + "\n"
    return found


def describe(names: Sequence[str]) -> str:
    return " + ".join(SWITCHES[name].label.split(":")[0] for name in names)
