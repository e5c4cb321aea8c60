"""Factory + reseed: the post's fix (tf.random.set_seed + new model) next to a full reseed."""

import streamlit as st

from lab_ui import session, ui
from repro_core.recipes import cells
from repro_core.results.timeline import load_timeline
from repro_core.views.story import article_diff
from repro_core.views.timeline import summary_sentence

current = ui.params()
st.title("Factory + reseed")
st.markdown(
    """
The post's fix: build a **new** model in every run with a factory function and call
`tf.random.set_seed` just before. The right-hand recipe replaces that call with
`keras.utils.set_random_seed`, which seeds Python's `random`, NumPy and TensorFlow together.
Both run in the session's kernel; each recipe is its own notebook (switching recipe restarts the kernel).
"""
)

run_both = ui.run_many_button(
    "factory_run_many", current.reruns, "For each recipe: restart the kernel, run the setup cell, then the recipe's cell N times"
)
status_area = st.container()



def recipe_column(slot: str, scenario: str, key: str, title: str, chart_title: str) -> tuple[bool, object, ui.ResultsView]:
    """One recipe: its exact cell, its own Run cell button, and its results (table, chart, verdict)."""
    st.subheader(title)
    ui.code_block(cells.scenario_cell(scenario, current), wrap=True)
    clicked = st.button("Run cell", key=f"{key}_run_cell", icon=":material/play_arrow:")
    status = st.container()
    view = ui.ResultsView(slot, f"{key}_results", chart_title=chart_title)
    view.draw()
    return clicked, status, view


tf_col, full_col = st.columns(2, gap="large")
with tf_col:
    tf_one, tf_status, tf_view = recipe_column(
        session.FACTORY_TF, "factory-tf-seed", "factory_tf", "tf.random.set_seed (the post's fix)", "factory + tf.random.set_seed"
    )
    with st.container(border=True):
        ui.reference_table("factory-tf-seed")
with full_col:
    full_one, full_status, full_view = recipe_column(
        session.FACTORY_FULL, "factory-full-seed", "factory_full", "keras.utils.set_random_seed", "factory + keras.utils.set_random_seed"
    )

if tf_one:
    with tf_status:
        ui.run_cell(session.FACTORY_TF, tf_view)
if full_one:
    with full_status:
        ui.run_cell(session.FACTORY_FULL, full_view)
if run_both:
    with status_area:
        total = 2 * current.reruns
        bar = st.progress(0.0, text="Starting")
        done = [0]

        def tick(record) -> None:
            done[0] += 1
            bar.progress(done[0] / total, text=f"{done[0]} of {total} reruns · {record.scenario} rerun {record.rerun}")

        if ui.run_many(session.FACTORY_TF, tf_view, tick):
            ui.run_many(session.FACTORY_FULL, full_view, tick)
        bar.empty()

tf_exports, full_exports = st.columns(2, gap="large")
with tf_exports:
    ui.export_buttons(session.FACTORY_TF, title="Factory + tf.random.set_seed (the post's fix)")
with full_exports:
    ui.export_buttons(session.FACTORY_FULL, title="Factory + keras.utils.set_random_seed")

st.subheader("Why the verdicts come out this way")
st.markdown(
    """
Up to Keras 2.9, a layer whose initializer has no seed draws its weights from TensorFlow's global seed and op
counter, which `tf.random.set_seed` resets: the post's fix then gives the same start every time. Keras 2.10
([keras commit 69b41cf](https://github.com/keras-team/keras/commit/69b41cf), "Update keras initializer to be
fully stateless") takes such a seed from **Python's `random`** when the layer is built (Keras 3: `make_default_seed()`
in [keras/src/random/seed_generator.py](https://github.com/keras-team/keras/blob/master/keras/src/random/seed_generator.py)),
which `tf.random.set_seed` never touches, while `keras.utils.set_random_seed` resets all three generators. Users ran
into this in [tensorflow/tensorflow#57763](https://github.com/tensorflow/tensorflow/issues/57763),
[keras-team/keras#18244](https://github.com/keras-team/keras/issues/18244) and
[keras-team/keras#22620](https://github.com/keras-team/keras/issues/22620).
"""
)
try:
    measured = summary_sentence(load_timeline())
except (OSError, ValueError) as exc:
    measured = f"The committed timeline reports cannot be read: {exc}"
st.markdown(f"Measured release by release (committed reports): {measured}")
st.caption("Which of the two applies to this kernel is what the verdicts above say: they come only from its rows.")
st.page_link("lab_pages/versions.py", label="Across versions: both recipes measured on every TensorFlow release since the post",
             icon=":material/timeline:")  # fmt: skip

st.subheader("The post's cell, and the one run here")
st.markdown(
    "Same steps in the same order. The lab writes `learning_rate=` because Keras 3 rejects the old `lr=` argument, "
    "its checksum helper also records a SHA-256 fingerprint next to each sum, and the rest is formatting and names."
)
st.code(article_diff(current), language="diff")

ui.next_page("lab_pages/restart.py", "Next: Restart the kernel")
