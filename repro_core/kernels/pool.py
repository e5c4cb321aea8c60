"""The one owner of every kernel a server (or a command) starts: a TensorFlow kernel is a large process, so a hard
cap holds across sessions and pages, visitors beyond it queue first come, first served, and one cleanup path frees them.
An owner may keep one kernel between clicks ("re-run the cell" needs the same one); a used kernel is never handed on."""

from __future__ import annotations

import itertools
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from repro_core.kernels.environment import KernelKind
from repro_core.kernels.kernel import KernelError, KernelsFull, LabKernel
from repro_core.kernels.provider import KernelProvider

OnWait = Callable[[int], None]  # told the owner's place in the queue (1 = next)
REAP_SECONDS = 30.0  # the reaper's period: idle limits default to 10 minutes or more, so a late look costs little
FULL_BACKOFF = 1.0  # after a provider said it is full (a gateway other servers share), wait this long before asking again


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
    """Never more than `cap` kernels alive: kept, lent for a click, starting or stopping. `cap` is a number, or a
    function asked at every admission (e.g. what fits in memory now); idle owners are reaped after `idle_seconds`,
    and while others wait, one idle past `preempt_seconds` (never in a click) gives its kernel up. A provider may be
    full below the cap (KernelsFull: a gateway whose other clients hold its kernels); the visitor then waits on,
    first in line, and the pool asks again every FULL_BACKOFF seconds or as soon as one of its own kernels is gone."""

    def __init__(self, provider: KernelProvider, cap: int | Callable[[], int], idle_seconds: float = 900.0, preempt_seconds: float = 30.0) -> None:
        if not callable(cap) and cap < 1:
            raise ValueError("the pool needs room for at least one kernel")
        self.provider = provider
        self._cap = cap
        self.idle_seconds = idle_seconds
        self.preempt_seconds = preempt_seconds
        self._lock = threading.Condition()
        self._kept: dict[str, _Kept] = {}
        self._lent: dict[object, list[LabKernel]] = {}  # per lease: kernels lent for one click, besides a kept one
        self._starting = 0  # kernels being started (they count against the cap already)
        self._stopping = 0  # kernels being shut down (they still count until they are gone)
        self._full_until = 0.0  # monotonic time before which the provider is taken to be full
        self._full = False  # the provider's last answer was "full": until a start succeeds, one start at a time probes it
        self._queue: deque[int] = deque()
        self._tickets = itertools.count()
        self._closed = False

    @property
    def cap(self) -> int:
        return self._cap() if callable(self._cap) else self._cap

    @property
    def live(self) -> int:
        return len(self._kept) + sum(map(len, self._lent.values())) + self._starting + self._stopping

    def _room(self) -> int:
        """How many more kernels may start now. Lock held. While the provider is full, none; after it said so, one at a
        time (else every waiter would ask at once, each be refused, and the queue's order be lost)."""
        if time.monotonic() < self._full_until:
            return 0
        room = max(0, self.cap - self.live)
        if self._full:
            return min(room, 1) if self._starting == 0 else 0
        return room

    @contextmanager
    def lease(
        self, owner: str, kind: KernelKind, count: int = 1, keep: bool = True, on_wait: OnWait | None = None, timeout: float = 600.0
    ) -> Iterator[list[LabKernel]]:
        """Started kernels of `kind` for one click of `owner`: at least one, up to `count` while there is room. With `keep`
        the first stays the owner's for its next lease of the kind (a dead one restarted); without, all are shut down after
        and a kernel the owner kept is given back first."""
        if count < 1:
            raise ValueError("a lease needs at least one kernel")
        token = object()  # this lease's lent kernels, apart from any other lease of the same owner
        with self._lock:  # pin the kept kernel of this kind for the click; give back any other (or any, without `keep`)
            kept = self._kept.get(owner) if keep else None
            if kept is not None and kept.kind == kind:
                kept.active += 1
                kept.last_used = time.monotonic()
            else:
                kept = None
                self.release(owner)
        kernels: list[LabKernel] = [] if kept is None else [kept.kernel]
        deadline = time.monotonic() + timeout
        try:
            retry = False
            while True:
                need = not kernels
                fresh = self._reserve(count - len(kernels), need, on_wait, deadline - time.monotonic(), front=retry)
                try:
                    if fresh:
                        kernels += self._start_all(token, kind, fresh, owner)
                    break
                except KernelsFull:
                    with self._lock:
                        self._full, self._full_until = True, time.monotonic() + FULL_BACKOFF
                    if not need:
                        break  # the extra kernels were a nicety: this click runs on the one it has
                    retry = True
            if keep and kept is None:
                with self._lock:
                    self._lent[token].remove(kernels[0])
                    kept = self._kept[owner] = _Kept(kernels[0], kind, time.monotonic(), active=1)
            if kept is not None and kept.kernel.state in ("dead", "not started"):
                kept.kernel.restart()
            yield kernels
        finally:
            with self._lock:
                if kept is not None:
                    kept.active -= 1
                    kept.last_used = time.monotonic()
                self._stop_async(self._lent.pop(token, []))

    def _reserve(self, wanted: int, need: bool, on_wait: OnWait | None, timeout: float, front: bool = False) -> int:
        """Room for up to `wanted` kernels: how many to start. Waits in the queue if `need` (at its front if `front`:
        a visitor the provider turned away keeps their place)."""
        if wanted <= 0:
            return 0
        with self._lock:
            if need:
                self._wait_for_room(on_wait, timeout, front)
            fresh = min(wanted, self._room())
            self._starting += fresh
            return fresh

    def _wait_for_room(self, on_wait: OnWait | None, timeout: float, front: bool = False) -> None:
        """Queue until first in line with room, preempting an idle owner when first. Lock held."""
        deadline = time.monotonic() + timeout
        ticket = next(self._tickets)
        if front:
            self._queue.appendleft(ticket)
        else:
            self._queue.append(ticket)
        last_told = -1
        try:
            while True:
                if self._closed:
                    raise PoolTimeout("the kernel pool is shut down")
                first = self._queue[0] == ticket
                if first and self._room() > 0:
                    return
                if first and self._stopping == 0 and (idle := self._idle(self.preempt_seconds)):
                    self.release(idle[0])
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

    def _start_all(self, token: object, kind: KernelKind, fresh: int, owner: str) -> list[LabKernel]:
        """Start the reserved kernels; they are lent to this lease. At least one must come up."""
        kernels = [self.provider.new_kernel(kind, owner) for _ in range(fresh)]
        errors: list[KernelError] = []
        for kernel in kernels:
            try:
                kernel.start()
            except KernelError as exc:
                errors.append(exc)
        started = [k for k in kernels if k.state == "idle"]
        for kernel in kernels:
            if kernel not in started:
                kernel.shutdown()  # it never came up (its process is stopped already): only its files go
        with self._lock:
            self._starting -= fresh
            self._lent.setdefault(token, []).extend(started)
            if started:
                self._full = False  # the provider had room again
            self._lock.notify_all()
        if not started:
            raise errors[0] if errors else KernelError("no kernel could be started")
        return started

    def _idle(self, seconds: float) -> list[str]:
        """Owners not in a click whose kernel has been idle longer than `seconds`, longest idle first. Lock held."""
        now = time.monotonic()
        idle = sorted((kept.last_used, owner) for owner, kept in self._kept.items() if kept.active == 0 and now - kept.last_used > seconds)
        return [owner for _, owner in idle]

    def _stop_async(self, kernels: list[LabKernel]) -> None:
        """Shut kernels down in the background; they count as live until they are gone. Lock held."""
        self._stopping += len(kernels)

        def run(kernel: LabKernel) -> None:
            try:
                kernel.shutdown()
            finally:
                with self._lock:
                    self._stopping -= 1
                    self._full_until = 0.0  # a kernel of ours is gone: the provider has room for one again
                    self._lock.notify_all()

        for kernel in kernels:
            threading.Thread(target=run, args=(kernel,), name="kernel-pool-stop", daemon=True).start()

    def _give_back(self, owners: list[str]) -> list[str]:
        """Shut down the kernels `owners` keep: a used kernel holds its visitor's state, so it is never handed on."""
        with self._lock:
            self._stop_async([self._kept.pop(owner).kernel for owner in owners if owner in self._kept])
        return owners

    def release(self, owner: str) -> None:
        self._give_back([owner])

    def reap(self) -> list[str]:
        """Release owners idle for longer than `idle_seconds`; returns them."""
        with self._lock:
            return self._give_back(self._idle(self.idle_seconds))

    def start_reaper(self) -> None:
        """Reap idle owners every REAP_SECONDS (or half the idle limit, if shorter) in a background thread until the pool
        is shut down. Short idle limits matter with a shared gateway: only reaping frees a kernel another server's
        visitor is waiting for."""
        period = min(REAP_SECONDS, self.idle_seconds / 2)

        def loop() -> None:
            while not self._closed:
                time.sleep(period)
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
