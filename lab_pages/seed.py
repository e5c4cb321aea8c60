"""Seed the notebook: the setup cell the kernel runs first, and what each seeding line does."""

import streamlit as st

from lab_ui import clicks, pages, session
from lab_ui.results_view import code_block
from lab_ui.sidebar import params
from repro_core.recipes import cells
from repro_core.records import KernelVersions
from repro_core.vocabulary import backend_release

current = params()

st.title(pages.PAGES["seed"].title)
st.markdown(
    """
Every kernel this lab starts runs the cell below first. It is the post's start-of-notebook
block, plus the data, the model factory `MLP()`, a checksum helper and one global model.
This is the exact text the kernel executes (the sidebar's seed sets `tf.random.set_seed`; the first block's
`random.seed` and `np.random.seed` keep the article's 123).
"""
)
code_block(cells.story_setup_cell(current))

st.header("Line by line")
SEEDING = [  # line | what it seeds | what it does not do
    '`os.environ["PYTHONHASHSEED"] = "0"` | Only the environment inherited by processes this kernel starts later. '
    "| Python fixes its string-hash salt when the interpreter starts, so this kernel keeps hashing as before. "
    "Keras and TensorFlow do not use `hash()` for weights anyway.",
    f"`np.random.seed({cells.NOTEBOOK_NUMPY_SEED})` | NumPy's legacy global generator (`np.random.*`). "
    "| Keras does not draw initial weights from NumPy; it only matters for your own NumPy randomness.",
    f"`random.seed({cells.NOTEBOOK_PYTHON_SEED})` | Python's `random` module. | Nothing in TensorFlow's own ops. "
    "But since Keras 2.10 this is where an initializer without a seed gets its seed from (see *Why*).",
    f"`tf.random.set_seed({current.seed})` | TensorFlow's global seed: random ops without their own seed derive one from it and a per-op counter. "
    "| Python's `random` and NumPy. And Keras >= 2.10 initializers build stateless ops with seeds of their own, which this line never reaches.",
]
table = ["| line | what it seeds | what it does not do |", "|---|---|---|", *(f"| {row} |" for row in SEEDING)]
st.markdown("\n".join(table))
facts = st.empty()  # filled after the button below: it must describe the kernel a click just set up


def kernel_facts(versions: KernelVersions | None) -> str:
    """What the running kernel reports about the two things no seeding line controls."""
    if versions is None:
        hash_line = "not known yet — the kernel has not started. Run the setup cell below, or any cell on the next pages."
        determinism = "not known yet"
    else:
        hash_line = (
            f"**{'on' if versions.hash_randomization else 'off'}** in this kernel (Python {versions.python}, "
            f"read back with `sys.flags.hash_randomization` after the setup cell ran)."
        )
        determinism = "on" if versions.op_determinism else "off"
    return f"""
Hash randomisation of the running kernel: {hash_line}

Not seeded by any of these lines: nondeterministic GPU kernels (the kernel reports op determinism **{determinism}**),
and anything that depends on thread timing.
"""


# The setup cell runs in the kernel of the next page's cell (Rerun drift), as it would at the top of a notebook.
LANE = pages.PAGES["drift"].scenarios[0]
if st.button("Run the setup cell", key="seed_run_setup", help="Start (or restart) the kernel of the next page's cell and run the setup cell"):
    runner = clicks.restart_kernel(LANE)
    if runner is not None and runner.versions is not None:
        st.success(
            f"Setup cell done in kernel start #{runner.kernel_starts}: hash randomization is "
            f"{'on' if runner.versions.hash_randomization else 'off'}, {backend_release(runner.versions.backend, runner.versions.backend_release)}."
        )
runner = session.last_runner(st.session_state)
facts.markdown(kernel_facts(runner.versions if runner is not None else None))

with st.expander("How the lab reads the kernel's versions back"):
    st.markdown("After the setup cell, the kernel runs this cell; the sidebar card shows what it reports.")
    code_block(cells.ENVIRONMENT_CELL)

pages.next_page("drift")
