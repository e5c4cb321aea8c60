"""Factory + reseed: the post's fix (tf.random.set_seed + new model) next to a full reseed."""

import streamlit as st

from lab_ui import clicks, pages, predict, session
from lab_ui.downloads import export_buttons
from lab_ui.results_view import ResultsView, code_block, records_table, reference_table, verdict_alert
from lab_ui.sidebar import kernel_choices, params
from repro_core.kernels.kernelspecs import engine_for, old_tensorflow_kernel
from repro_core.recipes import cells
from repro_core.results.timeline import load_timeline
from repro_core.views.story import article_diff, records_frame, settings_label
from repro_core.views.timeline import summary_sentence
from repro_core.vocabulary import DEFAULT_KERNEL, SCENARIOS, engine_label

current = params()
st.title(pages.PAGES["factory"].title)
st.markdown(
    """
The post's fix: build a **new** model in every run with a factory function and call
`tf.random.set_seed` just before. The right-hand recipe replaces that call with
`keras.utils.set_random_seed`, which seeds Python's `random`, NumPy and TensorFlow together.
Both run in the session's kernel; each recipe is its own notebook (switching recipe restarts the kernel).
"""
)

# -- The article's fix on two TensorFlows in one click (where a TF < 2.10 kernel is installed) --------------------------
VERSIONS_KEY = "factory_versions_results"
kernels = kernel_choices()
old_tf, bundled = old_tensorflow_kernel(kernels), kernels.get(DEFAULT_KERNEL)
if old_tf is not None and bundled is not None and bundled.tensorflow and old_tf.name != DEFAULT_KERNEL:
    with st.container(border=True, key="factory_versions"):
        st.markdown(f"**The article's fix on TensorFlow {old_tf.tensorflow} and on TensorFlow {bundled.tensorflow}**, side by side: "
                    f"the same cells, each in a fresh kernel ({old_tf.label}, then {bundled.label}).")  # fmt: skip
        if st.button(f"Run it on both ({current.reruns} reruns each)", key="factory_versions_run", icon=":material/compare_arrows:"):
            engines = {old_tf.name: engine_for(old_tf, current.engine), bundled.name: engine_for(bundled, current.engine)}
            found = clicks.run_on_versions(session.SCENARIO_OF[session.FACTORY_TF], engines)
            if found:
                st.session_state[VERSIONS_KEY] = (current, found)
        if VERSIONS_KEY in st.session_state:
            made_with, results = st.session_state[VERSIONS_KEY]
            for index, (result, column) in enumerate(zip(results, st.columns(len(results)), strict=True)):
                with column:
                    v = result.versions
                    st.markdown(f"**TensorFlow {v.tensorflow}** · Python {v.python} · {engine_label(v.engine)} {v.keras}")
                    st.caption(f"{len(result.records)} row(s) · {settings_label(made_with, v)} · kernelspec {v.kernelspec}")
                    verdict_alert(result.records)
                    records_table(records_frame(result.records), key=f"factory_versions_table_{index}")

run_both = clicks.run_many_button(
    "factory", current.reruns, "For each recipe: restart the kernel, run the setup cell, then the recipe's cell N times"
)
status_area = st.container()


def recipe_column(slot: str) -> tuple[bool, ResultsView, str | None, object]:
    """One recipe: its exact cell, an optional prediction, its own Run cell button, its results (table, chart, verdict),
    and a place under them for whether the rows confirm the prediction."""
    scenario = SCENARIOS[session.SCENARIO_OF[slot]]
    st.subheader(scenario.title)
    code_block(cells.scenario_cell(scenario.name, current), wrap=True)
    guess = predict.ask("factory", f"{slot}_predict")
    clicked = clicks.run_cell_button(slot)
    view = ResultsView(slot, scenario.recipe(current.engine).title)
    return clicked, view, guess, st.container()


tf_col, full_col = st.columns(2, gap="large")
with tf_col:
    tf_one, tf_view, tf_guess, tf_answer = recipe_column(session.FACTORY_TF)
    with st.container(border=True):
        reference_table(session.SCENARIO_OF[session.FACTORY_TF])
with full_col:
    full_one, full_view, full_guess, full_answer = recipe_column(session.FACTORY_FULL)
for clicked, view in [(tf_one, tf_view), (full_one, full_view)]:
    if clicked:
        with view.status:
            clicks.run_cell(view)
if run_both:
    with status_area:
        clicks.run_many(tf_view, full_view)
predict.answer_from_rows("factory", tf_guess, session.FACTORY_TF, tf_answer)
predict.answer_from_rows("factory", full_guess, session.FACTORY_FULL, full_answer)

for slot, column in zip((session.FACTORY_TF, session.FACTORY_FULL), st.columns(2, gap="large"), strict=True):
    with column:
        export_buttons(slot)

st.subheader("Why the verdicts come out this way")
st.markdown(
    "Since Keras 2.10 ([keras commit 69b41cf](https://github.com/keras-team/keras/commit/69b41cf)) an initializer without a seed "
    "takes one from Python's `random`, which `tf.random.set_seed` never touches and `keras.utils.set_random_seed` resets."
)
pages.link("why", "Why: TensorFlow's seeds and where Keras gets its own, with the sources")
try:
    measured = summary_sentence(load_timeline())
except (OSError, ValueError) as exc:
    measured = f"The committed timeline reports cannot be read: {exc}"
st.markdown(f"Measured release by release (committed reports): {measured}")
st.caption("Which of the two applies to this kernel is what the verdicts above say: they come only from its rows.")
pages.link("versions", "Across versions: both recipes measured on every TensorFlow release since the post")

st.subheader("The post's cell, and the one run here")
st.markdown(
    "Same steps in the same order. The lab writes `learning_rate=` because Keras 3 rejects the old `lr=` argument, "
    "its checksum helper also records a SHA-256 fingerprint next to each sum, and the rest is formatting and names."
)
st.code(article_diff(current), language="diff")

pages.next_page("restart")
