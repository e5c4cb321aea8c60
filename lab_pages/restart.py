"""Restart the kernel: rows kept across kernel starts; does a fresh start reproduce the first run?"""

import streamlit as st

from lab_ui import clicks, pages, predict, session
from lab_ui.downloads import export_buttons
from lab_ui.results_view import ResultsView, alert, code_block
from lab_ui.sidebar import params
from repro_core.recipes import cells
from repro_core.records import format_sum, restart_check
from repro_core.views.story import outcome_of

current = params()
st.title(pages.PAGES["restart"].title)
st.markdown(
    """
Re-running one cell keeps everything the kernel has already done: Python's `random`, TensorFlow's op
counters, every layer built so far. Restarting the kernel throws all of it away and runs the setup
cell again, like "Restart & Run All". Run the cell a few times, restart, run it once more, and compare.
"""
)
code_block(cells.scenario_cell(session.SCENARIO_OF[session.RESTART], current), "The cell (the post's fix), exactly as executed:")

guess = predict.ask("restart", "restart_predict")
left, right, _ = st.columns([1, 1, 3])
run_one = clicks.run_cell_button("restart", where=left)
restart = right.button(
    "Restart kernel", key="restart_kernel", icon=":material/restart_alt:", help="Really restart the session's kernel, then run the setup cell"
)
view = ResultsView(session.RESTART, "factory + tf.random.set_seed across kernel starts", with_kernel=True)
with view.status:
    if run_one:
        clicks.run_cell(view)
    if restart:
        clicks.restart_kernel()
predict.answer_from_rows("restart", guess, session.RESTART)
export_buttons(session.RESTART)
st.caption("The notebook export lists every kernel start's cells in order; to reproduce a restart, restart the kernel before each setup cell.")

st.caption(
    "Once there are rows of two kernel starts, the verdict above (and Home's line for this page) is the restart check: "
    "the first run of the newest kernel start against the first run of the start before it; the box below gives the numbers. "
    "The check marks compare every row with the first row, across kernel starts."
)
rows = session.get_rows(st.session_state, session.RESTART)
check = restart_check(rows.records) if rows is not None else None
with st.container(key="restart_check"):
    if check is None:
        st.info("Run the cell, restart the kernel, then run the cell again: the comparison appears here.")
    else:
        detail = " — vs ".join(
            f"kernel start #{r.kernel_start}, rerun {r.rerun}: before {format_sum(r.before_sum)}, after {format_sum(r.after_sum)}"
            for r in (check.after, check.before)
        )
        found = outcome_of(rows.records)  # the same outcome as the verdict above and Home's
        alert(found.role, f"**{found.headline}**: {found.sentence}. {detail}")

pages.next_page("why")
