"""How results look on every page: coloured alerts by role, the records table, a page's results view, code cells."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd
import streamlit as st

from lab_ui import session
from repro_core.records import VERDICTS, RunRecord, row_groups
from repro_core.views import story
from repro_core.vocabulary import SPANS_KERNEL_STARTS

# The alert each role (records.VERDICTS, RecordsComparison.role) is shown with: the core names outcomes, this colours them.
ALERTS = {"good": "success", "bad": "error", "caution": "warning", "neutral": "info", "failed": "error", "missing": "info"}

COLUMN_CONFIG = {
    story.COL_KERNEL: st.column_config.NumberColumn(story.COL_KERNEL, format="%d", help="Which start of the session's kernel the row came from"),
    story.COL_RERUN: st.column_config.NumberColumn(story.COL_RERUN, format="%d", help="How many times the cell had run in this kernel start"),
    story.COL_BEFORE: st.column_config.NumberColumn(story.COL_BEFORE, format="%.13f", help="Sum of all weights after compile, before fit"),
    story.COL_AFTER: st.column_config.NumberColumn(story.COL_AFTER, format="%.13f", help="Sum of all weights after fit"),
    story.COL_SECONDS: st.column_config.NumberColumn(story.COL_SECONDS, format="%.2f", help="Wall time of the cell in the kernel"),
    story.COL_SAME: st.column_config.CheckboxColumn(story.COL_SAME, help="Same SHA-256 fingerprints before and after training as the first row"),
}


def alert(role: str, text: str, where=None) -> None:
    getattr(where or st, ALERTS[role])(text)


def verdict_alert(records: Sequence[RunRecord], where=None) -> None:
    """The headline of one scenario's rows (records.rows_outcome, as Home shows it); with several kernel start groups it
    names the newest group it judges, and a caption gives each earlier group's verdict."""
    role, text = story.outcome_of(records).role, story.verdict_text(records)[1]
    groups = row_groups(records, SPANS_KERNEL_STARTS)
    text = f"{text} {story.repeats_text(records)}"  # initial and trained weights apart: the seed switches need both
    if len(groups) < 2:
        alert(role, text, where)
        return
    box = (where or st).container()
    alert(role, f"{text} Judged on the newest kernel start, #{groups[-1].kernel_start} ({len(groups[-1].records)} row(s)).", box)
    earlier = "; ".join(f"#{g.kernel_start} ({len(g.records)} row(s)): {VERDICTS[g.verdict].headline}" for g in groups[:-1])
    box.caption(f"Each kernel start is judged on its own rows. Earlier kernel starts: {earlier}.")


def records_table(frame: pd.DataFrame, key: str | None = None, where=None) -> None:
    """Rows as every page shows them: full-precision sums, check marks, no index."""
    (where or st).dataframe(frame, width="stretch", hide_index=True, column_config=COLUMN_CONFIG, key=key)


class ResultsView:
    """A page's results for one slot: a status area for its clicks, then a container keyed <slot>_results (verdict, table,
    chart) drawn at once and redrawn as rows arrive."""

    def __init__(self, slot: str, chart_title: str, with_kernel: bool = False) -> None:
        self.slot = slot
        self.with_kernel = with_kernel
        self.chart_title = chart_title
        self.status = st.container()
        rows = session.get_rows(st.session_state, slot)
        if st.button("Clear rows", key=f"{slot}_clear", icon=":material/delete_sweep:", disabled=rows is None or not rows.records,
                     help="Forget every row of this table, of every kernel start (the kernel itself keeps running)"):  # fmt: skip
            session.clear_rows(st.session_state, slot)
            self.status.info("Rows cleared: the table starts again with the next run.")
        with st.container(key=f"{slot}_results"):
            self._caption, self._verdict, self._table, self._chart = st.empty(), st.empty(), st.empty(), st.empty()
        self.draw()

    def draw(self, rows: session.PageRows | None = None) -> None:
        if rows is None:
            rows = session.get_rows(st.session_state, self.slot)
        if rows is None or not rows.records:
            self._caption.caption("No rows yet: run the cell.")
            for slot in (self._verdict, self._table, self._chart):
                slot.empty()
            return
        made_with = story.settings_label(rows.params, rows.versions)  # the engine the kernel reported
        if session.is_stale(rows, session.current_params(st.session_state)):
            self._caption.warning(f"These rows were computed with older settings ({made_with}); "
                                  "the next run starts a new table with the current settings.")  # fmt: skip
        else:
            starts = len({r.kernel_start for r in rows.records})
            self._caption.caption(f"{len(rows.records)} row(s) from the session's kernel, {starts} kernel start(s) · {made_with}")
        verdict_alert(rows.records, self._verdict)
        with_kernel = self.with_kernel or len({r.kernel_start for r in rows.records}) > 1
        records_table(story.records_frame(rows.records, with_kernel), where=self._table)
        self._chart.altair_chart(story.rerun_chart(rows.records, self.chart_title), theme="streamlit", width="stretch")


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
