"""The exact cells that ran, with the outputs the kernel produced, as a Jupyter notebook."""

from __future__ import annotations

from collections.abc import Sequence

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from repro_core.kernels.kernel import CellResult


def notebook_from_cells(
    results: Sequence[CellResult], kernel_name: str, display_name: str, title: str = "Keras Reproducibility Lab run"
) -> nbformat.NotebookNode:
    """One code cell per executed cell, in order, each with its stdout as a stream output."""
    book = new_notebook()
    book.metadata["kernelspec"] = {"name": kernel_name, "display_name": display_name, "language": "python"}
    book.metadata["language_info"] = {"name": "python"}
    book.cells.append(
        new_markdown_cell(f"# {title}\n\nThe cells below are exactly those the lab executed, with the output the kernel printed. "
                          "Run all cells in a fresh kernel to check that the checksums repeat.")  # fmt: skip
    )
    for count, result in enumerate(results, start=1):
        cell = new_code_cell(result.code.rstrip("\n"), execution_count=count)
        if result.stdout:
            cell.outputs.append(new_output("stream", name="stdout", text=result.stdout))
        book.cells.append(cell)
    nbformat.validate(book)
    return book


def notebook_json(book: nbformat.NotebookNode) -> str:
    return nbformat.writes(book)
