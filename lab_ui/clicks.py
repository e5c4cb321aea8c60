"""Every click that runs cells, on every page, takes one path: `click` reads the settings once, checks the budget, shows the
queue notice, hands the handler a Lease on the server's pool, and turns a refused input or a kernel failure into one plain
message. Anything else is a bug: logged with its traceback, shown locally with it (st.exception), and to a hosted visitor as a
generic message with no details."""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, replace

import streamlit as st

from lab_ui import session
from lab_ui.results_view import ResultsView
from lab_ui.server import hosting
from lab_ui.sidebar import first_rejection, params
from repro_core.experiments import audit, diagnose, matrix
from repro_core.experiments.machines import MachineRun, run_on_machines
from repro_core.experiments.runner import CellRunner
from repro_core.experiments.story import ScenarioResult, run_on_kernels, run_scenario
from repro_core.kernels.hosting import check_budget, check_code_allowed
from repro_core.kernels.kernel import CellError, CellTimeout, KernelDied, KernelError, KernelStartError
from repro_core.kernels.pool import KernelPool
from repro_core.machine import MachineSettings
from repro_core.recipes.scripts import Script, ScriptProblem
from repro_core.recipes.settings import StoryParams
from repro_core.records import VERDICTS, RunRecord
from repro_core.results.timeline import TimelineEntry, live_entry
from repro_core.validation import Refusal
from repro_core.vocabulary import SCENARIOS, STORY_SCENARIOS, WHOLE_STORY, backend_release, engine_label

ERROR = ":material/error:"
BUG_MESSAGE = "Something went wrong on our side, not with what you asked. It has been logged; try again, or reload the page."
LOG = logging.getLogger(__name__)


def error_message(exc: Exception) -> str:
    if isinstance(exc, Refusal):
        return str(exc)
    if isinstance(exc, CellError):
        return f"The cell raised {exc.ename}: {exc.evalue}"
    if isinstance(exc, CellTimeout):
        return f"Timed out: {exc}"
    if isinstance(exc, KernelDied):
        return f"{exc}. The next run starts a fresh kernel."
    if isinstance(exc, KernelStartError):
        return f"The kernel could not start: {exc}"
    if isinstance(exc, Refusal):  # a refused input: its message is for the learner
        text = str(exc)
        return text[:1].upper() + text[1:]
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
    """What a click runs on, and the settings it runs with (read once, before the click). The story pages run in their
    scenario's lane; the matrix and the audit hand pool, owner and on_wait to the core, which leases fresh kernels."""

    pool: KernelPool
    owner: str
    on_wait: QueueNotice
    settings: StoryParams

    @contextmanager
    def runner(self, lane: str) -> Iterator[CellRunner]:
        """The lane's runner on its kept kernel (a fresh one if it was given away)."""
        with session.click(st.session_state, lane, self.on_wait) as runner:
            self.on_wait.clear()
            if st.session_state.pop(session.PREEMPTED, False):
                st.info("This column's kernel had been given back to the server's pool (idle while others waited, or your "
                        "lab needed room for another), so this run starts a fresh one.")  # fmt: skip
            yield runner


def show_bug(exc: Exception) -> None:
    """A handler raised something that is neither a Refusal nor a kernel's failure: a bug in the lab, never the visitor's."""
    LOG.error("a click's handler failed", exc_info=exc)
    if hosting().hosted:
        st.error(BUG_MESSAGE, icon=ERROR)  # no type, message or path: a public demo shows none
    else:
        st.exception(exc)


def click(default: object = None, budget: bool = False):
    """Call the handler with a Lease (the sidebar's settings, read once); over the budget (reruns x epochs), on a refused
    input or on a kernel failure: one st.error, and `default`. Any other exception is a bug (`show_bug`), and also gives
    `default`."""

    def decorate(handler):
        @functools.wraps(handler)
        def wrapper(*args, **kwargs):
            current = params()
            try:
                if budget:
                    check_budget(current.reruns, current.epochs, hosting())
            except Refusal as exc:
                if first_rejection(str(exc)):  # a page that calls several clicks: still one alert
                    st.error(str(exc), icon=ERROR)
                return default
            lease = Lease(session.pool(), session.session_id(st.session_state), QueueNotice(session.pool().cap), current)
            try:
                return handler(lease, *args, **kwargs)
            except (KernelError, Refusal) as exc:
                st.error(error_message(exc), icon=ERROR)
                return default
            except Exception as exc:  # noqa: BLE001 - a bug: said apart from a refusal, never swallowed as one
                show_bug(exc)
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


def run_many_button(key: str, reruns: int, help_text: str, where=None, disabled: bool = False) -> bool:
    return (where or st).button(f"Run {reruns} times", key=f"{key}_run_many", icon=":material/replay:", help=help_text, disabled=disabled)


def _new_group(message: str | None) -> None:
    """Say so whenever a row starts a group of other settings: rows never move silently."""
    if message is not None:
        st.info(message, icon=":material/info:")


@click()
def run_cell(lease: Lease, view: ResultsView, cell: str) -> None:
    """One more Shift-Enter on `cell` (the one the page shows) in the scenario's own kernel; adds a row."""
    title = SCENARIOS[view.scenario].title_on(lease.settings.backend)
    with lease.runner(view.scenario) as runner, st.status(f"Running the cell: {title}") as status:
        starts_before = runner.kernel_starts
        record = runner.run(cell, view.scenario, status_callback(status))
        message = session.add_row(st.session_state, record, runner)
        view.draw()
        status.update(label=f"Kernel start #{record.kernel_start}, rerun {record.rerun}: done in {record.seconds:.2f} s", state="complete")
    _new_group(message)
    if starts_before not in (0, runner.kernel_starts):
        st.info(f"The kernel was restarted first (the settings changed, or it had stopped), so kernel start #{runner.kernel_starts} "
                "begins at rerun 1; the rows of earlier kernel starts stay in the table.")  # fmt: skip


def _run_scenarios(lease: Lease, scenarios: list[str], views: dict[str, ResultsView], label: str, bar: Progress) -> None:
    """Each scenario from a restarted kernel of its own lane, rows added as they come (the command line's rows)."""
    for scenario in scenarios:
        title = SCENARIOS[scenario].title_on(lease.settings.backend)
        with lease.runner(scenario) as runner:
            messages: list[str] = []

            def on_record(record: RunRecord, runner=runner, messages=messages) -> None:
                message = session.add_row(st.session_state, record, runner)
                if message is not None:
                    messages.append(message)
                if record.scenario in views:
                    views[record.scenario].draw()
                bar.step(f"{label} · {SCENARIOS[record.scenario].title}, rerun {record.rerun}")

            with st.status(f"{title}: restarting its kernel, then {lease.settings.reruns} reruns") as status:
                run_scenario(runner, scenario, lease.settings, on_record, status_callback(status))
                status.update(label=f"{title}: {lease.settings.reruns} reruns done", state="complete")
        _new_group(messages[0] if messages else None)


@click(budget=True)
def run_many(lease: Lease, *views: ResultsView) -> None:
    """Each view's scenario from a restarted kernel (the CLI's rows for these settings), each in its own kernel."""
    bar = Progress(len(views) * lease.settings.reruns, shown=len(views) > 1)
    _run_scenarios(lease, [view.scenario for view in views], {view.scenario: view for view in views}, "reruns", bar)
    bar.empty()


@click()
def restart_kernel(lease: Lease, lane: str) -> CellRunner:
    """Really restart the lane's kernel and run the setup cell again."""
    with lease.runner(lane) as runner, st.status("Restarting the kernel") as status:
        runner.reset(status_callback(status))
        status.update(label=f"Kernel restarted: this is kernel start #{runner.kernel_starts}; the setup cell has run", state="complete")
    return runner


@click(False, budget=True)
def run_whole_story(lease: Lease) -> bool:
    """Fill every story page's rows in one go, each scenario in its own kernel (added beside earlier rows)."""
    bar = Progress(len(WHOLE_STORY) * lease.settings.reruns)
    _run_scenarios(lease, list(WHOLE_STORY), {}, "cell runs", bar)
    bar.empty()
    return True


LIVE_LANE = "versions"  # the Across versions page's live column runs in a kernel of its own


@click(budget=True)
def run_timeline_live(lease: Lease) -> TimelineEntry | None:
    """The Across versions page's live column: the four story scenarios in a kernel of the lab's."""
    current = lease.settings
    bar = Progress(len(STORY_SCENARIOS) * current.reruns, "Starting a kernel")
    with lease.runner(LIVE_LANE) as runner, st.status("Running the four scenarios in your lab's kernel") as status:
        entry = live_entry(runner, current, on_status=status_callback(status),
                           on_record=lambda record: bar.step(f"reruns · {SCENARIOS[record.scenario].title}, rerun {record.rerun}"))  # fmt: skip
        status.update(label=f"Live column ready: {entry.column}", state="complete")
    bar.empty()
    return entry


def _room_for_fresh_kernels() -> None:
    """The matrix and the audit lease fresh kernels: when the server has no room for one, this lab's kept kernels go first."""
    kernels = session.pool()
    if kernels.cap - kernels.live < 1:
        session.close_lanes(st.session_state)


@click()
def run_matrix(lease: Lease, options: matrix.MatrixOptions, parallelism: int) -> matrix.MatrixResult:
    """Every recipe in a fresh kernel, up to `parallelism` at a time as the pool has room."""
    total = len(options.recipes())
    bar, finished = Progress(total, f"{total} recipes, up to {parallelism} kernels at a time"), st.empty()

    def tick(result: matrix.RecipeResult, _done: int, _total: int) -> None:
        bar.step("recipes")
        finished.caption(f"Finished {result.recipe.title_on(options.backend)} on {engine_label(result.recipe.engine)}: "
                         f"{VERDICTS[result.verdict].headline} ({result.seconds:.1f} s)")  # fmt: skip

    _room_for_fresh_kernels()
    found = matrix.run_matrix(options, parallelism, tick, session.current_kernel(st.session_state),
                              pool=lease.pool, owner=f"{lease.owner}/matrix", on_wait=lease.on_wait)  # fmt: skip
    bar.empty()
    finished.empty()
    return found


@click()
def run_audit(lease: Lease, job: audit.Audit) -> audit.AuditResult:
    """Your model's reruns in a fresh kernel, then every layer's weights compared inside it."""
    bar = Progress(job.reruns)
    _room_for_fresh_kernels()
    with st.status(f"Auditing your model: {job.recipe.title}") as status:
        found = audit.run_audit(job, session.current_kernel(st.session_state), lambda _record: bar.step("reruns done"),
                                status_callback(status), pool=lease.pool, owner=f"{lease.owner}/audit", on_wait=lease.on_wait)  # fmt: skip
        status.update(label=f"Audit done: {len(found.records)} rerun(s)", state="complete")
    bar.empty()
    return found


@click(budget=True)
def run_on_versions(lease: Lease, scenario: str, engines: Mapping[str, str]) -> list[ScenarioResult] | None:
    """One scenario on several kernelspecs (kernelspec -> engine), each on a fresh kernel of the pool, one progress bar."""
    current, title = lease.settings, SCENARIOS[scenario].title
    bar = Progress(len(engines) * current.reruns, f"{title} on {len(engines)} kernels, one after the other")
    _room_for_fresh_kernels()
    with st.status(f"Running {title} on {len(engines)} kernels") as status:
        def step(record: RunRecord) -> None:
            bar.step(f"reruns · {backend_release(record.backend, record.backend_release)} rerun {record.rerun}")

        found = run_on_kernels(current, scenario, engines, step,
                               status_callback(status), pool=lease.pool, owner=f"{lease.owner}/versions", on_wait=lease.on_wait)  # fmt: skip
        ran_on = " and ".join(backend_release(r.versions.backend, r.versions.backend_release) for r in found)
        status.update(label=f"{title} ran on {ran_on}", state="complete")
    bar.empty()
    return found


@click()
def run_diagnose(lease: Lease, script: Script, options: diagnose.DiagnoseOptions) -> diagnose.Diagnosis | ScriptProblem | None:
    """Your training: the script's runs on fresh kernels of the pool (typed or uploaded code refused where the host says so).
    What the script did wrong comes back as a ScriptProblem for the page to show; the lab's own failures as one st.error."""
    check_code_allowed(hosting(), script.kind)
    options = replace(options, timeout=min(options.timeout, hosting().cell_timeout))
    with st.status(f"Diagnosing {script.name}: {options.runs} runs") as status:
        try:
            found = diagnose.diagnose(script, options, pool=lease.pool, owner=f"{lease.owner}/diagnose", on_status=status_callback(status),
                                      on_wait=lease.on_wait)  # fmt: skip
        except ScriptProblem as exc:
            status.update(label=f"The script could not be diagnosed: {exc}"[:200], state="error")
            return exc
        status.update(label=f"Diagnosed in {found.seconds:.1f} s", state="complete")
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
                                on_status=status_callback(status), pool=lease.pool, owner=f"{lease.owner}/machine",
                                on_wait=lease.on_wait)  # fmt: skip
        status.update(label=f"{len(found)} machine settings ran", state="complete")
    bar.empty()
    return found
