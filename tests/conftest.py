"""Shared test settings: the pytest process itself must never import TensorFlow; the fast tier never starts a kernel."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from jupyter_client.manager import KernelManager

from repro_core.kernels.gateway import GatewayConnection
from repro_core.kernels.preloaded import PreloadedInterpreter

ROOT = Path(__file__).resolve().parents[1]
HEAVY = ("tensorflow", "keras", "tf_keras")
TIERS = ("kernel", "browser", "load")  # pyproject.toml's markers; a test with none of them is in the fast tier
GUARD = pytest.StashKey[tuple[pytest.MonkeyPatch, list[str]]]()


def _require(flag: str, available: bool, reason: str) -> None:
    if available:
        return
    if os.environ.get(flag) == "1":
        pytest.fail(f"{reason} ({flag}=1 makes this mandatory)")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def require():
    """`require(flag, available, reason)`: skip when something optional is missing, fail when CI sets flag=1."""
    return _require


@pytest.fixture(scope="session", autouse=True)
def no_tensorflow_in_test_process():
    """Training belongs in kernels: after the whole session, TF must not be loaded here."""
    yield
    loaded = [name for name in HEAVY if name in sys.modules]
    assert not loaded, f"the pytest process imported {loaded}; training must stay in kernels"


@pytest.fixture(scope="session")
def engine_reports(tmp_path_factory) -> dict[str, tuple[Path, subprocess.CompletedProcess]]:
    """`story --scenario factory-full-seed --reruns 2 --epochs 2 --engine E --format json --report FILE` for Keras 3 and
    tf_keras, both at once (2 cores): per engine, the report file and the finished command (JSON records on stdout,
    progress on stderr). tests/core/test_cli.py and tests/browser/test_compare_upload.py each used to run these."""
    folder = tmp_path_factory.mktemp("engine-reports")
    running = {}
    for engine in ("keras3", "tf_keras"):
        path = folder / f"{engine}.json"
        command = [sys.executable, "-m", "repro_core", "story", "--scenario", "factory-full-seed", "--reruns", "2", "--epochs", "2",
                   "--engine", engine, "--format", "json", "--report", str(path)]  # fmt: skip
        running[engine] = (path, command, subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
    done = {}
    for engine, (path, command, proc) in running.items():
        out, err = proc.communicate(timeout=600)
        done[engine] = (path, subprocess.CompletedProcess(command, proc.returncode, out, err))
    return done


@pytest.fixture(scope="module")
def gateway(require):
    """An Enterprise Gateway per test module that uses one (EG_MAX_KERNELS=3), its kernels this interpreter started
    through EG's launcher. Per module, not per session: once it has started a kernel, EG's response-socket polling
    keeps a tenth of a core busy until it stops, which the rest of the suite should not pay for (it starts in about 3
    s). Tests that use it shut their kernels down, so each finds it empty. REQUIRE_GATEWAY=1 makes it mandatory."""
    import gateway_service

    require("REQUIRE_GATEWAY", gateway_service.is_provisioned(), f"no Enterprise Gateway: run `{gateway_service.PROVISION_COMMAND}`")
    with gateway_service.running_gateway(max_kernels=3) as running:
        yield running


def in_fast_tier(item: pytest.Item) -> bool:
    return not any(item.get_closest_marker(name) for name in TIERS)


# -- the fast tier's guard ------------------------------------------------------------------------------------
# From the start of an unmarked test's setup (module-scoped fixtures included) to the end of its teardown, the three
# ways this process gets a kernel-sized process are refused: launching a Jupyter kernel (every start and restart,
# spawned or forked, goes through KernelManager._async_launch_kernel), starting a fork template (TensorFlow's
# imports) and leasing a gateway's kernel (GatewayConnection.start). The refusal raises where it happens; since the lab
# turns kernel errors into messages (and a template may be started from a background thread), every attempt is also
# recorded and fails the test at teardown.
class KernelInFastTier(RuntimeError):
    """An unmarked test tried to start a kernel or a fork template."""


@pytest.hookimpl(wrapper=True)
def pytest_runtest_setup(item: pytest.Item):
    if in_fast_tier(item):
        patch, attempts = pytest.MonkeyPatch(), []
        item.stash[GUARD] = (patch, attempts)

        def refuse(what: str):
            def refused(*_args, **_kwargs):
                attempts.append(what)
                raise KernelInFastTier(f"{item.nodeid} {what}, but it is not marked: mark it @pytest.mark.kernel")

            return refused

        patch.setattr(KernelManager, "_async_launch_kernel", refuse("launched a Jupyter kernel"))
        patch.setattr(PreloadedInterpreter, "_start", refuse("started a fork template (TensorFlow's imports)"))
        patch.setattr(GatewayConnection, "start", refuse("leased a kernel from a gateway"))
    return (yield)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(item: pytest.Item, nextitem: pytest.Item | None):
    try:
        return (yield)
    finally:
        guard = item.stash.get(GUARD, None)
        if guard is not None:
            patch, attempts = guard
            patch.undo()
            if attempts:
                pytest.fail(f"{item.nodeid} is in the fast tier but {'; '.join(dict.fromkeys(attempts))}: mark it kernel", pytrace=False)


@pytest.fixture
def fast_tier_refusals(request) -> list[str]:
    """What the guard refused so far in this unmarked test (tests/test_tiers.py checks the guard with it)."""
    return request.node.stash[GUARD][1]


# -- what the two xdist workers share ---------------------------------------------------------------------------------
# scripts/test.sh runs the kernel and browser tier on two workers with --dist loadgroup: a file's tests stay on one worker
# (its module fixtures, such as a gateway, start once), and so do the files of one group below, so that what they share
# is made once per CI run instead of once per worker that happens to get one of them.
SHARED_BY = {
    # story_runs.default_story: the lab's default story per (kernel, engine), run once per process (keras3, tf_keras, TF 2.9)
    "default-stories": ("core/test_fork.py", "core/test_story_keras3.py", "core/test_story_tf_keras.py", "core/test_story_tf29.py",
                        "core/test_timeline_live.py", "core/test_story_gateway.py"),
    # the accessibility pages: one app server of their own (22 page checks, the longest browser file)
    "browser-a11y": ("browser/test_accessibility.py",),
    # the other browser tests' app server (its fork template) and Chromium; engine_reports, shared by test_cli and
    # test_compare_upload
    "browser": ("browser/", "core/test_cli.py"),
}  # fmt: skip
# Load tests start servers of their own and share nothing: each test is a group, so they spread over the workers.
OWN_SERVERS = ("browser/test_load.py", "browser/test_hosted_cap.py")


def shared_group(path: Path) -> str | None:
    """The SHARED_BY group of a test file (a path under tests/), or None. The first group that names it wins."""
    relative = path.resolve().relative_to(ROOT / "tests").as_posix()
    if relative in OWN_SERVERS:
        return None
    for group, members in SHARED_BY.items():
        if any(relative == member or (member.endswith("/") and relative.startswith(member)) for member in members):
            return group
    return None


# The groups that take longest, longest first (test-seconds in a CI run of 2026-12-07: 345, about 260, 235, 95 to 164 each,
# then 139, 137, 136, 95). A worker is handed the next group in collection order once it has two tests or fewer left, so
# these start at once and the short files fill the end. (xdist's own order, by test count with --loadscope-reorder, put
# the one-test load groups last: four tests of up to 160 s on three workers at the end of the run.) Order only.
LONGEST_FIRST = ("default-stories", "browser", "browser-a11y", "tests/browser/test_load.py::test_sixteen",
                 "tests/browser/test_load.py::test_two_servers", "tests/browser/test_hosted_cap.py", "tests/browser/test_load.py",
                 "app/test_runs.py", "core/test_machine_kernels.py", "core/test_diagnose_kernels.py", "core/test_notebook_rerun.py")  # fmt: skip


def first_rank(group: str) -> int:
    """The group's place in LONGEST_FIRST (a SHARED_BY name, or the start of a path), or after all of them."""
    return next((rank for rank, entry in enumerate(LONGEST_FIRST) if group == entry or ("/" in entry and group.startswith(entry))),
                len(LONGEST_FIRST))  # fmt: skip


@pytest.hookimpl(tryfirst=True)  # before xdist's own hook, which reads the mark into the test's id
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """loadgroup sends an unmarked test anywhere, so every file is a group of its own unless shared, and a load test, which
    shares nothing, is a group by itself; the longest groups come first (scripts/test.sh passes --no-loadscope-reorder so
    that xdist keeps this order), each keeping its tests' own order."""
    groups = {}
    for item in items:
        relative = item.path.resolve().relative_to(ROOT / "tests").as_posix()
        groups[item] = group = shared_group(item.path) or (item.nodeid if relative in OWN_SERVERS else relative)
        item.add_marker(pytest.mark.xdist_group(group))
    items.sort(key=lambda item: first_rank(groups[item]))  # stable: the rest keep the order they were collected in
