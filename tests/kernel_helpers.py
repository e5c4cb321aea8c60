"""What tests ask of kernels and pools that the lab itself never needs."""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator
from contextlib import contextmanager

from repro_core.kernels.environment import KernelKind
from repro_core.kernels.hosting import default_provider
from repro_core.kernels.kernel import LabKernel
from repro_core.kernels.pool import KernelPool
from repro_core.kernels.provider import KernelProvider


@contextmanager
def started(kernel: LabKernel) -> Iterator[LabKernel]:
    """A started kernel, shut down when the block ends."""
    try:
        yield kernel.start()
    finally:
        kernel.shutdown()


def kill(kernel: LabKernel) -> None:
    """Kill the kernel's process hard, as an out-of-memory kill does."""
    assert kernel.pid is not None
    os.kill(kernel.pid, signal.SIGKILL)


def holds(pool: KernelPool, owner: str, kernel: LabKernel | None) -> bool:
    """Does `owner` still keep exactly this kernel (not preempted, reaped or released)?"""
    with pool._lock:
        kept = pool._kept.get(owner)
        return kept is not None and kept.kernel is kernel


def release_all(pool: KernelPool) -> None:
    """Shut every kept kernel down (the pool stays usable)."""
    with pool._lock:
        for owner in list(pool._kept):
            pool.release(owner)


def kept_and_lent(pool: KernelPool) -> tuple[int, int]:
    """How many kernels owners keep, and how many are lent for a click right now."""
    with pool._lock:
        return len(pool._kept), sum(map(len, pool._lent.values()))


class _Counting(KernelProvider):
    def __init__(self, pool: CountedPool, inner: KernelProvider) -> None:
        self.pool, self.inner = pool, inner

    def new_kernel(self, kind: KernelKind, owner: str = "") -> LabKernel:
        self.pool.max_live_seen = max(self.pool.max_live_seen, self.pool.live)
        return self.inner.new_kernel(kind, owner)


class CountedPool(KernelPool):
    """A pool of the default provider's kernels that notes the most it had alive whenever it starts one."""

    def __init__(self, cap: int, **kwargs: float) -> None:
        self.max_live_seen = 0
        super().__init__(_Counting(self, default_provider()), cap, **kwargs)


# -- digits that depend on the CPU --------------------------------------------------------------------------
# Training sums the same floats in the order the CPU's vector units give: the committed reports (and the article's
# published digits, which they repeat) were measured on one CPU model, and another model (an AMD EPYC instead of the
# reports' Intel Xeon, seen here) gives the same initial weights and the same verdicts but other trained digits from the
# 9th decimal on. Bit-identical trained weights are therefore required only on the CPU the reports name.
def this_cpu() -> str:
    from repro_core.results.report import machine_info

    return machine_info()["cpu"]


def trained_digits_comparable(recorded_cpu: str) -> bool:
    same = this_cpu() == recorded_cpu
    if not same:
        print(f"CPU {this_cpu()!r} is not the reports' {recorded_cpu!r}: trained digits compared to 1e-6, initial weights exactly")
    return same


def recorded_cpu() -> str:
    """The CPU the committed TF 2.9 report (the article's stack) was measured on."""
    from repro_core.results.timeline import load_timeline

    return next(e.report.machine.get("cpu", "") for e in load_timeline() if e.release == "2.9")
