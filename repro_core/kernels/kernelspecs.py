"""What each installed kernelspec would run, read before any kernel starts: the TensorFlow release (or, on a kernel without
TensorFlow, Keras 3's backend: JAX or PyTorch) is the learner's most important choice, so the kernel picker names it. The
versions come from the interpreter's package metadata (a short subprocess per kernelspec, cached); TensorFlow, JAX and
PyTorch are never imported, here or in the probe."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from repro_core.kernels.environment import kernel_environment
from repro_core.kernels.kernel import LabKernelSpecManager
from repro_core.vocabulary import DEFAULT_KERNEL, SELECTABLE_ENGINES, backend_label, engine_label, engines_offered

PROBE_TIMEOUT = 15.0  # seconds for one interpreter to start and read its metadata
CACHE_SECONDS = 300.0
_VERSION = re.compile(r"^\d{1,4}(\.\d{1,6}){1,3}([.+-]?[A-Za-z0-9]{0,20}){0,3}$")

# Runs in the kernelspec's interpreter (any Python 3.8+; older ones report the missing module): metadata only.
PROBE_SCRIPT = """
import json, sys
try:
    from importlib import metadata
except ImportError:
    import importlib_metadata as metadata
def version(*names):
    for name in names:
        try:
            return metadata.version(name)
        except Exception:
            pass
    return ""
print(json.dumps({
    "python": "%d.%d.%d" % sys.version_info[:3],
    "tensorflow": version("tensorflow", "tensorflow-cpu", "tensorflow-intel", "tensorflow-macos", "tensorflow-gpu"),
    "keras": version("keras"),
    "tf_keras": version("tf_keras", "tf-keras"),
    "jax": version("jax"),
    "torch": version("torch"),
}))
"""


@dataclass(frozen=True)
class KernelSpecInfo:
    """One kernelspec as the picker shows it. `problem`: why its versions are unknown ("" when the probe worked)."""

    name: str
    display_name: str
    interpreter: str
    bundled: bool  # the interpreter running the lab
    python: str = ""
    tensorflow: str = ""
    keras: str = ""
    tf_keras: str = ""
    jax: str = ""
    torch: str = ""
    problem: str = ""

    @property
    def backend(self) -> str:
        """Keras 3's backend on this kernel: TensorFlow if it has it, else JAX, else PyTorch; TensorFlow when nothing is
        known (the lab's own kind of kernel, which says what it ran once its setup cell has)."""
        return "tensorflow" if self.tensorflow else "jax" if self.jax else "torch" if self.torch else "tensorflow"

    @property
    def backend_version(self) -> str:
        """The version of the backend's package ("" when unknown); a local build label such as "+cpu" is kept."""
        return {"tensorflow": self.tensorflow, "jax": self.jax, "torch": self.torch}[self.backend]

    @property
    def release(self) -> tuple[int, int] | None:
        """TensorFlow's (major, minor), None when unknown or absent."""
        match = re.match(r"^(\d+)\.(\d+)", self.tensorflow)
        return (int(match[1]), int(match[2])) if match else None

    @property
    def engines(self) -> tuple[str, ...]:
        """The engines this kernel can run: what its TensorFlow offers (tf_keras only when installed). Unknown
        versions offer the lab's selectable engines: the kernel says which one it ran once it has run the setup."""
        if self.backend != "tensorflow":
            return ("keras3",)  # JAX and PyTorch run only Keras 3 (Keras 2 and tf_keras are TensorFlow's)
        if self.release is None:
            return SELECTABLE_ENGINES
        offered = engines_offered(self.release)
        return tuple(e for e in offered if e != "tf_keras" or self.tf_keras) or offered

    @property
    def label(self) -> str:
        """Names TensorFlow and Python ("TensorFlow 2.9.3 · Python 3.8", "TensorFlow 2.21.0 · bundled"), on another backend
        Keras, the backend and Python ("Keras 3.15.1 · JAX 0.10.2 · Python 3.11"), or what is known."""
        where = "bundled" if self.bundled else f"Python {'.'.join(self.python.split('.')[:2])}" if self.python else self.display_name
        if self.backend != "tensorflow":
            keras = f"Keras {self.keras}" if self.keras else "No Keras"
            return f"{keras} · {backend_label(self.backend)} {self.backend_version.split('+')[0]} · {where}"
        if self.tensorflow:
            return f"TensorFlow {self.tensorflow} · {where}"
        if self.problem:
            return f"{self.display_name} · TensorFlow unknown ({self.problem})"
        return f"No TensorFlow · {where}"

    def engine_note(self) -> str:
        """Why the engine is not a choice for this kernel ('' when it is one)."""
        if len(self.engines) != 1:
            return ""
        only = engine_label(self.engines[0])
        if self.backend != "tensorflow":
            return f"{only} (the only engine on {backend_label(self.backend)}: Keras 2 and tf_keras need TensorFlow)"
        if self.engines[0] == "keras2":
            return f"{only} (the only engine TensorFlow {self.release[0]}.{self.release[1]} has)"
        return f"{only} (the only engine this kernel has: TensorFlow {self.tensorflow} without tf_keras)"


def interpreter_of(argv: list[str]) -> str:
    """The program a kernelspec starts, as jupyter_client resolves it ('python' and 'python3' mean the lab's own)."""
    if not argv:
        return ""
    program = argv[0]
    if program in {"python", f"python{sys.version_info[0]}", "python%d.%d" % sys.version_info[:2]}:
        return sys.executable
    return program if os.path.isabs(program) else shutil.which(program) or program


def _read_versions(interpreter: str) -> tuple[dict[str, str], str]:
    """The probe's answer ({} and a short reason when it failed)."""
    if not interpreter or not os.path.isfile(interpreter):
        return {}, "interpreter not found"
    try:
        done = subprocess.run([interpreter, "-c", PROBE_SCRIPT], capture_output=True, text=True, timeout=PROBE_TIMEOUT,
                              env=kernel_environment(), stdin=subprocess.DEVNULL)  # fmt: skip
    except subprocess.TimeoutExpired:
        return {}, f"no answer within {PROBE_TIMEOUT:.0f} s"
    except OSError as exc:
        return {}, f"cannot run it: {exc.strerror or type(exc).__name__}"
    try:
        found = json.loads(done.stdout.strip().splitlines()[-1]) if done.returncode == 0 and done.stdout.strip() else None
    except ValueError:
        found = None
    if not isinstance(found, dict):
        return {}, "not a Python the lab can read"
    versions = {key: str(found.get(key) or "") for key in ("python", "tensorflow", "keras", "tf_keras", "jax", "torch")}
    return {key: value if _VERSION.match(value) else "" for key, value in versions.items()}, ""


_cache: dict[tuple[str, str, str], tuple[float, KernelSpecInfo]] = {}
_lock = threading.Lock()


def describe(name: str, display_name: str, argv: list[str]) -> KernelSpecInfo:
    """One kernelspec's versions, probed at most every CACHE_SECONDS."""
    interpreter = interpreter_of(argv)
    key = (name, display_name, interpreter)
    with _lock:
        cached = _cache.get(key)
    if cached is not None and time.monotonic() - cached[0] < CACHE_SECONDS:
        return cached[1]
    bundled = os.path.abspath(interpreter) == os.path.abspath(sys.executable) if interpreter else False
    python_kernel = bundled or any("ipykernel" in arg for arg in argv) or os.path.basename(interpreter).startswith("python")
    versions, problem = _read_versions(interpreter) if python_kernel else ({}, "not a Python kernel")
    info = KernelSpecInfo(name, display_name, interpreter, bundled, problem=problem, **versions)
    with _lock:
        _cache[key] = (time.monotonic(), info)
    return info


def kernelspecs() -> dict[str, KernelSpecInfo]:
    """Every kernelspec the lab can start, the lab's own first; labels made unique with the kernelspec's name."""
    manager = LabKernelSpecManager()
    own = manager.get_kernel_spec(DEFAULT_KERNEL)
    specs = {DEFAULT_KERNEL: (own.display_name, list(own.argv))}
    for name, found in sorted(manager.get_all_specs().items()):
        spec = found.get("spec", {})
        specs.setdefault(name, (str(spec.get("display_name", name)), [str(arg) for arg in spec.get("argv", [])]))
    with ThreadPoolExecutor(max_workers=4, thread_name_prefix="kernelspec-probe") as probes:
        found = {name: probes.submit(describe, name, display, argv) for name, (display, argv) in specs.items()}
    return {name: future.result() for name, future in found.items()}


def kernelspec_info(name: str) -> KernelSpecInfo | None:
    """One kernelspec's versions (None when no such kernelspec), without probing the others: what a command needs."""
    manager = LabKernelSpecManager()
    try:
        spec = manager.get_kernel_spec(name)
    except Exception:  # jupyter_client's NoSuchKernel, or an unreadable kernel.json
        return None
    return describe(name, spec.display_name, list(spec.argv))


def kernel_labels(infos: dict[str, KernelSpecInfo]) -> dict[str, str]:
    """{kernelspec: picker label}; two kernelspecs with the same label are told apart by name."""
    labels = {name: info.label for name, info in infos.items()}
    seen = list(labels.values())
    return {name: label if seen.count(label) == 1 or name == DEFAULT_KERNEL else f"{label} · kernelspec {name}" for name, label in labels.items()}


def backend_for(info: KernelSpecInfo | None) -> str:
    """The Keras backend a run on this kernel uses ("tensorflow" for an unknown kernel, as for the lab's own)."""
    return info.backend if info is not None else "tensorflow"


def engine_for(info: KernelSpecInfo | None, wanted: str) -> str:
    """The engine a run on this kernel uses: `wanted` if the kernel offers it, else the kernel's first."""
    offered = info.engines if info is not None else SELECTABLE_ENGINES
    return wanted if wanted in offered else offered[0]


def old_tensorflow_kernel(infos: dict[str, KernelSpecInfo], before: tuple[int, int] = (2, 10)) -> KernelSpecInfo | None:
    """The first kernelspec with a TensorFlow older than `before` (2.10: Keras started seeding initializers from Python's
    `random`), the one where the article's fix was written; None where there is none."""
    return next((info for info in infos.values() if info.release is not None and info.release < before), None)

