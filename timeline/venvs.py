"""One venv per TensorFlow release, installed from its pin file (timeline/requirements/) and registered as a kernelspec.
A venv stamped with its pins and base interpreter is reused. Failures come back as text: a release that will not install is a result."""

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

REQUIREMENTS_DIR = Path(__file__).resolve().parent / "requirements"
DEFAULT_VENVS = Path(__file__).resolve().parent / ".venvs"
STAMP = ".timeline-stamp"
PIP_TIMEOUT = 3600.0
IMPORT_TIMEOUT = 600.0
OUTPUT_TAIL = 2000  # characters of a failing command's output kept for the report

Say = Callable[[str], None]

_REQUIREMENTS_FILE = re.compile(r"^tf-(2\.\d{1,2})\.txt$")
_TF_PIN = re.compile(r"^tensorflow(?:-cpu)?==(\d+\.\d+\.\d+\S*)", re.MULTILINE)


def known_releases(directory: Path = REQUIREMENTS_DIR) -> list[str]:
    """The releases that have a pin file, oldest first (adding a file adds a release)."""
    found = [m.group(1) for path in directory.glob("tf-*.txt") if (m := _REQUIREMENTS_FILE.match(path.name))]
    return sorted(found, key=release_key)


def pinned_tensorflow(requirements: str) -> str:
    """The exact TensorFlow version a pin file installs ("" when it has no == pin)."""
    match = _TF_PIN.search(requirements)
    return match.group(1) if match else ""


def pin_lines(requirements: str) -> list[str]:
    lines = (line.split("#", 1)[0].strip() for line in requirements.splitlines())
    return [line for line in lines if line]


def default_python() -> str:
    """pyenv's newest Python 3.10 (it runs every release from TF 2.9 to 2.21); "" when there is none."""
    root = os.environ.get("PYENV_ROOT") or os.path.expanduser("~/.pyenv")
    if shutil.which("pyenv"):
        try:
            done = subprocess.run(["pyenv", "root"], capture_output=True, text=True, timeout=30)
            root = done.stdout.strip() or root
        except (OSError, subprocess.SubprocessError):
            pass
    found = glob.glob(os.path.join(root, "versions", "3.10*", "bin", "python"))
    return max(found, key=lambda p: [int(x) if x.isdigit() else 0 for x in Path(p).parents[1].name.split(".")], default="")


@dataclass(frozen=True)
class ReleaseVenv:
    release: str
    venvs: Path
    requirements: Path

    @property
    def path(self) -> Path:
        return self.venvs / f"tf-{self.release}"

    @property
    def python(self) -> Path:
        return self.path / "bin" / "python"

    @property
    def kernel_name(self) -> str:
        return f"timeline-tf{self.release}"

    def pins(self) -> str:
        return self.requirements.read_text(encoding="utf-8") if self.requirements.exists() else ""

    def stamp_text(self, interpreter: str) -> str:
        digest = hashlib.sha256(self.pins().encode("utf-8")).hexdigest()
        return f"pins-sha256 {digest}\npython {os.path.realpath(interpreter)}\n"

    def is_current(self, interpreter: str) -> bool:
        stamp = self.path / STAMP
        return self.python.exists() and stamp.exists() and stamp.read_text(encoding="utf-8") == self.stamp_text(interpreter)


def release_venv(release: str, venvs: Path, requirements_dir: Path) -> ReleaseVenv:
    return ReleaseVenv(release=release, venvs=venvs, requirements=requirements_dir / f"tf-{check_release(release)}.txt")


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


def provision(venv: ReleaseVenv, interpreter: str, say: Say, skip_install: bool = False) -> str:
    """Make the release's venv match its pins (unless already stamped as such); "" or the error text."""
    if not venv.requirements.exists():
        return f"no pin file {venv.requirements.name}"
    if skip_install:
        return "" if venv.python.exists() else f"--skip-install, but {venv.path} has no venv"
    if venv.is_current(interpreter):
        say(f"tf-{venv.release}: venv matches its pins, reused")
        return ""
    if not interpreter or not os.path.exists(interpreter):
        return f"no base Python to create the venv with (looked for pyenv's 3.10, got {interpreter!r})"
    (venv.path / STAMP).unlink(missing_ok=True)
    if not venv.python.exists():
        say(f"tf-{venv.release}: creating venv with {interpreter}")
        if error := _run([interpreter, "-m", "venv", str(venv.path)], 300, "venv creation failed"):
            return error
    say(f"tf-{venv.release}: pip install -r {venv.requirements.name} (tensorflow-cpu {pinned_tensorflow(venv.pins())})")
    pip = [str(venv.python), "-m", "pip", "install", "--disable-pip-version-check", "-q"]
    for step in (pip + ["--upgrade", "pip<25"], pip + ["-r", str(venv.requirements)]):
        if error := _run(step, PIP_TIMEOUT, "install failed"):
            return error
    say(f"tf-{venv.release}: checking that TensorFlow imports")
    check = [str(venv.python), "-c", "import tensorflow, ipykernel.kernelapp; print(tensorflow.__version__)"]
    if error := _run(check, IMPORT_TIMEOUT, "TensorFlow does not import"):
        return error
    (venv.path / STAMP).write_text(venv.stamp_text(interpreter), encoding="utf-8")
    return ""


def register_kernel(venv: ReleaseVenv) -> str:
    """Install the venv's kernelspec where this interpreter's Jupyter (and so the lab) finds it; "" or the error.
    Called once `provision` succeeded, so the pin file exists."""
    command = [str(venv.python), "-m", "ipykernel", "install", "--prefix", sys.prefix, "--name", venv.kernel_name,
               "--display-name", f"Timeline · TensorFlow {pinned_tensorflow(venv.pins())}"]  # fmt: skip
    return _run(command, 120, "kernelspec registration failed")
