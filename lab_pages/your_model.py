"""Your model: describe a small dense network, pick a recipe, and audit which weights move between reruns."""

from __future__ import annotations

import streamlit as st

from lab_ui import clicks, pages, session
from lab_ui.downloads import audit_notebook_button
from lab_ui.results_view import code_block, judgement_alert, records_table
from lab_ui.sidebar import params
from lab_ui.widgets import edited, kept, layers_from_rows, remember
from repro_core.experiments.audit import Audit
from repro_core.judgement import judge
from repro_core.recipes import cells
from repro_core.recipes.model_spec import ACTIVATIONS, FEATURES_MAX, KINDS, LAYERS_MAX, OPTIMIZERS, SAMPLES_MAX, ModelSpec
from repro_core.recipes.settings import BATCH_MAX, EPOCHS_MAX, RERUNS_MAX, SEED_MAX
from repro_core.validation import Refusal, whole_number
from repro_core.views.audit import COL_DELTA_AFTER, COL_DELTA_BEFORE, diff_heatmap, layer_table
from repro_core.views.story import records_frame
from repro_core.vocabulary import DEFAULT_BACKEND, MODELS, RESEEDS, SELECTABLE_ENGINES, backend_label, backend_release

# Largest differences in scientific notation: a default 4-decimal column would show a 1e-7 drift as 0.0000.
DELTA_CONFIG = {name: st.column_config.NumberColumn(name, format="%.3e") for name in (COL_DELTA_BEFORE, COL_DELTA_AFTER)}
RESULT = "model_result"  # kept in the lab: the last AuditResult
DEFAULT = ModelSpec()
# The default recipe drifts (as a chain) on every TensorFlow release measured, so a first audit shows moving weights.
DEFAULT_MODEL, DEFAULT_RESEED = "global", "tf"
# Five of the nine seed switches keep the radio readable: none, each generator the story turns on, the article's fix plus
# random.seed, and Keras's own; every switch is on the Recipe matrix page.
OFFERED_RESEEDS = ("none", "python", "tf", "python-tf", "full")
current = params()
state = st.session_state
HANDOFF = "train_handoff"  # Your training's input: a script built from this page's spec


def k(key: str, default: object, follows: bool = False) -> str:
    """A widget key whose value survives visits to other pages (and, with `follows`, tracks the sidebar until edited)."""
    KEYS.append(key)
    return kept(state, key, default, follows)


KEYS: list[str] = []

st.title(pages.PAGES["your_model"].title)
st.markdown(
    """
Describe a small dense network and how it is trained, pick a recipe (how the cell reseeds and makes the model),
and the lab re-runs the training cell in a fresh kernel. It then compares **every layer's weights** with rerun 1,
inside the kernel. Nothing you type here is run as code: the values are checked, and the cells below are built only
from those checked values.
"""
)

st.header("Layers")
st.caption(f"Dense or dropout layers, in order (1 to {LAYERS_MAX}); a Dense(1) output layer is always added. Loss: mean squared error.")
n_layers = st.number_input("Number of layers", step=1, key=k("model_n_layers", len(DEFAULT.layers)), help=f"1 to {LAYERS_MAX}")
layer_rows: list[dict] = []
shown = int(n_layers) if isinstance(n_layers, (int, float)) and 1 <= n_layers <= LAYERS_MAX else len(DEFAULT.layers)
for index in range(shown):
    preset = DEFAULT.layers[index].to_dict() if index < len(DEFAULT.layers) else {"kind": "dense", "units": 4, "activation": "relu"}
    kind_col, units_col, act_col, rate_col = st.columns(4)
    kind = kind_col.selectbox(f"Layer {index + 1}", KINDS, key=k(f"model_kind_{index}", preset["kind"]))
    units = units_col.number_input("units", step=1, key=k(f"model_units_{index}", int(preset.get("units", 4))), disabled=kind != "dense")
    activation = act_col.selectbox("activation", ACTIVATIONS, key=k(f"model_act_{index}", preset.get("activation", "relu")),
                                   disabled=kind != "dense")  # fmt: skip
    rate = rate_col.number_input("dropout rate", step=0.05, key=k(f"model_rate_{index}", float(preset.get("rate", 0.2))),
                                 disabled=kind != "dropout")  # fmt: skip
    layer_rows.append({"kind": kind, "units": units, "activation": activation, "rate": rate})

st.header("Training and data")
left, middle, right = st.columns(3)
optimizer = left.selectbox("Optimizer", OPTIMIZERS, key=k("model_optimizer", DEFAULT.optimizer))
learning_rate = left.number_input("Learning rate", format="%.5f", step=0.0005, key=k("model_lr", DEFAULT.learning_rate), help="in (0, 1]")
batch_size = left.number_input("Batch size", step=1, key=k("model_batch", DEFAULT.batch_size), help=f"1 to {BATCH_MAX}")
epochs = left.number_input("Epochs", step=1, key=k("model_epochs", current.epochs, follows=True), on_change=edited(state, "model_epochs"),
                           help=f"1 to {EPOCHS_MAX}; the sidebar's epochs until you change it here")  # fmt: skip
shuffle = middle.toggle("Shuffle in fit", key=k("model_shuffle", DEFAULT.shuffle), help="fit(shuffle=True) uses tf.random.shuffle")
validation_split = middle.number_input("Validation split", step=0.05, key=k("model_split", DEFAULT.validation_split), help="0 to 0.5")
samples = middle.number_input("Samples", step=1, key=k("model_samples", DEFAULT.samples), help=f"1 to {SAMPLES_MAX}")
features = middle.number_input("Features", step=1, key=k("model_features", DEFAULT.features), help=f"1 to {FEATURES_MAX}")
data_seed = right.number_input("Data seed", step=1, key=k("model_data_seed", DEFAULT.data_seed), help=f"RandomState seed, 0 to {SEED_MAX}")
op_determinism = right.toggle("Op determinism", key=k("model_op_determinism", DEFAULT.op_determinism),
                              help="The setup cell calls tf.config.experimental.enable_op_determinism(). It cannot be switched off "
                              "in a running kernel, which is one reason every audit runs in a fresh kernel.")  # fmt: skip
engine = right.selectbox(f"Keras engine (sidebar: {current.engine})", SELECTABLE_ENGINES,
                         key=k("model_engine", current.engine if current.engine in SELECTABLE_ENGINES else SELECTABLE_ENGINES[0]))  # fmt: skip
reseed_col, model_col, reruns_col = st.columns([3, 3, 1])
reseed = reseed_col.radio("How the cell reseeds", OFFERED_RESEEDS, key=k("model_reseed", DEFAULT_RESEED),
                          format_func=lambda name: RESEEDS[name].code(), captions=[cells.reseed_words(name) for name in OFFERED_RESEEDS],
                          help="The seed switches most worth auditing; the Recipe matrix page offers all nine.")  # fmt: skip
model_way = model_col.radio("How the model is made", list(MODELS), key=k("model_way", DEFAULT_MODEL),
                            captions=[k.description for k in MODELS.values()])  # fmt: skip
reruns = reruns_col.number_input("Reruns", step=1, key=k("model_reruns", current.reruns, follows=True), on_change=edited(state, "model_reruns"),
                                 help=f"1 to {RERUNS_MAX}; the sidebar's reruns until you change it here")  # fmt: skip
remember(state, *KEYS)
st.caption(f"The reseed line uses the sidebar's seed, **{current.seed}**.")

audit: Audit | None = None
try:
    whole_number("number of layers", n_layers, 1, LAYERS_MAX)
    spec = ModelSpec(
        layers=layers_from_rows(layer_rows), optimizer=optimizer, learning_rate=learning_rate, batch_size=batch_size, epochs=epochs,
        shuffle=shuffle, validation_split=validation_split, samples=samples, features=features, data_seed=data_seed,
        op_determinism=op_determinism, engine=engine,
    )  # fmt: skip
    audit = Audit(spec, reseed=reseed, model=model_way, reruns=reruns, seed=current.seed)
except Refusal as exc:
    st.error(f"Not a valid model: {exc}", icon=":material/error:")

if audit is not None:
    st.header("The cell that runs before each rerun")
    code_block(audit.cell(), "The exact cell the kernel executes (copy it into your notebook after the setup cell):")
    with st.expander("Setup cells (run once per audit, in a freshly started kernel)"):
        for source in audit.setup():
            code_block(source)
    if st.button("Diagnose it step by step on Your training", key="model_to_training", icon=":material/troubleshoot:",
                 help="Your training runs this model's setup and cell as one script, twice, and finds the first step where the runs part"):
        session.keep(state, HANDOFF, (audit.script(), "your_model.py"))
        state["train_source"] = state["kept_train_source"] = "spec"
        st.switch_page(pages.PAGES["your_training"].path)
    if audit.spec.op_determinism and audit.reseed == "none":
        st.warning("Op determinism with reseed none: TensorFlow refuses unseeded random ops, so expect the cell to raise (unless shuffle is off).")

on_tensorflow = current.backend == DEFAULT_BACKEND  # the audit's cells are TensorFlow's (op determinism, tf.keras)
if not on_tensorflow:
    st.info(f"The audit runs on TensorFlow kernels only; the sidebar's kernel runs Keras on {backend_label(current.backend)}. "
            "Pick a TensorFlow kernel in the sidebar to audit your model.", icon=":material/info:")  # fmt: skip
run = st.button("Run audit", key="model_run", icon=":material/play_arrow:", disabled=audit is None or not on_tensorflow,
                help="Lease a fresh kernel and run the audit")  # fmt: skip
results = st.container(key="model_results")
if run and audit is not None:
    found = clicks.run_audit(audit)
    if found is not None:
        session.keep(st.session_state, RESULT, found)

result = session.kept(st.session_state, RESULT)
with results:
    if result is None:
        st.caption("No audit yet: press Run audit.")
    else:
        if audit is not None and result.audit != audit:
            st.warning("These results were computed with other settings; run the audit again to refresh.")
        if result.versions is not None:
            v = result.versions
            st.caption(
                f"Kernel: Python {v.python} · {backend_release(v.backend, v.backend_release)} · {v.engine} {v.keras} · "
                f"op determinism **{'on' if v.op_determinism else 'off'}** (reported by the kernel) · recipe **{result.audit.recipe.title}**"
            )
        if result.error:
            st.error(result.error, icon=":material/error:")
        if result.records:
            judgement_alert(judge(result.records))
            records_table(records_frame(result.records), key="model_records")
        if result.table:
            st.markdown("**Every layer's weights compared with rerun 1** (largest absolute difference over all reruns)")
            st.dataframe(layer_table(result.table), hide_index=True, width="stretch", key="model_table", column_config=DELTA_CONFIG)
        if result.diffs:
            names = list(result.diffs)
            pick = st.selectbox("Weight for the heatmap", names, index=names.index(result.default_layer), key="model_layer_pick")
            st.altair_chart(diff_heatmap(result.diffs[pick], f"{pick}: rerun 2 − rerun 1, after training"), width="stretch")
        elif result.records and len(result.records) < 2:
            st.caption("One rerun only: nothing to compare yet.")
        audit_notebook_button(result)
