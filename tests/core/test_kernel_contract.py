"""One contract for every kernel the engine drives: spawned here by jupyter_client, or leased from Enterprise Gateway
(tests/gateway_service.py: EG_MAX_KERNELS=3, its kernels this interpreter through EG's launcher). Same calls, same
values, same typed errors. Plain Python cells: what is under test is the kernel, not TensorFlow."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from repro_core.kernels.environment import KernelKind
from repro_core.kernels.gateway import GatewayProvider
from repro_core.kernels.kernel import CellError, CellTimeout, KernelDied
from repro_core.kernels.pool import KernelPool
from repro_core.kernels.provider import KernelProvider, SpawnProvider

pytestmark = pytest.mark.kernel
LIMIT = 3  # kernels at once: the gateway's EG_MAX_KERNELS, or the local pool's cap


@pytest.fixture(params=["spawned", "gateway"])
def where(request) -> tuple[str, KernelProvider]:
    if request.param == "spawned":
        return "spawned", SpawnProvider()
    gateway = request.getfixturevalue("gateway")
    return "gateway", GatewayProvider(gateway.settings)


@pytest.fixture
def kernel(where):
    started = where[1].new_kernel(KernelKind(engine="tf_keras", hash_seed=7), owner="contract-test").start()
    yield started
    started.shutdown()


def _gone(pid: int, timeout: float = 15.0) -> bool:
    deadline = time.monotonic() + timeout
    while Path(f"/proc/{pid}").exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    return not Path(f"/proc/{pid}").exists()


def test_output_values_and_the_allow_listed_environment(kernel, where, monkeypatch):
    monkeypatch.setenv("REPRO_TEST_SECRET", "must-not-reach-a-kernel")  # set after the start, so only a copy could leak it
    result = kernel.run_cell(
        "import os, sys\nprint('to stdout')\nprint('to stderr', file=sys.stderr)\nanswer = 6 * 7",
        {"answer": "answer", "pair": "(answer, 'x')", "legacy": "os.environ.get('TF_USE_LEGACY_KERAS')",
         "hash": "os.environ.get('PYTHONHASHSEED')", "secret": "os.environ.get('REPRO_TEST_SECRET')",
         "user": "os.environ.get('KERNEL_USERNAME')"},
    )  # fmt: skip
    assert result.stdout == "to stdout\n" and result.stderr == "to stderr\n"
    values = result.values
    assert values["answer"] == 42 and values["pair"] == (42, "x")
    assert (values["legacy"], values["hash"], values["secret"]) == ("1", "7", None)
    assert values["user"] == ("repro-contract-tes" if where[0] == "gateway" else None)
    with pytest.raises(CellError, match="ZeroDivisionError"):
        kernel.run_cell("1 / 0")
    assert kernel.run_cell("", {"still": "answer"}).values == {"still": 42}


def test_a_sleeping_cell_is_interrupted_within_five_seconds(kernel):
    kernel.run_cell("import time\nkept = 'state'")
    started = time.monotonic()
    with pytest.raises(CellTimeout) as caught:
        kernel.run_cell("time.sleep(30)", timeout=1.0)
    assert not caught.value.restarted and time.monotonic() - started < 5.0
    assert kernel.state == "idle" and kernel.run_cell("", {"kept": "kept"}).values == {"kept": "state"}


def test_a_restart_clears_the_notebook_state(kernel):
    kernel.run_cell("leftover = 1")
    generation = kernel.generation
    kernel.restart()
    assert kernel.generation == generation + 1
    assert kernel.run_cell("", {"has": "'leftover' in dir()"}).values == {"has": False}


def test_a_killed_kernel_is_kernel_died_and_the_next_run_works(kernel):
    pid = kernel.run_cell("import os, signal, threading, time", {"pid": "os.getpid()"}).values["pid"]
    started = time.monotonic()
    with pytest.raises(KernelDied):
        kernel.run_cell("threading.Timer(0.5, lambda: os.kill(os.getpid(), signal.SIGKILL)).start()\ntime.sleep(30)", timeout=60)
    assert time.monotonic() - started < 15 and kernel.state == "dead"
    assert _gone(pid)
    with pytest.raises(KernelDied):  # dead stays dead until restarted: no cell runs on whatever replaced it
        kernel.run_cell("1")
    kernel.restart()
    after = kernel.run_cell("import os", {"pid": "os.getpid()", "one": "1"}).values
    assert after["one"] == 1 and after["pid"] != pid


def test_shutdown_leaves_no_process(where, request):
    kernel = where[1].new_kernel(KernelKind(), owner="contract-test").start()
    pid = kernel.run_cell("import os", {"pid": "os.getpid()"}).values["pid"]
    kernel.shutdown()
    assert kernel.state == "shut down" and _gone(pid)
    if where[0] == "gateway":
        assert request.getfixturevalue("gateway").kernel_count() == 0


def test_leases_over_the_limit_wait_in_the_queue_first_come_first_served(where, request):
    """Three owners hold kernels; a fourth and then a fifth wait (told their places) and are served in that order, each
    as soon as an owner lets go. For the gateway the pool's own cap is far above the gateway's 3: only the gateway's
    refusal (HTTP 403) can hold them back, and being refused must not cost the fourth its place."""
    name, provider = where
    pool = KernelPool(provider, LIMIT if name == "spawned" else 20, preempt_seconds=3600)
    gateway = request.getfixturevalue("gateway") if name == "gateway" else None
    positions: dict[str, list[int]] = {"d": [], "e": []}
    served = {"d": threading.Event(), "e": threading.Event()}
    try:
        for owner in ("a", "b", "c"):
            with pool.lease(owner, KernelKind()):
                pass  # each keeps its kernel
        if gateway is not None:
            assert gateway.kernel_count() == LIMIT

        def wait_for_one(owner: str) -> None:
            with pool.lease(owner, KernelKind(), on_wait=positions[owner].append, timeout=120) as kernels:
                kernels[0].run_cell("1")
                served[owner].set()

        waiters = [threading.Thread(target=wait_for_one, args=(owner,), daemon=True) for owner in ("d", "e")]
        waiters[0].start()
        time.sleep(2)
        waiters[1].start()
        time.sleep(4)
        assert not served["d"].is_set() and not served["e"].is_set()
        assert positions["d"][0] == 1 and positions["e"][0] == 2
        if gateway is not None:
            assert gateway.kernel_count() == LIMIT
        pool.release("a")
        assert served["d"].wait(60), "the first waiter was not served after one owner let go"
        time.sleep(3)
        assert not served["e"].is_set(), "the second waiter got a kernel no one had given up"
        pool.release("b")
        assert served["e"].wait(60), "the second waiter was not served after another owner let go"
        for waiter in waiters:
            waiter.join(30)
        if gateway is not None:
            assert gateway.kernel_count() <= LIMIT
    finally:
        pool.shutdown()
