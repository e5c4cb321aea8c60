"""Recipe matrix: a grid over recipes (model x seed switch x engine), each in a fresh kernel leased from the pool."""

import streamlit as st

from lab_ui import clicks, pages, session
from lab_ui.results_view import code_block
from lab_ui.sidebar import params
from repro_core.experiments.matrix import DEFAULT_MODELS, PARALLELISM_MAX, MatrixOptions
from repro_core.machine import parse_machine_label, presets_for
from repro_core.recipes import cells
from repro_core.recipes.settings import EPOCHS_MAX, NETWORKS, RERUNS_MAX
from repro_core.validation import Refusal
from repro_core.views.matrix import COL_INITIAL, COL_TRAINED, matrix_frame, matrix_heatmap
from repro_core.vocabulary import (
    BACKENDS,
    DEFAULT_BACKEND,
    DEFAULT_RESEEDS,
    GENERATORS,
    MODELS,
    RESEEDS,
    SELECTABLE_ENGINES,
    engine_label,
    seed_code,
)

RESULT_KEY = "matrix_result"


def switches_help(backend: str) -> str:
    """Each switch in the words its cell's first comment says (cells.reseed_words), on this kernel's backend."""
    lines = "\n".join(f"- **{reseed.code(backend)}**: {cells.reseed_words(name, backend)}" for name, reseed in RESEEDS.items())
    return f"Each one picked is a row of the grid per model; the cell reseeds with the sidebar's seed.\n\n{lines}"


def generators_caption(backend: str) -> str:
    """What the words on the switches stand for: one generator each (the backend's own seed, or a note that JAX has none)."""
    found = BACKENDS[backend]
    words = {**{name: kind.description for name, kind in GENERATORS.items()},
             "backend": f"{found.label}'s global seed" if found.seed_call else "the cell says so and seeds nothing there"}  # fmt: skip
    parts = [f"**{seed_code(name, backend)}** — {words[name]}" for name in GENERATORS]
    return f"A switch reseeds the generators its label names: {' · '.join(parts)} · **keras.utils.set_random_seed** — all of them in one call."


current = params()
cap = session.pool().cap
backend = current.backend  # the sidebar's kernel's (kernelspecs.backend_for): the cells are written for it
st.title(pages.PAGES["matrix"].title)
st.markdown(
    f"""
A recipe is **how the model is made** (one global model re-fitted, a new model from the factory, or the global model
with its first weights put back), **which generators the cell reseeds** (the seed switches: Python's `random`, NumPy,
{BACKENDS[backend].label}'s own seed, any set of them, or `keras.utils.set_random_seed` for all at once) and **which Keras runs
it**. Each recipe gets a freshly started kernel: setup cell, then its cell re-run N times. The verdict comes from the
SHA-256 fingerprints, and two columns say apart whether the **initial** weights (before training) and the **trained**
weights repeated: a switch can fix the first and not the second (on JAX, reseeding `random` alone does). Max |Δ| is
the largest absolute difference of any weight between rerun k and rerun 1, computed inside the kernel. Two more
randomness sources can be switched on.
"""
)
for name, kind in MODELS.items():
    st.caption(f"**{name}** — {kind.description}")

with st.container(key="matrix_switches"):
    chosen = st.pills("Seed switches: what each recipe's cell reseeds before it builds and fits", list(RESEEDS), selection_mode="multi",
                      default=list(DEFAULT_RESEEDS), format_func=lambda name: RESEEDS[name].code(backend), key="matrix_reseeds",
                      help=switches_help(backend))  # fmt: skip
    st.caption(generators_caption(backend))
reseeds = tuple(name for name in RESEEDS if name in (chosen or ()))

offered = list(SELECTABLE_ENGINES) if backend == DEFAULT_BACKEND else ["keras3"]  # only Keras 3 runs on JAX and PyTorch
left, right = st.columns(2)
with left:
    models = st.multiselect("Models", list(MODELS), default=list(DEFAULT_MODELS), key="matrix_models")
    engines = st.multiselect("Engines", offered, default=offered, key="matrix_engines", format_func=engine_label,
                             help=f"The sidebar's engine is {engine_label(current.engine)}; the matrix runs every engine ticked here.")  # fmt: skip
    shuffle = st.toggle("fit(shuffle=True)", value=False, key="matrix_shuffle", help="Off passes shuffle=False explicitly.")
    dropout = st.toggle("Dropout(0.5) after the first Dense layer", value=False, key="matrix_dropout")
    network = st.radio("Network", list(NETWORKS), key="matrix_network", horizontal=True, help=" · ".join(
        f"**{name}**: {n.description}" for name, n in NETWORKS.items()))  # fmt: skip
    machine_labels = st.pills("Machine settings (an axis: each recipe runs once per setting)", presets_for(backend == DEFAULT_BACKEND),
                              selection_mode="multi", default=["default"], key="matrix_machines",
                              format_func=lambda label: parse_machine_label(label).words(),
                              help="oneDNN's switch and the ISA cap are read when TensorFlow is imported: each setting gets kernels "
                              "of its own. Threads and instruction sets show on the wide network; the article's 21 weights hide them.")  # fmt: skip
with right:
    parallelism = st.number_input(
        "Kernels in parallel (at most)", min_value=1, max_value=PARALLELISM_MAX, value=min(2, cap), step=1, key="matrix_parallelism",
        help=f"This server lends at most {cap} kernels at once to all visitors; the matrix gets as many as are free.",
    )  # fmt: skip
    reruns = st.number_input(f"Reruns per recipe (sidebar: {current.reruns})", min_value=1, max_value=RERUNS_MAX, value=2, step=1,
                             key="matrix_reruns")  # fmt: skip
    epochs = st.number_input(f"Epochs per rerun (sidebar: {current.epochs})", min_value=1, max_value=EPOCHS_MAX, value=3, step=1,
                             key="matrix_epochs")  # fmt: skip
st.caption(f"Seed **{current.seed}** from the sidebar. Reruns and epochs are the matrix's own (a grid trains many models).")

if st.button("Run matrix", key="matrix_run", icon=":material/grid_view:", type="primary"):
    try:
        options = MatrixOptions(reruns=reruns, epochs=epochs, seed=current.seed, shuffle=shuffle, dropout=dropout,
                                engines=tuple(engines), models=tuple(models), reseeds=reseeds, backend=backend, network=network,
                                machines=tuple(parse_machine_label(label) for label in machine_labels or ()))  # fmt: skip
    except Refusal as exc:
        st.error(f"Not run: {exc}", icon=":material/error:")
    else:
        found = clicks.run_matrix(options, parallelism)
        if found is not None:
            session.keep(st.session_state, RESULT_KEY, found)

matrix = session.kept(st.session_state, RESULT_KEY)
if matrix is None:
    st.info("No matrix yet: choose the sources of randomness to reseed (the seed switches), the models and the engines (and, if you "
            "like, shuffle, dropout, reruns and epochs), then press **Run matrix**.")  # fmt: skip
else:
    opts = matrix.options
    st.caption(
        f"{len(matrix.results)} recipes on {matrix.kernels_used} kernel(s) · Keras on {BACKENDS[opts.backend].label} · reruns {opts.reruns} · "
        f"epochs {opts.epochs} · seed {opts.seed} · shuffle {'on' if opts.shuffle else 'off'} · dropout {'on' if opts.dropout else 'off'} · "
        f"network {opts.network} · machine settings: {', '.join(m.words() for m in opts.machines)} · {matrix.seconds:.1f} s"
    )
    frame = matrix_frame(matrix.results)
    st.altair_chart(matrix_heatmap(frame), key="matrix_heatmap")
    st.dataframe(frame, key="matrix_table", hide_index=True, width="stretch", column_config={
        COL_INITIAL: st.column_config.TextColumn(COL_INITIAL, help="Did every rerun start from rerun 1's weights (SHA-256 before training)?"),
        COL_TRAINED: st.column_config.TextColumn(COL_TRAINED, help="Did every rerun end with rerun 1's weights (SHA-256 after training)?"),
    })  # fmt: skip
    with st.expander("The setup cell, per machine setting (the switches are written into it)"):
        for machine in opts.machines:
            st.markdown(f"**{machine.words()}** · engine {opts.engines[0]}")
            code_block(opts.setup(opts.engines[0], machine)[0], wrap=True)
    with st.expander("The cells each recipe re-ran"):
        for result in matrix.results:
            st.markdown(f"**{result.recipe.name}** · {result.machine.words()}")
            code_block(result.cell, wrap=True)

pages.next_page("home", "Back to Home")
