"""One real Jupyter kernel, driven through jupyter_client, with timeouts and death detection.

Why a kernel and not a thread: TensorFlow's global seed and Python's `random` are process-wide, so two
visitors training in one process would share random state; and "restart the kernel" becomes literal.
"""

from __future__ import annotations

import ast
import contextlib
import os
import queue
import shutil
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from jupyter_client.kernelspec import KernelSpec, KernelSpecManager, NoSuchKernel
from jupyter_client.manager import KernelManager

from repro_core.kernels.environment import kernel_environment
from repro_core.vocabulary import DEFAULT_KERNEL

STARTUP_TIMEOUT = 60.0
INTERRUPT_GRACE = 5.0
OUTPUT_LIMIT = 100_000  # characters of stdout/stderr kept per cell


class KernelError(RuntimeError):
    """Base class for everything that goes wrong with a kernel."""


class KernelDied(KernelError):
    """The kernel process exited (killed, out of memory, crashed) while we needed it."""


class KernelStartError(KernelError):
    """The kernel could not be started or did not answer in time."""


class CellTimeout(KernelError):
    """A cell ran past its time budget; it was interrupted (and the kernel restarted if it did not answer)."""

    def __init__(self, message: str, restarted: bool) -> None:
        super().__init__(message)
        self.restarted = restarted


class CellError(KernelError):
    """The cell raised inside the kernel; `ename`/`evalue` say what, `traceback` has the kernel's lines."""

    def __init__(self, ename: str, evalue: str, traceback: list[str], stdout: str = "") -> None:
        super().__init__(f"{ename}: {evalue}")
        self.ename = ename
        self.evalue = evalue
        self.traceback = traceback
        self.stdout = stdout


@dataclass
class CellResult:
    """What one executed cell produced."""

    code: str
    stdout: str
    stderr: str
    values: dict[str, object] = field(default_factory=dict)  # parsed user_expressions
    seconds: float = 0.0
    kernel_start: int = 0  # set by the runner that logged it (experiments.runner): which of its kernel starts ran it


class LabKernelSpecManager(KernelSpecManager):
    """The installed kernelspecs plus `lab-python`, a kernel of the interpreter running the lab."""

    def _own_spec(self) -> KernelSpec:
        return KernelSpec(
            argv=[sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
            display_name=f"Python {sys.version.split()[0]} (this interpreter)",
            language="python",
            interrupt_mode="signal",
            metadata={"debugger": False},
        )

    def get_kernel_spec(self, kernel_name: str) -> KernelSpec:
        if kernel_name == DEFAULT_KERNEL:
            return self._own_spec()
        return super().get_kernel_spec(kernel_name)


def available_kernels() -> dict[str, str]:
    """Kernelspec name -> display name, the lab's own default first."""
    manager = LabKernelSpecManager()
    found = {DEFAULT_KERNEL: manager._own_spec().display_name}
    for name, info in sorted(manager.get_all_specs().items()):
        found.setdefault(name, info.get("spec", {}).get("display_name", name))
    return found


def check_kernel_name(name: str) -> str:
    """Raise ValueError (one line, listing the choices) for a kernelspec that is not installed."""
    if name == DEFAULT_KERNEL:
        return name
    try:
        LabKernelSpecManager().get_kernel_spec(name)
    except NoSuchKernel:
        choices = ", ".join(available_kernels())
        raise ValueError(f"unknown kernelspec {name!r}; installed: {choices}") from None
    return name


def _parse_expression(name: str, reply: dict) -> object:
    """user_expressions come back as {'status', 'data': {'text/plain': repr}}; literal_eval the repr."""
    if reply.get("status") != "ok":
        raise CellError(reply.get("ename", "Error"), f"reading {name}: {reply.get('evalue', '')}", reply.get("traceback", []))
    text = reply.get("data", {}).get("text/plain", "")
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return text


def _next(get: Callable[..., dict], timeout: float, msg_id: str | None = None) -> dict | None:
    """The next message of a channel (None when there is none in time), or None if it answers another request."""
    try:
        msg = get(timeout=timeout)
    except queue.Empty:
        return None
    return msg if msg_id is None or msg.get("parent_header", {}).get("msg_id") == msg_id else None


class LabKernel:
    """A Jupyter kernel started from a kernelspec, talking over Unix sockets (no TCP port).

    A lock serialises cells. `generation` counts starts and restarts, so callers know when the notebook
    state was wiped. `provisioner` is a kernelspec `kernel_provisioner` stanza (jupyter_client starts the
    process through it); `after_cell(kernel)` runs after every cell.
    """

    def __init__(
        self,
        kernel_name: str = DEFAULT_KERNEL,
        env: dict[str, str] | None = None,
        provisioner: dict[str, object] | None = None,
        after_cell: Callable[[LabKernel], None] | None = None,
    ) -> None:
        self.kernel_name = check_kernel_name(kernel_name)
        self.env = env if env is not None else kernel_environment()
        self.provisioner = provisioner
        self.after_cell = after_cell
        self.generation = 0
        self.cells_run = 0  # in this generation
        self.pristine = False  # started and no cell run since
        self._lock = threading.RLock()
        self._state = "not started"
        self._dir = tempfile.mkdtemp(prefix="repro-k-")
        self._manager: KernelManager | None = None
        self._client = None
        self._log = None

    # -- life cycle -------------------------------------------------------------
    @property
    def state(self) -> str:
        """'not started', 'starting', 'idle', 'busy', 'dead' or 'shut down'."""
        if self._state in ("idle", "busy") and self._manager is not None and not self._manager.is_alive():
            self._state = "dead"
        return self._state

    @property
    def pid(self) -> int | None:
        return getattr(getattr(self._provisioner(), "process", None), "pid", None)

    @property
    def forked(self) -> bool:
        """Was this generation forked from a template (True) or spawned (False)?"""
        return bool(getattr(self._provisioner(), "forked", False))

    def _provisioner(self) -> object:
        return getattr(self._manager, "provisioner", None)

    def start(self) -> LabKernel:
        with self._lock:
            self._state = "starting"
            transport = "ipc" if os.name == "posix" else "tcp"
            connection_file = os.path.join(self._dir, f"kernel-{self.generation}.json")
            self._manager = KernelManager(
                kernel_name=self.kernel_name, kernel_spec_manager=LabKernelSpecManager(), transport=transport, connection_file=connection_file
            )
            if transport == "ipc":
                self._manager.ip = os.path.join(self._dir, f"k{self.generation}")
            if self.provisioner is not None:
                self._manager.kernel_spec.metadata["kernel_provisioner"] = self.provisioner
            try:
                # The kernel's own stderr (TensorFlow's C++ logging) goes to a log file, not our terminal.
                self._log = open(os.path.join(self._dir, "kernel.log"), "ab")  # noqa: SIM115 - closed in _cleanup
                self._manager.start_kernel(env=self.env, stdout=self._log, stderr=self._log)
                self._client = self._manager.client()
                self._client.start_channels()
                self._client.wait_for_ready(timeout=STARTUP_TIMEOUT)
            except Exception as exc:  # any failure to come up is a start error for the caller
                self._state = "dead"
                self._cleanup()
                raise KernelStartError(f"kernel {self.kernel_name!r} did not start: {exc}") from exc
            self.generation += 1
            self.pristine = True
            self.cells_run = 0
            self._state = "idle"
            return self

    def restart(self) -> None:
        """Stop the kernel process (however it is) and start a new one: all notebook state is gone."""
        with self._lock:
            self._cleanup()
            self.start()

    def shutdown(self) -> None:
        with self._lock:
            self._cleanup()
            self._state = "shut down"
            shutil.rmtree(self._dir, ignore_errors=True)

    def _cleanup(self) -> None:
        if self._client is not None:
            self._client.stop_channels()
            self._client = None
        if self._manager is not None:
            with contextlib.suppress(Exception):  # a dead kernel may fail to shut down cleanly; it is gone either way
                if self._manager.has_kernel:
                    self._manager.shutdown_kernel(now=True)
            self._manager = None
        if self._log is not None:
            self._log.close()
            self._log = None

    # -- running cells -------------------------------------------------------------
    def run_cell(
        self, code: str, expressions: dict[str, str] | None = None, timeout: float = 120.0, on_output: Callable[[str], None] | None = None
    ) -> CellResult:
        """Execute `code` as one cell; return its output and the parsed `expressions`.

        Raises CellError if the cell raised, CellTimeout past `timeout` seconds, KernelDied if the process is gone.
        """
        with self._lock:
            if self._manager is None or self._client is None:
                raise KernelDied(f"kernel {self.kernel_name!r} is not running; restart it")
            if not self._manager.is_alive():
                self._state = "dead"
                raise KernelDied(f"kernel {self.kernel_name!r} has died; restart it")
            self._state = "busy"
            self.pristine = False
            started = time.monotonic()
            msg_id = self._client.execute(code, user_expressions=expressions or {}, allow_stdin=False, store_history=True)
            streams: dict[str, list[str]] = {"stdout": [], "stderr": []}
            reply = self._wait(msg_id, started + timeout, streams, on_output)
            seconds = time.monotonic() - started
            self._state = "idle"
            self.cells_run += 1
            if self.after_cell is not None:
                self.after_cell(self)
            stdout, stderr = ("".join(streams[name])[:OUTPUT_LIMIT] for name in ("stdout", "stderr"))
            if reply["status"] != "ok":
                raise CellError(reply.get("ename", "Error"), reply.get("evalue", ""), reply.get("traceback", []), stdout)
            values = {name: _parse_expression(name, item) for name, item in reply.get("user_expressions", {}).items()}
            return CellResult(code=code, stdout=stdout, stderr=stderr, values=values, seconds=seconds)

    def _wait(self, msg_id: str, deadline: float, streams: dict[str, list[str]], on_output) -> dict:
        """Collect iopub output until the execute reply and the idle status have both arrived."""
        reply: dict | None = None
        idle = False
        while reply is None or not idle:
            if time.monotonic() > deadline:
                self._handle_timeout(msg_id)
            msg = _next(self._client.get_iopub_msg, 0.1)
            if msg is not None and msg.get("parent_header", {}).get("msg_id") == msg_id:
                kind, content = msg["msg_type"], msg["content"]
                if kind == "stream":
                    streams["stdout" if content.get("name") == "stdout" else "stderr"].append(content.get("text", ""))
                    if on_output is not None:
                        on_output(content.get("text", ""))
                elif kind == "status" and content.get("execution_state") == "idle":
                    idle = True
            if reply is None and (shell := _next(self._client.get_shell_msg, 0, msg_id)) is not None:
                reply = shell["content"]
            if msg is None and not self._manager.is_alive():
                self._state = "dead"
                raise KernelDied(f"kernel {self.kernel_name!r} died while running a cell (killed or out of memory)")
        return reply

    def _handle_timeout(self, msg_id: str) -> None:
        """Interrupt the cell; if the kernel does not answer within a grace period, restart it."""
        self._manager.interrupt_kernel()
        grace = time.monotonic() + INTERRUPT_GRACE
        while time.monotonic() < grace:
            if _next(self._client.get_shell_msg, 0.2, msg_id) is not None:
                while _next(self._client.get_iopub_msg, 0.2) is not None:
                    pass  # the interrupted cell's last output
                self._state = "idle"
                raise CellTimeout("the cell ran past its time limit and was interrupted; the kernel is still usable", restarted=False)
        self.restart()
        raise CellTimeout("the cell ran past its time limit and did not stop when interrupted; the kernel was restarted", restarted=True)
