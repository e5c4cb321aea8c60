"""Restart the kernel: rows kept across kernel starts; does a fresh start reproduce the first run?"""

import streamlit as st

from lab_ui import clicks, pages, predict, session
from lab_ui.downloads import export_buttons, load_back
from lab_ui.results_view import ResultsView, alert, code_block
from lab_ui.sidebar import params
from repro_core.recipes import cells
from repro_core.records import format_sum

PAGE = pages.PAGES["restart"]
SCENARIO = PAGE.scenarios[0]
current = params()
cell = cells.scenario_cell(SCENARIO, current)  # shown below, and what a click runs
st.title(PAGE.title)
st.markdown(
    """
Re-running one cell keeps everything the kernel has already done: Python's `random`, TensorFlow's op
counters, every layer built so far. Restarting the kernel throws all of it away and runs the setup
cell again, like "Restart & Run All". Run the cell a few times, restart, run it once more, and compare.
"""
)
code_block(cell, "The cell (the post's fix), exactly as executed:")

guess = predict.ask("restart", "restart_predict")
left, right, _ = st.columns([1, 1, 3])
run_one = clicks.run_cell_button("restart", where=left)
restart = right.button(
    "Restart kernel", key="restart_kernel", icon=":material/restart_alt:", help="Really restart this page's kernel, then run the setup cell"
)
load_back(PAGE.scenarios, "restart_load")
view = ResultsView(SCENARIO, "factory + tf.random.set_seed across kernel starts", with_kernel=True)
with view.status:
    if run_one:
        clicks.run_cell(view, cell)
    if restart:
        clicks.restart_kernel(SCENARIO)
predict.answer_from_rows("restart", guess, SCENARIO)
export_buttons(SCENARIO)
st.caption("The notebook export lists every kernel start's cells in order; to reproduce a restart, restart the kernel before each setup cell.")

st.caption(
    "Once there are rows of two kernel starts, the verdict above (and Home's line for this page) is the restart check: "
    "the first run of the newest kernel start against the first run of the start before it; the box below gives the numbers. "
    "The check marks compare every row with the first row of its settings, across kernel starts."
)
found = session.judged(st.session_state, SCENARIO)
with st.container(key="restart_check"):
    if found.restart is None:
        st.info("Run the cell, restart the kernel, then run the cell again: the comparison appears here.")
    else:
        detail = " — vs ".join(
            f"kernel start #{r.kernel_start}, rerun {r.rerun}: before {format_sum(r.before_sum)}, after {format_sum(r.after_sum)}"
            for r in (found.restart.after, found.restart.before)
        )
        alert(found.outcome.role, f"**{found.outcome.headline}**: {found.outcome.meaning}. {detail}")

pages.next_page("why")
