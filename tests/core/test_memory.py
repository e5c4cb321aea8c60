"""The memory-derived kernel cap: PSS from /proc, the cgroup limit, the arithmetic, the pool's two hooks."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from repro_core.kernels import memory
from repro_core.kernels.fork_provisioner import forks_kernels
from repro_core.kernels.memory import MemoryBudget, cgroup_limit_mb

linux_only = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
GIB = 1024**3


@linux_only
def test_pss_and_uss_of_this_process():
    fields = memory.rollup_kb(os.getpid())
    assert fields["Pss"] > 0 and fields["Rss"] >= fields["Pss"]
    assert 0 < memory.uss_mb(os.getpid()) <= memory.pss_mb(os.getpid()) <= fields["Rss"] / 1024


def _write(path: Path, text: str) -> None:
    path.mkdir(parents=True, exist_ok=True)
    (path / "memory.limit_in_bytes").write_text(text)


@linux_only
def test_cgroup_v1_limit_is_the_tightest_ancestor(tmp_path):
    root = tmp_path / "cgroup"
    _write(root / "memory", "9223372036854771712")  # the root: unlimited
    _write(root / "memory" / "lab", str(2700 * 1024 * 1024))
    _write(root / "memory" / "lab" / "server", "9223372036854771712")
    found = cgroup_limit_mb("4:memory:/lab/server\n0::/\n", root)
    assert found is not None and found[0] == 2700 and found[1].endswith("lab/memory.limit_in_bytes")


@linux_only
def test_cgroup_v2_limit_and_a_container_that_sees_its_cgroup_as_the_root(tmp_path):
    root = tmp_path / "cgroup"
    root.mkdir()
    (root / "memory.max").write_text(str(2 * GIB))  # a container: /proc/self/cgroup names a path it cannot see
    assert cgroup_limit_mb("0::/kubepods/pod1/abc\n", root) == (2048, str(root / "memory.max"))
    (root / "memory.max").write_text("max")
    assert cgroup_limit_mb("0::/\n", root) is None


def test_the_cap_arithmetic():
    budget = MemoryBudget(limit_mb=2700, limit_source="test", reserve_mb=270, server_mb=200, templates_mb=430,
                          kernel_mb=100, kernel_source="measured", forked=True)  # fmt: skip
    assert budget.cap == 18  # (2700 - 270 - 200 - 430) / 100
    assert "18 kernels" in budget.describe()
    tiny = MemoryBudget(1000, "test", 150, 300, 430, 520, "estimate", False)
    assert tiny.cap == 1  # never below one kernel


@linux_only
def test_a_kernels_share_is_measured_after_it_trained(monkeypatch):
    monkeypatch.setattr(memory, "_high_water", {})
    assert memory.kernel_share_mb(True) == (memory.FORKED_KERNEL_ESTIMATE_MB, "estimate")
    memory.observe_kernel(os.getpid(), forked=True, cells_run=2)  # setup and probe only: not yet a trained kernel
    assert memory.kernel_share_mb(True)[1] == "estimate"
    memory.observe_kernel(os.getpid(), forked=True, cells_run=3)
    share, source = memory.kernel_share_mb(True)
    assert source == "measured" and share == pytest.approx(memory.uss_mb(os.getpid()), rel=0.2)


@linux_only
def test_the_pool_takes_its_cap_from_memory_and_prestarts_the_template_only_where_kernels_fork(monkeypatch):
    from repro_core.kernels import pool as pool_module
    from repro_core.kernels.environment import KernelKind, environment_of

    prestarted: list[dict[str, str]] = []
    monkeypatch.setattr(pool_module, "prestart", prestarted.append)
    monkeypatch.delenv("REPRO_MAX_KERNELS", raising=False)
    budget = memory.memory_budget()
    assert budget.limit_mb > 0 and budget.server_mb > 0 and 1 <= budget.cap <= memory.MAX_CAP
    pool = pool_module.KernelPool(cap=None, prestart_template=True)
    try:
        assert pool.cap == memory.kernel_cap()
        expected = [environment_of(KernelKind())] if forks_kernels() else []
        assert prestarted == expected
    finally:
        pool.shutdown()
    pool_module.KernelPool(cap=1).shutdown()  # a command's own pool starts no template
    monkeypatch.setenv("REPRO_FORK", "0")
    assert not forks_kernels()
    pool_module.KernelPool(cap=1, prestart_template=True).shutdown()  # spawned kernels: no template to start
    assert prestarted == expected
