"""Per-session state (settings, the session's runner, each page's rows) on any MutableMapping: st.session_state, or a dict in tests.
Kernels are leased per click from the one pool (`use_pool`) with the session id as owner; only the pool shuts them down."""

from __future__ import annotations

import uuid
import weakref
from collections.abc import Collection, Iterator, MutableMapping
from contextlib import contextmanager
from dataclasses import dataclass, field, replace

from repro_core.experiments.runner import CellRunner
from repro_core.experiments.story import story_runner
from repro_core.kernels.environment import KernelKind
from repro_core.kernels.hosting import local_pool
from repro_core.kernels.kernel import CellResult
from repro_core.kernels.pool import KernelPool, OnWait
from repro_core.recipes import cells
from repro_core.recipes.settings import StoryParams
from repro_core.records import KernelVersions, RunRecord
from repro_core.views.story import settings_label
from repro_core.vocabulary import DEFAULT_BACKEND, DEFAULT_KERNEL

PARAMS = "lab_params"
RUNNER = "lab_runner"
RESULTS = "lab_results"
KERNEL = "lab_kernel"  # the session's kernelspec (sidebar widget key "kernel")
SESSION_ID = "lab_session_id"
SESSION_TOKEN = "lab_session_token"  # dropped with the session; its finalizer gives the kernel back to the pool
PREEMPTED = "lab_kernel_preempted"

DEFAULTS = StoryParams()

# Result slots, one per table in the app.
DRIFT = "drift"
FACTORY_TF = "factory_tf"
FACTORY_FULL = "factory_full"
FACTORY_PYTHON_TF = "factory_python_tf"  # the article's fix + random.seed, the Factory page's third column
RESTART = "restart"
SCENARIO_OF = {DRIFT: "global-model", FACTORY_TF: "factory-tf-seed", FACTORY_FULL: "factory-full-seed",
               FACTORY_PYTHON_TF: "factory-python-tf-seed", RESTART: "restart"}  # fmt: skip
PAGE_OF = {DRIFT: "drift", FACTORY_TF: "factory", FACTORY_FULL: "factory", FACTORY_PYTHON_TF: "factory", RESTART: "restart"}  # lab_ui.pages names
SLOT_OF = {scenario: slot for slot, scenario in SCENARIO_OF.items()}


@dataclass
class PageRows:
    """A results view's rows, every kernel start's (no row is dropped but by the learner's Clear rows, or a settings change
    the view announces), and the cells behind each kernel start that has rows."""

    params: StoryParams
    records: list[RunRecord] = field(default_factory=list)
    cells: list[CellResult] = field(default_factory=list)  # every cell that ran for these rows, kernel start by kernel start
    versions: KernelVersions | None = None  # what the kernel reported when the latest row was made
    kernel_name: str = DEFAULT_KERNEL
    runner_id: int = 0  # the runner whose kernel starts the rows' numbers count


def note_cells(rows: PageRows, runner: CellRunner) -> None:
    """After each new row: keep the cells of its kernel start in full, and those of every earlier kernel start with rows."""
    start = runner.kernel_starts
    rows.runner_id = id(runner)
    rows.cells = [cell for cell in rows.cells if cell.kernel_start != start] + runner.cells_of(start)
    rows.versions = runner.versions
    rows.kernel_name = runner.kernel_name


def cell_settings(params: StoryParams) -> tuple:
    """The settings that end up inside the setup or scenario cells, or in the kernel's environment."""
    return (params.seed, params.epochs, params.batch_size, params.learning_rate, params.engine)


def current_params(state: MutableMapping) -> StoryParams:
    return state.setdefault(PARAMS, DEFAULTS)


def apply_settings(state: MutableMapping, seed: object, reruns: object, epochs: object, engine: object,
                   backend: object = DEFAULT_BACKEND) -> str | None:  # fmt: skip
    """Make the sidebar's values current, or return why not (keeping the last valid ones). `backend` is the chosen
    kernel's (its cells import Keras on it). A new engine gives the kernel back at once: it was started for the other engine."""
    old = current_params(state)
    try:
        new = StoryParams(seed=seed, reruns=reruns, epochs=epochs, engine=engine, backend=backend,
                          batch_size=old.batch_size, learning_rate=old.learning_rate)  # fmt: skip
    except ValueError as exc:
        return str(exc)
    state[PARAMS] = new
    if new.engine != old.engine:
        close_runner(state)
    return None


WIDGET_LABELS = {"seed": "Seed", "reruns": "Reruns", "epochs": "Epochs", "engine": "Keras engine"}


def sanitize_widget_state(state: MutableMapping) -> list[str]:
    """Before the sidebar is drawn, drop widget values StoryParams refuses (set through session_state, say): one message each."""
    messages = []
    for key, label in WIDGET_LABELS.items():
        if key in state:
            try:
                replace(DEFAULTS, **{key: state[key]})
            except ValueError as exc:
                del state[key]
                messages.append(f"{label} not changed: {exc}.")
    return messages


def current_kernel(state: MutableMapping) -> str:
    return state.get(KERNEL, DEFAULT_KERNEL)


def apply_kernel(state: MutableMapping, name: object, available: Collection[str]) -> str | None:
    """Make `name` the session's kernelspec; a change closes the runner, so the next run starts that kernel."""
    if not isinstance(name, str) or name not in available:
        return f"unknown kernel {name!r}"
    if name != current_kernel(state):
        state[KERNEL] = name
        close_runner(state)
    return None


# The shared kernel pool: the app sets it once per server; tests and scripts get one of this process's own.
_POOL: KernelPool | None = None
_CELL_TIMEOUT: float | None = None


def use_pool(pool: KernelPool | None, cell_timeout: float | None = None) -> None:
    global _POOL, _CELL_TIMEOUT
    _POOL, _CELL_TIMEOUT = pool, cell_timeout


def pool() -> KernelPool:
    global _POOL
    if _POOL is None:
        _POOL = local_pool(cap=2)
    return _POOL


class _SessionToken:
    """Lives in the session state only: when Streamlit drops the session, its finalizer frees the kernel."""


def session_id(state: MutableMapping) -> str:
    """The session's owner name in the pool; its kernel is released when Streamlit drops the session."""
    if SESSION_ID not in state:
        state[SESSION_ID] = uuid.uuid4().hex
    if SESSION_TOKEN not in state:
        token = _SessionToken()
        weakref.finalize(token, pool().release, state[SESSION_ID])
        state[SESSION_TOKEN] = token
    return state[SESSION_ID]


def get_runner(state: MutableMapping) -> CellRunner:
    """The session's story runner, configured for the current settings."""
    params = current_params(state)
    if RUNNER not in state:
        state[RUNNER] = story_runner(params)
    runner: CellRunner = state[RUNNER]
    runner.configure([cells.story_setup_cell(params)])
    return runner


@contextmanager
def click(state: MutableMapping, on_wait: OnWait | None = None) -> Iterator[CellRunner]:
    """The session's runner on a kernel leased for one click (on_wait gets the queue place while the server is full)."""
    runner = get_runner(state)
    params = current_params(state)
    with pool().lease(session_id(state), KernelKind.of(current_kernel(state), params.engine, params.machine), on_wait=on_wait) as leased:
        if runner.kernel is not None and runner.kernel is not leased[0] and runner.versions is not None:
            state[PREEMPTED] = True
        runner.attach(leased[0])
        if _CELL_TIMEOUT is not None:
            runner.cell_timeout = _CELL_TIMEOUT
        yield runner


def peek_runner(state: MutableMapping) -> CellRunner | None:
    return state.get(RUNNER)


def close_runner(state: MutableMapping) -> None:
    """Forget the session's runner and give its kernel back to the pool."""
    state.pop(RUNNER, None)
    if SESSION_ID in state:
        pool().release(state[SESSION_ID])


def all_results(state: MutableMapping) -> dict[str, PageRows]:
    return state.setdefault(RESULTS, {})


def get_rows(state: MutableMapping, slot: str) -> PageRows | None:
    return all_results(state).get(slot)


def start_rows(state: MutableMapping, slot: str) -> PageRows:
    rows = PageRows(params=current_params(state))
    all_results(state)[slot] = rows
    return rows


def clear_rows(state: MutableMapping, slot: str) -> None:
    """The learner's Clear rows: the slot's rows of every kernel start go."""
    all_results(state).pop(slot, None)


def why_start_over(rows: PageRows | None, state: MutableMapping, runner: CellRunner) -> str | None:
    """Why a new row cannot join the slot's rows (None: it joins them). Rows of earlier kernel starts, reruns from 1 and
    restarts all stay; only other settings, another kernelspec or a new runner (whose kernel starts count from 1) start over."""
    if rows is None or not rows.records:
        return None
    if cell_settings(rows.params) != cell_settings(current_params(state)):
        return f"the settings changed (the {len(rows.records)} earlier row(s) used {settings_label(rows.params, rows.versions)})"
    if rows.kernel_name and runner.kernel_name and rows.kernel_name != runner.kernel_name:
        return f"the kernel changed (the {len(rows.records)} earlier row(s) ran in {rows.kernel_name})"
    if rows.runner_id not in (0, id(runner)):
        return f"the session's kernel was replaced, so kernel starts count from 1 again ({len(rows.records)} earlier row(s))"
    return None


def rows_for_run(state: MutableMapping, slot: str, runner: CellRunner) -> tuple[PageRows, str | None]:
    """The rows a run adds to, and why the earlier ones were set aside (a message the caller shows), or None."""
    rows = get_rows(state, slot)
    why = why_start_over(rows, state, runner)
    if rows is None or why is not None:
        rows = start_rows(state, slot)
    rows.params = replace(rows.params, reruns=current_params(state).reruns)
    return rows, why


def add_row(state: MutableMapping, slot: str, record: RunRecord, runner: CellRunner) -> tuple[PageRows, str | None]:
    """Add one row and its kernel start's cells; returns (rows, why earlier rows were set aside, or None)."""
    rows, why = rows_for_run(state, slot, runner)
    rows.records.append(record)
    note_cells(rows, runner)
    return rows, why


def is_stale(rows: PageRows | None, params: StoryParams) -> bool:
    return rows is not None and cell_settings(rows.params) != cell_settings(params)
