"""Rerun drift: the global model's cell, re-run in one kernel; each run continues from the last."""

import streamlit as st

from lab_ui import clicks, pages, predict, session
from lab_ui.downloads import export_buttons
from lab_ui.results_view import ResultsView, code_block, reference_table
from lab_ui.sidebar import params
from repro_core.recipes import cells
from repro_core.views.story import ARTICLE_LABEL

current = params()
st.title(pages.PAGES["drift"].title)
st.markdown(
    """
The setup cell built **one** model, `model = MLP()`. The cell below reseeds TensorFlow and then
compiles and fits that same model. Run it twice and ask: does the second run start from the
same weights as the first?
"""
)
code_block(cells.scenario_cell(session.SCENARIO_OF[session.DRIFT], current), "The exact cell the kernel executes:")

guess = predict.ask("drift", "drift_predict")
left, right, _ = st.columns([1, 1, 3])
run_one = clicks.run_cell_button("drift", "One more Shift-Enter on this cell, in the session's kernel", left)
run_many = clicks.run_many_button(
    "drift", current.reruns, "Restart the kernel, run the setup cell, then this cell N times (the same rows as the command line)", right
)
view = ResultsView(session.DRIFT, "Global model: sums before and after each rerun")
with view.status:
    if run_one:
        clicks.run_cell(view)
    if run_many:
        clicks.run_many(view)
predict.answer_from_rows("drift", guess, session.DRIFT)
export_buttons(session.DRIFT)

st.markdown(
    """
**Reading the chart.** Blue dots are the sum of all weights before training, red dots after.
A dashed grey segment joins the end of one rerun to the start of the next. When those segments
are flat, rerun *k+1* started exactly where rerun *k* ended: `fit` trains the existing
weights, and reseeding TensorFlow does not put them back. The check marks and the verdict
compare SHA-256 fingerprints of every weight, not the rounded sums.
"""
)
with st.expander(f"Reference: {ARTICLE_LABEL}"):
    reference_table(session.SCENARIO_OF[session.DRIFT])
    st.caption("Same pattern in the post: run 2's 'before' is run 1's 'after'. Today's numbers differ; compare the pattern, not the digits "
               "(the post's trained digits also need oneDNN's custom operations on: see Another machine).")  # fmt: skip

pages.next_page("factory")
