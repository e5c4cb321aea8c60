"""Rerun drift: the global model's cell, re-run in one kernel; each run continues from the last."""

import streamlit as st

from lab_ui import clicks, pages, predict
from lab_ui.downloads import export_buttons, load_back
from lab_ui.results_view import ResultsView, code_block, reference_table
from lab_ui.sidebar import params
from repro_core.recipes import cells
from repro_core.views.story import ARTICLE_LABEL, chart_legend_words

PAGE = pages.PAGES["drift"]
SCENARIO = PAGE.scenarios[0]
current = params()
cell = cells.scenario_cell(SCENARIO, current)  # shown below, and what a click runs
st.title(PAGE.title)
st.markdown(
    """
The setup cell built **one** model, `model = MLP()`. The cell below reseeds TensorFlow and then
compiles and fits that same model. Run it twice and ask: does the second run start from the
same weights as the first?
"""
)
code_block(cell, "The exact cell the kernel executes:")

guess = predict.ask("drift", "drift_predict")
left, right, _ = st.columns([1, 1, 3])
run_one = clicks.run_cell_button("drift", "One more Shift-Enter on this cell, in this page's kernel", left)
run_many = clicks.run_many_button(
    "drift", current.reruns, "Restart the kernel, run the setup cell, then this cell N times (the same rows as the command line)", right
)
load_back(PAGE.scenarios, "drift_load")
view = ResultsView(SCENARIO, "Global model: sums before and after each rerun")
with view.status:
    if run_one:
        clicks.run_cell(view, cell)
    if run_many:
        clicks.run_many(view)
predict.answer_from_rows("drift", guess, SCENARIO)
export_buttons(SCENARIO)

st.markdown(
    f"""
**Reading the chart.** {chart_legend_words()} When the hand-over segments are flat, rerun *k+1* started exactly where
rerun *k* ended: `fit` trains the existing weights, and reseeding TensorFlow does not put them back. The check marks and
the verdict compare SHA-256 fingerprints of every weight, not the rounded sums.
"""
)
with st.expander(f"Reference: {ARTICLE_LABEL}"):
    reference_table(SCENARIO)
    st.caption("Same pattern in the post: run 2's 'before' is run 1's 'after'. Today's numbers differ; compare the pattern, not the digits "
               "(the post's trained digits also need oneDNN's custom operations on: see Another machine).")  # fmt: skip

pages.next_page("factory")
