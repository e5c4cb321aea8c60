"""Kernels forked from a preloaded template behave like spawned ones (real kernels, real TensorFlow).

The story on both engines gives the same fingerprints forked and spawned; ten consecutive forks
agree; unseeded forks draw different numbers, as new interpreters would; the kernel's environment is the
allow-list's, not the template's or the server's; kill -9 mid-cell is KernelDied and the next run works;
a template dies with its parent and is restarted when it has died.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from kernel_helpers import started
from story_claims import fingerprints
from story_runs import default_story

from repro_core.experiments.story import run_scenario, run_story, story_runner
from repro_core.kernels import preloaded
from repro_core.kernels.environment import KernelKind, kernel_environment
from repro_core.kernels.fork_provisioner import ForkProvider, forks_kernels
from repro_core.kernels.kernel import CellTimeout, KernelDied, LabKernel
from repro_core.kernels.preloaded import ForkedProcess
from repro_core.recipes import cells
from repro_core.recipes.settings import StoryParams
from repro_core.vocabulary import DEFAULT_KERNEL

pytestmark = [pytest.mark.kernel, pytest.mark.skipif(not forks_kernels(), reason="forked kernels need Linux with pidfd_open (5.3+)")]

REPO_ROOT = Path(__file__).resolve().parents[2]

PROBE = {
    "env": "dict(os.environ)",
    "path": "sys.path",
    "argv0": "sys.argv[0]",
    "cwd": "os.getcwd()",
    "pgid_is_pid": "os.getpgid(0) == os.getpid()",
}


def lab_kernel(env: dict[str, str] | None = None) -> LabKernel:
    """What the server's pool starts for the bundled kernel (forked unless REPRO_FORK=0), on `env` if given."""
    kernel = ForkProvider().new_kernel(KernelKind())
    if env is not None:
        kernel.env = env
    return kernel


def _probe(kernel: LabKernel) -> dict:
    return kernel.run_cell("import os, sys", PROBE).values


def _rows(results) -> dict[str, list[tuple[str, str, float, float]]]:
    return {r.scenario: [(x.before_sha256, x.after_sha256, x.before_sum, x.after_sum) for x in r.records] for r in results}


# -- which path starts a kernel ------------------------------------------------------------------------------
def test_lab_kernels_are_forked_and_repro_fork_0_spawns(monkeypatch):
    with started(lab_kernel()) as forked:
        assert forked.forked and isinstance(forked._connection._manager.provisioner.process, ForkedProcess)
        with pytest.raises(ChildProcessError):  # not the server's child: the template is its parent
            os.waitpid(forked.pid, os.WNOHANG)
    monkeypatch.setenv("REPRO_FORK", "0")
    with started(lab_kernel()) as spawned:
        assert not spawned.forked
        assert os.waitpid(spawned.pid, os.WNOHANG) == (0, 0)  # our own child, as before


def test_other_kernelspecs_other_platforms_and_extra_variables_are_spawned(monkeypatch):
    assert forks_kernels("lab-python")
    assert not forks_kernels("repro-tf29")  # another interpreter: nothing of ours to fork
    env = {**kernel_environment(), "TF_DETERMINISTIC_OPS": "1"}  # read by TensorFlow's C++ side: not the template's
    assert preloaded.template_for(env) is None
    with started(lab_kernel(env)) as kernel:
        assert not kernel.forked
        assert kernel.run_cell("import os", {"d": "os.environ.get('TF_DETERMINISTIC_OPS')"}).values == {"d": "1"}
    monkeypatch.setattr(sys, "platform", "darwin")
    assert not forks_kernels()


# -- what a forked kernel is --------------------------------------------------------------------------------
# Set in the importing process by `import tensorflow` and ipykernel's debugger module, and read there while
# importing: a spawned kernel gets them from its own imports, a fork's template had them, the fork does not.
SET_BY_IMPORTS = {"TF2_BEHAVIOR", "TPU_ML_PLATFORM", "TPU_ML_PLATFORM_VERSION", "ENABLE_RUNTIME_UPTIME_TELEMETRY",
                  "HDF5_PLUGIN_PATH", "PYDEVD_USE_FRAME_EVAL",
                  "KMP_DUPLICATE_LIB_OK", "KMP_INIT_AT_FORK"}  # fmt: skip  # the last two: scikit-learn's import, which Keras makes


def test_a_forked_kernel_looks_like_a_spawned_one_and_sees_only_the_allow_list(monkeypatch):
    """Same environment, sys.path, argv, cwd and process group after the setup cell, but what imports set.

    The fork's environment is the kernel's allow-listed one (plus what ipykernel sets for every kernel),
    never the template's or the server's: a secret in the server's environment reaches neither kind.
    """
    monkeypatch.setenv("REPRO_TEST_SECRET", "must-not-reach-a-kernel")  # a host secret in the server's environment
    env = kernel_environment()
    assert "REPRO_TEST_SECRET" not in env
    setup = cells.story_setup_cell(StoryParams())
    with started(lab_kernel(env)) as forked:
        first = _probe(forked)["env"]
        forked.run_cell(setup)
        fork_view = _probe(forked)
    monkeypatch.setenv("REPRO_FORK", "0")
    with started(lab_kernel(env)) as spawned:
        spawned.run_cell(setup)
        spawn_view = _probe(spawned)
    assert spawn_view["env"].pop("JPY_PARENT_PID") == str(os.getpid())  # the launcher's parent watch; forks use the template's
    spawn_env, fork_env = spawn_view.pop("env"), fork_view.pop("env")
    assert fork_view == spawn_view
    assert {k: v for k, v in spawn_env.items() if k not in SET_BY_IMPORTS} == fork_env
    assert set(env.items()) <= set(first.items()) and "REPRO_TEST_SECRET" not in first
    assert not SET_BY_IMPORTS & set(first) and set(first) <= set(spawn_env)


def test_unseeded_forks_draw_different_numbers_like_new_interpreters():
    draws = []
    for _ in range(2):
        with started(lab_kernel()) as kernel:
            values = kernel.run_cell("import random, numpy", {"py": "random.random()", "np": "float(numpy.random.random())"}).values
            draws.append((values["py"], values["np"]))
    assert draws[0][0] != draws[1][0], "Python's random was not re-seeded in the fork"
    assert draws[0][1] != draws[1][1], "NumPy's global generator was not re-seeded in the fork"


def test_forks_of_one_template_share_its_hash_secret():
    """A documented difference: str hashes are fixed when the template starts (as with a PYTHONHASHSEED)."""
    hashes = []
    for _ in range(2):
        with started(lab_kernel()) as kernel:
            hashes.append(kernel.run_cell("", {"h": "hash('keras')"}).values["h"])
    assert hashes[0] == hashes[1]


# -- kernel control -----------------------------------------------------------------------------------------
def test_interrupt_kill_mid_cell_and_restart_on_a_forked_kernel():
    with started(lab_kernel()) as kernel:
        assert kernel.forked
        kernel.run_cell("marker = 'kept'")
        with pytest.raises(CellTimeout) as info:  # SIGINT to the kernel's process group interrupts the cell
            kernel.run_cell("import time\ntime.sleep(60)", timeout=1.0)
        assert info.value.restarted is False and kernel.run_cell("", {"m": "marker"}).values == {"m": "kept"}

        first = kernel.pid
        kernel.run_cell("import os, threading, signal")
        with pytest.raises(KernelDied):
            kernel.run_cell("threading.Timer(0.5, lambda: os.kill(os.getpid(), signal.SIGKILL)).start()\nimport time\ntime.sleep(30)", timeout=60)
        assert kernel.state == "dead"
        assert kernel._connection._manager.provisioner.process.poll() == -signal.SIGKILL  # the template reaped it and told us how it ended
        _wait_gone(first)
        kernel.restart()  # a restart is a new fork
        assert kernel.forked and kernel.pid != first
        assert kernel.run_cell("", {"v": "40 + 2"}).values == {"v": 42}


def test_a_dead_template_is_restarted_on_the_next_kernel():
    with started(lab_kernel()) as kernel:
        kernel.run_cell("x = 1")
    template = preloaded.template_for(kernel_environment())
    assert template is not None and template.alive()
    old = template.pid
    os.kill(old, signal.SIGKILL)
    _wait_gone(old, reap=template.process)
    with started(lab_kernel()) as kernel:
        assert kernel.forked and template.pid != old
        assert kernel.run_cell("", {"v": "6 * 7"}).values == {"v": 42}


DIES_WITH_PARENT = textwrap.dedent(
    """
    import sys, time
    sys.path.insert(0, {root!r})
    from repro_core.kernels import preloaded
    from repro_core.kernels.environment import KernelKind
    from repro_core.kernels.fork_provisioner import ForkProvider
    kernel = ForkProvider().new_kernel(KernelKind()).start()
    template = preloaded.live_templates()[0]
    print(template.pid, kernel.pid, flush=True)
    time.sleep(600)
    """
)


def test_the_template_and_its_kernels_die_with_the_server():
    server = subprocess.Popen(
        [sys.executable, "-c", DIES_WITH_PARENT.format(root=str(REPO_ROOT))],
        stdout=subprocess.PIPE, text=True, env={**kernel_environment(), "REPRO_FORK": "1"},
    )  # fmt: skip
    try:
        line = server.stdout.readline()
        assert line, "the stand-in server did not start a forked kernel"
        template_pid, kernel_pid = (int(part) for part in line.split())
        assert _alive(template_pid) and _alive(kernel_pid)
    finally:
        server.kill()  # SIGKILL: no atexit, no cleanup; only the kernel's own machinery can notice
        server.wait()
    _wait_gone(template_pid)
    _wait_gone(kernel_pid)


# -- equivalence with spawned kernels, real TensorFlow ---------------------------------------------------------
# The spawned side repeats what the forked side ran, less what another test covers: fresh-kernel forked = spawned is the
# ten-forks test's last check, and on tf_keras the two factory scenarios (the story's contrast) stand for the engine.
SPAWNED_SIDE = {"keras3": ("global-model", "factory-tf-seed", "factory-full-seed"), "tf_keras": ("factory-tf-seed", "factory-full-seed")}


@pytest.mark.parametrize("engine", ["keras3", "tf_keras"])
def test_the_story_gives_the_same_fingerprints_forked_and_spawned(engine, monkeypatch):
    """The forked side is the lab's default story (3 reruns, 10 epochs), run once per process and shared with the story
    and timeline tests (this module runs first; where it runs at all, lab kernels fork); the spawned side repeats the
    engine's SPAWNED_SIDE of it."""
    monkeypatch.setenv("REPRO_FORK", "1")
    forked = _rows(default_story(DEFAULT_KERNEL, engine))
    monkeypatch.setenv("REPRO_FORK", "0")
    spawned = _rows(run_story(StoryParams(engine=engine), SPAWNED_SIDE[engine]))
    assert {name: forked[name] for name in SPAWNED_SIDE[engine]} == spawned
    assert len(set(forked["factory-tf-seed"])) == 3 and len(set(forked["factory-full-seed"])) == 1  # the story still shows


def test_ten_consecutive_forks_give_identical_fingerprints(monkeypatch):
    """`fresh-kernel` starts a new kernel per rerun: with forks, ten forks in a row, all equal to a spawned kernel's."""
    params = StoryParams(reruns=10, epochs=3)  # 10 is the most reruns a story allows
    kernel = lab_kernel()
    try:
        runner = story_runner(params).attach(kernel)
        run = run_scenario(runner, "fresh-kernel", params)
        assert kernel.forked and kernel.generation == 10
    finally:
        kernel.shutdown()
    prints = fingerprints(run)
    assert len(prints) == 10 and len(set(prints)) == 1
    monkeypatch.setenv("REPRO_FORK", "0")
    spawned = run_story(StoryParams(reruns=1, epochs=3), ["fresh-kernel"])[0]
    assert fingerprints(spawned) == prints[:1]


# -- helpers ----------------------------------------------------------------------------------------------------
def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def _wait_gone(pid: int, reap: subprocess.Popen | None = None, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if reap is not None:
            reap.poll()
        if not _alive(pid):
            return
        time.sleep(0.1)
    raise AssertionError(f"process {pid} still alive after {timeout:.0f} s")
