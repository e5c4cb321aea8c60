"""Kernels forked from a preloaded template: a jupyter_client kernel provisioner, and the provider using it.

A provisioner starts the kernel's process and is then driven for poll, signal, kill and wait, so forking needs no
KernelManager subclass. Where forking is impossible (extra variables, a failed template), LocalProvisioner spawns.
"""

from __future__ import annotations

import os
import signal
import sys
from functools import cache
from importlib.metadata import EntryPoint
from typing import Any

from jupyter_client.connect import KernelConnectionInfo
from jupyter_client.provisioning import KernelProvisionerFactory, LocalProvisioner

from repro_core.kernels import preloaded
from repro_core.kernels.environment import KernelKind, environment_of
from repro_core.kernels.kernel import LabKernel
from repro_core.kernels.provider import AfterCell, SpawnProvider
from repro_core.vocabulary import DEFAULT_KERNEL

PROVISIONER_NAME = "repro-fork-provisioner"
ENTRY_POINT = EntryPoint(PROVISIONER_NAME, "repro_core.kernels.fork_provisioner:ForkProvisioner", KernelProvisionerFactory.GROUP_NAME)


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
    """Are kernels of this kernelspec forked? Only the lab's own interpreter, on Linux, unless REPRO_FORK=0."""
    switched_off = os.environ.get("REPRO_FORK", "1").strip().lower() in ("0", "false", "no", "off")
    return kernel_name == DEFAULT_KERNEL and sys.platform.startswith("linux") and not switched_off and _pidfd_works()


def register() -> None:
    """Make the provisioner findable in a checkout that is not pip-installed (pyproject declares the entry point):
    KernelProvisionerFactory looks in this table before it reads entry points."""
    KernelProvisionerFactory.provisioners.setdefault(PROVISIONER_NAME, ENTRY_POINT)


class ForkProvider(SpawnProvider):
    """Kernels of the lab's own interpreter are forked from a template of their environment; others are spawned."""

    def __init__(self, after_cell: AfterCell | None = None) -> None:
        super().__init__(after_cell)
        register()

    def new_kernel(self, kind: KernelKind, owner: str = "") -> LabKernel:
        if not forks_kernels(kind.kernelspec):
            return super().new_kernel(kind, owner)
        provisioner = {"provisioner_name": PROVISIONER_NAME, "config": {}}  # kernelspec metadata naming ForkProvisioner
        return LabKernel(kind.kernelspec, environment_of(kind), provisioner, self.after_cell)

    def prestart(self, kind: KernelKind) -> None:
        if forks_kernels(kind.kernelspec):
            preloaded.prestart(environment_of(kind))


class ForkProvisioner(LocalProvisioner):
    """LocalProvisioner whose launch forks a template (falling back to its spawn); the rest works on the fork by pidfd."""

    forked: bool = False

    async def launch_kernel(self, cmd: list[str], **kwargs: Any) -> KernelConnectionInfo:
        env: dict[str, str] = kwargs.get("env") or {}
        template = preloaded.template_for(env)
        if template is None:  # not a lab kernel environment, or every template slot has kernels
            return await super().launch_kernel(cmd, **kwargs)
        cwd = str(kwargs.get("cwd") or os.getcwd())
        connection_file = os.path.realpath(self.parent.connection_file)  # the file LocalProvisioner.pre_launch wrote
        try:
            stdout = _descriptor(kwargs.get("stdout"), sys.__stdout__)
            stderr = _descriptor(kwargs.get("stderr"), sys.__stderr__)
            self.process = template.fork(connection_file, env, cwd, stdout, stderr)
        except preloaded.TemplateError as exc:
            self.log.warning("forking a kernel failed, spawning it instead: %s", exc)
            return await super().launch_kernel(cmd, **kwargs)
        self.forked = True
        self.pid = self.pgid = self.process.pid  # the child calls setsid(): its own process group, as a spawned kernel's
        self.cwd = cwd
        return self.connection_info

    async def send_signal(self, signum: int) -> None:
        """Signal a fork's process group only while it lives: once it has exited, its group id may be another's."""
        if self.forked and self.process is not None and self.process.poll() is not None:
            self.process.send_signal(signum)  # ProcessLookupError, as for a spawned kernel that has exited
            return
        await super().send_signal(signum)

    async def cleanup(self, restart: bool = False) -> None:
        if isinstance(self.process, preloaded.ForkedProcess):
            self.process.close()
        await super().cleanup(restart=restart)


def _descriptor(stream: Any, default: Any) -> int:
    """The file descriptor behind a Popen-style stdout/stderr argument (None: the server's, as Popen does)."""
    stream = default if stream is None else stream
    if isinstance(stream, int):
        if stream < 0:  # subprocess.PIPE/DEVNULL constants make no sense for a fork
            raise preloaded.TemplateError("pipes to a forked kernel's stdout are not supported")
        return stream
    return stream.fileno()
