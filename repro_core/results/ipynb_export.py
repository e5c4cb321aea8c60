"""The exact cells that ran, with their outputs, as a notebook that stands alone in an ordinary Jupyter.
Its opening cell says what to install (from the kernel's own report), the lab's settings, and how to check the checksums."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from repro_core.kernels.kernel import CellResult
from repro_core.records import KernelVersions
from repro_core.vocabulary import backend_release

KERNELSPEC = "python3"  # every Jupyter has it; the lab's own names (lab-python, repro-tf29) exist only here
CHECKSUM_LINE = re.compile(r"^summary of trainable variables .*sha256 [0-9a-f]+\s*$", re.MULTILINE)
CELL_META = "repro_lab"  # code cell metadata: {"kernel_start": k}, so a checker can restart where the lab did

# Python versions with TensorFlow wheels, per TensorFlow minor release (tensorflow.org "Tested build
# configurations", Linux CPU). Newer releases are not listed: their exports name the kernel's Python only.
TF_PYTHONS: dict[str, tuple[str, str]] = {
    "2.2": ("3.5", "3.8"), "2.3": ("3.5", "3.8"), "2.4": ("3.6", "3.8"), "2.5": ("3.6", "3.9"), "2.6": ("3.6", "3.9"),
    "2.7": ("3.7", "3.9"), "2.8": ("3.7", "3.10"), "2.9": ("3.7", "3.10"), "2.10": ("3.7", "3.10"), "2.11": ("3.7", "3.10"),
    "2.12": ("3.8", "3.11"), "2.13": ("3.8", "3.11"), "2.14": ("3.9", "3.11"), "2.15": ("3.9", "3.11"), "2.16": ("3.9", "3.12"),
    "2.17": ("3.9", "3.12"), "2.18": ("3.9", "3.12"),
}  # fmt: skip


@dataclass(frozen=True)
class NotebookInfo:
    title: str
    versions: KernelVersions
    settings: Mapping[str, object]
    file_name: str = "run.ipynb"
    created: str = ""  # ISO 8601 in UTC; empty: now
    lab_commit: str = ""


def release_of_version(version: str) -> str:
    """ "2.21.0" -> "2.21" ("" if unreadable)."""
    match = re.match(r"^(\d+)\.(\d+)", version or "")
    return f"{match.group(1)}.{match.group(2)}" if match else ""


def tensorflow_package(versions: KernelVersions) -> str:
    """`tensorflow-cpu` for a Linux kernel (the CPU-only wheel the lab installs there), else `tensorflow`."""
    return "tensorflow-cpu" if versions.platform.lower().startswith("linux") else "tensorflow"


# What pip installs a backend as (JAX's CPU build: its `cpu` extra brings jaxlib).
_BACKEND_PACKAGES = {"jax": "jax[cpu]", "torch": "torch"}


def pip_line(versions: KernelVersions) -> str:
    """The kernel's packages as it reported them, pinned. Keras 2 (TensorFlow < 2.16) comes with TensorFlow: no pin of its own.
    On JAX or PyTorch: Keras and that backend, no TensorFlow."""
    if versions.backend in _BACKEND_PACKAGES:
        packages = [f"{_BACKEND_PACKAGES[versions.backend]}=={versions.backend_release}"]
    else:
        packages = [f"{tensorflow_package(versions)}=={versions.tensorflow}"]
    keras_package = {"keras3": "keras", "tf_keras": "tf-keras"}.get(versions.engine)
    if keras_package:
        packages.append(f"{keras_package}=={versions.keras}")
    if versions.numpy:
        packages.append(f"numpy=={versions.numpy}")
    return "pip install " + " ".join(f'"{package}"' for package in packages)


def python_requirement(versions: KernelVersions) -> str:
    """Which Python to install into: the kernel's, and the range the kernel's TensorFlow has wheels for, when known."""
    ran = f"Python {release_of_version(versions.python) or versions.python} (the kernel ran Python {versions.python})"
    tf = release_of_version(versions.tensorflow)
    if tf not in TF_PYTHONS:
        return ran
    low, high = TF_PYTHONS[tf]
    return f"{ran}; TensorFlow {tf} has wheels for Python {low} to {high} only, so this needs Python <= {high}"


def engine_text(versions: KernelVersions) -> str:
    if versions.engine == "keras2":
        return f"Keras {versions.keras}, which comes with TensorFlow {versions.tensorflow}"
    if versions.engine == "tf_keras":
        return f"tf_keras {versions.keras} (the setup cell sets TF_USE_LEGACY_KERAS=1 before importing TensorFlow)"
    if versions.backend != "tensorflow":
        return f"Keras {versions.keras} (the setup cell sets KERAS_BACKEND={versions.backend} before importing Keras)"
    return f"Keras {versions.keras}"


def _value(value: object) -> str:
    """A settings value for a markdown table cell: JSON for structures, inside backticks, pipes escaped."""
    text = value if isinstance(value, str) else json.dumps(value, sort_keys=True)
    return "`" + text.replace("`", "'").replace("|", "\\|").replace("\n", " ") + "`"


def check_commands(file_name: str) -> str:
    name = file_name if re.fullmatch(r"[A-Za-z0-9._-]+", file_name) else "run.ipynb"
    grep = "grep -o 'summary of trainable variables[^\"\\\\]*'"
    return (
        "In a checkout of the lab (it re-executes this file in a plain `python3` kernel and prints every recorded\n"
        "checksum line next to the repeated one; exit status 0 when all repeat), with the path to this file:\n\n"
        f"    python -m repro_core check-notebook {name}\n\n"
        "With Jupyter alone (`pip install nbconvert`); `diff` prints nothing when every line repeats:\n\n"
        f"    jupyter nbconvert --to notebook --execute --output rerun.ipynb {name}\n"
        f"    diff <({grep} {name}) <({grep} rerun.ipynb) && echo 'every checksum line repeats'\n"
    )


def opening_markdown(info: NotebookInfo, kernel_starts: int) -> str:
    v = info.versions
    created = info.created or datetime.now(timezone.utc).isoformat(timespec="seconds")
    commit = f" (lab commit `{info.lab_commit[:12]}`)" if re.fullmatch(r"[0-9a-f]{40}", info.lab_commit or "") else ""
    rows = "\n".join(f"| {name} | {_value(value)} |" for name, value in info.settings.items())
    other_os = restarts = ""
    if v.backend == "tensorflow" and tensorflow_package(v) == "tensorflow-cpu":
        other_os = f"`tensorflow-cpu` is the Linux CPU-only wheel; on macOS or Windows install `tensorflow=={v.tensorflow}` instead."
    if kernel_starts > 1:
        restarts = (f"\n\nThe lab started a new kernel {kernel_starts - 1} time(s) during this run: a markdown cell marks each place. "
                    "Restart the kernel there (Kernel → Restart) before running on; `check-notebook` does so by itself.")  # fmt: skip
    return f"""# {info.title}

Exported by the Keras Reproducibility Lab on {created}{commit}. The code cells below are exactly the cells the lab
ran, in order, with the output its kernel printed. Everything that sets the numbers is in them: the setup cell selects
the Keras engine itself, and says which hash seed the kernel was started with.{restarts}

## The kernel's packages

The kernel reported Python {v.python}, {backend_release(v.backend, v.backend_release)}, {engine_text(v)}, NumPy {v.numpy or "(not reported)"},
on {v.platform or "an unreported platform"} ({v.devices}). Install the same into {python_requirement(v)}:

    {pip_line(v)}

{other_os} To run it in Jupyter that environment also needs `ipykernel` (and `nbconvert` for the shell check below).

## The machine it ran on

Pinned packages are not enough for the same trained weights: machine traits pick the kernels that compute them. The
kernel reported: {v.machine.summary()}. The setup cell sets the switches the lab was asked for (oneDNN, threads, an ISA
cap, op determinism); anything it does not set, your machine decides (for example, TensorFlow turns oneDNN's custom
operations on by default only on CPUs with AVX512_VNNI, AVX512_BF16, AVX_VNNI or AMX).

## The lab's settings

| setting | value |
|---|---|
{rows}

## Check it

Run every cell in a fresh kernel: each "summary of trainable variables … sha256 …" line should repeat exactly.

{check_commands(info.file_name)}"""


def kernel_start_groups(cells: Sequence[CellResult]) -> list[list[CellResult]]:
    groups: dict[int, list[CellResult]] = {}
    for cell in cells:
        groups.setdefault(cell.kernel_start, []).append(cell)
    return list(groups.values())


def notebook_from_cells(cells: Sequence[CellResult], info: NotebookInfo) -> nbformat.NotebookNode:
    starts = kernel_start_groups(cells)
    nb = new_notebook()
    display_name = f"Python 3 (Python {info.versions.python}, {backend_release(info.versions.backend, info.versions.backend_release)})"
    nb.metadata["kernelspec"] = {"name": KERNELSPEC, "display_name": display_name, "language": "python"}
    nb.metadata["language_info"] = {"name": "python", "version": info.versions.python}
    nb.metadata[CELL_META] = {"kernelspec_in_lab": info.versions.kernelspec, "engine": info.versions.engine}
    nb.cells.append(new_markdown_cell(opening_markdown(info, len(starts))))
    count = 0
    for number, start in enumerate(starts, start=1):
        if number > 1:
            nb.cells.append(new_markdown_cell(f"**Restart the kernel here.** The lab ran the cells below in a newly started kernel "
                                                f"(kernel start {number} of {len(starts)})."))  # fmt: skip
        for result in start:
            count += 1
            cell = new_code_cell(result.code.rstrip("\n"), execution_count=count)
            cell.metadata[CELL_META] = {"kernel_start": number}
            if result.stdout:
                cell.outputs.append(new_output("stream", name="stdout", text=result.stdout))
            nb.cells.append(cell)
    nbformat.validate(nb)
    return nb


def checksum_lines(nb: nbformat.NotebookNode) -> list[str]:
    outputs = [output for cell in nb.cells if cell.cell_type == "code" for output in cell.get("outputs", [])]
    stdout = [output.get("text", "") for output in outputs if output.get("output_type") == "stream" and output.get("name") == "stdout"]
    return [line.rstrip() for text in stdout for line in CHECKSUM_LINE.findall(text)]
