"""Recipe matrix: model strategy x reseed x engine, each combination in its own kernel, in parallel."""

import streamlit as st

from lab_ui import ui
from repro_core.experiments.matrix import PARALLELISM_MAX, RESEEDS, STRATEGIES, MatrixOptions, default_parallelism, run_matrix
from repro_core.kernels.kernel import KernelError
from repro_core.recipes.settings import ENGINES, EPOCHS_MAX, RERUNS_MAX
from repro_core.views.matrix import matrix_frame, matrix_heatmap

RESULT_KEY = "matrix_result"

current = ui.params()
st.title("Recipe matrix")
st.markdown(
    """
Every combination of **how the model is made** (one global model re-fitted, or a new model from the factory),
**how the cell reseeds** (not at all, `tf.random.set_seed`, or `keras.utils.set_random_seed`) and **which Keras runs it**.
Each combination gets its own freshly started kernel: setup cell, then its cell re-run N times. The verdict comes from
the SHA-256 fingerprints; max |Δ| is the largest absolute difference of any weight between rerun k and rerun 1,
computed inside the kernel. Two more randomness sources can be switched on for the whole grid.
"""
)
for name, text in {**STRATEGIES, **RESEEDS}.items():
    st.caption(f"**{name}** — {text}")

left, right = st.columns(2)
with left:
    st.toggle("fit(shuffle=True)", value=False, key="matrix_shuffle", help="Off passes shuffle=False explicitly.")
    st.toggle("Dropout(0.5) after the first Dense layer", value=False, key="matrix_dropout")
    st.multiselect("Engines", list(ENGINES), default=list(ENGINES), key="matrix_engines")
with right:
    st.number_input("Kernels in parallel", min_value=1, max_value=PARALLELISM_MAX, value=default_parallelism(), step=1, key="matrix_parallelism")
    st.number_input("Reruns per combination", min_value=1, max_value=RERUNS_MAX, value=2, step=1, key="matrix_reruns")
    st.number_input("Epochs", min_value=1, max_value=EPOCHS_MAX, value=3, step=1, key="matrix_epochs")

clicked = st.button("Run matrix", key="matrix_run", icon=":material/grid_view:", type="primary")
status_area = st.container()

if clicked:
    with status_area:
        try:
            options = MatrixOptions(
                reruns=st.session_state.get("matrix_reruns"),
                epochs=st.session_state.get("matrix_epochs"),
                seed=current.seed,
                shuffle=bool(st.session_state.get("matrix_shuffle")),
                dropout=bool(st.session_state.get("matrix_dropout")),
                engines=tuple(st.session_state.get("matrix_engines") or ()),
            )
            total = len(options.combinations())
            bar = st.progress(0.0, text=f"Starting {total} kernels, {st.session_state.get('matrix_parallelism')} at a time")
            status = st.empty()

            def tick(result, done: int, total: int) -> None:
                bar.progress(done / total, text=f"{done} of {total} combinations")
                status.caption(f"Finished {result.combination.name}: {result.verdict} ({result.seconds:.1f} s)")

            st.session_state[RESULT_KEY] = run_matrix(options, parallelism=st.session_state.get("matrix_parallelism"), on_result=tick)
            bar.empty()
            status.empty()
        except (KernelError, ValueError) as exc:
            st.error(ui.error_message(exc) if isinstance(exc, KernelError) else f"Not run: {exc}", icon=":material/error:")

matrix = st.session_state.get(RESULT_KEY)
if matrix is None:
    st.info("No matrix yet: choose the sources and engines, then press **Run matrix**.")
else:
    opts = matrix.options
    st.caption(
        f"{len(matrix.results)} combinations · reruns {opts.reruns} · epochs {opts.epochs} · seed {opts.seed} · "
        f"shuffle {'on' if opts.shuffle else 'off'} · dropout {'on' if opts.dropout else 'off'} · {matrix.seconds:.1f} s"
    )
    frame = matrix_frame(matrix.results)
    st.altair_chart(matrix_heatmap(frame), key="matrix_heatmap")
    st.dataframe(frame, key="matrix_table", hide_index=True, width="stretch")
    with st.expander("The cells each combination re-ran"):
        for result in matrix.results:
            st.markdown(f"**{result.combination.name}**")
            ui.code_block(result.cell, wrap=True)

ui.next_page("lab_pages/home.py", "Back to Home")
