"""How many kernels fit: measured memory (PSS from /proc) against the server's memory limit.

Resident size overstates what a kernel costs (shared library pages are counted in every process),
so the lab measures PSS (proportional set size: a page shared by n processes counts 1/n in each) from
/proc/<pid>/smaps_rollup. The cap is

    cap = (limit - reserve - server - templates) / memory one more live kernel adds

where `limit` is the memory limit of the server's own cgroup (v1 memory.limit_in_bytes or v2
memory.max, walking up to the tightest ancestor) or, with no limit, what is available plus what the
lab already holds; `templates` is each running template's PSS from before it had children; and a
kernel's share is the high-water mark over kernels that have run a training cell: a forked kernel's
private pages (USS; the pages it shares with its template are already counted in the template), a
spawned kernel's PSS. Until one has been measured, an estimate from bench/fork_bench.py stands in.
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
from dataclasses import dataclass
from pathlib import Path

MB = 1024 * 1024
# Stand-ins until this server has measured a kernel that trained, from bench/fork_bench.py on a 2-core Linux
# box with TF 2.21 (a forked kernel's private pages ~105 MB, a spawned kernel's PSS 390-460 MB, a template's
# PSS before it forks ~730 MB), rounded up: one visitor burst must not overshoot before anything is measured.
FORKED_KERNEL_ESTIMATE_MB = 160.0
SPAWNED_KERNEL_ESTIMATE_MB = 520.0
TEMPLATE_ESTIMATE_MB = 750.0  # for a template not started yet
RESERVE_FRACTION = 0.10  # of the limit: page cache, allocator slack, Streamlit sessions yet to come
RESERVE_MIN_MB = 150.0
MAX_CAP = 64
CACHE_SECONDS = 2.0
TRAINED_AFTER_CELLS = 3  # setup cell, environment probe, then at least one training cell


def rollup_kb(pid: int) -> dict[str, int]:
    """/proc/<pid>/smaps_rollup as {field: kB} (Rss, Pss, Private_Dirty, ...)."""
    fields: dict[str, int] = {}
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines()[1:]:
        name, _, rest = line.partition(":")
        parts = rest.split()
        if parts and parts[0].isdigit():
            fields[name.strip()] = int(parts[0])
    return fields


def pss_mb(pid: int) -> float:
    """Proportional set size of one process in MB."""
    return rollup_kb(pid)["Pss"] / 1024.0


def uss_mb(pid: int) -> float:
    """Pages only this process maps (private clean + private dirty), in MB: what ending it would free."""
    fields = rollup_kb(pid)
    return (fields.get("Private_Clean", 0) + fields.get("Private_Dirty", 0)) / 1024.0


# -- the limit ---------------------------------------------------------------------------------------------
def _meminfo_mb() -> dict[str, float]:
    info: dict[str, float] = {}
    with contextlib.suppress(OSError):
        for line in Path("/proc/meminfo").read_text().splitlines():
            name, _, rest = line.partition(":")
            parts = rest.split()
            if parts and parts[0].isdigit():
                info[name] = int(parts[0]) / 1024.0
    return info


def _read_limit_bytes(path: Path) -> int | None:
    try:
        text = path.read_text().strip()
    except OSError:
        return None
    if text == "max" or not text.isdigit():
        return None
    return int(text)


def cgroup_limit_mb(proc_cgroup: str | None = None, root: Path = Path("/sys/fs/cgroup")) -> tuple[float, str] | None:
    """The tightest memory limit on this process's cgroup and its ancestors, with where it was read; None if unlimited.

    v1: the `memory` controller's line in /proc/self/cgroup, memory.limit_in_bytes under the memory mount;
    v2: the `0::` line, memory.max under the unified mount. Inside a container the path may not exist
    under the mount (the container sees its own cgroup as the root), so the mount root is read too.
    """
    text = proc_cgroup if proc_cgroup is not None else Path("/proc/self/cgroup").read_text()
    total_mb = _meminfo_mb().get("MemTotal", float("inf"))
    found: list[tuple[float, str]] = []
    for line in text.splitlines():
        hierarchy, _, rest = line.partition(":")
        controllers, _, path = rest.partition(":")
        if "memory" in controllers.split(","):
            mounts, filename = [root / "memory"], "memory.limit_in_bytes"
        elif hierarchy == "0" and controllers == "":
            mounts, filename = [root / "unified", root], "memory.max"
        else:
            continue
        for mount in mounts:
            if not (mount / filename).exists() and not (mount / path.lstrip("/") / filename).exists():
                continue
            here = mount / path.lstrip("/")
            for directory in [here, *here.parents]:
                if mount not in (directory, *directory.parents):
                    break
                limit = _read_limit_bytes(directory / filename)
                if limit is not None and limit / MB < total_mb:
                    found.append((limit / MB, str(directory / filename)))
            break
    return min(found) if found else None


def memory_limit_mb(ours_mb: float) -> tuple[float, str]:
    """The memory the lab may use in all: the cgroup limit, or what is free plus what the lab holds (`ours_mb`)."""
    free = _meminfo_mb().get("MemAvailable", 0.0) + ours_mb
    with contextlib.suppress(OSError):
        limit = cgroup_limit_mb()
        if limit is not None:
            return (limit[0], limit[1]) if limit[0] <= free else (free, "MemAvailable (below the cgroup limit)")
    return free, "MemAvailable + the lab's own PSS"


# -- what a kernel adds ------------------------------------------------------------------------------------
_high_water: dict[bool, float] = {}  # forked? -> MB one more kernel added, highest seen
_observe_lock = threading.Lock()


def observe_kernel(pid: int | None, forked: bool, cells_run: int) -> None:
    """Record what a live kernel holds once it has run a training cell (called after each cell; ~1 ms)."""
    if pid is None or cells_run < TRAINED_AFTER_CELLS:
        return
    try:
        added = uss_mb(pid) if forked else pss_mb(pid)
    except (OSError, KeyError):
        return
    with _observe_lock:
        _high_water[forked] = max(_high_water.get(forked, 0.0), added)


def kernel_share_mb(forked: bool) -> tuple[float, str]:
    """MB one more live kernel adds, and whether it was measured here or estimated."""
    with _observe_lock:
        measured = _high_water.get(forked)
    if measured is not None:
        return measured, "measured"
    return (FORKED_KERNEL_ESTIMATE_MB if forked else SPAWNED_KERNEL_ESTIMATE_MB), "estimate"


# -- the cap -----------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class MemoryBudget:
    """Every number behind the cap, so a page or a log line can show the arithmetic."""

    limit_mb: float
    limit_source: str
    reserve_mb: float
    server_mb: float
    templates_mb: float
    kernel_mb: float
    kernel_source: str  # "measured" or "estimate"
    forked: bool

    @property
    def cap(self) -> int:
        room = self.limit_mb - self.reserve_mb - self.server_mb - self.templates_mb
        return max(1, min(MAX_CAP, int(room // self.kernel_mb)))

    def describe(self) -> str:
        return (f"{self.cap} kernels = ({self.limit_mb:.0f} MB limit [{self.limit_source}] - {self.reserve_mb:.0f} reserve "
                f"- {self.server_mb:.0f} server - {self.templates_mb:.0f} templates) / {self.kernel_mb:.0f} MB per "
                f"{'forked' if self.forked else 'spawned'} kernel ({self.kernel_source})")  # fmt: skip


def child_pids(parents: set[int]) -> dict[int, int]:
    """{pid: parent pid} of every live process whose parent is in `parents` (read from /proc/<pid>/stat)."""
    found: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError, ValueError, IndexError):
            parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            if parent in parents:
                found[int(entry.name)] = parent
    return found


def _kernel_pids(parents: set[int]) -> list[int]:
    """Children of `parents` that are kernels: a template's children all are; the server's run ipykernel_launcher."""
    server = os.getpid()
    found = []
    for pid, parent in child_pids(parents).items():
        with contextlib.suppress(OSError):
            if parent != server or b"ipykernel_launcher" in Path(f"/proc/{pid}/cmdline").read_bytes():
                found.append(pid)
    return found


def memory_budget(forked: bool | None = None) -> MemoryBudget:
    """Measure now: the limit, the server's and the templates' PSS, and a kernel's share."""
    from repro_core.kernels import preloaded
    from repro_core.kernels.fork_provisioner import forks_kernels

    forked = forks_kernels() if forked is None else forked
    server = os.getpid()
    server_mb = pss_mb(server)
    templates = preloaded.live_templates() if forked else []
    templates_mb = sum(t.baseline_pss_mb for t in templates) if templates else (TEMPLATE_ESTIMATE_MB if forked else 0.0)
    ours_mb = server_mb + sum(t.baseline_pss_mb for t in templates)
    for pid in _kernel_pids({server, *(t.pid for t in templates if t.pid is not None)}):
        with contextlib.suppress(OSError, KeyError):
            ours_mb += pss_mb(pid)
    limit_mb, source = memory_limit_mb(ours_mb)
    kernel_mb, kernel_source = kernel_share_mb(forked)
    reserve = max(RESERVE_MIN_MB, RESERVE_FRACTION * limit_mb)
    return MemoryBudget(limit_mb, source, reserve, server_mb, templates_mb, kernel_mb, kernel_source, forked)


_cached: tuple[float, bool, MemoryBudget] | None = None
_cache_lock = threading.Lock()


def kernel_cap(forked: bool | None = None) -> int:
    """Live kernels that fit in this server's memory now (the pool's cap when REPRO_MAX_KERNELS is unset).

    Cheap enough to call on every admission: the measurement is cached for a couple of seconds.
    """
    global _cached
    from repro_core.kernels.fork_provisioner import forks_kernels

    forked = forks_kernels() if forked is None else forked
    now = time.monotonic()
    with _cache_lock:
        if _cached is not None and _cached[1] == forked and now - _cached[0] < CACHE_SECONDS:
            return _cached[2].cap
    try:
        budget = memory_budget(forked)
    except OSError:  # no /proc (not Linux): the old, cautious guess
        return 2
    with _cache_lock:
        _cached = (now, forked, budget)
    return budget.cap
