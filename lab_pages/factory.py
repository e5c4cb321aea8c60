"""Factory + reseed: the post's fix (tf.random.set_seed + new model), a full reseed, and the fix plus random.seed, side by side."""

import streamlit as st

from lab_ui import clicks, pages, predict, session
from lab_ui.downloads import export_buttons
from lab_ui.results_view import ResultsView, code_block, records_table, reference_table, verdict_alert
from lab_ui.sidebar import kernel_choices, params
from repro_core.kernels.kernelspecs import engine_for, old_tensorflow_kernel
from repro_core.recipes import cells
from repro_core.records import repeats_words, row_groups
from repro_core.results.timeline import load_timeline
from repro_core.views.story import article_diff, records_frame, settings_label
from repro_core.views.timeline import summary_sentence
from repro_core.vocabulary import DEFAULT_KERNEL, SCENARIOS, SPANS_KERNEL_STARTS, engine_label

current = params()
st.title(pages.PAGES["factory"].title)
st.markdown(
    """
The post's fix: build a **new** model in every run with a factory function and call
`tf.random.set_seed` just before. The middle recipe replaces that call with
`keras.utils.set_random_seed`, which seeds Python's `random`, NumPy and TensorFlow together. The third keeps the
post's fix and adds one line, `random.seed`. All three run in the session's kernel; each recipe is its own notebook
(switching recipe restarts the kernel). Under each table: did the **initial** weights (before training) repeat, and did
the **trained** ones?
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
    "factory", current.reruns, "For the post's fix and keras.utils.set_random_seed: restart the kernel, run the setup cell, then the "
    "recipe's cell N times (the third recipe has its own buttons)",
)  # fmt: skip
status_area = st.container()

# What the third recipe adds, in its own words (the other two are the intro's).
CAPTIONS = {
    session.FACTORY_PYTHON_TF: "The post's fix plus one line, `random.seed`: since Keras 2.10 an initializer without a seed takes "
    "one from Python's `random`, which `tf.random.set_seed` leaves alone. This reseeds both, nothing else.",
}


def recipe_column(slot: str) -> tuple[bool, bool, ResultsView, str | None, object, object]:
    """One recipe: its exact cell, an optional prediction, its own Run cell button (the third recipe also its own Run N times),
    its results (table, chart, verdict), a place for which weights repeated, and one for whether the rows confirm the prediction."""
    scenario = SCENARIOS[session.SCENARIO_OF[slot]]
    st.subheader(scenario.title_on(current.backend))  # torch.manual_seed on PyTorch where the article wrote tf.random.set_seed
    if slot in CAPTIONS:
        st.caption(CAPTIONS[slot])
    code_block(cells.scenario_cell(scenario.name, current), wrap=True)
    guess = predict.ask("factory", f"{slot}_predict")
    clicked = clicks.run_cell_button(slot)
    many = slot == session.FACTORY_PYTHON_TF and clicks.run_many_button(
        slot, current.reruns, "Restart the kernel, run the setup cell, then this recipe's cell N times"
    )
    view = ResultsView(slot, scenario.recipe(current.engine).title_on(current.backend))
    return clicked, many, view, guess, st.container(key=f"{slot}_repeats"), st.container()


def repeats_line(slot: str, where) -> None:
    """Which half repeated in the rows the headline judges (the newest kernel start's group): records.repeats, in its words."""
    rows = session.get_rows(st.session_state, slot)
    if rows is None or not rows.records:
        return
    newest = row_groups(rows.records, SPANS_KERNEL_STARTS)[-1]
    where.markdown(f"**Initial and trained weights:** {repeats_words(newest.repeats)} ({len(newest.records)} rerun(s) compared).")


SLOTS = (session.FACTORY_TF, session.FACTORY_FULL, session.FACTORY_PYTHON_TF)
columns = dict(zip(SLOTS, st.columns(len(SLOTS), gap="large"), strict=True))
made: dict[str, tuple] = {}
for slot, column in columns.items():
    with column:
        made[slot] = recipe_column(slot)
        if slot == session.FACTORY_TF:
            with st.container(border=True):
                reference_table(session.SCENARIO_OF[session.FACTORY_TF])
                st.caption("Its trained digits need oneDNN's custom operations on, which TensorFlow 2.9 turns on by default only on "
                           "CPUs with AVX512_VNNI, AVX512_BF16 or AMX; off, the same cell gives -1.2190857976675 (see Another machine).")  # fmt: skip
for clicked, many, view, *_ in made.values():
    if clicked:
        with view.status:
            clicks.run_cell(view)
    if many:
        with view.status:
            clicks.run_many(view)
if run_both:
    with status_area:
        clicks.run_many(made[session.FACTORY_TF][2], made[session.FACTORY_FULL][2])
for slot, (*_, guess, repeats_area, answer_area) in made.items():
    repeats_line(slot, repeats_area)
    predict.answer_from_rows("factory", guess, slot, answer_area)

for slot, column in zip(SLOTS, st.columns(len(SLOTS), gap="large"), strict=True):
    with column:
        export_buttons(slot)

st.subheader("Why the verdicts come out this way")
st.markdown(
    "Since Keras 2.10 ([keras commit 69b41cf](https://github.com/keras-team/keras/commit/69b41cf)) an initializer without a seed "
    "takes one from Python's `random`, which `tf.random.set_seed` never touches and `keras.utils.set_random_seed` resets; "
    "the third recipe's `random.seed` resets it too. Training's shuffle takes its seed from TensorFlow's global seed; set once "
    "at the top of the notebook, as here, it shuffles the same way in every fit. The Recipe matrix has `random.seed` alone "
    "and every other switch, each judged on the initial and the trained weights apart."
)
pages.link("why", "Why: TensorFlow's seeds and where Keras gets its own, with the sources")
try:
    measured = summary_sentence(load_timeline())
except (OSError, ValueError) as exc:
    measured = f"The committed timeline reports cannot be read: {exc}"
st.markdown(f"Measured release by release (committed reports): {measured}")
st.caption("Which of the two applies to this kernel is what the verdicts above say: they come only from its rows.")
pages.link("versions", "Across versions: the first two recipes measured on every TensorFlow release since the post")

st.subheader("The post's cell, and the one run here")
st.markdown(
    "Same steps in the same order. The lab writes `learning_rate=` because Keras 3 rejects the old `lr=` argument, "
    "its checksum helper also records a SHA-256 fingerprint next to each sum, and the rest is formatting and names."
)
st.code(article_diff(current), language="diff")

pages.next_page("restart")
