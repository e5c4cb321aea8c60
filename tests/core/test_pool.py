"""The kernel pool with real kernels: the one owner of kernels. Cap, fair queue, leases of several, reaping, preemption."""

from __future__ import annotations

import threading
import time

import pytest
from kernel_helpers import CountedPool, holds, kill

from repro_core.kernels.environment import KernelKind
from repro_core.kernels.hosting import default_provider
from repro_core.kernels.pool import KernelPool, PoolTimeout

KIND = KernelKind()


def wait_for(condition, seconds: float = 120.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "condition not reached in time"
        time.sleep(0.1)


def keep_one(pool: KernelPool, owner: str, **kwargs):
    """A click that keeps its kernel afterwards (as the story pages do); returns that kernel."""
    with pool.lease(owner, KIND, **kwargs) as kernels:
        return kernels[0]


@pytest.mark.kernel
def test_the_cap_holds_and_waiters_are_told_their_place_in_order():
    pool = CountedPool(cap=2)
    try:
        keep_one(pool, "a")
        keep_one(pool, "b")
        told: dict[str, list[int]] = {"c": [], "d": []}
        got: list[str] = []

        def visitor(name: str) -> None:
            keep_one(pool, name, on_wait=told[name].append)
            got.append(name)

        c = threading.Thread(target=visitor, args=("c",))
        c.start()
        wait_for(lambda: told["c"] == [1])  # c is in the queue: it was told its place
        d = threading.Thread(target=visitor, args=("d",))
        d.start()
        wait_for(lambda: told["d"] == [2])
        assert got == [] and pool.live == 2
        pool.release("a")
        c.join(60)
        assert got == ["c"], "the first in the queue is served first"
        pool.release("b")
        d.join(60)
        assert got == ["c", "d"]
        assert told["c"] == [1] and told["d"][0] == 2 and told["d"][-1] == 1
        assert pool.max_live_seen <= 2
    finally:
        pool.shutdown()


@pytest.mark.kernel
def test_a_lease_of_several_gets_what_there_is_room_for_and_gives_it_all_back():
    """The matrix asks for many kernels: it gets at least one, never more than the cap leaves, and a kernel its
    owner kept is given back first (so a session never holds its story kernel and matrix kernels at once)."""
    pool = CountedPool(cap=3)
    try:
        kept = keep_one(pool, "visitor")
        keep_one(pool, "other")
        with pool.lease("visitor", KIND, count=5, keep=False) as kernels:
            assert kept.state in ("shut down", "idle") and not holds(pool, "visitor", kept)
            assert 1 <= len(kernels) <= 2 and all(k.state == "idle" for k in kernels)
            assert len({k.pid for k in kernels}) == len(kernels)
            assert pool.live <= 3
        wait_for(lambda: pool.live == 1)  # only "other" keeps one
        assert all(k.state == "shut down" for k in kernels)
        assert pool.max_live_seen <= 3
    finally:
        pool.shutdown()


@pytest.mark.kernel
def test_idle_owners_are_reaped_and_their_kernels_freed():
    pool = CountedPool(cap=1, idle_seconds=0.2)
    try:
        kernel = keep_one(pool, "idle")
        time.sleep(0.5)
        assert pool.reap() == ["idle"]
        wait_for(lambda: pool.live == 0)
        assert kernel.state == "shut down"
        assert keep_one(pool, "idle") is not kernel
    finally:
        pool.shutdown()


@pytest.mark.kernel
def test_a_dead_kept_kernel_is_restarted_on_the_next_lease():
    pool = CountedPool(cap=1)
    try:
        kernel = keep_one(pool, "s")
        kill(kernel)
        wait_for(lambda: kernel.state == "dead", 10)
        with pool.lease("s", KIND) as [again]:
            assert again.state == "idle" and again.generation == 2
        assert pool.max_live_seen == 1
    finally:
        pool.shutdown()


def test_the_cap_is_a_number_or_asked_at_every_admission():
    with pytest.raises(ValueError):
        KernelPool(default_provider(), 0)
    caps = iter([1, 2])
    assert KernelPool(default_provider(), lambda: next(caps)).cap == 1 and KernelPool(default_provider(), 3).cap == 3


@pytest.mark.kernel
def test_waiting_visitors_get_the_kernel_of_an_idle_owner_but_never_of_a_busy_one():
    pool = CountedPool(cap=1, preempt_seconds=0.3)
    try:
        with pool.lease("busy", KIND) as [kernel]:
            with pytest.raises(PoolTimeout):
                keep_one(pool, "other", timeout=2)
            assert holds(pool, "busy", kernel)
        time.sleep(0.5)  # "busy" is idle now
        other = keep_one(pool, "other", timeout=60)
        assert not holds(pool, "busy", kernel) and holds(pool, "other", other)
        assert pool.max_live_seen <= 1
    finally:
        pool.shutdown()
