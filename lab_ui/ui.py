"""Streamlit-side helpers shared by the lab's pages: sidebar, environment card, results views, runs.

Never imports TensorFlow: runs happen in kernels leased from the server's pool, through repro_core.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager

import streamlit as st

from lab_ui import session
from lab_ui.exports import export_buttons as export_buttons  # pages call ui.export_buttons(...)
from repro_core.experiments.runner import CellRunner
from repro_core.experiments.story import run_scenario, run_scenarios
from repro_core.experiments.timeline import live_entry
from repro_core.kernels.hosting import HostingSettings, check_budget, hosting_from_environment, server_pool
from repro_core.kernels.kernel import CellError, CellTimeout, KernelDied, KernelError, KernelStartError, available_kernels
from repro_core.kernels.pool import KernelPool
from repro_core.recipes import cells
from repro_core.recipes.settings import EPOCHS_MAX, RERUNS_MAX, SEED_MAX, StoryParams
from repro_core.records import VERDICTS, RunRecord
from repro_core.results.timeline import TimelineEntry
from repro_core.views.story import (
    ARTICLE_LABEL,
    COL_AFTER,
    COL_BEFORE,
    COL_KERNEL,
    COL_RERUN,
    COL_SAME,
    COL_SECONDS,
    article_reference_frame,
    records_frame,
    rerun_chart,
    settings_label,
    verdict_text,
)
from repro_core.vocabulary import DEFAULT_KERNEL, ENGINES, SELECTABLE_ENGINES, WHOLE_STORY, engine_label

# The alert each role (records.VERDICTS, RecordsComparison.role) is shown with: the core names outcomes, this colours them.
ALERTS = {"good": "success", "bad": "error", "caution": "warning", "neutral": "info", "failed": "error", "missing": "info"}


def alert(role: str, text: str, where=None) -> None:
    getattr(where or st, ALERTS[role])(text)


def verdict_alert(records, where=None) -> None:
    """Show the verdict of `records` as a coloured alert, in `where` (e.g. an st.empty) or on the page."""
    name, text = verdict_text(records)
    alert(VERDICTS[name].role, text, where)


COLUMN_CONFIG = {
    COL_KERNEL: st.column_config.NumberColumn(COL_KERNEL, format="%d", help="Which start of the session's kernel the row came from"),
    COL_RERUN: st.column_config.NumberColumn(COL_RERUN, format="%d", help="How many times the cell had run in this kernel start"),
    COL_BEFORE: st.column_config.NumberColumn(COL_BEFORE, format="%.13f", help="Sum of all weights after compile, before fit"),
    COL_AFTER: st.column_config.NumberColumn(COL_AFTER, format="%.13f", help="Sum of all weights after fit"),
    COL_SECONDS: st.column_config.NumberColumn(COL_SECONDS, format="%.2f", help="Wall time of the cell in the kernel"),
    COL_SAME: st.column_config.CheckboxColumn(COL_SAME, help="Same SHA-256 fingerprints before and after training as the first row"),
}


def params() -> StoryParams:
    return session.current_params(st.session_state)


# -- sidebar ---------------------------------------------------------------------------------------
def sidebar() -> StoryParams:
    """The run settings shared by every lab page; returns the current valid settings."""
    current = session.current_params(st.session_state)
    dropped = session.sanitize_widget_state(st.session_state)
    with st.sidebar:
        st.subheader("Run settings")
        for message in dropped:
            st.error(message, icon=":material/error:")
        st.number_input("Seed", min_value=0, max_value=SEED_MAX, value=session.DEFAULTS.seed, step=1, key="seed",
                        help="The TensorFlow/Keras seed used by the cells (the article uses 1234).")  # fmt: skip
        st.number_input("Reruns", min_value=1, max_value=RERUNS_MAX, value=session.DEFAULTS.reruns, step=1, key="reruns",
                        help='How many times "Run N times" re-runs a cell, from a restarted kernel.')  # fmt: skip
        st.number_input("Epochs", min_value=1, max_value=EPOCHS_MAX, value=session.DEFAULTS.epochs, step=1, key="epochs",
                        help="Epochs of model.fit in each rerun (the article uses 10).")  # fmt: skip
        engines = list(SELECTABLE_ENGINES)
        st.selectbox("Keras engine", engines, index=engines.index(session.DEFAULTS.engine), key="engine",
                     format_func=lambda name: engine_label(name),
                     help=" · ".join(ENGINES[name].description for name in engines))  # fmt: skip
        kernels = kernel_choices()
        names = list(kernels) or [DEFAULT_KERNEL]
        st.selectbox("Kernel", names, index=names.index(DEFAULT_KERNEL) if DEFAULT_KERNEL in names else 0, key="kernel",
                     format_func=lambda name: kernels.get(name, name),
                     help="The Jupyter kernelspec the cells run in; changing it shuts down the session's kernel, "
                     "and the next run starts the chosen one.")  # fmt: skip
        kernel_error = session.apply_kernel(st.session_state, st.session_state.get("kernel"), names)
        if kernel_error:
            st.error(f"Kernel not changed: {kernel_error}.")
        error = session.apply_settings(
            st.session_state,
            st.session_state.get("seed"),
            st.session_state.get("reruns"),
            st.session_state.get("epochs"),
            st.session_state.get("engine"),
        )
        if error:
            st.error(f"Settings not applied: {error}. Still using {settings_label(current)}.")
    return session.current_params(st.session_state)


@st.cache_data(ttl=60, show_spinner=False)
def kernel_choices() -> dict[str, str]:
    """Installed kernelspecs plus lab-python: {name: display name}; only the bundled kernel on a hosted demo."""
    kernels = available_kernels()
    if not hosting().allow_kernel_picker:
        kernels = {DEFAULT_KERNEL: kernels[DEFAULT_KERNEL]}
    return kernels


def env_card(key: str = "env_card") -> None:
    """What the session's kernel reports about itself (nothing is guessed before it has started)."""
    runner = session.peek_runner(st.session_state)
    versions = runner.versions if runner is not None else None
    kernel_state = runner.kernel.state if runner is not None and runner.kernel is not None else "not started"
    with st.container(border=True, key=key):
        st.markdown("**Kernel environment**")
        if versions is None:
            st.caption("Python / TensorFlow / Keras: not started yet — reported by the kernel once it has run the setup cell.")
        else:
            st.markdown(
                f"Python **{versions.python}** · TensorFlow **{versions.tensorflow}** · "
                f"{engine_label(versions.engine)} **{versions.keras}**"
            )
            st.markdown(
                f"Device: **{versions.devices}** · op determinism: **{'on' if versions.op_determinism else 'off'}** · "
                f"hash randomization: **{'on' if versions.hash_randomization else 'off'}**"
            )
        starts = runner.kernel_starts if runner is not None else 0
        st.caption(f"Kernel state: **{kernel_state}** · kernel start #{starts}")


# -- errors ---------------------------------------------------------------------------------------------
def error_message(exc: Exception) -> str:
    if isinstance(exc, CellError):
        return f"The cell raised {exc.ename}: {exc.evalue}"
    if isinstance(exc, CellTimeout):
        return f"Timed out: {exc}"
    if isinstance(exc, KernelDied):
        return f"{exc}. The next run starts a fresh kernel."
    if isinstance(exc, KernelStartError):
        return f"The kernel could not start: {exc}"
    return f"{type(exc).__name__}: {exc}"


class Outcome:
    ok = False


@contextmanager
def kernel_guard() -> Iterator[Outcome]:
    """Show kernel failures as a plain st.error (no traceback) and keep the session usable.

    Wrap an st.status block in it, so the error shows below the (collapsed) status.
    """
    outcome = Outcome()
    try:
        yield outcome
        outcome.ok = True
    except (KernelError, ValueError) as exc:
        st.error(error_message(exc), icon=":material/error:")


# -- results -------------------------------------------------------------------------------------------
class ResultsView:
    """A keyed container (CSS class st-key-<key>) holding a verdict banner, a table and a chart, redrawable."""

    def __init__(self, slot: str, key: str, title: str = "", with_kernel: bool = False, chart_title: str = "") -> None:
        self.slot = slot
        self.with_kernel = with_kernel
        self.chart_title = chart_title
        self.container = st.container(key=key)
        with self.container:
            if title:
                st.markdown(f"**{title}**")
            self._caption = st.empty()
            self._verdict = st.empty()
            self._table = st.empty()
            self._chart = st.empty()

    def draw(self, rows: session.PageRows | None = None) -> None:
        if rows is None:
            rows = session.get_rows(st.session_state, self.slot)
        if rows is None or not rows.records:
            self._caption.caption("No rows yet: run the cell.")
            self._verdict.empty()
            self._table.empty()
            self._chart.empty()
            return
        current = session.current_params(st.session_state)
        label = f"{len(rows.records)} row(s) from the session's kernel · {settings_label(rows.params)}"
        if session.is_stale(rows, current):
            self._caption.warning(f"These rows were computed with older settings ({settings_label(rows.params)}); run again to refresh.")
        else:
            self._caption.caption(label)
        records = rows.records
        verdict_alert(records, self._verdict)
        frame = records_frame(records, self.with_kernel)
        self._table.dataframe(frame, width="stretch", hide_index=True, column_config=COLUMN_CONFIG)
        self._chart.altair_chart(rerun_chart(records, self.chart_title), theme="streamlit", width="stretch")


def reference_table(scenario: str) -> None:
    """The article's published figures, clearly labelled as such."""
    frame = article_reference_frame(scenario)
    if frame.empty:
        return
    st.caption(f"Reference — {ARTICLE_LABEL} (not computed here):")
    st.dataframe(frame, width="stretch", hide_index=True, column_config=COLUMN_CONFIG, key=f"reference_{scenario}")


def status_callback(status) -> Callable[[str], None]:
    def say(text: str) -> None:
        status.update(label=text[:1].upper() + text[1:])

    return say


# -- kernels, from the server's one pool ---------------------------------------------------------------
@st.cache_resource
def hosting() -> HostingSettings:
    return hosting_from_environment()


@st.cache_resource
def kernel_pool() -> KernelPool:
    """One pool for every session and page of this server: a cap on live kernels, a fair queue, a reaper."""
    return server_pool(hosting())


def connect_pool() -> None:
    """Called by app.py on every run: the session layer takes its kernels from the shared pool."""
    session.use_pool(kernel_pool(), hosting().cell_timeout)


def queue_notice() -> Callable[[int], None]:
    """An on_wait callback that tells the visitor their place in the server's queue (every page uses it)."""
    waiting = st.empty()

    def on_wait(position: int) -> None:
        waiting.info(
            f"All {session.pool().cap} kernels of this server are busy: you are number {position} in the queue. "
            "Your run starts as soon as one is free.",
            icon=":material/hourglass_top:",
        )

    on_wait.clear = waiting.empty  # type: ignore[attr-defined]
    return on_wait


def owner() -> str:
    """This session's name in the pool."""
    return session.session_id(st.session_state)


def _with_session_kernel(default: object, budget: bool = False):
    """Run the decorated click handler with the session's notebook, on a kernel leased for this click, as its first
    argument. Over the budget, a queue timeout or a kernel that will not start end the click with a plain message."""

    def decorate(handler):
        @functools.wraps(handler)
        def wrapper(*args, **kwargs):
            try:
                if budget:
                    current = session.current_params(st.session_state)
                    check_budget(current.reruns, current.epochs, hosting())
            except ValueError as exc:
                st.error(str(exc), icon=":material/error:")
                return default
            on_wait = queue_notice()
            with ExitStack() as stack:
                try:
                    runner = stack.enter_context(session.click(st.session_state, on_wait))
                except KernelError as exc:
                    st.error(error_message(exc), icon=":material/error:")
                    return default
                finally:
                    on_wait.clear()
                if st.session_state.pop(session.PREEMPTED, False):
                    st.info("Your previous kernel was given back to the server's pool (idle while others waited, or the "
                            "matrix or audit needed fresh kernels), so this run starts a fresh one.")  # fmt: skip
                return handler(runner, *args, **kwargs)

        return wrapper

    return decorate


def _add_record(rows: session.PageRows, runner: CellRunner, record: RunRecord) -> None:
    rows.records.append(record)
    session.note_cells(rows, runner)


@_with_session_kernel(None)
def run_cell(runner: CellRunner, slot: str, view: ResultsView) -> None:
    """One more Shift-Enter on the slot's cell in the session's kernel; adds a row.

    The restart page keeps its rows across kernel starts: if the kernel has run that cell for someone else since
    the page's last row (the factory page runs the same cell), it is restarted first, so each start begins at rerun 1.
    """
    scenario = session.SCENARIO_OF[slot]
    current = session.current_params(st.session_state)
    cell = cells.scenario_cell(scenario, current)
    rows = session.get_rows(st.session_state, slot)
    starts_before = runner.kernel_starts
    with kernel_guard() as outcome, st.status(f"Running the {scenario} cell", expanded=False) as status:
        this_start = sum(r.kernel_start == runner.kernel_starts for r in rows.records) if rows is not None else 0
        if slot == session.RESTART and runner.cell == cell and runner.reruns != this_start:
            runner.reset(status_callback(status))
        record, _ = runner.run(cell, scenario, on_status=status_callback(status))
        rows, _started_over = session.add_row(st.session_state, slot, record)
        session.note_cells(rows, runner)
        view.draw(rows)
        status.update(label=f"Kernel start #{record.kernel_start}, rerun {record.rerun}: done in {record.seconds:.2f} s", state="complete")
    if outcome.ok and starts_before not in (0, runner.kernel_starts):
        st.info("The kernel was restarted first (it had run other cells, or it had stopped), so this kernel start begins at rerun 1.")


@_with_session_kernel(False, budget=True)
def run_many(runner: CellRunner, slot: str, view: ResultsView, progress: Callable[[RunRecord], None] | None = None) -> bool:
    """The scenario from a restarted kernel: the same rows as the CLI for these settings; replaces the table."""
    current = session.current_params(st.session_state)
    scenario = session.SCENARIO_OF[slot]
    rows = session.start_rows(st.session_state, slot, f"run {current.reruns} times")
    view.draw(rows)

    def on_record(record: RunRecord) -> None:
        _add_record(rows, runner, record)
        if progress is not None:
            progress(record)
        view.draw(rows)

    with kernel_guard() as outcome, st.status(f"{scenario}: restarting the kernel, then {current.reruns} reruns") as status:
        run_scenario(runner, scenario, current, on_record, status_callback(status))
        status.update(label=f"{scenario}: {current.reruns} reruns done", state="complete")
    return outcome.ok


@_with_session_kernel(None)
def restart_kernel(runner: CellRunner) -> None:
    """Really restart the session's kernel and run the setup cell again."""
    with kernel_guard(), st.status("Restarting the kernel", expanded=False) as status:
        runner.reset(status_callback(status))
        status.update(label=f"Kernel restarted: this is kernel start #{runner.kernel_starts}; the setup cell has run", state="complete")


@_with_session_kernel({}, budget=True)
def run_whole_story(runner: CellRunner) -> dict[str, str]:
    """Fill every page's results in one go: repro_core's whole story (drift, both factory recipes, the restart sequence)."""
    current = session.current_params(st.session_state)
    total = len(WHOLE_STORY) * current.reruns + 1
    bar = st.progress(0.0, text="Starting")
    for slot in session.SCENARIO_OF:
        session.start_rows(st.session_state, slot, "whole story")

    def on_record(record: RunRecord) -> None:
        rows = session.get_rows(st.session_state, session.SLOT_OF[record.scenario])
        _add_record(rows, runner, record)
        done = sum(len(found.records) for found in session.all_results(st.session_state).values())
        bar.progress(min(done / total, 1.0), text=f"{done} of {total} cell runs · {record.scenario} rerun {record.rerun}")

    with kernel_guard(), st.status("Running the whole story", expanded=False) as status:
        results = run_scenarios(runner, current, WHOLE_STORY, on_record, status_callback(status))
        status.update(label="The whole story has run", state="complete")
        bar.empty()
        return {session.SLOT_OF[result.scenario]: result.verdict for result in results}
    return {}


@_with_session_kernel(None, budget=True)
def run_timeline_live(runner: CellRunner) -> TimelineEntry | None:
    """The Across versions page's live column: the four story scenarios in the session's kernel, with a report's provenance."""
    current = session.current_params(st.session_state)
    with kernel_guard(), st.status("Running the four scenarios in this session's kernel", expanded=False) as status:
        entry = live_entry(runner, current, on_status=status_callback(status))
        status.update(label=f"Live column ready: {entry.column}", state="complete")
        return entry
    return None


def code_block(source: str, caption: str = "", wrap: bool = False) -> None:
    """A cell's exact source (wrap long lines in narrow columns)."""
    if caption:
        st.caption(caption)
    st.code(source, language="python", wrap_lines=wrap)


def run_many_button(key: str, reruns: int, help_text: str) -> bool:
    """The "Run N times" button (label carries N; browser tests find it by its key)."""
    return st.button(f"Run {reruns} times", key=key, icon=":material/replay:", help=help_text)


def next_page(path: str, label: str) -> None:
    st.divider()
    st.page_link(path, label=label, icon=":material/arrow_forward:")
