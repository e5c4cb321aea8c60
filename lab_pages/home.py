"""Home: what the lab is about, and a button that runs every page's cells in one go."""

import streamlit as st

from lab_ui import clicks, pages, session
from lab_ui.findings import findings_view
from lab_ui.results_view import alert
from lab_ui.sidebar import params
from repro_core.views.story import settings_label
from repro_core.vocabulary import SCENARIOS

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
st.header("How the lab knows")
st.markdown(
    """
A popular blog post from the TensorFlow 2.9 days explained why a re-run training cell changes the weights and proposed a fix:
build the model inside a function and call `tf.random.set_seed` right before building it. This lab does not take that fix on
faith. It runs the post's notebook for real, in a Jupyter kernel that belongs to your browser session, on whatever TensorFlow
and Keras that kernel has, and it judges every claim by SHA-256 fingerprints of the weights, not by eyeballing sums.
"""
)
st.header("The pages")
WALKTHROUGH = {
    "seed": "the start-of-notebook seeding block, line by line: what each line seeds and what it cannot.",
    "drift": "one model, one cell, run again and again: each run picks up where the previous one stopped.",
    "factory": "the post's fix next to a full reseed with `keras.utils.set_random_seed`, on your kernel's TensorFlow.",
    "restart": 'what "Restart & Run All" does that re-running a single cell does not.',
    "why": "TensorFlow's global and op seeds, where Keras gets its seeds from, and what changed after TensorFlow 2.9.",
    "versions": "the findings above on every release and engine, with their rows, and a live column from your kernel.",
    "machine": "the same seed with oneDNN on and off, one thread or more, an instruction-set cap: which machine trait changes the bits.",
    "your_training": "your own training script (or a shipped example): where two runs first part, why, and the line that fixes it.",
    "your_model": "no code: describe a small dense network, see which layers' weights move between reruns, and diagnose it on Your training.",
    "matrix": "every way of making the model times every way of reseeding it, each in a fresh kernel.",
    "compare": "two reports (from two machines, kernels or releases) fingerprint by fingerprint.",
}
st.markdown("\n".join(f"{i}. **{pages.PAGES[name].title}** — {text}" for i, (name, text) in enumerate(WALKTHROUGH.items(), 1)))

current = params()
st.markdown(
    f"Settings from the sidebar: **{settings_label(current)}**, **{current.reruns} reruns** per *Run N times*. A full story "
    "costs one kernel start per recipe (about 3 s each, TensorFlow import included) plus about 1 s per rerun."
)

judged = {scenario: session.judged(st.session_state, scenario) for scenario in pages.STORY_PAGE_SCENARIOS}
if any(found.records for found in judged.values()):
    st.header("Results so far")
    st.caption("Each line judges a page's newest group of rows, and names the settings those rows were made with.")
    for scenario, found in judged.items():
        if found.newest is None:
            continue
        cols = st.columns([3, 2])
        pages.link(pages.PAGE_OF[scenario], SCENARIOS[scenario].title, ":material/table_chart:", cols[0])
        with cols[1].container(key=f"home_verdict_{scenario}"):
            group = found.newest
            alert(found.outcome.role, f"**{found.outcome.headline}**: {len(group.records)} rerun(s), {group.settings.label}"
                  + (f"; {len(found.groups) - 1} earlier group(s) on its page" if len(found.groups) > 1 else ""))  # fmt: skip

pages.next_page("seed")
