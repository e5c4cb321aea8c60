"""Across versions and backends: the article's four scenarios on every TensorFlow release and on Keras 3's JAX and PyTorch
backends (recorded), the seed switches on each backend, beside this session's kernel (live)."""

import streamlit as st

from lab_ui import clicks, pages, session
from lab_ui.results_view import records_table
from lab_ui.widgets import code_span, selected_cell
from repro_core.results.timeline import load_timeline
from repro_core.validation import Refusal
from repro_core.views import backends, timeline
from repro_core.vocabulary import SCENARIOS

LIVE = "versions_live"  # kept in the lab: its live column (a TimelineEntry)

st.title(pages.PAGES["versions"].title)
st.markdown(
    """
The same four scenarios as the rest of the lab, run on every TensorFlow release since the post's: one
Python 3.10 environment and Jupyter kernel per release (its latest patch), on every engine the release offers
(its own Keras 2 before 2.16; Keras 3 and `tf_keras` from 2.16), then the same Keras 3 on its other backends, JAX
and PyTorch (one Python 3.11 environment each, without TensorFlow). The *recorded* columns come from the reports
committed under `repro_core/timeline_reports/` (`python -m timeline` regenerates them; `--backend jax` a backend's);
every verdict below is recomputed here from their rows. The *live* column is this session's kernel, run on this page.
"""
)

try:
    entries = load_timeline(backends=True)
except (OSError, Refusal) as exc:
    entries = []
    st.error(f"The committed reports cannot be read: {exc}", icon=":material/error:")

with st.container(key="versions_sentence"):
    st.caption(timeline.timeline_caption(entries))
    if any(not e.is_release for e in entries):
        st.caption(f"Backend reports: {timeline.measured_on([e for e in entries if not e.is_release])}")
    st.markdown(timeline.summary_sentence(entries))
    st.markdown("The Why page explains the drift with [keras commit 69b41cf](https://github.com/keras-team/keras/commit/69b41cf) "
                '("Update keras initializer to be fully stateless"), released with Keras 2.10.')  # fmt: skip

run_live = st.button("Run live in your lab's kernel", key="versions_run_live", icon=":material/play_arrow:", help=(
    "Restart a kernel of your lab and run the four scenarios, each from a fresh start, with the sidebar's settings"))
with st.container(key="versions_heatmap_area"):
    heatmap = st.empty()  # drawn before a live run starts, so the chart stays on screen above its progress bar
live = session.kept(st.session_state, LIVE)
if run_live:
    before = entries + ([live] if live is not None else [])
    if before:
        heatmap.altair_chart(timeline.timeline_heatmap(timeline.heatmap_frame(before)), width="stretch")
    entry = clicks.run_timeline_live()
    if entry is not None:
        session.keep(st.session_state, LIVE, entry)
        live = entry

shown = entries + ([live] if live is not None else [])
if not shown:
    heatmap.info("No reports to show.")
else:
    with heatmap.container():
        event = st.altair_chart(timeline.timeline_heatmap(timeline.heatmap_frame(shown)), on_select="rerun", key="versions_heatmap",
                                width="stretch")  # fmt: skip
        st.caption("Hover a cell for its kernel and first two reruns; click it to list its rows (double-click clears).")
    picked = selected_cell(getattr(event, "selection", None))
    with st.container(key="versions_cell"):
        if picked is None:
            st.caption("No cell selected.")
        else:
            column, scenario = picked
            st.markdown(f"**{column}**, {SCENARIOS[scenario].title if scenario in SCENARIOS else code_span(scenario)}")
            records_table(timeline.cell_rows(shown, column, scenario))

with st.container(key="versions_live_note"):
    if live is None:
        st.caption(
            f"Live: not run yet in your lab. The button runs in a kernel of your lab ({session.current_kernel(st.session_state)}) "
            "with the sidebar's settings."
        )
    else:
        st.markdown(f"**Live:** {live.column}, run in a kernel of your lab.")
        st.markdown(timeline.live_agreement(live, entries))
        records_table(timeline.live_rows(live), key="versions_live_rows")

st.header("Which generator controls what, backend by backend")
st.markdown(
    """
Each backend report also runs the *seed switches*: the factory cell re-run three times, each time reseeding one set of
generators before it builds the model (Python's `random`, NumPy's global generator, the backend's own seed where it has one)
or all of them with `keras.utils.set_random_seed`. A row says apart whether the **initial** weights (before training) and
the **trained** weights repeated.
"""
)
with st.container(key="versions_backends"):
    st.caption(backends.backends_measured(entries))
    st.markdown(backends.agreement_sentence(entries))
    for line in backends.controls_sentences(entries):
        st.markdown(f"- {line}")
    if not backends.switches_frame(entries).empty:
        st.altair_chart(backends.switches_chart(entries), width="stretch", key="versions_switches_chart")
        st.caption(backends.switches_legend_words())
        st.dataframe(backends.switches_frame(entries), hide_index=True, width="stretch", key="versions_switches")

with st.expander("Provenance of every column"):
    st.dataframe(timeline.provenance_frame(shown), hide_index=True, width="stretch")

pages.link("factory", "The Factory + reseed page runs the article's fix on this session's kernel")
pages.link("why", "Why the releases differ")
pages.link("machine", "Another machine: which machine trait changes the digits (oneDNN, threads, instruction set)")
pages.next_page("matrix")
