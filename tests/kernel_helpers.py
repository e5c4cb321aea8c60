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

    def new_kernel(self, kind: KernelKind) -> LabKernel:
        self.pool.max_live_seen = max(self.pool.max_live_seen, self.pool.live)
        return self.inner.new_kernel(kind)


class CountedPool(KernelPool):
    """A pool of the default provider's kernels that notes the most it had alive whenever it starts one."""

    def __init__(self, cap: int, **kwargs: float) -> None:
        self.max_live_seen = 0
        super().__init__(_Counting(self, default_provider()), cap, **kwargs)
