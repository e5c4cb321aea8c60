"""Processes' memory and children, asked of psutil: the one place the lab, its tests and its benches read them.

psutil's errors come out as OSError (ProcessLookupError for a process that is gone, PermissionError for one not ours
to read), so callers handle one kind. The cgroup's memory limit is not here: psutil does not read it (memory.py does).
"""

from __future__ import annotations

import contextlib
from collections.abc import Collection, Iterator
from dataclasses import dataclass

import psutil

MB = 1024 * 1024
SPAWNED_KERNEL_MARK = "ipykernel_launcher"  # a spawned kernel's command line: python -m ipykernel_launcher -f ...
TEMPLATE_MARK = "fork_template"  # a fork template's: python .../repro_core/kernels/fork_template.py --control-fd N


@contextlib.contextmanager
def _as_os_error(pid: int) -> Iterator[None]:
    try:
        yield
    except psutil.NoSuchProcess as gone:
        raise ProcessLookupError(f"no process {pid}") from gone
    except psutil.AccessDenied as denied:
        raise PermissionError(f"process {pid} may not be read") from denied
    except psutil.Error as other:
        raise OSError(f"process {pid}: {other}") from other


def _full_memory(pid: int, field: str) -> float:
    with _as_os_error(pid):
        info = psutil.Process(pid).memory_full_info()
    if not hasattr(info, field):  # PSS is Linux's (smaps_rollup); macOS gives USS only
        raise OSError(f"this platform does not report {field.upper()}")
    return getattr(info, field) / MB


def pss_mb(pid: int) -> float:
    """Proportional set size in MB: a page shared by n processes counts 1/n in each."""
    return _full_memory(pid, "pss")


def uss_mb(pid: int) -> float:
    """Pages only this process maps, in MB: what ending it would free."""
    return _full_memory(pid, "uss")


def rss_mb(pid: int) -> float:
    """Resident memory in MB (shared pages count in full in every process that maps them)."""
    with _as_os_error(pid):
        return psutil.Process(pid).memory_info().rss / MB


def command_line(pid: int) -> str:
    """The process's arguments joined by spaces; "" for a process that is gone or not ours to read."""
    with contextlib.suppress(psutil.Error):
        return " ".join(psutil.Process(pid).cmdline())
    return ""


def available_mb() -> float:
    """Memory the machine can give without swapping (Linux's MemAvailable), in MB."""
    return psutil.virtual_memory().available / MB


def total_mb() -> float:
    """The machine's physical memory, in MB."""
    return psutil.virtual_memory().total / MB


@dataclass(frozen=True)
class ProcessTable:
    """Every process's parent at one moment: one pass over the process table, so several questions about one server's
    family (the load tests sample it several times a second) cost one pass."""

    parents: dict[int, int]

    @classmethod
    def now(cls) -> ProcessTable:
        parents = {}
        for process in psutil.process_iter():
            with contextlib.suppress(psutil.Error):
                parents[process.pid] = process.ppid()
        return cls(parents)

    def children(self, of: Collection[int]) -> dict[int, int]:
        """{pid: parent pid} of every process whose parent is in `of`."""
        return {pid: parent for pid, parent in self.parents.items() if parent in of}

    def templates(self, server: int) -> list[int]:
        """The server's fork templates: its children running repro_core/kernels/fork_template.py."""
        return [pid for pid in self.children({server}) if TEMPLATE_MARK in command_line(pid)]

    def kernels(self, server: int, templates: Collection[int]) -> list[int]:
        """The server's Jupyter kernels: its children running ipykernel_launcher (spawned) and its templates' children (forked)."""
        return [
            pid
            for pid, parent in self.children({server, *templates}).items()
            if parent != server or SPAWNED_KERNEL_MARK in command_line(pid)
        ]


def child_pids(parents: Collection[int]) -> dict[int, int]:
    """{pid: parent pid} of every live process whose parent is in `parents`."""
    return ProcessTable.now().children(parents)


def server_family(server: int) -> tuple[list[int], list[int]]:
    """(fork templates, Jupyter kernels) of a server, from one pass over the process table."""
    table = ProcessTable.now()
    templates = table.templates(server)
    return templates, table.kernels(server, templates)
