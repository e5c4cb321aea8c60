"""What the engine drives in a kernel, wherever the kernel runs: a process here (jupyter_client) or a kernel leased from
a gateway. LabKernel holds the one execution path (cells, timeouts, death) on top of these few operations."""

from __future__ import annotations

from abc import ABC, abstractmethod


class KernelConnection(ABC):
    """One kernel's process and channels. `start` and `restart` return once the kernel answers; the message getters
    raise queue.Empty when nothing came within `timeout` seconds, as jupyter_client's blocking client does."""

    env: dict[str, str]  # the variables the kernel's process is started with
    pid: int | None = None  # the kernel's process id when it runs on this machine (memory is measured by it)
    forked: bool = False  # was this generation forked from a template?

    @abstractmethod
    def start(self) -> None:
        """Start the kernel and connect to it; raise if it does not come up."""

    @abstractmethod
    def restart(self) -> None:
        """Replace the kernel's process (however it is) with a fresh one and reconnect: all notebook state is gone."""

    @abstractmethod
    def stop(self) -> None:
        """End the kernel's process and disconnect; quiet when it is already gone."""

    @abstractmethod
    def is_alive(self) -> bool:
        """Cheap: asked every 0.1 s while a cell waits for output."""

    @abstractmethod
    def interrupt(self) -> None:
        """Interrupt the running cell (SIGINT for a Python kernel)."""

    @abstractmethod
    def execute(self, code: str, user_expressions: dict[str, str]) -> str:
        """Send an execute request; its msg_id."""

    @abstractmethod
    def get_iopub_msg(self, timeout: float) -> dict:
        """The next IOPub message."""

    @abstractmethod
    def get_shell_msg(self, timeout: float) -> dict:
        """The next shell reply."""

    def discard(self) -> None:
        """Stop for good and free what the connection holds besides the kernel (files, sessions)."""
        self.stop()
