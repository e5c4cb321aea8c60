"""Recipe matrix: a grid over recipes (model x reseed x engine), each in a fresh kernel leased from the pool."""

import streamlit as st

from lab_ui import clicks, pages, session
from lab_ui.results_view import code_block
from lab_ui.sidebar import params
from repro_core.experiments.matrix import DEFAULT_MODELS, PARALLELISM_MAX, MatrixOptions
from repro_core.recipes.settings import EPOCHS_MAX, RERUNS_MAX
from repro_core.views.matrix import matrix_frame, matrix_heatmap
from repro_core.vocabulary import MODELS, RESEEDS, SELECTABLE_ENGINES

RESULT_KEY = "matrix_result"

current = params()
cap = session.pool().cap
st.title(pages.PAGES["matrix"].title)
st.markdown(
    """
A recipe is **how the model is made** (one global model re-fitted, a new model from the factory, or the global model
with its first weights put back), **how the cell reseeds** (not at all, `tf.random.set_seed`, or
`keras.utils.set_random_seed`) and **which Keras runs it**. Each recipe gets a freshly started kernel: setup cell, then
its cell re-run N times. The verdict comes from the SHA-256 fingerprints; max |Δ| is the largest absolute difference of
any weight between rerun k and rerun 1, computed inside the kernel. Two more randomness sources can be switched on.
"""
)
for name, kind in {**MODELS, **RESEEDS}.items():
    st.caption(f"**{name}** — {kind.description}")

left, right = st.columns(2)
with left:
    models = st.multiselect("Models", list(MODELS), default=list(DEFAULT_MODELS), key="matrix_models")
    engines = st.multiselect("Engines", list(SELECTABLE_ENGINES), default=list(SELECTABLE_ENGINES), key="matrix_engines",
                             help=f"The sidebar's engine is {current.engine}; the matrix runs every engine ticked here.")  # fmt: skip
    shuffle = st.toggle("fit(shuffle=True)", value=False, key="matrix_shuffle", help="Off passes shuffle=False explicitly.")
    dropout = st.toggle("Dropout(0.5) after the first Dense layer", value=False, key="matrix_dropout")
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
                                engines=tuple(engines), models=tuple(models))  # fmt: skip
    except ValueError as exc:
        st.error(f"Not run: {exc}", icon=":material/error:")
    else:
        found = clicks.run_matrix(options, parallelism)
        if found is not None:
            st.session_state[RESULT_KEY] = found

matrix = st.session_state.get(RESULT_KEY)
if matrix is None:
    st.info("No matrix yet: choose the models and engines (and, if you like, shuffle, dropout, reruns and epochs), then press **Run matrix**.")
else:
    opts = matrix.options
    st.caption(
        f"{len(matrix.results)} recipes on {matrix.kernels_used} kernel(s) · reruns {opts.reruns} · epochs {opts.epochs} · seed {opts.seed} · "
        f"shuffle {'on' if opts.shuffle else 'off'} · dropout {'on' if opts.dropout else 'off'} · {matrix.seconds:.1f} s"
    )
    frame = matrix_frame(matrix.results)
    st.altair_chart(matrix_heatmap(frame), key="matrix_heatmap")
    st.dataframe(frame, key="matrix_table", hide_index=True, width="stretch")
    with st.expander("The cells each recipe re-ran"):
        for result in matrix.results:
            st.markdown(f"**{result.recipe.name}**")
            code_block(result.cell, wrap=True)

pages.next_page("home", "Back to Home")
