"""One real Jupyter kernel with timeouts and death detection: TensorFlow's and Python's random state are
process-wide, so each visitor trains in a process of its own, and "restart the kernel" is literal."""

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

from repro_core.kernels.connection import KernelConnection
from repro_core.kernels.environment import kernel_environment
from repro_core.validation import Refusal
from repro_core.vocabulary import DEFAULT_KERNEL

STARTUP_TIMEOUT = 60.0
INTERRUPT_GRACE = 5.0
OUTPUT_LIMIT = 100_000  # characters of stdout/stderr kept per cell
AfterCell = Callable[["LabKernel"], None]


class KernelError(RuntimeError):
    """Base class for everything that goes wrong with a kernel."""


class KernelDied(KernelError):
    """The kernel process exited (killed, out of memory, crashed) while we needed it."""


class KernelStartError(KernelError):
    """The kernel could not be started or did not answer in time."""


class KernelsFull(KernelStartError):
    """The service that starts kernels is at its limit (a gateway's 403): the pool queues the visitor and tries again."""


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
        argv = [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"]
        name = f"Python {sys.version.split()[0]} (this interpreter)"
        return KernelSpec(argv=argv, display_name=name, language="python", interrupt_mode="signal", metadata={"debugger": False})

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
    """Raise a Refusal (one line, listing the choices) for a kernelspec that is not installed."""
    try:
        LabKernelSpecManager().get_kernel_spec(name)
    except NoSuchKernel:
        raise Refusal(f"unknown kernelspec {name!r}; installed: {', '.join(available_kernels())}") from None
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


def _next(get: Callable[[float], dict], timeout: float, msg_id: str) -> dict | None:
    """The channel's next message if it answers `msg_id`; None when none came in time or it answers another request."""
    try:
        msg = get(timeout)
    except queue.Empty:
        return None
    return msg if msg.get("parent_header", {}).get("msg_id") == msg_id else None


class LocalConnection(KernelConnection):
    """A kernel process on this machine, started by jupyter_client from a kernelspec, over Unix sockets (no TCP port).
    `provisioner`: a kernelspec `kernel_provisioner` stanza to start it through (e.g. the fork provisioner)."""

    def __init__(self, kernel_name: str, env: dict[str, str], provisioner: dict[str, object] | None = None) -> None:
        self.kernel_name = check_kernel_name(kernel_name)
        self.env = env
        self.provisioner = provisioner
        self._dir = tempfile.mkdtemp(prefix="repro-k-")
        self._starts = 0
        self._manager: KernelManager | None = None
        self._client = None
        self._log = None

    def _process_provisioner(self) -> object:
        return getattr(self._manager, "provisioner", None)

    @property
    def pid(self) -> int | None:  # type: ignore[override]
        return getattr(getattr(self._process_provisioner(), "process", None), "pid", None)

    @property
    def forked(self) -> bool:  # type: ignore[override]
        return bool(getattr(self._process_provisioner(), "forked", False))

    def start(self) -> None:
        transport = "ipc" if os.name == "posix" else "tcp"
        connection_file = os.path.join(self._dir, f"kernel-{self._starts}.json")
        self._manager = KernelManager(
            kernel_name=self.kernel_name, kernel_spec_manager=LabKernelSpecManager(), transport=transport, connection_file=connection_file
        )
        if transport == "ipc":
            self._manager.ip = os.path.join(self._dir, f"k{self._starts}")
        self._starts += 1
        if self.provisioner is not None:
            self._manager.kernel_spec.metadata["kernel_provisioner"] = self.provisioner
        self._log = open(os.path.join(self._dir, "kernel.log"), "ab")  # noqa: SIM115 - closed in stop; keeps TF's C++ logs off our terminal
        self._manager.start_kernel(env=self.env, stdout=self._log, stderr=self._log)
        self._client = self._manager.client()
        self._client.start_channels()
        self._client.wait_for_ready(timeout=STARTUP_TIMEOUT)

    def restart(self) -> None:
        self.stop()
        self.start()

    def stop(self) -> None:
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

    def discard(self) -> None:
        self.stop()
        shutil.rmtree(self._dir, ignore_errors=True)

    def is_alive(self) -> bool:
        return self._manager is not None and self._manager.is_alive()

    def interrupt(self) -> None:
        if self._manager is not None:
            self._manager.interrupt_kernel()

    def execute(self, code: str, user_expressions: dict[str, str]) -> str:
        return self._client.execute(code, user_expressions=user_expressions, allow_stdin=False, store_history=True)

    def get_iopub_msg(self, timeout: float) -> dict:
        return self._client.get_iopub_msg(timeout=timeout)

    def get_shell_msg(self, timeout: float) -> dict:
        return self._client.get_shell_msg(timeout=timeout)


class LabKernel:
    """One kernel, wherever it runs (`connection`; by default a process here from `kernel_name`'s kernelspec). A lock
    serialises cells, and `generation` counts (re)starts so callers know when notebook state was wiped."""

    def __init__(
        self,
        kernel_name: str = DEFAULT_KERNEL,
        env: dict[str, str] | None = None,
        provisioner: dict[str, object] | None = None,
        after_cell: AfterCell | None = None,
        connection: KernelConnection | None = None,
    ) -> None:
        self.kernel_name = kernel_name
        self.after_cell = after_cell
        env = env if env is not None else kernel_environment()
        self._connection = connection if connection is not None else LocalConnection(kernel_name, env, provisioner)
        self.generation = 0
        self.cells_run = 0  # in this generation
        self.pristine = False  # started and no cell run since
        self._lock = threading.RLock()
        self._state = "not started"
        self._open = False  # started, and not stopped since

    @property
    def env(self) -> dict[str, str]:
        """What the kernel's process starts with (at its next start)."""
        return self._connection.env

    @env.setter
    def env(self, env: dict[str, str]) -> None:
        self._connection.env = env

    @property
    def state(self) -> str:
        """'not started', 'starting', 'idle', 'busy', 'dead' or 'shut down'."""
        if self._state in ("idle", "busy") and not self._connection.is_alive():
            self._state = "dead"
        return self._state

    @property
    def pid(self) -> int | None:
        """The process id of a kernel on this machine (None for a gateway's)."""
        return self._connection.pid

    @property
    def forked(self) -> bool:
        """Was this generation forked from a template (True) or spawned (False)?"""
        return self._connection.forked

    def start(self) -> LabKernel:
        self._come_up(self._connection.start)
        return self

    def restart(self) -> None:
        """Stop the kernel process (however it is) and start a new one: all notebook state is gone."""
        self._come_up(self._connection.restart)

    def _come_up(self, action: Callable[[], None]) -> None:
        with self._lock:
            self._state = "starting"
            try:
                action()
            except Exception as exc:  # any failure to come up is a start error for the caller
                self._state = "dead"
                self._open = False
                self._connection.stop()
                if isinstance(exc, KernelStartError):
                    raise
                raise KernelStartError(f"kernel {self.kernel_name!r} did not start: {exc}") from exc
            self._open = True
            self.generation += 1
            self.pristine = True
            self.cells_run = 0
            self._state = "idle"

    def shutdown(self) -> None:
        with self._lock:
            self._open = False
            self._connection.discard()
            self._state = "shut down"

    def run_cell(self, code: str, expressions: dict[str, str] | None = None, timeout: float = 120.0) -> CellResult:
        """Run `code` as one cell, with the parsed `expressions`; CellError if it raised, CellTimeout past `timeout` s."""
        with self._lock:
            if not self._open:
                raise KernelDied(f"kernel {self.kernel_name!r} is not running; restart it")
            if not self._connection.is_alive():
                self._state = "dead"
                raise KernelDied(f"kernel {self.kernel_name!r} has died; restart it")
            self._state = "busy"
            self.pristine = False
            started = time.monotonic()
            msg_id = self._connection.execute(code, expressions or {})
            streams: dict[str, list[str]] = {"stdout": [], "stderr": []}
            reply = self._collect(msg_id, started + timeout, streams)
            if reply is None:
                self._handle_timeout(msg_id, streams)
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

    def _collect(self, msg_id: str, deadline: float, streams: dict[str, list[str]]) -> dict | None:
        """The execute reply once it and the idle status are in, gathering output; None at `deadline`."""
        reply: dict | None = None
        idle = False
        while reply is None or not idle:
            if time.monotonic() > deadline:
                return None
            # Wait on IOPub until its idle status, then on the shell channel (the reply may come after the status).
            msg = None if idle else _next(self._connection.get_iopub_msg, 0.1, msg_id)
            if msg is None and not self._connection.is_alive():
                self._state = "dead"
                raise KernelDied(f"kernel {self.kernel_name!r} died while running a cell (killed or out of memory)")
            content = {} if msg is None else msg["content"]
            if msg is not None and msg["msg_type"] == "stream":
                kept = streams["stdout" if content.get("name") == "stdout" else "stderr"]
                if sum(map(len, kept)) < OUTPUT_LIMIT:  # a cell printing megabytes keeps only what is shown
                    kept.append(content.get("text", ""))
            elif msg is not None and msg["msg_type"] == "status" and content.get("execution_state") == "idle":
                idle = True
            if reply is None and (shell := _next(self._connection.get_shell_msg, 0.1 if idle else 0, msg_id)) is not None:
                reply = shell["content"]
        return reply

    def _handle_timeout(self, msg_id: str, streams: dict[str, list[str]]) -> None:
        """Interrupt the cell; restart the kernel if it has not answered (or has died) within INTERRUPT_GRACE."""
        self._connection.interrupt()
        with contextlib.suppress(KernelDied):
            if self._collect(msg_id, time.monotonic() + INTERRUPT_GRACE, streams) is not None:
                self._state = "idle"
                raise CellTimeout("the cell ran past its time limit and was interrupted; the kernel is still usable", restarted=False)
        self.restart()
        raise CellTimeout("the cell ran past its time limit and did not stop when interrupted; the kernel was restarted", restarted=True)
