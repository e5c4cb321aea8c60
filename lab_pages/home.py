"""Home: what the lab is about, and a button that runs every page's cells in one go."""

import streamlit as st

from lab_ui import clicks, pages, session
from lab_ui.findings import findings_view
from lab_ui.results_view import alert
from lab_ui.sidebar import params
from repro_core.views.story import outcome_of
from repro_core.vocabulary import SCENARIOS, engine_label

st.title("Keras Reproducibility Lab")
st.markdown(
    "Seeded everything, re-ran the training cell and got other weights? What each way of re-running it does, "
    "measured on every TensorFlow release since 2.9:"
)
answer = st.container()  # drawn after the button is handled, so a whole story's rows show in it at once
story_status = st.container()
with story_status:
    if st.button("Run the whole story", key="run_story", type="primary", icon=":material/play_arrow:",
                 help="Every story page's cells in your session's kernel; the findings above gain a column of your own") and clicks.run_whole_story():
        st.success("The story pages now hold the rows just computed (beside any earlier ones, in their own kernel-start group); "
                   "the findings above include them.")
chart_area = st.container()
with answer:
    findings_view(chart_area)
st.subheader("How the lab knows")
st.markdown(
    """
A popular blog post from the TensorFlow 2.9 days explained why a re-run training cell changes the weights and proposed a fix:
build the model inside a function and call `tf.random.set_seed` right before building it. This lab does not take that fix on
faith. It runs the post's notebook for real, in a Jupyter kernel that belongs to your browser session, on whatever TensorFlow
and Keras that kernel has, and it judges every claim by SHA-256 fingerprints of the weights, not by eyeballing sums.
"""
)
st.subheader("The pages")
WALKTHROUGH = {
    "seed": "the start-of-notebook seeding block, line by line: what each line seeds and what it cannot.",
    "drift": "one model, one cell, run again and again: each run picks up where the previous one stopped.",
    "factory": "the post's fix next to a full reseed with `keras.utils.set_random_seed`, on your kernel's TensorFlow.",
    "restart": 'what "Restart & Run All" does that re-running a single cell does not.',
    "why": "TensorFlow's global and op seeds, where Keras gets its seeds from, and what changed after TensorFlow 2.9.",
    "versions": "the findings above on every release and engine, with their rows, and a live column from your kernel.",
    "machine": "the same seed with oneDNN on and off, one thread or more, an instruction-set cap: which machine trait changes the bits.",
    "your_model": "your own small network: which layers' weights move between reruns, and which recipe stops them.",
    "matrix": "every way of making the model times every way of reseeding it, each in a fresh kernel.",
    "compare": "two reports (from two machines, kernels or releases) fingerprint by fingerprint.",
}
st.markdown("\n".join(f"{i}. **{pages.PAGES[name].title}** — {text}" for i, (name, text) in enumerate(WALKTHROUGH.items(), 1)))

current = params()
st.markdown(
    f"Settings from the sidebar: **seed {current.seed}**, **{current.reruns} reruns**, **{current.epochs} epochs**, "
    f"engine **{engine_label(current.engine)}**. A full story costs one kernel start per recipe "
    f"(about 3 s each, TensorFlow import included) plus about 1 s per rerun."
)

results = session.all_results(st.session_state)
if any(rows.records for rows in results.values()):
    st.subheader("Results so far")
    for slot, scenario in session.SCENARIO_OF.items():
        rows = results.get(slot)
        if rows is None or not rows.records:
            continue
        found = outcome_of(rows.records)  # the headline of the page's own results view
        starts = len({r.kernel_start for r in rows.records})
        cols = st.columns([3, 2])
        pages.link(session.PAGE_OF[slot], SCENARIOS[scenario].title, ":material/table_chart:", cols[0])
        with cols[1].container(key=f"home_verdict_{slot}"):
            alert(found.role, f"**{found.headline}** ({found.name}, {len(rows.records)} rows, {starts} kernel start(s))")

pages.next_page("seed")
