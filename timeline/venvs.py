"""One venv per kernel the timeline measures, installed from its pin file (timeline/requirements/) and registered as a
kernelspec: a TensorFlow release (`tf-2.X.txt`, Python 3.10) or Keras 3 on another backend (`keras-jax.txt`,
`keras-torch.txt`, Python 3.11). A venv stamped with its pins and base interpreter is reused. Failures come back as
text: a release that will not install is a result."""

from __future__ import annotations

import glob
import hashlib
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from repro_core.results.timeline import check_release, release_key
from repro_core.validation import Refusal
from repro_core.vocabulary import BACKENDS, backend_label

REQUIREMENTS_DIR = Path(__file__).resolve().parent / "requirements"
DEFAULT_VENVS = Path(__file__).resolve().parent / ".venvs"
STAMP = ".timeline-stamp"
PIP_TIMEOUT = 3600.0
IMPORT_TIMEOUT = 600.0
OUTPUT_TAIL = 2000  # characters of a failing command's output kept for the report
RELEASE_PYTHON = "3.10"  # runs every release from TF 2.9 to 2.21
BACKEND_PYTHON = "3.11"  # Keras 3.15.1 requires Python >= 3.11

Say = Callable[[str], None]

_REQUIREMENTS_FILE = re.compile(r"^tf-(2\.\d{1,2})\.txt$")
_BACKEND_FILE = re.compile(r"^keras-([a-z]{1,16})\.txt$")
_TF_PIN = re.compile(r"^tensorflow(?:-cpu)?==(\d+\.\d+\.\d+\S*)", re.MULTILINE)


# The backends with a venv of their own: each pins its package under KERAS_BACKEND's name (tensorflow, jax, torch).
BACKEND_PACKAGES = tuple(BACKENDS)


def known_releases(directory: Path = REQUIREMENTS_DIR) -> list[str]:
    """The releases that have a pin file, oldest first (adding a file adds a release)."""
    found = [m.group(1) for path in directory.glob("tf-*.txt") if (m := _REQUIREMENTS_FILE.match(path.name))]
    return sorted(found, key=release_key)


def known_backends(directory: Path = REQUIREMENTS_DIR) -> list[str]:
    """The Keras backends that have a pin file `keras-<backend>.txt`, in BACKEND_PACKAGES' order."""
    found = {m.group(1) for path in directory.glob("keras-*.txt") if (m := _BACKEND_FILE.match(path.name))}
    return [name for name in BACKEND_PACKAGES if name in found]


def pinned_version(requirements: str, package: str) -> str:
    """The exact version a pin file installs of `package` (extras allowed: jax[cpu]==0.10.2); "" when it has no == pin."""
    match = re.search(rf"^{re.escape(package)}(?:\[[^\]]*\])?==(\d+\.\d+\.\d+\S*)", requirements, re.MULTILINE)
    return match.group(1) if match else ""


def pinned_tensorflow(requirements: str) -> str:
    """The exact TensorFlow version a pin file installs ("" when it has no == pin)."""
    match = _TF_PIN.search(requirements)
    return match.group(1) if match else ""


def pin_lines(requirements: str) -> list[str]:
    lines = (line.split("#", 1)[0].strip() for line in requirements.splitlines())
    return [line for line in lines if line]


def default_python(series: str = RELEASE_PYTHON) -> str:
    """pyenv's newest Python of `series` ("3.10": every release from TF 2.9 to 2.21); "" when there is none."""
    root = os.environ.get("PYENV_ROOT") or os.path.expanduser("~/.pyenv")
    if shutil.which("pyenv"):
        try:
            done = subprocess.run(["pyenv", "root"], capture_output=True, text=True, timeout=30)
            root = done.stdout.strip() or root
        except (OSError, subprocess.SubprocessError):
            pass
    found = [p for p in glob.glob(os.path.join(root, "versions", f"{series}*", "bin", "python"))
             if Path(p).parents[1].name.split(".")[:2] == series.split(".")]  # fmt: skip
    return max(found, key=lambda p: [int(x) if x.isdigit() else 0 for x in Path(p).parents[1].name.split(".")], default="")


class KernelVenv:
    """What every timeline venv shares: a folder under `venvs`, a pin file, a stamp, an import check and a kernelspec.
    Subclasses say what the venv is for (`name`, `kernel_name`, `display_name`, `check`)."""

    venvs: Path
    requirements: Path

    @property
    def name(self) -> str:
        """Its folder under `venvs`, and how progress lines name it ("tf-2.9", "keras-jax")."""
        raise NotImplementedError

    @property
    def kernel_name(self) -> str:
        raise NotImplementedError

    @property
    def display_name(self) -> str:
        raise NotImplementedError

    @property
    def check(self) -> tuple[str, str]:
        """(what must import, in words; the code that imports it and prints its version)."""
        raise NotImplementedError

    @property
    def installs(self) -> str:
        """The pin that names the venv, for the "pip install" progress line."""
        raise NotImplementedError

    @property
    def path(self) -> Path:
        return self.venvs / self.name

    @property
    def python(self) -> Path:
        return self.path / "bin" / "python"

    def pins(self) -> str:
        return self.requirements.read_text(encoding="utf-8") if self.requirements.exists() else ""

    def stamp_text(self, interpreter: str) -> str:
        digest = hashlib.sha256(self.pins().encode("utf-8")).hexdigest()
        return f"pins-sha256 {digest}\npython {os.path.realpath(interpreter)}\n"

    def is_current(self, interpreter: str) -> bool:
        stamp = self.path / STAMP
        return self.python.exists() and stamp.exists() and stamp.read_text(encoding="utf-8") == self.stamp_text(interpreter)


@dataclass(frozen=True)
class ReleaseVenv(KernelVenv):
    """One TensorFlow release on Python 3.10: kernelspec timeline-tf2.X."""

    release: str
    venvs: Path
    requirements: Path

    @property
    def name(self) -> str:
        return f"tf-{self.release}"

    @property
    def kernel_name(self) -> str:
        return f"timeline-tf{self.release}"

    @property
    def display_name(self) -> str:
        return f"Timeline · TensorFlow {pinned_tensorflow(self.pins())}"

    @property
    def installs(self) -> str:
        return f"tensorflow-cpu {pinned_tensorflow(self.pins())}"

    @property
    def check(self) -> tuple[str, str]:
        return "TensorFlow", "import tensorflow, ipykernel.kernelapp; print(tensorflow.__version__)"


# Run in a backend venv: Keras must import on that backend, and in a JAX or PyTorch venv TensorFlow must not be importable
# at all (keras.utils.set_random_seed would import it, and seed it, on any backend). The backend is chosen the way the
# lab's cells choose it: in the code, before Keras is imported.
_BACKEND_CHECK = """
import importlib.util, os
os.environ["KERAS_BACKEND"] = "{package}"
import keras, {package}, ipykernel.kernelapp
assert keras.backend.backend() == "{package}", keras.backend.backend()
if "{package}" != "tensorflow":
    assert importlib.util.find_spec("tensorflow") is None, "tensorflow is importable in this venv; it must not be"
print(keras.__version__, {package}.__version__)
"""


@dataclass(frozen=True)
class BackendVenv(KernelVenv):
    """Keras 3 on one backend on Python 3.11 (JAX and PyTorch without TensorFlow): kernelspec keras-<backend>."""

    backend: str
    venvs: Path
    requirements: Path

    @property
    def name(self) -> str:
        return f"keras-{self.backend}"

    @property
    def kernel_name(self) -> str:
        return f"keras-{self.backend}"

    @property
    def label(self) -> str:
        return backend_label(self.backend)

    @property
    def keras(self) -> str:
        return pinned_version(self.pins(), "keras")

    @property
    def backend_version(self) -> str:
        return pinned_version(self.pins(), self.backend)

    @property
    def display_name(self) -> str:
        return f"Keras {self.keras} · {self.label} {self.backend_version}"

    @property
    def installs(self) -> str:
        return f"keras {self.keras}, {self.backend} {self.backend_version}"

    @property
    def check(self) -> tuple[str, str]:
        return f"Keras on {self.label}", _BACKEND_CHECK.format(package=self.backend)


def release_venv(release: str, venvs: Path, requirements_dir: Path) -> ReleaseVenv:
    return ReleaseVenv(release=release, venvs=venvs, requirements=requirements_dir / f"tf-{check_release(release)}.txt")


def backend_venv(backend: str, venvs: Path, requirements_dir: Path) -> BackendVenv:
    if backend not in BACKEND_PACKAGES:
        raise Refusal(f"unknown backend {backend!r}; choose from {', '.join(BACKEND_PACKAGES)}")
    return BackendVenv(backend=backend, venvs=venvs, requirements=requirements_dir / f"keras-{backend}.txt")


def _run(command: list[str], timeout: float, failure: str) -> str:
    """Run a provisioning command; "" on success, else `failure`, the command and the tail of its output."""
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout)
        if done.returncode == 0:
            return ""
        output = (done.stdout + done.stderr).strip()
        lines = [line for line in output.splitlines() if not line.startswith("WARNING: Location ")]  # the local mirror's noise
        detail = f"exit status {done.returncode} from {' '.join(command[:5])} ...: " + "\n".join(lines)[-OUTPUT_TAIL:]
    except subprocess.TimeoutExpired:
        detail = f"{' '.join(command[:4])} ... timed out after {timeout:.0f} s"
    except OSError as exc:
        detail = f"{command[0]}: {exc}"
    return f"{failure}: {detail}"


def provision(venv: KernelVenv, interpreter: str, say: Say, skip_install: bool = False) -> str:
    """Make the venv match its pins (unless already stamped as such); "" or the error text."""
    if not venv.requirements.exists():
        return f"no pin file {venv.requirements.name}"
    if skip_install:
        return "" if venv.python.exists() else f"--skip-install, but {venv.path} has no venv"
    if venv.is_current(interpreter):
        say(f"{venv.name}: venv matches its pins, reused")
        return ""
    if not interpreter or not os.path.exists(interpreter):
        return f"no base Python to create the venv with (got {interpreter!r})"
    (venv.path / STAMP).unlink(missing_ok=True)
    if not venv.python.exists():
        say(f"{venv.name}: creating venv with {interpreter}")
        if error := _run([interpreter, "-m", "venv", str(venv.path)], 300, "venv creation failed"):
            return error
    say(f"{venv.name}: pip install -r {venv.requirements.name} ({venv.installs})")
    pip = [str(venv.python), "-m", "pip", "install", "--disable-pip-version-check", "-q"]
    for step in (pip + ["--upgrade", "pip<25"], pip + ["--no-compile", "-r", str(venv.requirements)]):
        if error := _run(step, PIP_TIMEOUT, "install failed"):
            return error
    what, code = venv.check
    say(f"{venv.name}: checking that {what} imports")
    if error := _run([str(venv.python), "-c", code], IMPORT_TIMEOUT, f"{what} does not import"):
        return error
    (venv.path / STAMP).write_text(venv.stamp_text(interpreter), encoding="utf-8")
    return ""


def register_kernel(venv: KernelVenv) -> str:
    """Install the venv's kernelspec where this interpreter's Jupyter (and so the lab) finds it; "" or the error.
    Called once `provision` succeeded, so the pin file exists."""
    command = [str(venv.python), "-m", "ipykernel", "install", "--prefix", sys.prefix, "--name", venv.kernel_name,
               "--display-name", venv.display_name]  # fmt: skip
    return _run(command, 120, "kernelspec registration failed")
