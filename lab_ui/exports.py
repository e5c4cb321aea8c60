"""Download buttons under a page's results: the table as CSV, the JSON report, the exact cells as .ipynb.

Any page can call `ui.export_buttons(...)` with a result slot, a PageRows, or plain records (+ cells).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import streamlit as st

from lab_ui import session
from repro_core.kernels.kernel import CellResult
from repro_core.recipes.settings import StoryParams
from repro_core.results.exports import audit_notebook_info, notebook_text, records_csv, report_text, story_notebook_info, versions_of
from repro_core.results.records import KernelVersions, RunRecord

if TYPE_CHECKING:
    from repro_core.experiments.audit import AuditResult


def export_buttons(
    source: str | session.PageRows | Sequence[RunRecord],
    key: str | None = None,
    *,
    cells: Sequence[CellResult] | None = None,
    params: StoryParams | None = None,
    versions: KernelVersions | None = None,
    kernel_name: str | None = None,
    file_stem: str | None = None,
    title: str = "",
) -> bool:
    """Three st.download_button's in a keyed container (CSS class st-key-<key>_exports); False when there is nothing yet.

    `source`: a result slot name (e.g. session.DRIFT), a PageRows, or records. With records, pass
    `cells` (CellResult list, e.g. Notebook.log) to offer the notebook, and `params`/`versions`
    for the report (defaults: the session's current settings, versions reported by the records' kernel).
    Widget keys: <key>_csv, <key>_json, <key>_ipynb (key defaults to the slot name or "export").
    """
    rows: session.PageRows | None = None
    if isinstance(source, str):
        rows = session.get_rows(st.session_state, source)
        key = key or source
    elif isinstance(source, session.PageRows):
        rows = source
    key = key or "export"
    if rows is not None:
        records = rows.records
        cells = rows.cells if cells is None else cells
        params = params or rows.params
        versions = versions or rows.versions
        kernel_name = kernel_name or rows.kernel_name
    else:
        records = list(source) if not isinstance(source, str) else []
    if not records:
        return False
    params = params or session.current_params(st.session_state)
    kernel_name = kernel_name or records[0].kernelspec or session.current_kernel(st.session_state)
    stem = file_stem or f"keras-lab-{key}"
    with st.container(key=f"{key}_exports", horizontal=True):
        st.download_button("Table (CSV)", records_csv(records), file_name=f"{stem}.csv", mime="text/csv", key=f"{key}_csv",
                           icon=":material/table:", on_click="ignore", help="Every row, full SHA-256 fingerprints")  # fmt: skip
        st.download_button("Report (JSON)", report_text(records, params, kernel_name, versions), file_name=f"{stem}.json",
                           mime="application/json", key=f"{key}_json", icon=":material/description:", on_click="ignore",
                           help="Schema-versioned report: upload it on the Compare page, or `python -m repro_core compare`")  # fmt: skip
        if cells:
            info = story_notebook_info(title or f"Keras Reproducibility Lab: {key}", params, kernel_name,
                                       versions_of(records, versions), f"{stem}.ipynb")  # fmt: skip
            book = notebook_text(cells, info)  # the same builder as `story --notebook`
            st.download_button("Notebook (.ipynb)", book, file_name=f"{stem}.ipynb", mime="application/x-ipynb+json",
                               key=f"{key}_ipynb", icon=":material/code:", on_click="ignore",
                               help="The exact cells that ran, with the kernel output, for a plain python3 kernel; its first cell gives "
                                    "the pip install line and the command that re-runs it and compares the checksum lines")  # fmt: skip
    return True


def audit_notebook_button(result: AuditResult, key: str = "model") -> bool:
    """The Your model page's notebook: the same file as `audit --notebook` (widget key <key>_ipynb); False before an audit."""
    if not result.cells or result.versions is None:
        return False
    name = f"keras-lab-{key}.ipynb"
    st.download_button("Notebook (.ipynb)", notebook_text(result.cells, audit_notebook_info(result, name)), file_name=name,
                       mime="application/x-ipynb+json", key=f"{key}_ipynb", icon=":material/code:", on_click="ignore",
                       help="The setup cell and each rerun's cell, with the kernel output, for a plain python3 kernel")  # fmt: skip
    return True
