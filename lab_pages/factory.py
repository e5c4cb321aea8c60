"""Factory + reseed: the post's fix (tf.random.set_seed + new model), a full reseed, and the fix plus random.seed, side by
side, each column re-run in a kernel of its own (so they can be explored in any order)."""

from dataclasses import replace

import streamlit as st

from lab_ui import clicks, pages, predict, session
from lab_ui.downloads import export_buttons, load_back
from lab_ui.results_view import ResultsView, code_block, judgement_alert, records_table, reference_table
from lab_ui.sidebar import kernel_choices, params
from repro_core.judgement import judge
from repro_core.kernels.kernelspecs import engine_for, old_tensorflow_kernel
from repro_core.recipes import cells
from repro_core.recipes.settings import StoryParams
from repro_core.results.timeline import load_timeline
from repro_core.validation import Refusal
from repro_core.views.story import article_diff, records_frame, settings_label
from repro_core.views.timeline import summary_sentence
from repro_core.vocabulary import DEFAULT_KERNEL, SCENARIOS, keras_release

PAGE = pages.PAGES["factory"]
ARTICLE_FIX, FULL_SEED, FIX_PLUS_ONE = PAGE.scenarios
current = params()
st.title(PAGE.title)
st.markdown(
    """
The post's fix: build a **new** model in every run with a factory function and call
`tf.random.set_seed` just before. The middle recipe replaces that call with
`keras.utils.set_random_seed`, which seeds Python's `random`, NumPy and TensorFlow together. The third keeps the
post's fix and adds one line, `random.seed`. Each column re-runs its cell in a kernel of its own, so you can press
their buttons in any order: a column's rows always come from re-running that one cell. Each headline says whether the
**initial** weights (before training) repeated, and whether the **trained** ones did.
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
            found = clicks.run_on_versions(ARTICLE_FIX, engines)
            if found:
                session.keep(st.session_state, VERSIONS_KEY, (current, found))
        if (kept := session.kept(st.session_state, VERSIONS_KEY)) is not None:
            made_with, results = kept
            for index, (result, column) in enumerate(zip(results, st.columns(len(results)), strict=True)):
                with column:
                    v = result.versions
                    st.markdown(f"**TensorFlow {v.tensorflow}** · Python {v.python} · {keras_release(v.engine, v.keras)}")
                    st.caption(f"{len(result.records)} row(s) · {settings_label(made_with, v)} · kernelspec {v.kernelspec}")
                    judgement_alert(judge(result.records))
                    records_table(records_frame(result.records), key=f"factory_versions_table_{index}")

run_all = clicks.run_many_button(
    "factory", current.reruns, "For each of the three recipes, in its own kernel: restart it, run the setup cell, then the recipe's "
    "cell N times",
)  # fmt: skip
status_area = st.container()
load_back(PAGE.scenarios, "factory_load")

# What the third recipe adds, in its own words (the other two are the intro's).
CAPTIONS = {
    FIX_PLUS_ONE: "The post's fix plus one line, `random.seed`: since Keras 2.10 an initializer without a seed takes "
    "one from Python's `random`, which `tf.random.set_seed` leaves alone. This reseeds both, nothing else.",
}


def recipe_column(scenario: str) -> tuple[bool, ResultsView, str | None, str, object]:
    """One recipe: its exact cell (built once: the one a click runs), an optional prediction, its Run cell button, its
    results (headline, table, chart), and a place for whether the rows confirm the prediction."""
    preset = SCENARIOS[scenario]
    cell = cells.scenario_cell(scenario, current)
    st.header(preset.title_on(current.backend))  # torch.manual_seed on PyTorch where the article wrote tf.random.set_seed
    if scenario in CAPTIONS:
        st.caption(CAPTIONS[scenario])
    code_block(cell, wrap=True)
    guess = predict.ask("factory", f"{scenario}_predict")
    clicked = clicks.run_cell_button(scenario, "One more Shift-Enter on this cell, in this column's own kernel")
    view = ResultsView(scenario, preset.recipe(current.engine).title_on(current.backend))
    return clicked, view, guess, cell, st.container()


columns = dict(zip(PAGE.scenarios, st.columns(len(PAGE.scenarios), gap="large"), strict=True))
made: dict[str, tuple] = {}
for scenario, column in columns.items():
    with column:
        made[scenario] = recipe_column(scenario)
        if scenario == ARTICLE_FIX:
            with st.container(border=True):
                reference_table(ARTICLE_FIX)
                st.caption("Its trained digits need oneDNN's custom operations on, which TensorFlow 2.9 turns on by default only on "
                           "CPUs with AVX512_VNNI, AVX512_BF16 or AMX; with them off the same cell trains to other digits from the "
                           "9th decimal on (Another machine runs both).")  # fmt: skip
for clicked, view, _guess, cell, _answer in made.values():
    if clicked:
        with view.status:
            clicks.run_cell(view, cell)
if run_all:
    with status_area:
        clicks.run_many(*(view for _clicked, view, *_ in made.values()))
for scenario, (_clicked, _view, guess, _cell, answer_area) in made.items():
    predict.answer_from_rows("factory", guess, scenario, answer_area)

for scenario, column in zip(PAGE.scenarios, st.columns(len(PAGE.scenarios), gap="large"), strict=True):
    with column:
        export_buttons(scenario)

st.header("Why the verdicts come out this way")
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
except (OSError, Refusal) as exc:
    measured = f"The committed timeline reports cannot be read: {exc}"
st.markdown(f"Measured release by release (committed reports): {measured}")
st.caption("Which of the two applies to this kernel is what the verdicts above say: they come only from its rows.")
pages.link("versions", "Across versions: the first two recipes measured on every TensorFlow release since the post")

st.header("The post's cell, and the one run here")
ARTICLE_SETTINGS = replace(StoryParams(), engine=current.engine, backend=current.backend)  # the post's seed and epochs
changed = [f"`{text}`" for text, differs in ((f"tf.random.set_seed({current.seed})", current.seed != ARTICLE_SETTINGS.seed),
                                             (f"epochs={current.epochs}", current.epochs != ARTICLE_SETTINGS.epochs)) if differs]  # fmt: skip
st.markdown(
    "Same steps in the same order, with the post's seed and epochs. The lab writes `learning_rate=` because Keras 3 rejects "
    "the old `lr=` argument, and its checksum helper also records a SHA-256 fingerprint next to each sum; the rest is "
    "formatting and names."
    + (f" With the sidebar's settings, the cells above also say {' and '.join(changed)}." if changed else "")
)
st.code(article_diff(ARTICLE_SETTINGS), language="diff")

pages.next_page("restart")
