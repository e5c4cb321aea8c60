"""Another machine: the same seed under other machine traits (oneDNN on and off, one thread or more, an instruction-set cap),
live on the learner's kernels beside recorded rows: which trait changes the initial and which the trained weights, and
what makes numbers portable between machines."""

import streamlit as st

from lab_ui import clicks, pages, session
from lab_ui.results_view import code_block
from lab_ui.sidebar import params
from repro_core.experiments.machines import MACHINE_SCENARIO
from repro_core.machine import parse_machine_label, presets_for
from repro_core.recipes import cells
from repro_core.recipes.settings import NETWORKS, RERUNS_MAX, network_params, with_machine
from repro_core.results.machines import load_machine_reports
from repro_core.validation import Refusal
from repro_core.views import machines as view
from repro_core.vocabulary import DEFAULT_BACKEND, SCENARIOS

LIVE = "machine_live"  # session state: (the params it ran with, the MachineRun list)
DEFAULT_SETTINGS = ("default", "onednn-off", "threads-1")

current = params()
tensorflow = current.backend == DEFAULT_BACKEND
st.title(pages.PAGES["machine"].title)
st.markdown(
    """
"Same code, same seed, other numbers on my colleague's machine, or in CI." The weights a seeded cell gives depend on
more than the code and the packages: on **which kernels compute**, and machine traits pick them. TensorFlow's
[op determinism](https://www.tensorflow.org/api_docs/python/tf/config/experimental/enable_op_determinism) promises
repeats only "on the same hardware and configuration"; oneDNN repeats within one environment but not across CPU
generations or thread counts ([uxlfoundation/oneDNN#1443](https://github.com/uxlfoundation/oneDNN/issues/1443)); other
GPUs or GPU counts do not match ([tensorflow/tensorflow#38197](https://github.com/tensorflow/tensorflow/issues/38197)).
Here the same seeded cell runs under other machine settings, each in a kernel started for it: **oneDNN's custom
operations** on or off (TensorFlow turns them on by default only on CPUs with AVX512_VNNI, AVX512_BF16, AVX_VNNI or AMX),
**one thread or more**, an **instruction-set cap** for oneDNN. Every switch is written into the setup cell (shown below),
so an exported notebook repeats them.
"""
)

left, right = st.columns(2)
with left:
    network = st.radio("Network", list(NETWORKS), index=1, key="machine_network", horizontal=True,
                       help=" · ".join(f"**{name}**: {n.description}" for name, n in NETWORKS.items()))  # fmt: skip
    reruns = st.number_input("Reruns per setting", min_value=1, max_value=RERUNS_MAX, value=2, step=1, key="machine_reruns",
                             help="Two show that each setting still repeats within itself.")  # fmt: skip
with right:
    offered = presets_for(tensorflow)
    labels = st.pills("Machine settings", offered, selection_mode="multi", default=[s for s in DEFAULT_SETTINGS if s in offered],
                      format_func=lambda label: parse_machine_label(label).words(), key="machine_settings",
                      help="Each setting runs in a kernel of its own: oneDNN's switch and the ISA cap are read when TensorFlow is "
                      "imported. An ISA cap matters only while oneDNN's operations are on.")  # fmt: skip
st.caption(f"Seed **{current.seed}** and engine **{current.engine}** from the sidebar; the cell is {SCENARIOS[MACHINE_SCENARIO].title} "
           f"(it repeats within one kernel on every engine). Kernel: {session.current_kernel(st.session_state)}."
           + ("" if tensorflow else " On this backend only the thread count is a switch."))  # fmt: skip

run_params = None
try:
    run_params = network_params(network, seed=current.seed, reruns=int(reruns), engine=current.engine, backend=current.backend)
    chosen = [parse_machine_label(label) for label in labels or ()]
except Refusal as exc:
    st.error(f"Not run: {exc}", icon=":material/error:")
    chosen = []

if st.button("Run on these machine settings", key="machine_run", icon=":material/memory:", type="primary", disabled=run_params is None):
    if not chosen:
        st.error("Choose at least one machine setting.", icon=":material/error:")
    else:
        found = clicks.run_machines(run_params, chosen)
        if found is not None:
            st.session_state[LIVE] = (run_params, found)

live = st.session_state.get(LIVE)
try:
    recorded = view.recorded_rows(load_machine_reports())
except (OSError, Refusal) as exc:
    recorded = []
    st.error(f"The recorded machine reports cannot be read: {exc}", icon=":material/error:")

with st.container(key="machine_live"):
    st.header("Live, on your lab's kernels")
    if live is None:
        st.info("Not run yet: choose the settings and press **Run on these machine settings**.")
    else:
        live_params, runs = live
        rows = view.live_rows(runs, live_params.network)
        for line in view.findings(rows):
            st.markdown(f"- {line}")
        st.dataframe(view.machine_frame(rows), hide_index=True, width="stretch", key="machine_live_table")
        st.caption("Measured on: " + " · ".join(view.fingerprint_lines(rows)))
        with st.expander("The setup cell of each setting (the switches are written into it)"):
            for run in runs:
                st.markdown(f"**{run.machine.words()}**")
                code_block(cells.story_setup_cell(with_machine(live_params, run.machine)), wrap=True)

with st.container(key="machine_recorded"):
    st.header("Recorded")
    st.markdown("Written with `python -m repro_core machines --reports repro_core/machine_reports` (one report per kernel, network "
                "and setting; any two can go to Compare reports).")  # fmt: skip
    if recorded:
        for line in view.findings(recorded):
            st.markdown(f"- {line}")
        st.dataframe(view.machine_frame(recorded), hide_index=True, width="stretch", key="machine_recorded_table")
        st.caption("Measured on: " + " · ".join(view.fingerprint_lines(recorded)))

st.header("What makes numbers portable, and what does not")
st.markdown(
    """
- **Pinned packages are not enough.** The same TensorFlow, Keras and NumPy give other trained weights when oneDNN's
  operations run on one machine and not on the other: on TensorFlow 2.9, the article's sum −1.2190857985988 needs oneDNN
  on; with it off the same cell gives −1.2190857976675. TensorFlow decides that from the CPU's features unless
  `TF_ENABLE_ONEDNN_OPTS` says otherwise.
- **Write the switches down.** Setting `TF_ENABLE_ONEDNN_OPTS` (and `ONEDNN_MAX_CPU_ISA`) before TensorFlow is imported and
  the thread count before the first op, in the notebook itself, takes that decision away from the machine.
- **Op determinism alone does not.** `tf.config.experimental.enable_op_determinism()` makes a run repeat on one machine
  and configuration; with it on, one and two threads, or another instruction set, still give other trained weights.
- **An instruction-set cap can only lower.** Two machines agree only on an instruction set both have, so pin the
  lower one; no setting makes a CPU run instructions it lacks.
- **Initial weights travel better than trained ones.** Initializers draw from seeded generators; it is training's sums
  that the kernels add in their own order.
- **Reports say where they were measured.** Every report the lab writes carries the kernel's fingerprint (CPU
  features, oneDNN, ISA cap, threads, op determinism, device), and *Compare reports* names the traits two reports differ in.
"""
)

pages.link("compare", "Compare two reports: it names the machine traits they differ in")
pages.next_page("matrix", "Next: the recipe matrix, with machine settings as an axis")
