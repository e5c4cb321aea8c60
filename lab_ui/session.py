"""One learner's lab: the settings, every page's rows, the kernels' runners and what pages computed, in a `LabState` kept on
the server under an id the URL carries (`?lab=<id>`), so a reload (F5) finds it again until it has been idle for the
server's idle limit. Functions here take any MutableMapping (st.session_state, or a dict in tests) holding the LabState.

Rows are kept per scenario, each carrying its settings and kernel start, and judged by repro_core.judgement: other settings
start a new group beside the old, never a silent start-over. Each scenario re-runs in a kernel of its own (a *lane*, one
kept kernel of the pool, owner `<lab id>/<lane>`), so a learner can move between a page's columns in any order and still
re-run "the same cell" in "the same kernel"; at most MAX_LANES kernels are kept per lab, the least recently used goes first."""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Collection, Iterator, MutableMapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace

from repro_core.experiments.runner import CellRunner, StartCounter
from repro_core.experiments.story import story_runner
from repro_core.judgement import Judgement, RowSettings, judge
from repro_core.kernels.environment import KernelKind
from repro_core.kernels.hosting import local_pool
from repro_core.kernels.kernel import CellResult
from repro_core.kernels.pool import KernelPool, OnWait
from repro_core.recipes import cells
from repro_core.recipes.settings import StoryParams
from repro_core.records import KernelVersions, RunRecord
from repro_core.results.report import Report
from repro_core.validation import Refusal
from repro_core.vocabulary import DEFAULT_BACKEND, DEFAULT_KERNEL

LAB = "lab_state"  # st.session_state key of the session's LabState
QUERY_KEY = "lab"  # the URL's query parameter that names it
PREEMPTED = "lab_kernel_preempted"
MAX_LANES = 3  # kernels one lab keeps between clicks: the Factory page's three columns
MAX_LABS = 2000  # labs kept on one server at most (the idle limit frees them long before, on any real demo)

DEFAULTS = StoryParams()
WIDGET_LABELS = {"seed": "Seed", "reruns": "Reruns", "epochs": "Epochs", "engine": "Keras engine"}


@dataclass
class LabState:
    """Everything of one learner that a reload must not lose."""

    id: str
    settings: StoryParams = DEFAULTS
    kernel: str = DEFAULT_KERNEL  # the kernelspec every lane's kernel is started from
    rows: dict[str, list[RunRecord]] = field(default_factory=dict)  # scenario -> rows, in the order they came
    cells: dict[int, list[CellResult]] = field(default_factory=dict)  # kernel start -> the cells it ran (notebook downloads)
    versions: dict[int, KernelVersions] = field(default_factory=dict)  # kernel start -> what its kernel reported
    loaded: dict[int, str] = field(default_factory=dict)  # kernel start -> the report file its rows were loaded from
    lanes: dict[str, CellRunner] = field(default_factory=dict)  # lane -> its runner, least recently used first
    starts: StartCounter = field(default_factory=StartCounter)
    kept: dict[str, object] = field(default_factory=dict)  # what pages computed (matrix, audit, live column), by key
    touched: float = field(default_factory=time.monotonic)
    busy: threading.Lock = field(default_factory=threading.Lock)  # one click at a time, even from two tabs

    def owner(self, lane: str) -> str:
        return f"{self.id}/{lane}"

    @property
    def last_runner(self) -> CellRunner | None:
        return next(reversed(self.lanes.values()), None)


class LabStore:
    """The server's labs by id, each dropped (its kernels given back) once idle for `idle_seconds`."""

    def __init__(self, idle_seconds: float) -> None:
        self.idle_seconds = idle_seconds
        self._labs: dict[str, LabState] = {}
        self._lock = threading.Lock()

    def get(self, lab_id: object) -> LabState | None:
        self.expire()
        with self._lock:
            found = self._labs.get(lab_id) if isinstance(lab_id, str) else None
            if found is not None:
                found.touched = time.monotonic()
            return found

    def new(self) -> LabState:
        self.expire()
        lab = LabState(id=secrets.token_urlsafe(16))
        with self._lock:
            while len(self._labs) >= MAX_LABS:  # the longest idle goes first
                oldest = min(self._labs.values(), key=lambda found: found.touched)
                self._drop(oldest)
            self._labs[lab.id] = lab
        return lab

    def expire(self) -> list[str]:
        now = time.monotonic()
        with self._lock:
            idle = [lab for lab in self._labs.values() if now - lab.touched > self.idle_seconds]
            for lab in idle:
                self._drop(lab)
        return [lab.id for lab in idle]

    def _drop(self, lab: LabState) -> None:
        self._labs.pop(lab.id, None)
        for lane in list(lab.lanes):
            pool().release(lab.owner(lane))


_STORE: LabStore | None = None


def use_store(idle_seconds: float) -> LabStore:
    global _STORE
    if _STORE is None or _STORE.idle_seconds != idle_seconds:
        _STORE = LabStore(idle_seconds)
    return _STORE


def store() -> LabStore:
    return _STORE or use_store(3600.0)


def open_lab(state: MutableMapping, query: MutableMapping) -> str | None:
    """Find this session's lab: its own, the one the URL names (after a reload), or a new one; put its id in the URL.
    Returns a message when a lab named in the URL could not be found (it expired)."""
    message = None
    if LAB not in state:
        wanted = query.get(QUERY_KEY)
        lab = store().get(wanted) if wanted else None
        if lab is None:
            lab = store().new()
            if wanted:
                message = ("The lab this link named has expired (a lab is kept while it is used, and for a while after), "
                           "so this is a new one: its rows start empty.")  # fmt: skip
        state[LAB] = lab
        restore_widgets(state, lab)
    lab = state[LAB]
    lab.touched = time.monotonic()
    if query.get(QUERY_KEY) != lab.id:
        query[QUERY_KEY] = lab.id
    return message


def lab(state: MutableMapping) -> LabState:
    """The session's lab (tests that never open one get a new one)."""
    if LAB not in state:
        state[LAB] = store().new()
    return state[LAB]


def restore_widgets(state: MutableMapping, found: LabState) -> None:
    """The sidebar's widgets take their values from the lab, so a reload shows the settings the rows were made with."""
    for key in WIDGET_LABELS:
        state[key] = getattr(found.settings, key)
    state["kernel"] = found.kernel


def current_params(state: MutableMapping) -> StoryParams:
    return lab(state).settings


def apply_settings(state: MutableMapping, seed: object, reruns: object, epochs: object, engine: object,
                   backend: object = DEFAULT_BACKEND) -> str | None:  # fmt: skip
    """Make the sidebar's values current, or return why not (keeping the last valid ones). Rows made with earlier settings
    stay, in groups of their own. A new engine gives the kernels back at once: they were started for the other engine."""
    found = lab(state)
    old = found.settings
    try:
        new = StoryParams(seed=seed, reruns=reruns, epochs=epochs, engine=engine, backend=backend,
                          batch_size=old.batch_size, learning_rate=old.learning_rate)  # fmt: skip
    except Refusal as exc:
        return str(exc)
    found.settings = new
    if new.engine != old.engine:
        close_lanes(state)
    return None


def sanitize_widget_state(state: MutableMapping) -> list[str]:
    """Before the sidebar is drawn, drop widget values StoryParams refuses (set through session_state, say): one message each."""
    messages = []
    for key, label in WIDGET_LABELS.items():
        if key in state:
            try:
                replace(DEFAULTS, **{key: state[key]})
            except Refusal as exc:
                del state[key]
                messages.append(f"{label} not changed: {exc}.")
    return messages


def current_kernel(state: MutableMapping) -> str:
    return lab(state).kernel


def apply_kernel(state: MutableMapping, name: object, available: Collection[str]) -> str | None:
    """Make `name` the lab's kernelspec; a change gives every lane's kernel back, so the next run starts the chosen one."""
    if not isinstance(name, str) or name not in available:
        return f"unknown kernel {name!r}"
    found = lab(state)
    if name != found.kernel:
        found.kernel = name
        close_lanes(state)
    return None


# The shared kernel pool: the app sets it once per server; tests and scripts get one of this process's own.
_POOL: KernelPool | None = None
_CELL_TIMEOUT: float | None = None


def use_pool(kernels: KernelPool | None, cell_timeout: float | None = None) -> None:
    global _POOL, _CELL_TIMEOUT
    _POOL, _CELL_TIMEOUT = kernels, cell_timeout


def pool() -> KernelPool:
    global _POOL
    if _POOL is None:
        _POOL = local_pool(cap=2)
    return _POOL


def session_id(state: MutableMapping) -> str:
    return lab(state).id


def lane_runner(state: MutableMapping, lane: str) -> CellRunner:
    """The lane's runner, configured for the current settings (the least recently used lane's kernel goes back to the
    pool when a lab would keep more than MAX_LANES)."""
    found = lab(state)
    settings = found.settings
    runner = found.lanes.pop(lane, None) or story_runner(settings, found.starts)
    found.lanes[lane] = runner  # now the most recently used
    runner.configure([cells.story_setup_cell(settings)], settings.seed, settings.epochs)
    while len(found.lanes) > MAX_LANES:
        oldest = next(iter(found.lanes))
        found.lanes.pop(oldest)
        pool().release(found.owner(oldest))
    return runner


class LabBusy(Refusal):
    """The lab is running a click already (another tab of the same lab)."""


@contextmanager
def click(state: MutableMapping, lane: str, on_wait: OnWait | None = None) -> Iterator[CellRunner]:
    """The lane's runner on its kept kernel, leased for one click (on_wait gets the queue place while the server is full)."""
    found = lab(state)
    if not found.busy.acquire(blocking=False):
        raise LabBusy("this lab is running a cell already (in another tab?): wait for it to finish, then run again")
    try:
        runner = lane_runner(state, lane)
        kind = KernelKind.of(found.kernel, found.settings.engine, found.settings.machine)
        with pool().lease(found.owner(lane), kind, on_wait=on_wait) as leased:
            if runner.kernel is not None and runner.kernel is not leased[0] and runner.versions is not None:
                state[PREEMPTED] = True
            runner.attach(leased[0])
            if _CELL_TIMEOUT is not None:
                runner.cell_timeout = _CELL_TIMEOUT
            yield runner
    finally:
        found.busy.release()
        found.touched = time.monotonic()


def close_lanes(state: MutableMapping) -> None:
    """Give every lane's kernel back to the pool and forget the runners (rows, cells and kept results stay)."""
    found = lab(state)
    for lane in list(found.lanes):
        pool().release(found.owner(lane))
    found.lanes.clear()


def last_runner(state: MutableMapping) -> CellRunner | None:
    """The runner of the lane used last: what the sidebar's kernel card describes."""
    return lab(state).last_runner


def peek_runner(state: MutableMapping, lane: str) -> CellRunner | None:
    return lab(state).lanes.get(lane)


# -- rows -----------------------------------------------------------------------------------------------------------
def rows_of(state: MutableMapping, scenario: str) -> list[RunRecord]:
    return lab(state).rows.get(scenario, [])


def judged(state: MutableMapping, scenario: str) -> Judgement:
    """The scenario's rows judged once (every screen that shows them reads this)."""
    return judge(rows_of(state, scenario))


def add_row(state: MutableMapping, record: RunRecord, runner: CellRunner) -> str | None:
    """Add one row and its kernel start's cells. Returns a message when the row starts a group of other settings than the
    scenario's newest (the earlier rows stay, judged apart)."""
    found = lab(state)
    rows = found.rows.setdefault(record.scenario, [])
    message = None
    if rows and RowSettings.of(rows[-1]) != RowSettings.of(record):
        changes = ", ".join(RowSettings.of(rows[-1]).differences(RowSettings.of(record)))
        message = f"New settings ({changes}): the new rows form a group of their own; the earlier rows stay, judged apart."
    rows.append(record)
    start = runner.kernel_starts
    found.cells[start] = runner.cells_of(start)
    if runner.versions is not None:
        found.versions[start] = runner.versions
    return message


def clear_rows(state: MutableMapping, scenario: str) -> None:
    """The learner's Clear rows: the scenario's rows of every settings and kernel start go."""
    lab(state).rows.pop(scenario, None)


def cells_of(state: MutableMapping, starts: Sequence[int]) -> list[CellResult]:
    found = lab(state)
    return [cell for start in starts for cell in found.cells.get(start, [])]


def versions_of(state: MutableMapping, start: int) -> KernelVersions | None:
    return lab(state).versions.get(start)


def load_report(state: MutableMapping, report: Report, scenarios: Collection[str], file_name: str) -> int:
    """Put a report's rows of `scenarios` back into the lab, each kernel start of the report renumbered as a new kernel
    start of this lab (so they never join a live group), labelled with the file they came from. Returns rows added."""
    found = lab(state)
    renumbered: dict[tuple[str, int], int] = {}
    added = 0
    for record in report.records:
        if record.scenario not in scenarios:
            continue
        key = (record.scenario, record.kernel_start)
        if key not in renumbered:
            renumbered[key] = found.starts.next()
            found.loaded[renumbered[key]] = file_name
        found.rows.setdefault(record.scenario, []).append(replace(record, kernel_start=renumbered[key]))
        added += 1
    return added


def kept(state: MutableMapping, key: str, default: object = None) -> object:
    """What a page computed (a matrix, an audit, a live column), kept with the lab across reloads."""
    return lab(state).kept.get(key, default)


def keep(state: MutableMapping, key: str, value: object) -> None:
    lab(state).kept[key] = value
