"""How results look on every page: coloured alerts by role, the records table, a scenario's results view, code cells.
A view draws one `Judgement` (repro_core.judgement): its headline, table, chart and group captions read the same value."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from lab_ui import session
from repro_core.judgement import Judgement
from repro_core.records import VERDICTS
from repro_core.views import story

# The alert each role (records.VERDICTS, RecordsComparison.role) is shown with: the core names outcomes, this colours them.
ALERTS = {"good": "success", "bad": "error", "caution": "warning", "neutral": "info", "failed": "error", "missing": "info"}

COLUMN_CONFIG = {
    story.COL_SETTINGS: st.column_config.TextColumn(story.COL_SETTINGS, help="The settings the row was made with"),
    story.COL_KERNEL: st.column_config.NumberColumn(story.COL_KERNEL, format="%d", help="Which kernel start of your lab the row came from"),
    story.COL_RERUN: st.column_config.NumberColumn(story.COL_RERUN, format="%d", help="How many times the cell had run in this kernel start"),
    story.COL_BEFORE: st.column_config.NumberColumn(story.COL_BEFORE, format="%.13f", help="Sum of all weights after compile, before fit"),
    story.COL_AFTER: st.column_config.NumberColumn(story.COL_AFTER, format="%.13f", help="Sum of all weights after fit"),
    story.COL_SECONDS: st.column_config.NumberColumn(story.COL_SECONDS, format="%.2f", help="Wall time of the cell in the kernel"),
    story.COL_SAME: st.column_config.CheckboxColumn(story.COL_SAME,
                                                    help="Same SHA-256 fingerprints before and after training as the first row of its group"),
}  # fmt: skip


def alert(role: str, text: str, where=None) -> None:
    getattr(where or st, ALERTS[role])(text)


def judgement_alert(found: Judgement, where=None, loaded: dict[int, str] | None = None) -> None:
    """The headline of one scenario's rows; with several groups a caption gives each earlier group's outcome and settings."""
    box = (where or st).container()
    alert(found.outcome.role, story.headline(found), box)
    if found.earlier:
        earlier = "; ".join(f"{group.where} ({len(group.records)} row(s), {group.settings.label}{_source(group, loaded)}): "
                            f"{VERDICTS[group.verdict].headline}" for group in found.earlier)  # fmt: skip
        box.caption(f"Each group of rows (same settings, same kernel start) is judged on its own. Earlier groups: {earlier}.")


def _source(group, loaded: dict[int, str] | None) -> str:
    names = {loaded[start] for start in group.kernel_starts if loaded and start in loaded}
    return f", loaded from {', '.join(sorted(names))}" if names else ""


def records_table(frame: pd.DataFrame, key: str | None = None, where=None) -> None:
    """Rows as every page shows them: full-precision sums, check marks, no index."""
    (where or st).dataframe(frame, width="stretch", hide_index=True, column_config=COLUMN_CONFIG, key=key)


class ResultsView:
    """A scenario's results: a status area for its clicks, then a container keyed <scenario>_results (headline, table,
    chart) drawn at once and redrawn as rows arrive."""

    def __init__(self, scenario: str, chart_title: str, with_kernel: bool = False) -> None:
        self.scenario = scenario
        self.with_kernel = with_kernel
        self.chart_title = chart_title
        self.status = st.container()
        rows = session.rows_of(st.session_state, scenario)
        if st.button("Clear rows", key=f"{scenario}_clear", icon=":material/delete_sweep:", disabled=not rows,
                     help="Forget every row of this table, of every settings and kernel start (the kernel itself keeps running)"):  # fmt: skip
            session.clear_rows(st.session_state, scenario)
            self.status.info("Rows cleared: the table starts again with the next run.")
        with st.container(key=f"{scenario}_results"):
            self._caption, self._verdict, self._table, self._chart = st.empty(), st.empty(), st.empty(), st.empty()
        self.draw()

    def draw(self) -> Judgement:
        found = session.judged(st.session_state, self.scenario)
        if not found.records:
            self._caption.caption("No rows yet: run the cell.")
            for slot in (self._verdict, self._table, self._chart):
                slot.empty()
            return found
        starts = len({r.kernel_start for r in found.records})
        groups = len(found.groups)
        self._caption.caption(f"{len(found.records)} row(s) from {starts} kernel start(s), in {groups} group(s) judged apart.")
        judgement_alert(found, self._verdict, session.lab(st.session_state).loaded)
        with_kernel = self.with_kernel or starts > 1
        records_table(story.records_frame(found, with_kernel), where=self._table)
        self._chart.altair_chart(story.rerun_chart(found.records, self.chart_title), theme="streamlit", width="stretch")
        return found


def reference_table(scenario: str) -> None:
    """The article's published figures, clearly labelled as such."""
    frame = story.article_reference_frame(scenario)
    if not frame.empty:
        st.caption(f"Reference — {story.ARTICLE_LABEL} (not computed here):")
        records_table(frame, key=f"reference_{scenario}")


def code_block(source: str, caption: str = "", wrap: bool = False) -> None:
    if caption:
        st.caption(caption)
    st.code(source, language="python", wrap_lines=wrap)
