"""Shared by the export tests (core, app, browser): a plain `python3` kernelspec and re-running a download in it.

The kernelspec is installed the way a reader's Jupyter has it (`python -m ipykernel install --prefix`) into a
temporary folder put on JUPYTER_PATH, never through the lab's own kernel manager. No TensorFlow here.
"""

from __future__ import annotations

import os
import subprocess
import sys
from contextlib import contextmanager
from pathlib import Path

import nbformat
from jupyter_client.kernelspec import KernelSpecManager

from repro_core.results.ipynb_check import check_notebook
from repro_core.results.ipynb_export import checksum_lines

CELL_TIMEOUT = 300.0


def install_plain_python3(prefix: Path) -> Path:
    """`python -m ipykernel install --prefix <prefix>`; returns the folder to put on JUPYTER_PATH."""
    subprocess.run([sys.executable, "-m", "ipykernel", "install", "--prefix", str(prefix), "--name", "python3",
                    "--display-name", "Python 3 (plain)"], check=True, capture_output=True, timeout=120)  # fmt: skip
    return prefix / "share" / "jupyter"


@contextmanager
def plain_jupyter_path(data_dir: Path):
    """JUPYTER_PATH=data_dir for the block; checks that `python3` resolves to the kernelspec installed there."""
    before = os.environ.get("JUPYTER_PATH")
    os.environ["JUPYTER_PATH"] = str(data_dir)
    try:
        spec = KernelSpecManager().get_kernel_spec("python3")
        assert Path(spec.resource_dir).resolve().is_relative_to(data_dir.resolve()), spec.resource_dir
        assert spec.argv[0] == sys.executable and "ipykernel_launcher" in spec.argv
        yield
    finally:
        if before is None:
            os.environ.pop("JUPYTER_PATH", None)
        else:
            os.environ["JUPYTER_PATH"] = before


def assert_repeats(text: str, kernel_name: str | None = None, expected_lines: int | None = None) -> list[str]:
    """Re-run an exported notebook (its own kernelspec, python3, unless `kernel_name`); every checksum line must repeat."""
    book = nbformat.reads(text, as_version=4)
    assert book.metadata.kernelspec.name == "python3"
    check = check_notebook(book, kernel_name, timeout=CELL_TIMEOUT)
    assert check.recorded, "the export records no checksum lines"
    if expected_lines is not None:
        assert len(check.recorded) == expected_lines, check.recorded
    assert check.repeated == check.recorded, "\n".join(f"{a!r}\n{b!r}" for a, b in check.pairs if a != b)
    return check.recorded


def recorded_lines(text: str) -> list[str]:
    return checksum_lines(nbformat.reads(text, as_version=4))
