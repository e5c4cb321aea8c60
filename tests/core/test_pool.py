"""The shared kernel pool with real kernels: cap, fair queue, warm spare, reaping."""

from __future__ import annotations

import threading
import time

import pytest

from repro_core.experiments.story import Notebook
from repro_core.kernels.pool import KernelPool, cap_from_environment, default_cap
from repro_core.recipes.settings import StoryParams

PARAMS = StoryParams(reruns=1, epochs=2)


def wait_for(condition, seconds: float = 120.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "condition not reached in time"
        time.sleep(0.1)


def test_the_cap_holds_and_waiters_are_told_their_place_in_order():
    pool = KernelPool(cap=2, warm_spare=False)
    try:
        pool.acquire("a", PARAMS)
        pool.acquire("b", PARAMS)
        told: dict[str, list[int]] = {"c": [], "d": []}
        got: list[str] = []

        def visitor(name: str) -> None:
            pool.acquire(name, PARAMS, on_wait=told[name].append)
            got.append(name)

        c = threading.Thread(target=visitor, args=("c",))
        c.start()
        wait_for(lambda: pool.stats()["waiting"] == 1)
        d = threading.Thread(target=visitor, args=("d",))
        d.start()
        wait_for(lambda: pool.stats()["waiting"] == 2)
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


def test_a_warm_spare_gives_the_same_fingerprints_as_a_cold_kernel():
    """The spare has imported TensorFlow before any seeding; the setup cell must still reseed everything."""
    pool = KernelPool(cap=2, warm_spare=True)
    cold = Notebook(PARAMS)
    try:
        wait_for(lambda: pool.stats()["spare"] == 1)
        warm = pool.acquire("warm", PARAMS)
        assert warm.kernel.generation == 1 and warm.kernel.state == "idle"
        started = time.monotonic()
        warm_record = warm.run("factory-tf-seed")
        warm_seconds = time.monotonic() - started
        assert warm.kernel.generation == 1, "the warm kernel was used, not restarted"
        started = time.monotonic()
        cold_record = cold.run("factory-tf-seed")
        cold_seconds = time.monotonic() - started
        assert (warm_record.before_sha256, warm_record.after_sha256) == (cold_record.before_sha256, cold_record.after_sha256)
        print(f"first run: warm {warm_seconds:.2f} s, cold {cold_seconds:.2f} s")
        assert pool.max_live_seen <= 2
    finally:
        cold.close()
        pool.shutdown()


def test_idle_sessions_are_reaped_and_their_kernels_freed():
    pool = KernelPool(cap=1, warm_spare=False, idle_seconds=0.2)
    try:
        book = pool.acquire("idle", PARAMS)
        pid = book.kernel.pid
        time.sleep(0.5)
        assert pool.reap() == ["idle"]
        wait_for(lambda: pool.live == 0)
        assert book.kernel.state == "shut down" and pid is not None
        again = pool.acquire("idle", PARAMS)
        assert again is not book
    finally:
        pool.shutdown()


def test_a_dead_kernel_is_replaced_on_the_next_acquire():
    pool = KernelPool(cap=1, warm_spare=False)
    try:
        book = pool.acquire("s", PARAMS)
        book.kernel.kill()
        wait_for(lambda: book.kernel.state == "dead", 10)
        pool.replace_dead("s")
        fresh = pool.acquire("s", PARAMS)
        assert fresh is not book and fresh.kernel.state == "idle"
    finally:
        pool.shutdown()


def test_cap_settings(monkeypatch):
    assert 1 <= default_cap() <= 8
    monkeypatch.setenv("REPRO_MAX_KERNELS", "3")
    assert cap_from_environment() == 3
    for bad in ("0", "-1", "many", "1000"):
        monkeypatch.setenv("REPRO_MAX_KERNELS", bad)
        with pytest.raises(ValueError, match="REPRO_MAX_KERNELS"):
            cap_from_environment()
    with pytest.raises(ValueError):
        KernelPool(cap=0, warm_spare=False)


def test_waiting_visitors_get_the_kernel_of_an_idle_session_but_never_of_a_busy_one():
    from repro_core.kernels.pool import PoolTimeout

    pool = KernelPool(cap=1, warm_spare=False, preempt_seconds=0.3)
    try:
        with pool.lease("busy", PARAMS) as book:
            with pytest.raises(PoolTimeout):
                pool.acquire("other", PARAMS, timeout=2)
            assert pool.holds("busy", book)
        time.sleep(0.5)  # "busy" is idle now
        other = pool.acquire("other", PARAMS, timeout=60)
        assert not pool.holds("busy", book) and pool.holds("other", other)
        assert pool.max_live_seen <= 1
    finally:
        pool.shutdown()
