"""A diagnosed script is arbitrary code. One that hangs, ends its kernel, forks, prints megabytes, raises, or looks for the
server's environment leaves the lab usable (the pool takes every kernel back, the next diagnosis runs) and learns nothing
it should not (a kernel starts from an allow-listed environment)."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from kernel_helpers import CountedPool, kept_and_lent

from repro_core.experiments.diagnose import DiagnoseOptions, NoFitCalled, ScriptEndedKernel, ScriptRaised, ScriptTimedOut, diagnose
from repro_core.kernels.kernel import OUTPUT_LIMIT
from repro_core.recipes.scripts import load_script

SECRET = "REPRO_TEST_SECRET"
TINY_FIT = """
import keras
import numpy as np
keras.utils.set_random_seed(1)
model = keras.Sequential([keras.Input(shape=(2,)), keras.layers.Dense(1)])
model.compile(optimizer="sgd", loss="mse")
model.fit(np.ones((4, 2), "float32"), np.ones(4, "float32"), epochs=1, batch_size=2, verbose=0)
"""


@pytest.fixture(scope="module")
def pool():
    os.environ[SECRET] = "do-not-leak-7f3a"  # set before the pool (and its fork template) exists: kernels must not see it
    pool = CountedPool(cap=2)
    try:
        yield pool
    finally:
        pool.shutdown()
        os.environ.pop(SECRET, None)


def run(pool, source: str, **changes):
    options = DiagnoseOptions(**{"timeout": 60, **changes})
    try:
        return diagnose(load_script(source, "hostile.py"), options, pool=pool, owner="visitor")
    finally:
        deadline = time.monotonic() + 30
        while kept_and_lent(pool) != (0, 0) or pool.live and time.monotonic() < deadline:
            time.sleep(0.2)  # kernels are shut down in the background once the lease ends


def dead(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return True
    return state in ("Z", "X")  # a zombie has exited: only its parent's bookkeeping is left


@pytest.mark.kernel
def test_hostile_scripts_leave_the_lab_usable(pool, tmp_path):
    with pytest.raises(ScriptTimedOut, match="time limit of 5 s"):
        run(pool, "import time\nwhile True:\n    time.sleep(0.05)\n", timeout=5)
    with pytest.raises(ScriptEndedKernel, match="kernel process ended"):
        run(pool, "import os\nos._exit(3)\n")
    with pytest.raises(ScriptRaised) as raised:
        run(pool, "def train():\n    raise RuntimeError('boom at step 3')\n\ntrain()\n")
    assert "RuntimeError" in raised.value.traceback and "boom at step 3" in raised.value.traceback and "\x1b[" not in raised.value.traceback
    with pytest.raises(ScriptRaised, match="SystemExit"):
        run(pool, "import sys\nsys.exit(0)\n")
    pidfile = tmp_path / "child.pid"
    fork = f"import os, time\nif os.fork() == 0:\n    open({str(pidfile)!r}, 'w').write(str(os.getpid()))\n    time.sleep(600)\n    os._exit(0)\n"
    with pytest.raises(NoFitCalled):
        run(pool, fork + "time.sleep(1)\n")
    assert pidfile.exists()
    child = int(pidfile.read_text())
    deadline = time.monotonic() + 20
    while not dead(child) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert dead(child), "a process the script forked outlived its kernel"

    # a script that prints megabytes and reads its environment: output capped, no secret in it
    snoop = f"import os\nprint('ENV', sorted(os.environ), os.environ.get({SECRET!r}))\nprint('x' * 3_000_000)\n" + TINY_FIT
    found = run(pool, snoop)
    output = found.as_dict()["output"]
    assert found.repeats and output.startswith("ENV [") and len(output) <= OUTPUT_LIMIT
    assert SECRET not in output and "do-not-leak" not in output
    assert kept_and_lent(pool) == (0, 0) and pool.max_live_seen <= 2


@pytest.mark.kernel
def test_output_is_the_scripts_own_and_kept_apart_from_the_lab(pool):
    found = run(pool, "print('hello from the script')\n" + TINY_FIT)
    assert found.as_dict()["output"] == "hello from the script\n"
    assert found.repeats and found.as_dict()["fix"] is None
