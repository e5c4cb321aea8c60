"""A jupyter_client kernel provisioner that forks kernels from a preloaded template instead of spawning them.

Why a provisioner: jupyter_client 7+ lets a kernelspec name the provisioner that starts its process
(`metadata.kernel_provisioner.provisioner_name`), and KernelManager then talks to that object for
launch, poll, signal, kill and wait. That carries everything forking needs, so no KernelManager subclass:
the provisioner asks the template (kernels/preloaded.py) for a fork and gets back the kernel's pid and a
pidfd, and behind the same methods as LocalProvisioner drives a process that is not the server's child.

Registration: jupyter_client finds provisioners by entry point (group `jupyter_client.kernel_provisioners`).
pyproject.toml declares ours for an installed lab, but the lab usually runs from a checkout that is not
pip-installed, so `register()` also puts the same EntryPoint object into KernelProvisionerFactory's table,
which is where the factory looks first (`_check_availability`). That is one dictionary entry, added once.

Polling and reaping: the template is the kernel's parent and reaps it; the server holds a pidfd
(pidfd_open, Linux 5.3+), which refers to that one process even after its pid is reused, so poll (is the
pidfd readable?), signals (pidfd_send_signal) and kill never hit a stranger. The exit code comes from the
template over a per-kernel socket. When forking is off or impossible (another kernelspec, not Linux,
REPRO_FORK=0, an environment with extra variables, a template that failed), LocalProvisioner's spawn runs.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
from functools import cache
from importlib.metadata import EntryPoint
from typing import Any

from jupyter_client.connect import KernelConnectionInfo
from jupyter_client.provisioning import KernelProvisionerFactory, LocalProvisioner

from repro_core.kernels import preloaded
from repro_core.vocabulary import DEFAULT_KERNEL

PROVISIONER_NAME = "repro-fork-provisioner"
ENTRY_POINT = EntryPoint(
    name=PROVISIONER_NAME, value="repro_core.kernels.fork_provisioner:ForkProvisioner", group=KernelProvisionerFactory.GROUP_NAME
)


@cache
def _pidfd_works() -> bool:
    """pidfd_open needs Linux 5.3+ and a seccomp profile that allows it (older container runtimes do not)."""
    try:
        fd = os.pidfd_open(os.getpid())
    except (AttributeError, OSError):
        return False
    os.close(fd)
    return hasattr(signal, "pidfd_send_signal")


def forks_kernels(kernel_name: str = DEFAULT_KERNEL) -> bool:
    """Are kernels of this kernelspec forked from a template?

    Yes for the lab's own `lab-python` kernels on Linux, unless REPRO_FORK=0. Other kernelspecs run
    another interpreter (e.g. repro-tf29 is Python 3.8 + TF 2.9), which this server cannot fork.
    """
    if kernel_name != DEFAULT_KERNEL or not sys.platform.startswith("linux"):
        return False
    if os.environ.get("REPRO_FORK", "1").strip().lower() in ("0", "false", "no", "off"):
        return False
    return _pidfd_works()


def provisioner_stanza() -> dict[str, Any]:
    """The kernelspec metadata that makes jupyter_client start a kernel through ForkProvisioner."""
    register()
    return {"provisioner_name": PROVISIONER_NAME, "config": {}}


def register() -> None:
    """Make the provisioner findable without installing the project (see the module docstring)."""
    KernelProvisionerFactory.provisioners.setdefault(PROVISIONER_NAME, ENTRY_POINT)


class ForkedProcess:
    """A Popen look-alike for a kernel forked by a template: pid, poll, wait, send_signal, kill, terminate."""

    stdin = stdout = stderr = None  # LocalProvisioner.wait closes these when set

    def __init__(self, kernel: preloaded.ForkedKernel) -> None:
        self.kernel = kernel
        self.pid = kernel.pid
        self.returncode: int | None = None
        # poll() runs from whichever thread asks for the kernel's state; the descriptors must be closed exactly once
        self._lock = threading.RLock()

    def poll(self) -> int | None:
        with self._lock:
            if self.returncode is None and self.kernel.pidfd >= 0:
                self.returncode = preloaded.exit_status(self.kernel)
                if self.returncode is not None:
                    self._release()
            return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        deadline = None if timeout is None else time.monotonic() + timeout
        while self.poll() is None:
            if deadline is not None and time.monotonic() > deadline:
                raise subprocess.TimeoutExpired(f"forked kernel {self.pid}", timeout)
            time.sleep(0.05)
        assert self.returncode is not None
        return self.returncode

    def send_signal(self, signum: int) -> None:
        """Signal the kernel itself; ProcessLookupError once it has exited (as os.kill would raise)."""
        with self._lock:
            if self.poll() is not None:
                raise ProcessLookupError(3, "No such process")  # errno ESRCH, what LocalProvisioner tolerates
            signal.pidfd_send_signal(self.kernel.pidfd, signum)

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)

    def terminate(self) -> None:
        self.send_signal(signal.SIGTERM)

    def close(self) -> None:
        """Let go of the kernel; one still running is killed first (nothing else could reach it afterwards)."""
        if self.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                self.kill()
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.wait(timeout=5)
        with self._lock:
            self._release()
            if self.returncode is None:
                self.returncode = -signal.SIGKILL

    def _release(self) -> None:
        """Close the pidfd and the status socket (lock held)."""
        if self.kernel.pidfd >= 0:
            os.close(self.kernel.pidfd)
            self.kernel.pidfd = -1
        self.kernel.status.close()


class ForkProvisioner(LocalProvisioner):
    """LocalProvisioner whose launch forks a template; everything else works on the forked process by pidfd.

    `pre_launch` (connection file, kernel command) is LocalProvisioner's. `launch_kernel` asks the
    template for the environment's kernel and falls back to spawning the command when it cannot.
    """

    forked: bool = False
    fallback_reason: str = ""

    async def launch_kernel(self, cmd: list[str], **kwargs: Any) -> KernelConnectionInfo:
        env: dict[str, str] = kwargs.get("env") or {}
        template = preloaded.template_for(env)
        if template is None:
            self.fallback_reason = "this environment is not a lab kernel environment, or enough templates run already"
            return await super().launch_kernel(cmd, **kwargs)
        cwd = str(kwargs.get("cwd") or os.getcwd())
        connection_file = os.path.realpath(self.parent.connection_file)  # the file LocalProvisioner.pre_launch wrote
        try:
            stdout = _descriptor(kwargs.get("stdout"), sys.__stdout__)
            stderr = _descriptor(kwargs.get("stderr"), sys.__stderr__)
            kernel = template.fork(connection_file, env, cwd, stdout, stderr)
        except preloaded.TemplateError as exc:
            self.fallback_reason = str(exc)
            self.log.warning("forking a kernel failed, spawning it instead: %s", exc)
            return await super().launch_kernel(cmd, **kwargs)
        self.process = ForkedProcess(kernel)
        self.forked = True
        self.pid = self.pgid = kernel.pid  # the child calls setsid(): its own process group, as a spawned kernel's
        self.cwd = cwd
        return self.connection_info

    async def send_signal(self, signum: int) -> None:
        """To the kernel's process group while the kernel lives (interrupts reach its subprocesses too), else to it."""
        if not self.forked:
            return await super().send_signal(signum)
        if self.process is None:
            return None
        if self.process.poll() is None and self.pgid:
            with contextlib.suppress(OSError):
                os.killpg(self.pgid, signum)
                return None
        self.process.send_signal(signum)
        return None

    async def cleanup(self, restart: bool = False) -> None:
        if isinstance(self.process, ForkedProcess):
            self.process.close()
        await super().cleanup(restart=restart)


def _descriptor(stream: Any, default: Any) -> int:
    """The file descriptor behind a Popen-style stdout/stderr argument (None: inherit the server's, as Popen does)."""
    if stream is None:
        stream = default
    if isinstance(stream, int):
        if stream < 0:  # subprocess.PIPE/DEVNULL constants make no sense for a fork; send it to /dev/null
            raise preloaded.TemplateError("pipes to a forked kernel's stdout are not supported")
        return stream
    return stream.fileno()


register()
