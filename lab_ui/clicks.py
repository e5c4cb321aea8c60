"""Every click that runs cells, on every page, takes one path: `click` checks the budget, shows the queue notice,
hands the handler a Lease on the server's pool, and turns a kernel failure into one plain message."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass

import streamlit as st

from lab_ui import session
from lab_ui.results_view import ResultsView
from lab_ui.server import hosting
from lab_ui.sidebar import first_rejection, params
from repro_core.experiments import audit, matrix
from repro_core.experiments.machines import MachineRun, run_on_machines
from repro_core.experiments.runner import CellRunner
from repro_core.experiments.story import ScenarioResult, run_on_kernels, run_scenario, run_scenarios
from repro_core.kernels.hosting import check_budget
from repro_core.kernels.kernel import CellError, CellTimeout, KernelDied, KernelError, KernelStartError
from repro_core.kernels.pool import KernelPool
from repro_core.machine import MachineSettings
from repro_core.recipes import cells
from repro_core.recipes.settings import StoryParams
from repro_core.records import RunRecord
from repro_core.results.timeline import TimelineEntry, live_entry
from repro_core.vocabulary import SCENARIOS, STORY_SCENARIOS, WHOLE_STORY, backend_release

ERROR = ":material/error:"


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


class QueueNotice:
    """The core's on_wait callback: the visitor's place in the server's queue, shown until cleared."""

    def __init__(self, cap: int) -> None:
        self.cap, self.slot = cap, st.empty()

    def __call__(self, position: int) -> None:
        self.slot.info(f"All {self.cap} kernels of this server are busy: you are number {position} in the queue. "
                       "Your run starts as soon as one is free.", icon=":material/hourglass_top:")  # fmt: skip

    def clear(self) -> None:
        self.slot.empty()


@dataclass
class Lease:
    """What a click runs on: the matrix and the audit hand the three to the core, which leases fresh kernels."""

    pool: KernelPool
    owner: str
    on_wait: QueueNotice

    @contextmanager
    def runner(self) -> Iterator[CellRunner]:
        """The session's runner on its kept kernel (a fresh one if it was given away), for the story pages."""
        with session.click(st.session_state, self.on_wait) as runner:
            self.on_wait.clear()
            if st.session_state.pop(session.PREEMPTED, False):
                st.info("Your previous kernel was given back to the server's pool (idle while others waited, or the "
                        "matrix or audit needed fresh kernels), so this run starts a fresh one.")  # fmt: skip
            yield runner


def click(default: object = None, budget: bool = False):
    """Call the handler with a Lease first; over the budget (reruns x epochs) or on a kernel failure: one st.error, and `default`."""

    def decorate(handler):
        @functools.wraps(handler)
        def wrapper(*args, **kwargs):
            current = params()
            try:
                if budget:
                    check_budget(current.reruns, current.epochs, hosting())
            except ValueError as exc:
                if first_rejection(str(exc)):  # a page that calls several clicks: still one alert
                    st.error(str(exc), icon=ERROR)
                return default
            lease = Lease(session.pool(), session.session_id(st.session_state), QueueNotice(session.pool().cap))
            try:
                return handler(lease, *args, **kwargs)
            except (KernelError, ValueError) as exc:
                st.error(error_message(exc), icon=ERROR)
                return default
            finally:
                lease.on_wait.clear()

        return wrapper

    return decorate


def status_callback(status) -> Callable[[str], None]:
    """The core's on_status callback: each step it reports becomes the st.status box's label."""
    return lambda text: status.update(label=text[:1].upper() + text[1:])


class Progress:
    """A progress bar over `total` steps, each labelled "<done> of <total> <text>" (nothing when not `shown`)."""

    def __init__(self, total: int, text: str = "Starting", shown: bool = True) -> None:
        self.total, self.done, self.bar = total, 0, st.progress(0.0, text=text) if shown else None

    def step(self, text: str) -> None:
        self.done += 1
        if self.bar is not None:
            self.bar.progress(min(self.done / self.total, 1.0), text=f"{self.done} of {self.total} {text}")

    def empty(self) -> None:
        if self.bar is not None:
            self.bar.empty()


def run_cell_button(key: str, help_text: str | None = None, where=None) -> bool:
    return (where or st).button("Run cell", key=f"{key}_run_cell", icon=":material/play_arrow:", help=help_text)


def run_many_button(key: str, reruns: int, help_text: str, where=None) -> bool:
    return (where or st).button(f"Run {reruns} times", key=f"{key}_run_many", icon=":material/replay:", help=help_text)


def _started_over(why: str | None, slot: str) -> None:
    """Say so whenever a run set a view's earlier rows aside: rows never go silently."""
    if why is not None:
        st.info(f"{session.SCENARIO_OF[slot]}: a new table was started because {why}.", icon=":material/info:")


@click()
def run_cell(lease: Lease, view: ResultsView) -> None:
    """One more Shift-Enter on the view's cell; adds a row (earlier kernel starts' rows stay, grouped by kernel start).
    The restart page's rows span kernel starts: if the factory page ran the same cell since its last row, restart first."""
    scenario = session.SCENARIO_OF[view.slot]
    cell = cells.scenario_cell(scenario, params())
    with lease.runner() as runner, st.status(f"Running the {scenario} cell") as status:
        starts_before = runner.kernel_starts
        rows = session.get_rows(st.session_state, view.slot)
        this_start = sum(r.kernel_start == runner.kernel_starts for r in rows.records) if rows is not None else 0
        if view.slot == session.RESTART and runner.cell == cell and runner.reruns != this_start:
            runner.reset(status_callback(status))
        record = runner.run(cell, scenario, status_callback(status))
        rows, why = session.add_row(st.session_state, view.slot, record, runner)
        view.draw(rows)
        status.update(label=f"Kernel start #{record.kernel_start}, rerun {record.rerun}: done in {record.seconds:.2f} s", state="complete")
    _started_over(why, view.slot)
    if starts_before not in (0, runner.kernel_starts):
        st.info(f"The kernel was restarted first (it had run other cells, or it had stopped), so kernel start #{runner.kernel_starts} "
                "begins at rerun 1; the rows of earlier kernel starts stay in the table.")  # fmt: skip


@click(budget=True)
def run_many(lease: Lease, *views: ResultsView) -> None:
    """Each view's scenario from a restarted kernel (the CLI's rows for these settings), added as a new kernel start group."""
    current = params()
    bar = Progress(len(views) * current.reruns, shown=len(views) > 1)
    with lease.runner() as runner:
        for view in views:
            scenario = session.SCENARIO_OF[view.slot]
            rows, why = session.rows_for_run(st.session_state, view.slot, runner)
            _started_over(why, view.slot)
            view.draw(rows)

            def on_record(record: RunRecord, slot=view.slot, view=view) -> None:
                view.draw(session.add_row(st.session_state, slot, record, runner)[0])
                bar.step(f"reruns · {record.scenario} rerun {record.rerun}")

            with st.status(f"{scenario}: restarting the kernel, then {current.reruns} reruns") as status:
                run_scenario(runner, scenario, current, on_record, status_callback(status))
                status.update(label=f"{scenario}: {current.reruns} reruns done", state="complete")
    bar.empty()


@click()
def restart_kernel(lease: Lease) -> None:
    """Really restart the session's kernel and run the setup cell again."""
    with lease.runner() as runner, st.status("Restarting the kernel") as status:
        runner.reset(status_callback(status))
        status.update(label=f"Kernel restarted: this is kernel start #{runner.kernel_starts}; the setup cell has run", state="complete")


@click(False, budget=True)
def run_whole_story(lease: Lease) -> bool:
    """Fill every story page's results in one go (added to each page's rows, as new kernel start groups)."""
    current = params()
    with lease.runner() as runner:
        bar = Progress(len(WHOLE_STORY) * current.reruns + 1)
        for slot in (session.SLOT_OF[scenario] for scenario in WHOLE_STORY):  # only the slots it adds rows to
            _started_over(session.rows_for_run(st.session_state, slot, runner)[1], slot)

        def on_record(record: RunRecord) -> None:
            session.add_row(st.session_state, session.SLOT_OF[record.scenario], record, runner)
            bar.step(f"cell runs · {record.scenario} rerun {record.rerun}")

        with st.status("Running the whole story") as status:
            run_scenarios(runner, current, WHOLE_STORY, on_record, status_callback(status))
            status.update(label="The whole story has run", state="complete")
        bar.empty()
    return True


@click(budget=True)
def run_timeline_live(lease: Lease) -> TimelineEntry | None:
    """The Across versions page's live column: the four story scenarios in the session's kernel."""
    current = params()
    bar = Progress(len(STORY_SCENARIOS) * current.reruns, "Starting the session's kernel")
    with lease.runner() as runner, st.status("Running the four scenarios in this session's kernel") as status:
        entry = live_entry(runner, current, on_status=status_callback(status),
                           on_record=lambda record: bar.step(f"reruns · {SCENARIOS[record.scenario].title}, rerun {record.rerun}"))  # fmt: skip
        status.update(label=f"Live column ready: {entry.column}", state="complete")
    bar.empty()
    return entry


@click()
def run_matrix(lease: Lease, options: matrix.MatrixOptions, parallelism: int) -> matrix.MatrixResult:
    """Every recipe in a fresh kernel, up to `parallelism` at a time as the pool has room."""
    total = len(options.recipes())
    bar, finished = Progress(total, f"{total} recipes, up to {parallelism} kernels at a time"), st.empty()

    def tick(result: matrix.RecipeResult, _done: int, _total: int) -> None:
        bar.step("recipes")
        finished.caption(f"Finished {result.recipe.name}: {result.verdict} ({result.seconds:.1f} s)")

    found = matrix.run_matrix(options, parallelism, tick, session.current_kernel(st.session_state),
                              pool=lease.pool, owner=lease.owner, on_wait=lease.on_wait)  # fmt: skip
    bar.empty()
    finished.empty()
    return found


@click()
def run_audit(lease: Lease, job: audit.Audit) -> audit.AuditResult:
    """Your model's reruns in a fresh kernel, then every layer's weights compared inside it."""
    bar = Progress(job.reruns)
    with st.status(f"Auditing with recipe {job.recipe.label}") as status:
        found = audit.run_audit(job, session.current_kernel(st.session_state), lambda _record: bar.step("reruns done"),
                                status_callback(status), pool=lease.pool, owner=lease.owner, on_wait=lease.on_wait)  # fmt: skip
        status.update(label=f"Audit done: {len(found.records)} rerun(s)", state="complete")
    bar.empty()
    return found


@click(budget=True)
def run_on_versions(lease: Lease, scenario: str, engines: Mapping[str, str]) -> list[ScenarioResult] | None:
    """One scenario on several kernelspecs (kernelspec -> engine), each on a fresh kernel of the pool, one progress bar."""
    current, title = params(), SCENARIOS[scenario].title
    bar = Progress(len(engines) * current.reruns, f"{title} on {len(engines)} kernels, one after the other")
    with st.status(f"Running {title} on {len(engines)} kernels") as status:
        def step(record: RunRecord) -> None:
            bar.step(f"reruns · {backend_release(record.backend, record.backend_release)} rerun {record.rerun}")

        found = run_on_kernels(current, scenario, engines, step,
                               status_callback(status), pool=lease.pool, owner=lease.owner, on_wait=lease.on_wait)  # fmt: skip
        ran_on = " and ".join(backend_release(r.versions.backend, r.versions.backend_release) for r in found)
        status.update(label=f"{title} ran on {ran_on}", state="complete")
    bar.empty()
    return found


@click()
def run_machines(lease: Lease, run_params: StoryParams, machines: list[MachineSettings]) -> list[MachineRun] | None:
    """The Another machine page: one seeded cell per machine setting, each on a fresh kernel of its kind, one progress bar.
    Its budget counts every setting's reruns (reruns x settings x epochs)."""
    check_budget(run_params.reruns * len(machines), run_params.epochs, hosting())
    bar = Progress(len(machines) * run_params.reruns, f"{len(machines)} machine settings, one kernel each, one after the other")
    with st.status(f"Running {len(machines)} machine settings") as status:
        found = run_on_machines(run_params, machines, session.current_kernel(st.session_state),
                                on_record=lambda record: bar.step(f"reruns · rerun {record.rerun} ({record.seconds:.1f} s)"),
                                on_status=status_callback(status), pool=lease.pool, owner=lease.owner, on_wait=lease.on_wait)  # fmt: skip
        status.update(label=f"{len(found)} machine settings ran", state="complete")
    bar.empty()
    return found
