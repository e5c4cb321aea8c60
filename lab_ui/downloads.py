"""Download buttons under a page's results: the table as CSV, the JSON report, the exact cells as .ipynb; and the
uploader that loads a downloaded report back into its page."""

from __future__ import annotations

import streamlit as st

from lab_ui import session
from lab_ui.widgets import code_span
from repro_core.experiments.audit import AuditResult
from repro_core.experiments.diagnose import Diagnosis
from repro_core.judgement import Judgement
from repro_core.recipes.settings import StoryParams
from repro_core.results.exports import (
    audit_notebook_info,
    diagnose_json,
    diagnose_notebook_info,
    notebook_text,
    records_csv,
    report_text,
    story_notebook_info,
)
from repro_core.results.report import MAX_REPORT_BYTES, parse_report
from repro_core.validation import Refusal
from repro_core.vocabulary import SCENARIOS


def judged_settings(found: Judgement, current: StoryParams) -> StoryParams:
    """The settings of the newest group's rows (what the report's settings block and the notebook name)."""
    newest = found.newest.settings
    return StoryParams(seed=newest.seed or current.seed, reruns=len(found.newest.records), epochs=newest.epochs or current.epochs,
                       engine=newest.engine, backend=newest.backend)  # fmt: skip


def export_buttons(scenario: str) -> None:
    """A scenario's CSV and JSON of every row, and the .ipynb of the newest group's cells (keys <scenario>_csv, _json,
    _ipynb), once there are rows."""
    found = session.judged(st.session_state, scenario)
    if found.newest is None:
        return
    stem = f"keras-lab-{scenario}"
    settings = judged_settings(found, session.current_params(st.session_state))
    kernel = found.newest.settings.kernelspec
    versions = session.versions_of(st.session_state, found.newest.kernel_starts[-1])
    with st.container(key=f"{scenario}_exports", horizontal=True):
        st.download_button("Table (CSV)", records_csv(found.records), file_name=f"{stem}.csv", mime="text/csv", key=f"{scenario}_csv",
                           icon=":material/table:", on_click="ignore", help="Every row, with its settings and full SHA-256 fingerprints")  # fmt: skip
        st.download_button("Report (JSON)", report_text(found.records, settings, kernel, versions), file_name=f"{stem}.json",
                           mime="application/json", key=f"{scenario}_json", icon=":material/description:", on_click="ignore",
                           help="Schema-versioned report: load it back into this page, upload it on the Compare page, or "
                                "`python -m repro_core compare`")  # fmt: skip
        notebook_cells = session.cells_of(st.session_state, found.newest.kernel_starts)
        if notebook_cells and versions is not None:
            info = story_notebook_info(SCENARIOS[scenario].title, settings, kernel, versions, f"{stem}.ipynb")
            st.download_button("Notebook (.ipynb)", notebook_text(notebook_cells, info), file_name=f"{stem}.ipynb",
                               mime="application/x-ipynb+json", key=f"{scenario}_ipynb", icon=":material/code:", on_click="ignore",
                               help="The exact cells of the newest group of rows, with the kernel output, for a plain python3 kernel; "
                                    "its first cell gives the pip install line and the command that re-runs it and compares the "
                                    "checksum lines")  # fmt: skip


UPLOAD_MB = MAX_REPORT_BYTES // (1024 * 1024)  # what the uploader widget enforces and says; the parser checks again


def load_back(scenarios: tuple[str, ...], key: str) -> None:
    """An uploader for a report this page downloaded: its rows of the page's scenarios come back as groups of their own."""
    limit = MAX_REPORT_BYTES
    with st.expander("Load a downloaded report back into this page"):
        upload = st.file_uploader("Report (JSON)", type=["json"], key=key, max_upload_size=UPLOAD_MB,
                                  help="A report this page offered for download. Its rows come back beside your own, each of its "
                                       "kernel starts as a group of its own, labelled with the file's name.")  # fmt: skip
        if upload is None:
            return
        done = session.kept(st.session_state, f"{key}_done")
        if done == (upload.file_id, upload.name):
            st.caption(f"Loaded {code_span(upload.name)}. Remove it above to load another.")
            return
        try:
            report = parse_report(upload.read(limit + 1), max_bytes=limit)
        except Refusal as exc:
            st.error(f"{code_span(upload.name)} cannot be read: {code_span(str(exc))}", icon=":material/error:")
            return
        added = session.load_report(st.session_state, report, scenarios, upload.name)
        session.keep(st.session_state, f"{key}_done", (upload.file_id, upload.name))
        if added:
            st.success(f"{added} row(s) loaded from {code_span(upload.name)}.", icon=":material/upload_file:")
        else:
            names = sorted({r.scenario for r in report.records})
            named = "; ".join(SCENARIOS[name].title if name in SCENARIOS else code_span(name) for name in names) or "none"
            st.warning(f"{code_span(upload.name)} holds no rows of this page (its scenarios: {named}).")


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
