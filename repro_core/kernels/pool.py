"""The one owner of every kernel a server (or a command) starts: a hard cap, a fair queue, one cleanup path.

A TensorFlow kernel is a large process, so a hosted demo caps how many are alive at once, across every
session and page. Whoever asks for kernels gets a lease: at least one kernel, and up to as many as
asked for while there is room. Visitors beyond the cap wait first come, first served and are told their
place. An owner may keep one kernel between clicks (the story's "re-run the cell" needs the same
kernel); everything else is shut down when its lease ends. Idle owners are reaped, and while others
wait, an owner idle past a grace period gives its kept kernel to them (never one running a cell).
A used kernel is never handed to another owner: it holds its visitor's state.
"""

from __future__ import annotations

import itertools
import os
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from repro_core.kernels.environment import KernelKind, environment_of
from repro_core.kernels.fork_provisioner import forks_kernels
from repro_core.kernels.kernel import KernelError, LabKernel
from repro_core.kernels.memory import kernel_cap
from repro_core.kernels.preloaded import prestart

OnWait = Callable[[int], None]  # told the owner's place in the queue (1 = next)


def default_cap() -> int:
    """Live kernels that fit in this server's memory now (issue 9 hook: measured in kernels/memory.py)."""
    return kernel_cap()


def cap_from_environment(default: int | None = None) -> int:
    """REPRO_MAX_KERNELS overrides the memory-derived cap (whole number 1..64)."""
    raw = os.environ.get("REPRO_MAX_KERNELS", "").strip()
    if not raw:
        return default if default is not None else default_cap()
    if not raw.isdigit() or not 1 <= int(raw) <= 64:
        raise ValueError(f"REPRO_MAX_KERNELS must be a whole number from 1 to 64, got {raw!r}")
    return int(raw)


class PoolTimeout(KernelError):
    """Waited too long for a free kernel."""


@dataclass
class _Kept:
    """The kernel an owner keeps between clicks."""

    kernel: LabKernel
    kind: KernelKind
    last_used: float
    active: int = 0  # clicks running with it right now; never preempted or reaped while > 0


class KernelPool:
    """Never more than `cap` kernels alive: kept, lent for a click, starting or stopping."""

    def __init__(self, cap: int | None, idle_seconds: float = 900.0, preempt_seconds: float = 30.0, prestart_template: bool = False) -> None:
        """Issue 9 hooks: `cap=None` re-measures the memory-derived cap at every admission (kernels/memory.py);
        `prestart_template` (the server's pool), where kernels are forked, starts the template of the kind most
        visitors start with (the bundled kernel, Keras 3) now, so the first visitor does not wait for its imports."""
        if cap is not None and cap < 1:
            raise ValueError("the pool needs room for at least one kernel")
        self._fixed_cap = cap
        self.idle_seconds = idle_seconds
        self.preempt_seconds = preempt_seconds
        self._lock = threading.Condition()
        self._kept: dict[str, _Kept] = {}
        self._lent: dict[object, list[LabKernel]] = {}  # per lease: kernels lent for one click, besides a kept one
        self._starting = 0  # kernels being started (they count against the cap already)
        self._stopping = 0  # kernels being shut down (they still count until they are gone)
        self._queue: deque[int] = deque()
        self._tickets = itertools.count()
        self.max_live_seen = 0
        self._closed = False
        if prestart_template and forks_kernels():
            prestart(environment_of(KernelKind()))

    # -- counting --------------------------------------------------------------------------------------------
    @property
    def cap(self) -> int:
        return self._fixed_cap if self._fixed_cap is not None else kernel_cap()

    @property
    def live(self) -> int:
        lent = sum(len(kernels) for kernels in self._lent.values())
        return len(self._kept) + lent + self._starting + self._stopping

    def _note_live(self) -> None:
        self.max_live_seen = max(self.max_live_seen, self.live)

    def stats(self) -> dict[str, int]:
        with self._lock:
            return {"cap": self.cap, "live": self.live, "kept": len(self._kept), "lent": sum(map(len, self._lent.values())),
                    "waiting": len(self._queue), "max_live_seen": self.max_live_seen}  # fmt: skip

    # -- leases ----------------------------------------------------------------------------------------------
    @contextmanager
    def lease(
        self, owner: str, kind: KernelKind, count: int = 1, keep: bool = True, on_wait: OnWait | None = None, timeout: float = 600.0
    ) -> Iterator[list[LabKernel]]:
        """Kernels of `kind` for one click of `owner`: at least one, up to `count` while there is room.

        With `keep`, the first kernel stays the owner's after the click and is handed back on its next
        lease of the same kind (unless it was preempted or reaped meanwhile). Without it, every kernel
        is shut down when the block ends, and a kernel the owner kept is given back first. Kernels are
        started (a kept one that died is restarted) before they are yielded.
        """
        if count < 1:
            raise ValueError("a lease needs at least one kernel")
        token = object()  # this lease's lent kernels, apart from any other lease of the same owner
        kept = self._take_kept(owner, kind) if keep else None
        if kept is None:
            self.release(owner)
        kernels: list[LabKernel] = [] if kept is None else [kept.kernel]
        try:
            fresh = self._reserve(count - len(kernels), need=not kernels, on_wait=on_wait, timeout=timeout)
            if fresh:
                kernels += self._start_all(token, kind, fresh)
            if keep and kept is None:
                kept = self._keep(owner, token, kind, kernels[0])
            if kept is not None and kept.kernel.state in ("dead", "not started"):
                kept.kernel.restart()
            yield kernels
        finally:
            with self._lock:
                if kept is not None:
                    kept.active -= 1
                    kept.last_used = time.monotonic()
                self._stop_async(self._lent.pop(token, []))

    def _take_kept(self, owner: str, kind: KernelKind) -> _Kept | None:
        """The owner's kept kernel, pinned for this click, if it is of `kind`; one of another kind is given back."""
        with self._lock:
            kept = self._kept.get(owner)
            if kept is not None and kept.kind == kind:
                kept.active += 1
                kept.last_used = time.monotonic()
                return kept
        if kept is not None:
            self.release(owner)
        return None

    def _reserve(self, wanted: int, need: bool, on_wait: OnWait | None, timeout: float) -> int:
        """Room for up to `wanted` kernels: how many to start. Waits in the queue if `need`."""
        if wanted <= 0:
            return 0
        with self._lock:
            if need:
                self._wait_for_room(on_wait, time.monotonic() + timeout, timeout)
            fresh = min(wanted, max(0, self.cap - self.live))
            self._starting += fresh
            self._note_live()
            return fresh

    def _wait_for_room(self, on_wait: OnWait | None, deadline: float, timeout: float) -> None:
        """Queue until first in line with room. Lock held."""
        ticket = next(self._tickets)
        self._queue.append(ticket)
        last_told = -1
        try:
            while True:
                if self._closed:
                    raise PoolTimeout("the kernel pool is shut down")
                first = self._queue[0] == ticket
                if first and self.live < self.cap:
                    return
                if first and self._stopping == 0 and self._preempt_idle():
                    continue
                position = list(self._queue).index(ticket) + 1
                if on_wait is not None and position != last_told:
                    last_told = position
                    self._lock.release()
                    try:
                        on_wait(position)
                    finally:
                        self._lock.acquire()
                    continue
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise PoolTimeout(f"no kernel became free within {timeout:.0f} s; please try again")
                self._lock.wait(timeout=min(remaining, 0.5))
        finally:
            self._queue.remove(ticket)
            self._lock.notify_all()

    def _start_all(self, token: object, kind: KernelKind, fresh: int) -> list[LabKernel]:
        """Start the reserved kernels; they are lent to this lease. At least one must come up."""
        kernels = [LabKernel(kind.kernelspec, environment_of(kind)) for _ in range(fresh)]
        errors: list[KernelError] = []
        for kernel in kernels:
            try:
                kernel.start()
            except KernelError as exc:
                errors.append(exc)
        with self._lock:
            self._starting -= fresh
            self._lent.setdefault(token, []).extend(kernels)
            self._lock.notify_all()
        started = [k for k in kernels if k.state == "idle"]
        if not started:
            raise errors[0] if errors else KernelError("no kernel could be started")
        return started

    def _keep(self, owner: str, token: object, kind: KernelKind, kernel: LabKernel) -> _Kept:
        with self._lock:
            self._lent[token].remove(kernel)
            kept = self._kept[owner] = _Kept(kernel, kind, time.monotonic(), active=1)
            return kept

    def holds(self, owner: str, kernel: LabKernel | None) -> bool:
        """Does `owner` still keep exactly this kernel (not preempted, reaped or released)?"""
        with self._lock:
            kept = self._kept.get(owner)
            return kept is not None and kept.kernel is kernel

    # -- giving kernels back ---------------------------------------------------------------------------------
    def _preempt_idle(self) -> bool:
        """Free the kept kernel of the longest-idle owner not in a click, if idle past preempt_seconds. Lock held."""
        now = time.monotonic()
        idle = [(kept.last_used, owner) for owner, kept in self._kept.items()
                if kept.active == 0 and now - kept.last_used > self.preempt_seconds]  # fmt: skip
        if not idle:
            return False
        _, owner = min(idle)
        self._stop_async([self._kept.pop(owner).kernel])
        return True

    def _stop_async(self, kernels: list[LabKernel]) -> None:
        """Shut kernels down in the background; they count as live until they are gone. Lock held."""
        if not kernels:
            return
        self._stopping += len(kernels)

        def run(kernel: LabKernel) -> None:
            try:
                kernel.shutdown()
            finally:
                with self._lock:
                    self._stopping -= 1
                    self._lock.notify_all()

        for kernel in kernels:
            threading.Thread(target=run, args=(kernel,), name="kernel-pool-stop", daemon=True).start()

    def release(self, owner: str) -> None:
        """Shut down the kernel `owner` keeps (a used kernel holds its visitor's state; it is never handed on)."""
        with self._lock:
            kept = self._kept.pop(owner, None)
            if kept is not None:
                self._stop_async([kept.kernel])

    def reap(self, now: float | None = None) -> list[str]:
        """Release owners idle for longer than `idle_seconds`; returns them."""
        now = time.monotonic() if now is None else now
        with self._lock:
            idle = [owner for owner, kept in self._kept.items() if kept.active == 0 and now - kept.last_used > self.idle_seconds]
        for owner in idle:
            self.release(owner)
        return idle

    def release_all(self) -> None:
        """Shut every kept kernel down (the pool stays usable)."""
        with self._lock:
            owners = list(self._kept)
        for owner in owners:
            self.release(owner)

    def start_reaper(self, every: float = 30.0) -> None:
        """Reap idle owners in a background thread until the pool is shut down."""

        def loop() -> None:
            while not self._closed:
                time.sleep(every)
                self.reap()

        threading.Thread(target=loop, name="kernel-pool-reaper", daemon=True).start()

    def shutdown(self) -> None:
        with self._lock:
            self._closed = True
            kernels = [kept.kernel for kept in self._kept.values()] + [k for lent in self._lent.values() for k in lent]
            self._kept, self._lent = {}, {}
            self._lock.notify_all()
        for kernel in kernels:
            kernel.shutdown()


@contextmanager
def private_pool(pool: KernelPool | None = None, cap: int = 1) -> Iterator[KernelPool]:
    """The pool given, or one of this command's own that is shut down afterwards."""
    if pool is not None:
        yield pool
        return
    own = KernelPool(cap=cap)
    try:
        yield own
    finally:
        own.shutdown()
