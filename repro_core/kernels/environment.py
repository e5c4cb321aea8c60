"""What a kernel is started as, and its environment: an allow-list, never a copy, since hosts export secrets as
variables and a kernel runs its visitor's cells. It sees paths, locale, temp and Jupyter dirs, and the lab's switches."""

from __future__ import annotations

import os
from dataclasses import dataclass

from repro_core.machine import IMPORT_TIME_VARIABLES, MachineSettings
from repro_core.validation import choice, whole_number
from repro_core.vocabulary import DEFAULT_KERNEL, ENGINES, HASH_SEED_MAX

PASSED_THROUGH = (
    "PATH", "HOME", "LANG", "LANGUAGE", "TMPDIR", "TEMP", "TMP",
    "JUPYTER_PATH", "JUPYTER_CONFIG_DIR", "JUPYTER_DATA_DIR", "JUPYTER_RUNTIME_DIR", "IPYTHONDIR",
)  # fmt: skip
PASSED_PREFIXES = ("LC_",)
# Every variable lab_variables may set: a gateway passes a client's variables to its kernels only when they are listed
# (Enterprise Gateway's EG_CLIENT_ENVS), so a deployment lists exactly these.
LAB_VARIABLE_NAMES = ("TF_CPP_MIN_LOG_LEVEL", "PYDEVD_DISABLE_FILE_VALIDATION", "JUPYTER_PLATFORM_DIRS", "TF_USE_LEGACY_KERAS", "PYTHONHASHSEED",
                      *IMPORT_TIME_VARIABLES)  # fmt: skip


@dataclass(frozen=True)
class KernelKind:
    """What a kernel is started as; kinds are never swapped. `engine`, `hash_seed` and the import-time machine switches
    (`onednn`, `isa`) belong to the kernel, not a cell: TF_USE_LEGACY_KERAS and TF_ENABLE_ONEDNN_OPTS are read when TensorFlow
    is imported (a forked kernel's template imported it already), ONEDNN_MAX_CPU_ISA before oneDNN's first kernel,
    PYTHONHASHSEED when the interpreter starts. The setup cell sets the same switches, so an exported notebook repeats;
    the thread count is the cell's alone (it is set before the first op, in any kernel)."""

    kernelspec: str = DEFAULT_KERNEL
    engine: str = "keras3"
    hash_seed: int | None = None
    onednn: str = "default"
    isa: str = "default"

    def __post_init__(self) -> None:
        choice("engine", self.engine, ENGINES)
        if self.hash_seed is not None:
            whole_number("hash seed", self.hash_seed, 0, HASH_SEED_MAX)
        MachineSettings(onednn=self.onednn, isa=self.isa)  # validates both

    @classmethod
    def of(cls, kernelspec: str, engine: str, machine: MachineSettings | None = None, hash_seed: int | None = None) -> KernelKind:
        """The kind a run with these machine settings needs (only the import-time switches make kernels differ)."""
        machine = machine or MachineSettings()
        return cls(kernelspec, engine, hash_seed, machine.onednn, machine.isa)


def lab_variables(engine: str = "keras3", hash_seed: int | None = None, onednn: str = "default", isa: str = "default") -> dict[str, str]:
    """The lab's own variables: the Keras engine, the hash seed (if any), oneDNN's switch and ISA cap (if set), quiet logging."""
    env = {"TF_CPP_MIN_LOG_LEVEL": "2", "PYDEVD_DISABLE_FILE_VALIDATION": "1", "JUPYTER_PLATFORM_DIRS": "1"}
    if engine == "tf_keras":
        env["TF_USE_LEGACY_KERAS"] = "1"
    if hash_seed is not None:
        env["PYTHONHASHSEED"] = str(int(hash_seed))
    return env | MachineSettings(onednn=onednn, isa=isa).variables()


def kernel_environment(engine: str = "keras3", hash_seed: int | None = None, onednn: str = "default", isa: str = "default") -> dict[str, str]:
    """The whole environment a kernel starts with: the allow-listed server variables plus the lab's own."""
    env = {name: value for name, value in os.environ.items() if name in PASSED_THROUGH or name.startswith(PASSED_PREFIXES)}
    return env | lab_variables(engine, hash_seed, onednn, isa)


def variables_of(kind: KernelKind) -> dict[str, str]:
    """The lab's variables for a kind (what a gateway is sent)."""
    return lab_variables(kind.engine, kind.hash_seed, kind.onednn, kind.isa)


def environment_of(kind: KernelKind) -> dict[str, str]:
    return kernel_environment(kind.engine, kind.hash_seed, kind.onednn, kind.isa)
