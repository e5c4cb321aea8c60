"""What tests ask of kernels and pools that the lab itself never needs."""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator, Mapping
from contextlib import contextmanager

from repro_core.kernels.environment import KernelKind
from repro_core.kernels.hosting import default_provider
from repro_core.kernels.kernel import LabKernel
from repro_core.kernels.pool import KernelPool
from repro_core.kernels.provider import KernelProvider
from repro_core.machine import Fingerprint, trait_differences, traits_key


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


# -- digits that depend on machine traits ---------------------------------------------------------------------
# Training adds the same floats in the order the kernels that run give, and machine traits pick those kernels: whether
# oneDNN's custom operations are on (TF 2.9 turns them on by default only on CPUs with AVX512_VNNI, AVX512_BF16, AVX_VNNI or
# AMX), the thread count and the cores, the instruction set (repro_core.machine; issue 28). Committed reports carry the
# kernel's fingerprint, so a live kernel is held to a report's trained weights bit for bit only where its traits are the
# report's (like with like: the CPU's name does not matter); elsewhere to the same initial weights and verdicts.
# After training, factory + tf.random.set_seed(1234) on TF 2.9.3: the article's digits with oneDNN on, others with it off.
# Measured on an AMD EPYC with AVX-512, AVX512_VNNI and AVX512_BF16 and on one with AVX2 only (2026-12-07).
TF29_AFTER = {"on": "-1.2190857985988", "off": "-1.2190857976675"}
MEASURED_FEATURES = ({"avx2", "avx512f", "avx512_vnni", "avx512_bf16"}, {"avx2"})


def trained_digits_comparable(recorded_machine: Mapping[str, object], live: Fingerprint | Mapping[str, object]) -> bool:
    """Are a report's trained weights this live kernel's to repeat? Only where every trait that picks kernels agrees
    (`live`: its fingerprint, or the machine block of a report it wrote)."""
    if "onednn" not in recorded_machine:
        print("the report predates the numerics fingerprint: trained digits compared to 1e-6, initial weights exactly")
        return False
    found = live.as_text() if isinstance(live, Fingerprint) else live
    same = traits_key(recorded_machine) == traits_key(found)
    if not same:
        differences = [d for d in trait_differences(recorded_machine, found) if not d.startswith("CPU model")]
        print(f"traits differ from the report's ({'; '.join(differences)}): trained digits compared to 1e-6, initial weights exactly")
    return same


def tf29_after(live: Fingerprint) -> str | None:
    """The trained sum TF 2.9's factory-tf-seed gives with this kernel's oneDNN, where it was measured (None elsewhere)."""
    return TF29_AFTER.get(live.onednn) if set(live.cpu_features.split()) in MEASURED_FEATURES else None
