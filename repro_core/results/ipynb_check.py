"""`python -m repro_core check-notebook run.ipynb`: what a reader would do by hand, Run All and compare the checksum lines.
It runs in a plain Jupyter kernelspec through nbclient, never the lab's kernels, so it checks the export alone; it runs the notebook's code."""

from __future__ import annotations

import copy
import subprocess
from dataclasses import dataclass
from itertools import zip_longest
from pathlib import Path

import nbformat
from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel
from nbclient import NotebookClient

from repro_core.results.ipynb_export import CELL_META, KERNELSPEC, checksum_lines
from repro_core.validation import Refusal, named_file

MAX_NOTEBOOK_BYTES = 5_000_000


@dataclass(frozen=True)
class NotebookCheck:
    kernel_name: str
    recorded: list[str]
    repeated: list[str]

    @property
    def pairs(self) -> list[tuple[str | None, str | None]]:
        return list(zip_longest(self.recorded, self.repeated))

    @property
    def same(self) -> int:
        return sum(1 for a, b in self.pairs if a is not None and a == b)

    @property
    def ok(self) -> bool:
        return bool(self.recorded) and self.same == len(self.pairs)


def read_notebook(path: str | Path) -> nbformat.NotebookNode:
    """A notebook file, size-capped; Refusal with a one-line message when it is not one."""
    with named_file(path), open(path, "rb") as handle:
        data = handle.read(MAX_NOTEBOOK_BYTES + 1)
    if len(data) > MAX_NOTEBOOK_BYTES:
        raise Refusal(f"{path} is larger than {MAX_NOTEBOOK_BYTES:,} bytes")
    try:
        return nbformat.reads(data.decode("utf-8"), as_version=4)
    except Exception as exc:  # nbformat raises several kinds for a file that is not a notebook
        raise Refusal(f"{path} is not a readable notebook ({type(exc).__name__})") from None


def kernel_groups(nb: nbformat.NotebookNode) -> list[list[int]]:
    """Code cell indices per kernel start (cell metadata written by the export; one group when absent)."""
    groups: dict[int, list[int]] = {}
    for index, cell in enumerate(nb.cells):
        if cell.cell_type == "code":
            start = int(cell.metadata.get(CELL_META, {}).get("kernel_start", 1))
            groups.setdefault(start, []).append(index)
    return [groups[key] for key in sorted(groups)]


def _kernel_name(nb: nbformat.NotebookNode, requested: str | None) -> str:
    return requested or nb.metadata.get("kernelspec", {}).get("name") or KERNELSPEC


def check_notebook(nb: nbformat.NotebookNode, kernel_name: str | None = None, timeout: float = 600.0, cwd: str | None = None) -> NotebookCheck:
    """Execute a copy of `nb` again (outputs replaced), one fresh kernel per kernel start, and pair its checksum lines with `nb`'s."""
    name = _kernel_name(nb, kernel_name)
    fresh = copy.deepcopy(nb)
    for cell in fresh.cells:
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
    for group in kernel_groups(fresh):
        client = NotebookClient(fresh, kernel_name=name, timeout=int(timeout), resources={"metadata": {"path": cwd}} if cwd else {})
        with client.setup_kernel(stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL):  # TensorFlow's start-up logging
            for index in group:
                client.execute_cell(fresh.cells[index], index)
    return NotebookCheck(kernel_name=name, recorded=checksum_lines(nb), repeated=checksum_lines(fresh))


def report_lines(check: NotebookCheck) -> list[str]:
    out = [f"re-executed in kernelspec {check.kernel_name!r}"]
    for number, (recorded, repeated) in enumerate(check.pairs, start=1):
        out.append(f"line {number}: {'same' if recorded == repeated else 'DIFFERENT'}")
        out.append(f"  recorded  {recorded if recorded is not None else '(none)'}")
        out.append(f"  repeated  {repeated if repeated is not None else '(none)'}")
    total = f"{check.same} of {len(check.pairs)} checksum lines repeat exactly"
    return [*out, total if check.recorded else "the notebook records no checksum lines: nothing to compare"]


def installed_kernelspec(name: str) -> str:
    """`name` if this Jupyter has that kernelspec (the lab's own `lab-python` does not count), else a Refusal."""
    manager = KernelSpecManager()
    try:
        manager.get_kernel_spec(name)
    except NoSuchKernel:
        installed = ", ".join(sorted(manager.find_kernel_specs())) or "none"
        raise Refusal(f"kernelspec {name!r} is not installed here (installed: {installed}); choose one with --kernel NAME") from None
    return name


def main(path: str, kernel_name: str | None, timeout: float) -> int:
    """0 when every recorded checksum line repeats, 1 when any differs; Refusal when the file or the kernelspec is unusable."""
    nb = read_notebook(path)
    check = check_notebook(nb, installed_kernelspec(_kernel_name(nb, kernel_name)), timeout, str(Path(path).resolve().parent))
    print("\n".join(report_lines(check)))
    return 0 if check.ok else 1
