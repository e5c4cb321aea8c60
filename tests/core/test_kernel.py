"""The kernel wrapper against a real ipykernel (these cells need no TensorFlow)."""

from __future__ import annotations

import json
import time

import pytest
from kernel_helpers import kill, started

from repro_core.kernels.environment import PASSED_THROUGH, KernelKind, kernel_environment
from repro_core.kernels.hosting import private_pool
from repro_core.kernels.kernel import CellError, CellTimeout, KernelDied, LabKernel

pytestmark = pytest.mark.kernel


@pytest.fixture(scope="module")
def kernel():
    with started(LabKernel(env=kernel_environment(hash_seed=0))) as k:
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
    with open(kernel._connection._manager.connection_file) as handle:
        info = json.load(handle)
    assert info["transport"] == "ipc"
    assert info["ip"].startswith(kernel._connection._dir)


def test_environment_is_explicit(kernel):
    values = kernel.run_cell("import os, sys", {"h": "sys.flags.hash_randomization", "legacy": "os.environ.get('TF_USE_LEGACY_KERAS')"}).values
    assert values == {"h": 0, "legacy": None}
    with started(LabKernel(env=kernel_environment(engine="tf_keras"))) as other:
        values = other.run_cell("import os, sys", {"h": "sys.flags.hash_randomization", "legacy": "os.environ.get('TF_USE_LEGACY_KERAS')"}).values
    assert values == {"h": 1, "legacy": "1"}


def test_a_server_secret_never_reaches_a_visitors_kernel(monkeypatch):
    """Hosts export secrets as environment variables; a kernel's environment is an allow-list, not a copy."""
    monkeypatch.setenv("REPRO_TEST_SECRET", "hunter2")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "also-secret")
    monkeypatch.setenv("LC_ALL", "C.UTF-8")
    with private_pool() as pool, pool.lease("visitor", KernelKind()) as [leased]:
        seen = leased.run_cell("import os", {"env": "dict(os.environ)"}).values["env"]
    assert "REPRO_TEST_SECRET" not in seen and "AWS_SECRET_ACCESS_KEY" not in seen
    assert "hunter2" not in repr(seen)
    assert seen["LC_ALL"] == "C.UTF-8" and seen["PATH"] == kernel_environment()["PATH"]
    lab_own = {"TF_CPP_MIN_LOG_LEVEL", "PYDEVD_DISABLE_FILE_VALIDATION", "JUPYTER_PLATFORM_DIRS"}
    # what the kernel process adds itself (ipykernel's matplotlib backend, the launcher's own variables)
    kernel_own = ("MPLBACKEND", "JPY_", "PYDEVD_", "CLICOLOR", "FORCE_COLOR", "PAGER", "GIT_PAGER", "TERM")
    added_by_kernel = {name for name in seen if name.startswith(kernel_own)}
    assert set(seen) - added_by_kernel <= set(PASSED_THROUGH) | lab_own | {n for n in seen if n.startswith("LC_")}, sorted(seen)


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
    with started(LabKernel()) as k:
        k.run_cell("x = 1")
        kill(k)
        with pytest.raises(KernelDied):
            k.run_cell("x + 1", timeout=30)
        assert k.state == "dead"
        k.restart()
        assert k.run_cell("", {"v": "40 + 2"}).values["v"] == 42


def test_a_kernel_killed_mid_cell_raises_kernel_died():
    with started(LabKernel()) as k:
        k.run_cell("import os, threading, signal")
        with pytest.raises(KernelDied):
            k.run_cell("threading.Timer(0.5, lambda: os.kill(os.getpid(), signal.SIGKILL)).start()\nimport time\ntime.sleep(30)", timeout=60)
