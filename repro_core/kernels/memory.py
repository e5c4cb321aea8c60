"""How many kernels fit: cap = (limit - reserve - server - templates) / memory one more live kernel adds.

Memory is PSS, not resident size, so shared library pages count once. `limit` is the tightest cgroup limit, else
what is available plus what the lab holds; `templates` is each template's PSS from before it had children. A
kernel's share is the high-water mark over kernels that trained: a fork's private pages (the rest is counted in its
template), a spawned kernel's PSS; an estimate until one has been measured.
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
from repro_core.kernels.proc import ProcessTable, available_mb, pss_mb, total_mb, uss_mb

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


def _limit_mb(file: Path) -> float:
    with contextlib.suppress(OSError, ValueError):  # "max": no limit
        return int(file.read_text()) / MB
    return float("inf")


def cgroup_limit_mb(proc_cgroup: str | None = None, root: Path = Path("/sys/fs/cgroup")) -> float | None:
    """The tightest memory limit on this process's cgroup and its ancestors, None if unlimited: v1's memory.limit_in_bytes,
    v2's memory.max. A container may see its own cgroup as the mount's root, so the path need not exist there."""
    text = proc_cgroup if proc_cgroup is not None else Path("/proc/self/cgroup").read_text()
    tightest = float("inf")
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
            if (mount / filename).exists() or (here / filename).exists():
                chain = [directory for directory in [here, *here.parents] if directory.is_relative_to(mount)]
                tightest = min([tightest, *(_limit_mb(directory / filename) for directory in chain)])
                break
    return tightest if tightest < total_mb() else None  # a limit above the RAM is none


_high_water: dict[bool, float] = {}  # forked? -> MB one more kernel added, highest seen
_observe_lock = threading.Lock()


def observe_kernel(kernel: LabKernel) -> None:
    """After each cell (~1 ms): record what a live kernel holds once it has run a training cell."""
    pid = kernel.pid
    if pid is None or kernel.cells_run < TRAINED_AFTER_CELLS:
        return
    try:
        added = uss_mb(pid) if kernel.forked else pss_mb(pid)
    except OSError:
        return
    with _observe_lock:
        _high_water[kernel.forked] = max(_high_water.get(kernel.forked, 0.0), added)


def kernel_share_mb(forked: bool) -> float:
    """MB one more live kernel adds: measured here, or the estimate until then."""
    with _observe_lock:
        return _high_water.get(forked, FORKED_KERNEL_ESTIMATE_MB if forked else SPAWNED_KERNEL_ESTIMATE_MB)


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


def memory_budget(forked: bool) -> MemoryBudget:
    """Measure now: the limit, the server's and the templates' PSS, and a kernel's share."""
    server = os.getpid()
    server_mb = pss_mb(server)
    templates = preloaded.live_templates() if forked else []
    baselines_mb = sum(t.baseline_pss_mb for t in templates)
    ours_mb = server_mb + baselines_mb
    for pid in ProcessTable.now().kernels(server, [t.pid for t in templates if t.pid is not None]):
        with contextlib.suppress(OSError):  # a kernel that ended since the table was read
            ours_mb += pss_mb(pid)
    limit_mb = available_mb() + ours_mb  # what is free plus what the lab holds, under any cgroup limit
    with contextlib.suppress(OSError):
        cgroup_mb = cgroup_limit_mb()
        limit_mb = limit_mb if cgroup_mb is None else min(cgroup_mb, limit_mb)
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
    except OSError:  # no PSS (not Linux): a cautious guess
        return 2
    with _cache_lock:
        _cached[forked] = (now, cap)
    return cap
