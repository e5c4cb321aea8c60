"""How many kernels fit: measured memory against the server's memory limit.

    cap = (limit - reserve - server - templates) / memory one more live kernel adds

Memory is PSS, not resident size (shared library pages would be counted in every process). `limit` is
the tightest cgroup limit on the server, or with none, what is available plus what the lab holds.
`templates` is each running template's PSS from before it had children. A kernel's share is the
high-water mark over kernels that ran a training cell: a forked kernel's private pages (what it shares
with its template is counted there), a spawned kernel's PSS; an estimate until one has been measured.
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from repro_core.kernels import preloaded
from repro_core.kernels.kernel import LabKernel
from repro_core.kernels.proc import child_pids, kb_fields, pss_mb, uss_mb

MB = 1024 * 1024
# From bench/fork_bench.py on a 2-core Linux box with TF 2.21 (forked kernel ~105 MB private, spawned 390-460 MB
# PSS, a template ~730 MB), rounded up: one visitor burst must not overshoot before anything is measured.
FORKED_KERNEL_ESTIMATE_MB = 160.0
SPAWNED_KERNEL_ESTIMATE_MB = 520.0
TEMPLATE_ESTIMATE_MB = 750.0  # for a template not started yet
RESERVE_FRACTION = 0.10  # of the limit: page cache, allocator slack, Streamlit sessions yet to come
RESERVE_MIN_MB = 150.0
MAX_CAP = 64
CACHE_SECONDS = 2.0
TRAINED_AFTER_CELLS = 3  # setup cell, environment probe, then at least one training cell


def _meminfo_mb(name: str, default: float) -> float:
    with contextlib.suppress(OSError, KeyError):
        return kb_fields("/proc/meminfo")[name] / 1024.0
    return default


def cgroup_limit_mb(proc_cgroup: str | None = None, root: Path = Path("/sys/fs/cgroup")) -> float | None:
    """The tightest memory limit on this process's cgroup and its ancestors; None if unlimited.

    v1: the `memory` controller's memory.limit_in_bytes; v2: the `0::` line's memory.max. Inside a
    container the cgroup path may not exist under the mount (it sees its own cgroup as the root).
    """
    text = proc_cgroup if proc_cgroup is not None else Path("/proc/self/cgroup").read_text()
    total_mb = _meminfo_mb("MemTotal", float("inf"))
    found: list[float] = []
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
            here = mount / path.lstrip("/")
            if not (mount / filename).exists() and not (here / filename).exists():
                continue
            for directory in [here, *here.parents]:
                if mount not in (directory, *directory.parents):
                    break
                with contextlib.suppress(OSError, ValueError):  # "max": no limit
                    limit_mb = int((directory / filename).read_text()) / MB
                    if limit_mb < total_mb:
                        found.append(limit_mb)
            break
    return min(found) if found else None


def memory_limit_mb(ours_mb: float) -> float:
    """The memory the lab may use in all: the cgroup limit, or what is free plus what the lab holds (`ours_mb`)."""
    free = _meminfo_mb("MemAvailable", 0.0) + ours_mb
    with contextlib.suppress(OSError):
        limit = cgroup_limit_mb()
        if limit is not None:
            return min(limit, free)
    return free


# -- what a kernel adds ------------------------------------------------------------------------------------
_high_water: dict[bool, float] = {}  # forked? -> MB one more kernel added, highest seen
_observe_lock = threading.Lock()


def observe_kernel(kernel: LabKernel) -> None:
    """After each cell (~1 ms): record what a live kernel holds once it has run a training cell."""
    pid = kernel.pid
    if pid is None or kernel.cells_run < TRAINED_AFTER_CELLS:
        return
    try:
        added = uss_mb(pid) if kernel.forked else pss_mb(pid)
    except (OSError, KeyError):
        return
    with _observe_lock:
        _high_water[kernel.forked] = max(_high_water.get(kernel.forked, 0.0), added)


def kernel_share_mb(forked: bool) -> float:
    """MB one more live kernel adds: measured here, or the estimate until then."""
    with _observe_lock:
        measured = _high_water.get(forked)
    if measured is not None:
        return measured
    return FORKED_KERNEL_ESTIMATE_MB if forked else SPAWNED_KERNEL_ESTIMATE_MB


# -- the cap -----------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class MemoryBudget:
    limit_mb: float
    reserve_mb: float
    server_mb: float
    templates_mb: float
    kernel_mb: float

    @property
    def cap(self) -> int:
        room = self.limit_mb - self.reserve_mb - self.server_mb - self.templates_mb
        return max(1, min(MAX_CAP, int(room // self.kernel_mb)))


def _kernel_pids(parents: set[int]) -> list[int]:
    """Children of `parents` that are kernels: a template's children all are; the server's run ipykernel_launcher."""
    server = os.getpid()
    found = []
    for pid, parent in child_pids(parents).items():
        with contextlib.suppress(OSError):
            if parent != server or b"ipykernel_launcher" in Path(f"/proc/{pid}/cmdline").read_bytes():
                found.append(pid)
    return found


def memory_budget(forked: bool) -> MemoryBudget:
    """Measure now: the limit, the server's and the templates' PSS, and a kernel's share."""
    server = os.getpid()
    server_mb = pss_mb(server)
    templates = preloaded.live_templates() if forked else []
    baselines_mb = sum(t.baseline_pss_mb for t in templates)
    ours_mb = server_mb + baselines_mb
    for pid in _kernel_pids({server, *(t.pid for t in templates if t.pid is not None)}):
        with contextlib.suppress(OSError, KeyError):
            ours_mb += pss_mb(pid)
    limit_mb = memory_limit_mb(ours_mb)
    templates_mb = baselines_mb if templates else (TEMPLATE_ESTIMATE_MB if forked else 0.0)
    reserve_mb = max(RESERVE_MIN_MB, RESERVE_FRACTION * limit_mb)
    return MemoryBudget(limit_mb, reserve_mb, server_mb, templates_mb, kernel_share_mb(forked))


_cached: dict[bool, tuple[float, int]] = {}  # forked? -> (when, cap)
_cache_lock = threading.Lock()


def kernel_cap(forked: bool) -> int:
    """Live kernels that fit in this server's memory now; cached for a couple of seconds, so every admission may ask."""
    now = time.monotonic()
    with _cache_lock:
        when, cap = _cached.get(forked, (float("-inf"), 0))
        if now - when < CACHE_SECONDS:
            return cap
    try:
        cap = memory_budget(forked).cap
    except OSError:  # no /proc (not Linux): a cautious guess
        return 2
    with _cache_lock:
        _cached[forked] = (now, cap)
    return cap
