"""The memory-derived kernel cap: PSS and children (psutil, repro_core/kernels/proc.py), the cgroup limit, the arithmetic,
the server pool's cap and template."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import pytest

from repro_core.kernels import memory, preloaded, proc
from repro_core.kernels.environment import KernelKind, environment_of
from repro_core.kernels.fork_provisioner import forks_kernels
from repro_core.kernels.hosting import hosting_from_environment, local_pool, server_pool
from repro_core.kernels.memory import MemoryBudget, cgroup_limit_mb

linux_only = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
GIB = 1024**3


@linux_only
def test_pss_and_uss_of_this_process():
    assert 0 < proc.uss_mb(os.getpid()) <= proc.pss_mb(os.getpid()) <= proc.rss_mb(os.getpid())
    assert 0 < proc.available_mb() <= proc.total_mb()


def test_a_process_that_is_gone_is_an_os_error():
    ended = subprocess.Popen([sys.executable, "-c", "pass"])
    ended.wait()
    with pytest.raises(ProcessLookupError):
        proc.pss_mb(ended.pid)
    assert proc.command_line(ended.pid) == ""


SLEEPER = "import subprocess, sys, time; {spawn}time.sleep(60)"


def _sleeper(*marks: str, spawn: str = "") -> subprocess.Popen:
    """A child of this process whose command line carries `marks` (e.g. a fork template's script name)."""
    return subprocess.Popen([sys.executable, "-c", SLEEPER.format(spawn=spawn), *marks])


@linux_only
def test_a_servers_family_templates_and_spawned_and_forked_kernels():
    """This process plays the server: a 'template' with a child of its own (a forked kernel), a spawned kernel, and a
    child that is neither (e.g. git)."""
    grandchild = "subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)']); "
    template = _sleeper(proc.TEMPLATE_MARK + ".py", spawn=grandchild)
    spawned = _sleeper("-m", proc.SPAWNED_KERNEL_MARK)
    other = _sleeper("neither")
    grandchildren: dict[int, int] = {}
    try:
        deadline = time.monotonic() + 20
        while not grandchildren and time.monotonic() < deadline:
            time.sleep(0.05)
            grandchildren = proc.child_pids({template.pid})
        (forked,) = grandchildren
        templates, kernels = proc.server_family(os.getpid())
        assert templates == [template.pid]
        assert sorted(kernels) == sorted([spawned.pid, forked]) and other.pid not in kernels
        assert proc.child_pids({os.getpid()}).keys() >= {template.pid, spawned.pid, other.pid}
    finally:
        for pid in grandchildren:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        for child in (template, spawned, other):
            child.kill()
            child.wait()


def _write(path: Path, text: str) -> None:
    path.mkdir(parents=True, exist_ok=True)
    (path / "memory.limit_in_bytes").write_text(text)


@linux_only
def test_cgroup_v1_limit_is_the_tightest_ancestor(tmp_path):
    root = tmp_path / "cgroup"
    _write(root / "memory", "9223372036854771712")  # the root: unlimited
    _write(root / "memory" / "lab", str(2700 * 1024 * 1024))
    _write(root / "memory" / "lab" / "server", "9223372036854771712")
    assert cgroup_limit_mb("4:memory:/lab/server\n0::/\n", root) == 2700


@linux_only
def test_cgroup_v2_limit_and_a_container_that_sees_its_cgroup_as_the_root(tmp_path):
    root = tmp_path / "cgroup"
    root.mkdir()
    (root / "memory.max").write_text(str(2 * GIB))  # a container: /proc/self/cgroup names a path it cannot see
    assert cgroup_limit_mb("0::/kubepods/pod1/abc\n", root) == 2048
    (root / "memory.max").write_text("max")
    assert cgroup_limit_mb("0::/\n", root) is None


def test_the_cap_arithmetic():
    budget = MemoryBudget(limit_mb=2700, reserve_mb=270, server_mb=200, templates_mb=430, kernel_mb=100)
    assert budget.cap == 18  # (2700 - 270 - 200 - 430) / 100
    tiny = MemoryBudget(1000, 150, 300, 430, 520)
    assert tiny.cap == 1  # never below one kernel


@linux_only
def test_a_kernels_share_is_measured_after_it_trained(monkeypatch):
    monkeypatch.setattr(memory, "_high_water", {})
    assert memory.kernel_share_mb(True) == memory.FORKED_KERNEL_ESTIMATE_MB
    kernel = SimpleNamespace(pid=os.getpid(), forked=True, cells_run=2)  # setup and probe only: not yet a trained kernel
    memory.observe_kernel(kernel)
    assert memory.kernel_share_mb(True) == memory.FORKED_KERNEL_ESTIMATE_MB
    kernel.cells_run = 3
    memory.observe_kernel(kernel)
    assert memory.kernel_share_mb(True) == pytest.approx(proc.uss_mb(os.getpid()), rel=0.2)


@linux_only
def test_the_server_pool_takes_its_cap_from_memory_and_prestarts_the_template_only_where_kernels_fork(monkeypatch):
    prestarted: list[dict[str, str]] = []
    monkeypatch.setattr(preloaded, "prestart", prestarted.append)
    monkeypatch.delenv("REPRO_MAX_KERNELS", raising=False)
    budget = memory.memory_budget(forks_kernels())
    assert budget.limit_mb > 0 and budget.server_mb > 0 and 1 <= budget.cap <= memory.MAX_CAP
    pool = server_pool(hosting_from_environment())
    try:
        assert pool.cap == memory.kernel_cap(forks_kernels()) and 1 <= pool.cap <= memory.MAX_CAP
        expected = [environment_of(KernelKind())] if forks_kernels() else []
        assert prestarted == expected
    finally:
        pool.shutdown()
    local_pool(1).shutdown()  # a command's own pool starts no template
    assert prestarted == expected
    monkeypatch.setenv("REPRO_FORK", "0")
    assert not forks_kernels()
    server_pool(hosting_from_environment()).shutdown()  # spawned kernels: no template to start
    assert prestarted == expected
    monkeypatch.setenv("REPRO_MAX_KERNELS", "3")
    pool = server_pool(hosting_from_environment())
    pool.shutdown()
    assert pool.cap == 3
