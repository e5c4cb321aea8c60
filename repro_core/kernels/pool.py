"""A shared pool of kernels for many visitors on a small box.

One TensorFlow kernel peaks near 800 MB, so a hosted demo caps the number of live kernels.
Visitors beyond the cap wait in a first-come-first-served queue and can be told their place.
One warm spare (TensorFlow already imported) lets the next visitor skip the import.
Idle sessions are reaped so their kernels go back to the budget.
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

from repro_core.experiments.story import Notebook
from repro_core.kernels.kernel import DEFAULT_KERNEL, KernelError, LabKernel, kernel_environment
from repro_core.recipes.settings import StoryParams

KERNEL_MB = 800  # measured peak of one TensorFlow kernel (facts.md §5)
WARM_CELL = "import numpy\nimport tensorflow\nfrom tensorflow import keras\nkeras.layers.Dense\n"


def default_cap(reserve_mb: int = 600) -> int:
    """Live kernels that fit in the memory this machine has available, keeping `reserve_mb` for the server."""
    try:
        with open("/proc/meminfo", encoding="utf-8") as handle:
            info = {line.split(":")[0]: int(line.split()[1]) for line in handle if ":" in line}
        available_mb = info.get("MemAvailable", info.get("MemTotal", 0)) // 1024
    except (OSError, ValueError, IndexError):
        return 2
    return max(1, min(8, (available_mb - reserve_mb) // KERNEL_MB))


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
class _Lease:
    notebook: Notebook
    kernel_name: str
    engine: str
    last_used: float
    active: int = 0  # clicks running with this kernel right now; never preempted while > 0


class KernelPool:
    """Hands each session its own Notebook, never more than `cap` kernels alive (the spare included)."""

    def __init__(
        self,
        cap: int,
        warm_spare: bool = True,
        idle_seconds: float = 900.0,
        spare_kernel: str = DEFAULT_KERNEL,
        spare_engine: str = "keras3",
        preempt_seconds: float = 30.0,
    ) -> None:
        """`preempt_seconds`: while visitors wait, a session idle this long gives its kernel to them."""
        if cap < 1:
            raise ValueError("the pool needs room for at least one kernel")
        self.cap = cap
        self.warm_spare = warm_spare
        self.idle_seconds = idle_seconds
        self.preempt_seconds = preempt_seconds
        self._spare_key = (spare_kernel, spare_engine)
        self._lock = threading.Condition()
        self._leases: dict[str, _Lease] = {}
        self._spare: LabKernel | None = None
        self._starting = 0  # kernels being started (they count against the cap already)
        self._stopping = 0  # kernels being shut down (they still count until they are gone)
        self._queue: deque[int] = deque()
        self._tickets = itertools.count()
        self.max_live_seen = 0
        self._closed = False
        if warm_spare:
            self._refill_spare_async()

    # -- counting -------------------------------------------------------------------------------------------
    @property
    def live(self) -> int:
        return len(self._leases) + (1 if self._spare is not None else 0) + self._starting + self._stopping

    def _note_live(self) -> None:
        self.max_live_seen = max(self.max_live_seen, self.live)

    def queue_position(self, ticket: int) -> int:
        with self._lock:
            return list(self._queue).index(ticket) + 1 if ticket in self._queue else 0

    def stats(self) -> dict[str, int]:
        with self._lock:
            return {"cap": self.cap, "live": self.live, "sessions": len(self._leases), "waiting": len(self._queue),
                    "spare": int(self._spare is not None), "max_live_seen": self.max_live_seen}  # fmt: skip

    # -- the spare -------------------------------------------------------------------------------------------
    def _refill_spare_async(self) -> None:
        """Start a warm spare in the background, only when nobody waits and there is room."""
        with self._lock:
            if self._closed or not self.warm_spare or self._spare is not None or self._queue or self.live >= self.cap:
                return
            self._starting += 1
            self._note_live()
        threading.Thread(target=self._start_spare, name="kernel-pool-spare", daemon=True).start()

    def _start_spare(self) -> None:
        kernel_name, engine = self._spare_key
        kernel = LabKernel(kernel_name, kernel_environment(engine))
        try:
            kernel.start()
            kernel.run_cell(WARM_CELL, timeout=180)
        except KernelError:
            kernel.shutdown()
            kernel = None
        with self._lock:
            self._starting -= 1
            if kernel is not None and not self._closed and self._spare is None:
                self._spare = kernel
                kernel = None
            self._lock.notify_all()
        if kernel is not None:
            kernel.shutdown()

    # -- sessions ---------------------------------------------------------------------------------------------
    def acquire(
        self,
        session_id: str,
        params: StoryParams,
        kernel_name: str = DEFAULT_KERNEL,
        on_wait: Callable[[int], None] | None = None,
        timeout: float = 600.0,
    ) -> Notebook:
        """This session's notebook: its existing one, the warm spare, or a new kernel once there is room."""
        with self._lock:
            lease = self._leases.get(session_id)
            if lease is not None and (lease.kernel_name, lease.engine) == (kernel_name, params.engine):
                lease.last_used = time.monotonic()
                lease.notebook.configure(params)
                return lease.notebook
        if lease is not None:
            self.release(session_id)  # other kernel or engine: give the old kernel back first
        ticket = next(self._tickets)
        deadline = time.monotonic() + timeout
        spare: LabKernel | None = None
        with self._lock:
            self._queue.append(ticket)
            last_told = -1
            try:
                while True:
                    if self._closed:
                        raise PoolTimeout("the kernel pool is shut down")
                    first = self._queue[0] == ticket
                    wants_spare = self._spare is not None and self._spare_key == (kernel_name, params.engine)
                    if first and wants_spare:
                        spare, self._spare = self._spare, None
                        break
                    if first and self.live < self.cap:
                        break
                    if first and self._spare is not None:  # room is held by a spare of the wrong kind: drop it
                        stale, self._spare = self._spare, None
                        self._stop_async(stale.shutdown)
                        continue
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
            took_spare = spare is not None
            if not took_spare:
                self._starting += 1
            self._note_live()
        if spare is None:
            spare = LabKernel(kernel_name, kernel_environment(params.engine))
            try:
                spare.start()
            except KernelError:
                with self._lock:
                    self._starting -= 1
                    self._lock.notify_all()
                raise
        notebook = Notebook(params, kernel_name, kernel=spare)
        with self._lock:
            if not took_spare:
                self._starting -= 1
            self._leases[session_id] = _Lease(notebook, kernel_name, params.engine, time.monotonic())
            self._note_live()
        self._refill_spare_async()
        return notebook

    def _preempt_idle(self) -> bool:
        """Free the kernel of the longest-idle session not in a click, if idle past preempt_seconds. Lock held."""
        now = time.monotonic()
        idle = [(lease.last_used, sid) for sid, lease in self._leases.items()
                if lease.active == 0 and now - lease.last_used > self.preempt_seconds]  # fmt: skip
        if not idle:
            return False
        _, session_id = min(idle)
        lease = self._leases.pop(session_id)
        self._stop_async(lease.notebook.close)
        return True

    def holds(self, session_id: str, notebook: Notebook | None) -> bool:
        """Does `session_id` still lease exactly this notebook (not preempted, reaped or released)?"""
        with self._lock:
            lease = self._leases.get(session_id)
            return lease is not None and lease.notebook is notebook

    @contextmanager
    def lease(
        self, session_id: str, params: StoryParams, kernel_name: str = DEFAULT_KERNEL, on_wait: Callable[[int], None] | None = None
    ) -> Iterator[Notebook]:
        """Acquire for one click: the kernel cannot be preempted until the block ends."""
        notebook = self.acquire(session_id, params, kernel_name, on_wait)
        with self._lock:
            lease = self._leases.get(session_id)
            if lease is not None:
                lease.active += 1
        try:
            yield notebook
        finally:
            with self._lock:
                if lease is not None:
                    lease.active -= 1
                    lease.last_used = time.monotonic()

    def touch(self, session_id: str) -> None:
        with self._lock:
            if session_id in self._leases:
                self._leases[session_id].last_used = time.monotonic()

    def replace_dead(self, session_id: str) -> None:
        """Forget a session whose kernel died, so its next acquire gets a fresh one."""
        self.release(session_id)

    def _stop_async(self, stop: Callable[[], None]) -> None:
        """Shut a kernel down in the background; it counts as live until it is gone. Call with the lock held."""
        self._stopping += 1

        def run() -> None:
            try:
                stop()
            finally:
                with self._lock:
                    self._stopping -= 1
                    self._lock.notify_all()
                self._refill_spare_async()

        threading.Thread(target=run, name="kernel-pool-stop", daemon=True).start()

    def release(self, session_id: str) -> None:
        """Shut the session's kernel down (a used kernel holds its visitor's state; it is never handed on)."""
        with self._lock:
            lease = self._leases.pop(session_id, None)
            if lease is not None:
                self._stop_async(lease.notebook.close)

    def reap(self, now: float | None = None) -> list[str]:
        """Release sessions idle for longer than `idle_seconds`; returns their ids."""
        now = time.monotonic() if now is None else now
        with self._lock:
            idle = [sid for sid, lease in self._leases.items() if lease.active == 0 and now - lease.last_used > self.idle_seconds]
        for session_id in idle:
            self.release(session_id)
        return idle

    def release_all(self) -> None:
        """Shut every session's kernel down (the pool stays usable)."""
        with self._lock:
            sessions = list(self._leases)
        for session_id in sessions:
            self.release(session_id)

    def start_reaper(self, every: float = 30.0) -> None:
        """Reap idle sessions in a background thread until the pool is shut down."""

        def loop() -> None:
            while not self._closed:
                time.sleep(every)
                self.reap()

        threading.Thread(target=loop, name="kernel-pool-reaper", daemon=True).start()

    def shutdown(self) -> None:
        with self._lock:
            self._closed = True
            leases, self._leases = list(self._leases.values()), {}
            spare, self._spare = self._spare, None
            self._lock.notify_all()
        for lease in leases:
            lease.notebook.close()
        if spare is not None:
            spare.shutdown()
