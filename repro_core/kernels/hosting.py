"""How this process hosts kernels: settings from the environment (REPRO_HOSTED=1, a public demo on a small box,
tightens every limit and hides the kernel picker; REPRO_GATEWAY_URL leases kernels from a gateway instead of starting
them here), and the pools built from them."""

from __future__ import annotations

import atexit
import functools
import os
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass

from repro_core.kernels import memory
from repro_core.kernels.environment import KernelKind
from repro_core.kernels.fork_provisioner import ForkProvider, forks_kernels
from repro_core.kernels.gateway import GatewayProvider, GatewaySettings, gateway_from_environment
from repro_core.kernels.pool import KernelPool
from repro_core.kernels.provider import AfterCell, KernelProvider, SpawnProvider
from repro_core.validation import Refusal, number_text, whole_number


@dataclass(frozen=True)
class HostingSettings:
    hosted: bool
    max_kernels: int | None  # REPRO_MAX_KERNELS; None: the pool measures memory at each admission
    click_budget: int  # reruns x epochs allowed for one click
    cell_timeout: float  # seconds before a cell is interrupted
    idle_seconds: float  # a session idle this long gives its kernel back
    preempt_seconds: float  # while others wait, a session idle this long gives its kernel to them
    allow_kernel_picker: bool
    gateway: GatewaySettings | None = None  # REPRO_GATEWAY_URL: kernels come from there, and its limit is the cap
    allow_code_setting: bool = False  # REPRO_ALLOW_CODE=1: the operator lets hosted visitors run their own code (with a gateway)

    @property
    def allow_code(self) -> bool:
        """May a visitor's typed or uploaded code run? Always on one's own machine (the server listens on 127.0.0.1, for the
        person at the keyboard); on a hosted demo only when the operator says so AND kernels come from a gateway, so a
        visitor's code never runs on the server's machine, beside its processes and files."""
        return not self.hosted or (self.allow_code_setting and self.gateway is not None)


def _number(name: str, default: float, low: float, high: float) -> float:
    raw = os.environ.get(name, "").strip()
    return number_text(name, raw, low, high) if raw else default


def _max_kernels() -> int | None:
    raw = os.environ.get("REPRO_MAX_KERNELS", "").strip()
    return whole_number("REPRO_MAX_KERNELS", number_text("REPRO_MAX_KERNELS", raw, 1, memory.MAX_CAP), 1, memory.MAX_CAP) if raw else None


def _switch(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() in {"1", "true", "yes", "on"}


class CodeRefused(Refusal):
    """A hosted demo does not run a visitor's own code (see HostingSettings.allow_code)."""


def check_code_allowed(settings: HostingSettings, kind: str) -> None:
    """Refuse typed or uploaded code where it may not run; the shipped examples and code built from checked values run anywhere."""
    if kind in ("typed", "uploaded") and not settings.allow_code:
        missing = [text for text, absent in (("the operator has not set REPRO_ALLOW_CODE=1", not settings.allow_code_setting),
                                             ("its kernels do not come from a gateway", settings.gateway is None)) if absent]  # fmt: skip
        why = " and ".join(missing)
        raise CodeRefused(f"This hosted demo does not run code typed or uploaded by visitors ({why}). Pick a shipped example, or run the "
                          "lab on your own machine, where your code runs for you alone.")  # fmt: skip


def hosting_from_environment() -> HostingSettings:
    """Read REPRO_HOSTED, REPRO_ALLOW_CODE, REPRO_MAX_KERNELS, REPRO_CLICK_BUDGET, REPRO_CELL_TIMEOUT, REPRO_IDLE_SECONDS, REPRO_PREEMPT_SECONDS
    and the gateway's REPRO_GATEWAY_URL, REPRO_GATEWAY_TOKEN, REPRO_GATEWAY_KERNEL."""
    hosted = _switch("REPRO_HOSTED")
    return HostingSettings(
        hosted=hosted,
        max_kernels=_max_kernels(),
        click_budget=int(_number("REPRO_CLICK_BUDGET", 100 if hosted else 500, 1, 10_000)),
        cell_timeout=_number("REPRO_CELL_TIMEOUT", 120 if hosted else 300, 0.5, 3600),
        idle_seconds=_number("REPRO_IDLE_SECONDS", 600 if hosted else 3600, 10, 86_400),
        preempt_seconds=_number("REPRO_PREEMPT_SECONDS", 30 if hosted else 120, 0, 86_400),
        allow_kernel_picker=not hosted,
        gateway=gateway_from_environment(),
        allow_code_setting=_switch("REPRO_ALLOW_CODE"),
    )


def check_budget(reruns: int, epochs: int, settings: HostingSettings) -> None:
    """One click may train at most `click_budget` reruns x epochs; say how to fit when over."""
    units = reruns * epochs
    if units > settings.click_budget:
        asked = f"this click asks for {reruns} reruns x {epochs} epochs = {units}, over this server's budget of {settings.click_budget}"
        raise Refusal(f"{asked}; lower the reruns or the epochs")


def machine_provider(after_cell: AfterCell | None = None) -> KernelProvider:
    """Kernels on this machine: forked where forking works (Linux with pidfd, REPRO_FORK not 0), else spawned."""
    return ForkProvider(after_cell) if forks_kernels() else SpawnProvider(after_cell)


def default_provider(after_cell: AfterCell | None = None) -> KernelProvider:
    """A gateway's kernels when REPRO_GATEWAY_URL names one, else this machine's."""
    gateway = gateway_from_environment()
    return GatewayProvider(gateway) if gateway is not None else machine_provider(after_cell)


def server_pool(settings: HostingSettings) -> KernelPool:
    """The server's one pool for every session and page: a reaper, the bundled kernel's template warmed up, shut down at exit.
    With a gateway, its kernels use none of this machine's memory: the cap is REPRO_MAX_KERNELS if set, else only the
    gateway's own limit (EG_MAX_KERNELS, shared with every other server), whose refusals queue visitors here."""
    if settings.gateway is not None:
        provider: KernelProvider = GatewayProvider(settings.gateway)
        cap: int | functools.partial[int] = settings.max_kernels or memory.MAX_CAP
    else:
        provider = machine_provider(after_cell=memory.observe_kernel)
        cap = settings.max_kernels or functools.partial(memory.kernel_cap, isinstance(provider, ForkProvider))
    pool = KernelPool(provider, cap, idle_seconds=settings.idle_seconds, preempt_seconds=settings.preempt_seconds)
    pool.start_reaper()
    provider.prestart(KernelKind())  # the kind most visitors start with: they need not wait for its imports
    atexit.register(pool.shutdown)
    return pool


def local_pool(cap: int = 1) -> KernelPool:
    """A pool of this process's own (a command, a script, a test), with a fixed cap."""
    return KernelPool(default_provider(), cap)


@contextmanager
def private_pool(pool: KernelPool | None = None, cap: int = 1) -> Iterator[KernelPool]:
    """The pool given, or a local one that is shut down afterwards."""
    with ExitStack() as stack:
        if pool is None:
            pool = local_pool(cap)
            stack.callback(pool.shutdown)
        yield pool
