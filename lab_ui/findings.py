"""Home's answer up front: the three findings (committed reports, and the session's own rows once it has them) and their chart."""

from __future__ import annotations

import streamlit as st

from lab_ui import pages, session
from lab_ui.results_view import ALERTS
from repro_core.results.timeline import TimelineEntry, load_timeline
from repro_core.validation import Refusal
from repro_core.views.findings import FINDING_SCENARIOS, chart_caption, findings_chart, findings_frame, home_findings
from repro_core.views.timeline import measured_on

ICONS = {"good": ":material/check_circle:", "bad": ":material/link:", "caution": ":material/warning:", "neutral": ":material/info:",
         "failed": ":material/error:", "missing": ":material/help:"}  # fmt: skip


@st.cache_resource(show_spinner=False)
def committed_timeline() -> list[TimelineEntry]:
    """The committed reports, read once per server: they change only with a new checkout (a visit to Home re-reads none)."""
    return load_timeline()


def live_verdicts() -> dict[str, tuple[str, str]]:
    """scenario -> (outcome, what it judged) for the findings whose pages hold this lab's rows: the same judgement as the
    page's headline, named by the settings of the rows it judged."""
    found = {}
    for scenario in FINDING_SCENARIOS:
        judged = session.judged(st.session_state, scenario)
        if judged.newest is not None:
            group = judged.newest
            found[scenario] = (judged.outcome.name, f"your rows ({len(group.records)} rerun(s), {group.settings.label})")
    return found


def findings_view(chart_area) -> None:
    """Three verdict cards in a row (stacked on a phone); in `chart_area` (below the page's first button) the chart they come
    from and a link to the page that runs it live."""
    try:
        entries = committed_timeline()
    except (OSError, Refusal) as exc:
        st.error(f"The committed timeline reports cannot be read: {exc}", icon=":material/error:")
        entries = []
    live = live_verdicts()
    with st.container(key="home_findings"):
        findings = home_findings(entries, live)
        for column, finding in zip(st.columns(3), findings, strict=True):
            mine = f"  \n*{finding.live}*" if finding.live else ""
            with column.container(key=f"finding_{finding.scenario}"):
                getattr(st, ALERTS[finding.role])(f"**{finding.question}:** {finding.headline}{mine}", icon=ICONS[finding.role])
        st.caption(f"From {findings[0].source}" + ("; the lines in italics from your lab's own rows." if live else "."))
    frame = findings_frame(entries, live)
    with chart_area:
        if not frame.empty:
            st.altair_chart(findings_chart(frame), key="home_findings_chart", width="stretch")
            st.caption(chart_caption(entries, bool(live)) + (f" {measured_on(entries)}" if entries else ""))  # which machine measured them
        pages.link("versions", "Across versions and backends: every release and engine, JAX and PyTorch, and a live run in your own kernel")
