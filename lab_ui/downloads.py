"""Download buttons under a page's results: the table as CSV, the JSON report, the exact cells as .ipynb."""

from __future__ import annotations

import streamlit as st

from lab_ui import session
from repro_core.experiments.audit import AuditResult
from repro_core.experiments.diagnose import Diagnosis
from repro_core.results.exports import (
    audit_notebook_info,
    diagnose_json,
    diagnose_notebook_info,
    notebook_text,
    records_csv,
    report_text,
    story_notebook_info,
)
from repro_core.vocabulary import SCENARIOS


def export_buttons(slot: str) -> None:
    """A page's CSV, JSON and .ipynb downloads (keys <slot>_csv, _json, _ipynb), once there are rows; notebooks bear the scenario's title."""
    rows = session.get_rows(st.session_state, slot)
    if rows is None or not rows.records:
        return
    records, stem = rows.records, f"keras-lab-{slot}"
    with st.container(key=f"{slot}_exports", horizontal=True):
        st.download_button("Table (CSV)", records_csv(records), file_name=f"{stem}.csv", mime="text/csv", key=f"{slot}_csv",
                           icon=":material/table:", on_click="ignore", help="Every row, full SHA-256 fingerprints")  # fmt: skip
        st.download_button("Report (JSON)", report_text(records, rows.params, rows.kernel_name, rows.versions), file_name=f"{stem}.json",
                           mime="application/json", key=f"{slot}_json", icon=":material/description:", on_click="ignore",
                           help="Schema-versioned report: upload it on the Compare page, or `python -m repro_core compare`")  # fmt: skip
        if rows.cells:
            title = SCENARIOS[session.SCENARIO_OF[slot]].title
            info = story_notebook_info(title, rows.params, rows.kernel_name, rows.versions, f"{stem}.ipynb")
            nb_text = notebook_text(rows.cells, info)  # the same builder as `story --notebook`
            st.download_button("Notebook (.ipynb)", nb_text, file_name=f"{stem}.ipynb", mime="application/x-ipynb+json",
                               key=f"{slot}_ipynb", icon=":material/code:", on_click="ignore",
                               help="The exact cells that ran, with the kernel output, for a plain python3 kernel; its first cell gives "
                                    "the pip install line and the command that re-runs it and compares the checksum lines")  # fmt: skip


def audit_notebook_button(result: AuditResult) -> None:
    """The Your model page's notebook, the same file as `audit --notebook`."""
    if not result.cells or result.versions is None:
        return
    name = "keras-lab-model.ipynb"
    st.download_button("Notebook (.ipynb)", notebook_text(result.cells, audit_notebook_info(result, name)), file_name=name,
                       mime="application/x-ipynb+json", key="model_ipynb", icon=":material/code:", on_click="ignore",
                       help="The setup cell and each rerun's cell, with the kernel output, for a plain python3 kernel")  # fmt: skip


def diagnose_buttons(found: Diagnosis) -> None:
    """Your training's JSON report (the same as `diagnose --format json`) and run 1's cells as a notebook."""
    stem = "keras-lab-training"
    with st.container(key="train_exports", horizontal=True):
        st.download_button("Report (JSON)", diagnose_json(found), file_name=f"{stem}.json", mime="application/json", key="train_json",
                           icon=":material/description:", on_click="ignore",
                           help="The diagnosis as `python -m repro_core diagnose --format json` prints it")  # fmt: skip
        if found.cells:
            st.download_button("Notebook (.ipynb)", notebook_text(found.cells, diagnose_notebook_info(found, f"{stem}.ipynb")),
                               file_name=f"{stem}.ipynb", mime="application/x-ipynb+json", key="train_ipynb", icon=":material/code:",
                               on_click="ignore", help="Run 1's cells: the setup, the recorder, your script, with the kernel's output")  # fmt: skip
