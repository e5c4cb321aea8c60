"""The sidebar every page shares: the run settings, the kernel picker and the card of what the kernel reports."""

from __future__ import annotations

import streamlit as st

from lab_ui import session
from lab_ui.server import hosting
from repro_core.kernels.kernelspecs import KernelSpecInfo, backend_for, kernel_labels, kernelspecs
from repro_core.recipes import cells
from repro_core.recipes.settings import EPOCHS_MAX, RERUNS_MAX, SEED_MAX, StoryParams
from repro_core.views.story import settings_label
from repro_core.vocabulary import (
    BACKENDS,
    DEFAULT_BACKEND,
    DEFAULT_KERNEL,
    DEFAULT_SEED,
    ENGINES,
    SELECTABLE_ENGINES,
    backend_release,
    engine_label,
    keras_release,
)

REJECTED = "lab_rejections_this_run"


def first_rejection(message: str) -> bool:
    """True the first time this script run refuses a click for `message`: one alert per rejection, however many
    clicks a page makes in one run."""
    shown = st.session_state.setdefault(REJECTED, set())
    if message in shown:
        return False
    shown.add(message)
    return True


def params() -> StoryParams:
    """The settings the sidebar last accepted."""
    return session.current_params(st.session_state)


def sidebar() -> StoryParams:
    """The run settings. The widgets take their values from the lab (session.restore_widgets), so a reload shows the settings
    the rows were made with; each one says what it sets in the cells."""
    current = params()
    dropped = session.sanitize_widget_state(st.session_state)
    state = st.session_state
    state[REJECTED] = set()  # the sidebar opens every script run
    for key in session.WIDGET_LABELS:
        state.setdefault(key, getattr(current, key))
    with st.sidebar:
        st.subheader("Run settings")
        for message in dropped:
            st.error(message, icon=":material/error:")
        kernel = kernel_picker()
        st.number_input(session.WIDGET_LABELS["seed"], min_value=0, max_value=SEED_MAX, step=1, key="seed", help=SEED_HELP)
        st.caption(seed_caption(state.get("seed", current.seed)))
        st.number_input(session.WIDGET_LABELS["reruns"], min_value=1, max_value=RERUNS_MAX, step=1, key="reruns",
                        help='How many times "Run N times" re-runs a cell, from a restarted kernel.')  # fmt: skip
        st.number_input(session.WIDGET_LABELS["epochs"], min_value=1, max_value=EPOCHS_MAX, step=1, key="epochs",
                        help="Epochs of model.fit in each rerun (the article uses 10).")  # fmt: skip
        engine = engine_box(kernel)
        if backend_for(kernel) != DEFAULT_BACKEND:
            with st.container(key="backend_note"):
                st.caption(backend_note(backend_for(kernel)))
        error = session.apply_settings(state, state.get("seed"), state.get("reruns"), state.get("epochs"), engine, backend_for(kernel))
        if error:
            st.error(f"Settings not applied: {error}. Still using {settings_label(current)}.")
        budget_note(params())
    return params()


SEED_HELP = ("The seed of the backend's own generator in every cell: `tf.random.set_seed` (or `torch.manual_seed`) in the setup "
             "cell and in the recipes that reseed, and the seed of `keras.utils.set_random_seed` and `random.seed` where a recipe "
             f"calls them. The article uses {DEFAULT_SEED}.")  # fmt: skip


def seed_caption(seed: object) -> str:
    """Which calls follow the seed, and which keep the article's own: the learner can see what each number sets."""
    return (f"Sets `tf.random.set_seed({seed})` and every recipe's reseed line. The notebook's first block keeps the article's "
            f"`random.seed({cells.NOTEBOOK_PYTHON_SEED})` and `np.random.seed({cells.NOTEBOOK_NUMPY_SEED})`, so the global "
            "model's initial weights do not follow this seed on Keras 2.10 and later.")


def budget_note(current: StoryParams) -> None:
    """A hosted demo's per-click budget, said beside the inputs it limits (not only after a refused click)."""
    budget = hosting().click_budget
    units = current.reruns * current.epochs
    if hosting().hosted or units > budget:
        over = units > budget
        text = (f"One click here may train at most {budget} reruns × epochs: now {current.reruns} × {current.epochs} = {units}"
                + (" — too many: lower the reruns or the epochs." if over else "."))  # fmt: skip
        with st.container(key="budget_note"):
            st.caption(f":material/warning: {text}" if over else text)


def kernel_picker() -> KernelSpecInfo | None:
    """The TensorFlow lever: which kernelspec the cells run in, named by its TensorFlow and Python (not shown with one choice)."""
    state = st.session_state
    kernels = kernel_choices()
    names = list(kernels) or [DEFAULT_KERNEL]
    chosen = names[0]
    if len(names) > 1:
        labels = kernel_labels(kernels)
        first = names.index(DEFAULT_KERNEL) if DEFAULT_KERNEL in names else 0
        st.selectbox("Kernel: TensorFlow or Keras backend · Python", names, index=first, key="kernel",
                     format_func=lambda name: labels.get(name, name),
                     help="The Jupyter kernelspec the cells run in, named by the TensorFlow (or Keras and its JAX or PyTorch backend) and "
                     "the Python its interpreter has installed "
                     "(bundled: the lab's own). Changing it shuts down the session's kernel; the next run starts the chosen one.")  # fmt: skip
        chosen = state.get("kernel")
    kernel_error = session.apply_kernel(state, chosen, names)
    if kernel_error:
        st.error(f"Kernel not changed: {kernel_error}.")
    return kernels.get(session.current_kernel(state))


def backend_note(backend: str) -> str:
    """What changes in the cells on a JAX or PyTorch kernel, said once where the kernel is chosen."""
    seed = BACKENDS[backend].seed_call
    instead = f"they call `{seed}`" if seed else f"{BACKENDS[backend].label} has no global seed, and the cells say so in a comment"
    return (f"Keras 3 on **{BACKENDS[backend].label}**: the setup cell sets `KERAS_BACKEND` before `import keras`; where a recipe "
            f"calls `tf.random.set_seed`, {instead}.")


def engine_box(kernel: KernelSpecInfo | None) -> str:
    """The engine the kernel offers: a box when it offers two (TensorFlow >= 2.16), else a caption naming the only one."""
    offered = kernel.engines if kernel is not None else SELECTABLE_ENGINES
    if len(offered) == 1:
        with st.container(key="engine_only"):
            st.caption(f"{session.WIDGET_LABELS['engine']}: **{kernel.engine_note() if kernel else engine_label(offered[0])}**")
        return offered[0]
    default = session.DEFAULTS.engine if session.DEFAULTS.engine in offered else offered[0]
    st.selectbox(session.WIDGET_LABELS["engine"], offered, index=offered.index(default), key="engine", format_func=engine_label,
                 help=" · ".join(ENGINES[name].description for name in offered))  # fmt: skip
    return st.session_state.get("engine", default)


@st.cache_data(ttl=60, show_spinner=False)
def kernel_choices() -> dict[str, KernelSpecInfo]:
    """{kernelspec: what it runs}; only the bundled kernel on a hosted demo."""
    kernels = kernelspecs()
    if not hosting().allow_kernel_picker:
        kernels = {DEFAULT_KERNEL: kernels[DEFAULT_KERNEL]}
    return kernels


def env_card(key: str = "env_card") -> None:
    """What the kernel used last reports about itself (nothing is guessed before it has started)."""
    runner = session.last_runner(st.session_state)
    versions = runner.versions if runner is not None else None
    kernel_state = runner.kernel.state if runner is not None and runner.kernel is not None else "not started"
    with st.container(border=True, key=key):
        st.markdown("**Kernel environment**")
        if versions is None:
            st.caption("Python, TensorFlow and Keras: not known yet. The kernel reports them once it has run the setup cell.")
        else:
            trained_on = backend_release(versions.backend, versions.backend_release).split(" ", 1)
            keras = keras_release(versions.engine, versions.keras).split(" ", 1)
            st.markdown(f"Python **{versions.python}** · {trained_on[0]} **{trained_on[1]}** · {keras[0]} **{keras[1]}**")
            st.markdown(
                f"Device: **{versions.devices}** · op determinism: **{'on' if versions.op_determinism else 'off'}** · "
                f"hash randomization: **{'on' if versions.hash_randomization else 'off'}**"
            )
            st.caption(f"Numerics: {versions.machine.summary()}")  # the traits that pick kernels (the Another machine page)
        starts = runner.kernel_starts if runner is not None else 0
        st.caption(f"Kernel state: **{kernel_state}** · kernel start #{starts} (the kernel your last click used)")
