"""The kernel wrapper against a real ipykernel (these cells need no TensorFlow)."""

from __future__ import annotations

import json
import time

import pytest

from repro_core.kernels.kernel import CellError, CellTimeout, KernelDied, LabKernel, kernel_environment


@pytest.fixture(scope="module")
def kernel():
    with LabKernel(env=kernel_environment(hash_seed=0)) as k:
        yield k


def test_runs_a_cell_and_returns_structured_values(kernel):
    result = kernel.run_cell("answer = {'n': 6 * 7, 'f': 0.1 + 0.2}\nprint('hello')", {"answer": "answer"})
    assert result.stdout == "hello\n"
    assert result.values["answer"] == {"n": 42, "f": 0.1 + 0.2}


def test_state_persists_between_cells_like_a_notebook(kernel):
    kernel.run_cell("counter = 1")
    kernel.run_cell("counter += 1")
    assert kernel.run_cell("", {"c": "counter"}).values["c"] == 2


def test_uses_unix_sockets_not_tcp(kernel):
    with open(kernel._manager.connection_file) as handle:
        info = json.load(handle)
    assert info["transport"] == "ipc"
    assert info["ip"].startswith(kernel._dir)


def test_environment_is_explicit(kernel):
    values = kernel.run_cell("import os, sys", {"h": "sys.flags.hash_randomization", "legacy": "os.environ.get('TF_USE_LEGACY_KERAS')"}).values
    assert values == {"h": 0, "legacy": None}
    with LabKernel(env=kernel_environment(engine="tf_keras")) as other:
        values = other.run_cell("import os, sys", {"h": "sys.flags.hash_randomization", "legacy": "os.environ.get('TF_USE_LEGACY_KERAS')"}).values
    assert values == {"h": 1, "legacy": "1"}


def test_an_exception_in_the_cell_is_a_cell_error(kernel):
    with pytest.raises(CellError) as info:
        kernel.run_cell("print('partial')\n1 / 0")
    assert info.value.ename == "ZeroDivisionError"
    assert info.value.stdout == "partial\n"
    assert kernel.run_cell("", {"ok": "1 + 1"}).values["ok"] == 2


def test_a_cell_over_its_timeout_is_interrupted_and_the_kernel_stays_usable(kernel):
    kernel.run_cell("marker = 'kept'")
    started = time.monotonic()
    with pytest.raises(CellTimeout) as info:
        kernel.run_cell("import time\ntime.sleep(60)", timeout=1.0)
    assert time.monotonic() - started < 10
    assert info.value.restarted is False
    assert kernel.state == "idle"
    assert kernel.run_cell("", {"m": "marker"}).values["m"] == "kept"


def test_a_killed_kernel_raises_kernel_died():
    with LabKernel() as k:
        k.run_cell("x = 1")
        k.kill()
        with pytest.raises(KernelDied):
            k.run_cell("x + 1", timeout=30)
        assert k.state == "dead"
        k.restart()
        assert k.run_cell("", {"v": "40 + 2"}).values["v"] == 42


def test_a_kernel_killed_mid_cell_raises_kernel_died():
    with LabKernel() as k:
        k.run_cell("import os, threading, signal")
        with pytest.raises(KernelDied):
            k.run_cell("threading.Timer(0.5, lambda: os.kill(os.getpid(), signal.SIGKILL)).start()\nimport time\ntime.sleep(30)", timeout=60)
