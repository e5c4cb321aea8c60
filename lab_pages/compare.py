"""Compare reports: two uploaded JSON reports side by side, fingerprint by fingerprint.
Reports are passed between people, so what they hold (and the file's name) is shown as text, never as Markdown or HTML."""

import streamlit as st

from lab_ui import pages
from lab_ui.downloads import UPLOAD_MB
from lab_ui.results_view import alert
from lab_ui.widgets import code_span
from repro_core.results.exports import (
    causes_heading,
    compare,
    comparison_frame,
    differs_frame,
    differs_line,
    likely_causes,
    report_summary,
    what_differs,
)
from repro_core.results.report import MAX_REPORT_BYTES, Report, parse_report
from repro_core.validation import Refusal

LIMIT = MAX_REPORT_BYTES

st.title(pages.PAGES["compare"].title)
st.markdown(
    """
Download a report (JSON) under any page's results, or write one with
`python -m repro_core story --report mine.json`, on two machines or two kernels. Upload both here:
reruns are paired by scenario, kernel start (counted from each report's first for that scenario: a page's
kernel start #6 pairs with a command-line run's 1) and rerun, and their SHA-256 fingerprints are compared.
Only reruns both reports hold are counted; the others are listed as "only in one report". Where they differ, the
likely causes come first: the settings and the machine traits each kernel reported (oneDNN, threads, ISA cap, CPU
features; see *Another machine*), then the packages.
"""
)


def read_report(column, label: str, key: str) -> Report | None:
    """An uploader; the parsed report, or None (with an st.error for a file that is not a valid report)."""
    with column:
        upload = st.file_uploader(label, type=["json"], key=key, max_upload_size=UPLOAD_MB, help="A lab report (JSON)")
        if upload is None:
            return None
        try:
            report = parse_report(upload.read(LIMIT + 1), max_bytes=LIMIT)
        except Refusal as exc:
            st.error(f"{code_span(upload.name)} cannot be read: {code_span(str(exc))}", icon=":material/error:")
            return None
        with st.container(border=True, key=f"{key}_summary"):
            for name, value in report_summary(report):
                st.text(f"{name}: {value}")
        return report


left, right = st.columns(2, gap="large")
a = read_report(left, "Report A", "compare_a")
b = read_report(right, "Report B", "compare_b")

with st.container(key="compare_result"):
    if a is None or b is None:
        st.info("Upload two reports to compare them.")
    else:
        comparison = compare(a, b)
        alert(comparison.role, f"**{comparison.headline()}**")
        causes = likely_causes(a, b)
        with st.container(key="compare_causes"):
            st.markdown(f"**{causes_heading(comparison, causes)}**")
            for cause in causes:  # values from the uploaded files: plain text, never Markdown
                st.text(f"• {cause}")
        st.dataframe(comparison_frame(comparison), width="stretch", hide_index=True)

if a is not None and b is not None:
    with st.container(key="compare_kernels"):
        rows = what_differs(a, b)
        st.header("What differs between the two kernels")
        st.caption(differs_line(rows))  # field labels only
        st.dataframe(differs_frame(rows), width="stretch", hide_index=True, key="compare_differs")
