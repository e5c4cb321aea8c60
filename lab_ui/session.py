"""Per-session state of the lab: settings, the session's notebook (one kernel), and each page's rows.

Works on any MutableMapping (st.session_state in the app, a dict in tests): no Streamlit import.
"""

from __future__ import annotations

import uuid
import weakref
from collections.abc import Callable, Collection, Iterator, MutableMapping
from contextlib import contextmanager
from dataclasses import dataclass, field, replace

from repro_core.experiments.story import Notebook
from repro_core.kernels.kernel import DEFAULT_KERNEL, CellResult
from repro_core.kernels.pool import KernelPool
from repro_core.recipes.settings import ENGINES, EPOCHS_MAX, RERUNS_MAX, SEED_MAX, StoryParams, whole_number
from repro_core.results.records import KernelVersions
from repro_core.views.story import KernelRun

PARAMS = "lab_params"
NOTEBOOK = "lab_notebook"
RESULTS = "lab_results"
SETTINGS_ERROR = "lab_settings_error"
KERNEL = "lab_kernel"  # the kernelspec the session's notebook runs in (sidebar widget key "kernel")
SESSION_ID = "lab_session_id"
SESSION_TOKEN = "lab_session_token"  # dropped with the session; its finalizer gives the kernel back to the pool
PREEMPTED = "lab_kernel_preempted"

# Widget keys of the sidebar (browser tests rely on them).
WIDGET_KEYS = ("seed", "reruns", "epochs", "engine")
DEFAULTS = StoryParams(seed=1234, reruns=3, epochs=10, engine="keras3")
ENGINE_LABELS = {"keras3": "Keras 3", "tf_keras": "tf_keras"}

# Result slots, one per table in the app.
DRIFT = "drift"
FACTORY_TF = "factory_tf"
FACTORY_FULL = "factory_full"
RESTART = "restart"
SCENARIO_OF = {DRIFT: "global-model", FACTORY_TF: "factory-tf-seed", FACTORY_FULL: "factory-full-seed", RESTART: "factory-tf-seed"}

# Notebooks still alive in this process; each one's kernel is shut down when it is garbage
# collected (session ended) or, at the latest, when the interpreter exits (weakref.finalize runs atexit).
_LIVE: weakref.WeakSet[Notebook] = weakref.WeakSet()


@dataclass
class PageRows:
    """A page's table: the runs (with their kernel start) and the settings they were made with."""

    params: StoryParams
    runs: list[KernelRun] = field(default_factory=list)
    how: str = ""  # "run cell", "run N times", "whole story"
    # The cells that produced the rows, per kernel start: ((id of notebook, kernel generation), the
    # notebook's cells_run at the latest row: setup cell, environment cell, each scenario cell).
    kernel_starts: list[tuple[tuple[int, int], list[CellResult]]] = field(default_factory=list)
    versions: KernelVersions | None = None  # what the kernel reported when the latest row was made
    kernel_name: str = DEFAULT_KERNEL

    @property
    def records(self):
        return [run.record for run in self.runs]

    @property
    def cells(self) -> list[CellResult]:
        """Every cell executed for these rows, in order, across kernel starts."""
        return [cell for _token, cells in self.kernel_starts for cell in cells]


def note_cells(rows: PageRows, book: Notebook) -> None:
    """Remember the cells that produced the rows so far (call after each row is added)."""
    token = (id(book), book.kernel.generation)
    snapshot = list(book.cells_run)
    if rows.kernel_starts and rows.kernel_starts[-1][0] == token:
        rows.kernel_starts[-1] = (token, snapshot)
    else:
        rows.kernel_starts.append((token, snapshot))
    rows.versions = book.versions
    rows.kernel_name = book.kernel_name


def cell_settings(params: StoryParams) -> tuple:
    """The settings that end up inside the setup or scenario cells, or in the kernel's environment."""
    return (params.seed, params.epochs, params.batch_size, params.learning_rate, params.engine)


def current_params(state: MutableMapping) -> StoryParams:
    params = state.get(PARAMS)
    if params is None:
        params = DEFAULTS
        state[PARAMS] = params
    return params


def apply_settings(state: MutableMapping, seed: object, reruns: object, epochs: object, engine: object) -> str | None:
    """Validate the sidebar's values through StoryParams and make them current.

    Returns an error message (and keeps the previous valid settings) when they are invalid.
    A change of seed, epochs or engine retires the session's notebook: its setup cell embeds
    the seed, its kernel was started for the engine. A change of reruns keeps it.
    """
    old = current_params(state)
    try:
        new = StoryParams(seed=seed, reruns=reruns, epochs=epochs, engine=engine,
                          batch_size=old.batch_size, learning_rate=old.learning_rate)  # fmt: skip
    except ValueError as exc:
        state[SETTINGS_ERROR] = str(exc)
        return str(exc)
    state.pop(SETTINGS_ERROR, None)
    if new == old:
        return None
    state[PARAMS] = new
    book: Notebook | None = state.get(NOTEBOOK)
    if book is not None:
        if cell_settings(new) != cell_settings(old):
            close_notebook(state)
        else:
            book.params = new
    return None


WIDGET_RANGES = {"seed": ("Seed", 0, SEED_MAX), "reruns": ("Reruns", 1, RERUNS_MAX), "epochs": ("Epochs", 1, EPOCHS_MAX)}


def sanitize_widget_state(state: MutableMapping) -> list[str]:
    """Drop sidebar widget values that a widget could not hold (set through session_state, say),
    before the widgets are drawn; return one plain message per value dropped."""
    messages = []
    for key, (label, low, high) in WIDGET_RANGES.items():
        if key in state:
            try:
                whole_number(label.lower(), state[key], low, high)
            except ValueError as exc:
                del state[key]
                messages.append(f"{label} not changed: {exc}.")
    if "engine" in state and state["engine"] not in ENGINES:
        value = state["engine"]
        del state["engine"]
        messages.append(f"Keras engine not changed: {value!r} is not one of {', '.join(ENGINES)}.")
    return messages


def current_kernel(state: MutableMapping) -> str:
    return state.get(KERNEL, DEFAULT_KERNEL)


def apply_kernel(state: MutableMapping, name: object, available: Collection[str]) -> str | None:
    """Make `name` the session's kernelspec; a change closes the notebook (the next run starts the new kernel)."""
    if not isinstance(name, str) or name not in available:
        return f"unknown kernel {name!r}"
    if name != current_kernel(state):
        state[KERNEL] = name
        close_notebook(state)
    return None


def _register(book: Notebook) -> None:
    _LIVE.add(book)
    weakref.finalize(book, book.kernel.shutdown)


# The shared kernel pool (the app sets it; without one, each session simply owns a kernel).
_POOL: KernelPool | None = None
_CELL_TIMEOUT: float | None = None


def use_pool(pool: KernelPool | None, cell_timeout: float | None = None) -> None:
    global _POOL, _CELL_TIMEOUT
    _POOL, _CELL_TIMEOUT = pool, cell_timeout


class _SessionToken:
    """Lives in the session state only: when Streamlit drops the session, its finalizer frees the kernel."""


def session_id(state: MutableMapping) -> str:
    if SESSION_ID not in state:
        state[SESSION_ID] = uuid.uuid4().hex
    if SESSION_TOKEN not in state and _POOL is not None:
        token = _SessionToken()
        weakref.finalize(token, _POOL.release, state[SESSION_ID])
        state[SESSION_TOKEN] = token
    return state[SESSION_ID]


def _current_notebook(state: MutableMapping, params: StoryParams) -> Notebook | None:
    """The session's notebook if it still fits the settings and kernel; an outdated one is closed first."""
    book: Notebook | None = state.get(NOTEBOOK)
    if book is not None and (cell_settings(book.params) != cell_settings(params) or book.kernel_name != current_kernel(state)):
        close_notebook(state)
        return None
    return book


@contextmanager
def click(state: MutableMapping, on_wait: Callable[[int], None] | None = None) -> Iterator[Notebook]:
    """The session's notebook for one click. With a pool: wait for a kernel if the server is full
    (on_wait gets the queue position) and keep it from being given away until the click ends."""
    if _POOL is None:
        yield get_notebook(state)
        return
    params = current_params(state)
    previous = _current_notebook(state, params)
    with _POOL.lease(session_id(state), params, current_kernel(state), on_wait) as book:
        if previous is not None and book is not previous:
            state[PREEMPTED] = True
        if _CELL_TIMEOUT is not None:
            book.cell_timeout = _CELL_TIMEOUT
        state[NOTEBOOK] = book
        yield book


def get_notebook(state: MutableMapping) -> Notebook:
    """The session's notebook, created on first use for the current settings (its kernel starts lazily)."""
    params = current_params(state)
    book = _current_notebook(state, params)
    if book is None:
        book = Notebook(params, current_kernel(state))
        _register(book)
        state[NOTEBOOK] = book
    elif book.params != params:
        book.params = params
    return book


def peek_notebook(state: MutableMapping) -> Notebook | None:
    return state.get(NOTEBOOK)


def close_notebook(state: MutableMapping) -> None:
    book: Notebook | None = state.pop(NOTEBOOK, None)
    if book is not None and _POOL is not None and SESSION_ID in state:
        _POOL.release(state[SESSION_ID])
    elif book is not None:
        book.close()
        _LIVE.discard(book)


def shutdown_all() -> None:
    """Shut down every live notebook's kernel in this process (pooled ones too)."""
    if _POOL is not None:
        _POOL.release_all()
    for book in list(_LIVE):
        book.close()
        _LIVE.discard(book)


def all_results(state: MutableMapping) -> dict[str, PageRows]:
    results = state.get(RESULTS)
    if results is None:
        results = {}
        state[RESULTS] = results
    return results


def get_rows(state: MutableMapping, slot: str) -> PageRows | None:
    return all_results(state).get(slot)


def start_rows(state: MutableMapping, slot: str, how: str) -> PageRows:
    rows = PageRows(params=current_params(state), how=how)
    all_results(state)[slot] = rows
    return rows


def add_cell_run(state: MutableMapping, slot: str, run: KernelRun) -> tuple[PageRows, bool]:
    """Add one "Run cell" result to a page's table; returns (rows, started_over).

    The table starts over when the record is rerun 1 (a fresh notebook: first run, new
    settings, or the kernel was restarted), or when the table was made with other settings.
    """
    rows = get_rows(state, slot)
    params = current_params(state)
    started_over = rows is None or run.record.rerun == 1 or cell_settings(rows.params) != cell_settings(params)
    if started_over:
        rows = start_rows(state, slot, "run cell")
    rows.runs.append(run)
    rows.params = replace(rows.params, reruns=params.reruns)
    return rows, started_over


def append_run(state: MutableMapping, slot: str, run: KernelRun) -> PageRows:
    """Append a run, keeping rows from earlier kernel starts (the restart page); start over on new settings or another kernelspec."""
    rows = get_rows(state, slot)
    other_kernel = rows is not None and bool(rows.kernel_starts) and rows.kernel_name != current_kernel(state)
    if rows is None or other_kernel or cell_settings(rows.params) != cell_settings(current_params(state)):
        rows = start_rows(state, slot, "run cell")
    rows.runs.append(run)
    return rows


def is_stale(rows: PageRows | None, params: StoryParams) -> bool:
    return rows is not None and cell_settings(rows.params) != cell_settings(params)
