"""The server's side of forked kernels: template processes (one per kernel environment) and fork requests.

A template (repro_core/kernels/fork_template.py, run as its own interpreter) imports TensorFlow once;
each kernel is then a fork of it. This module starts templates, restarts one that died, and asks them
to fork. It never imports TensorFlow itself.

Which environments are forked: only those built from the lab's allow-list (kernels/environment.py).
A template is started with exactly that environment, because PYTHONHASHSEED and TF_USE_LEGACY_KERAS
are read when the interpreter starts and when TensorFlow is imported. Anything else (e.g. an audit
kernel's TF_DETERMINISTIC_OPS=1, read by TensorFlow's C++ side) is spawned as before.
"""

from __future__ import annotations

import atexit
import contextlib
import json
import os
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from repro_core.kernels.environment import PASSED_PREFIXES, PASSED_THROUGH, lab_variables

TEMPLATE_SCRIPT = Path(__file__).with_name("fork_template.py")
READY_TIMEOUT = 180.0  # the template imports TensorFlow, Keras and ipykernel: seconds on a busy 2-core box
FORK_TIMEOUT = 30.0
MESSAGE_BYTES = 1 << 20
MAX_TEMPLATES = 2  # each holds ~430 MB; more environments than this are spawned
FORKABLE_NAMES = frozenset(PASSED_THROUGH) | frozenset(lab_variables("tf_keras", 0))

EnvKey = tuple[tuple[str, str], ...]


class TemplateError(RuntimeError):
    """A template could not be started or could not fork; the caller spawns the kernel instead."""


def forkable(env: dict[str, str]) -> bool:
    """Is this a lab kernel environment (allow-listed names only), so a template can stand for it?"""
    return all(name in FORKABLE_NAMES or name.startswith(PASSED_PREFIXES) for name in env)


@dataclass
class ForkedKernel:
    """What the server holds for one forked kernel: its pid, a pidfd, and the socket its exit status arrives on."""

    pid: int
    pidfd: int
    status: socket.socket
    template_pid: int


@dataclass
class PreloadedInterpreter:
    """One template process for one kernel environment; started lazily, restarted if it died."""

    env: dict[str, str]
    process: subprocess.Popen | None = None
    control: socket.socket | None = None
    baseline_pss_mb: float = 0.0  # the template's PSS before it had children (what it costs by itself)
    unsafe: str = ""  # set when the template reported that forking it is not safe: never retried
    starts: int = 0
    last_used: float = field(default_factory=time.monotonic)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _dir: str = field(default_factory=lambda: tempfile.mkdtemp(prefix="repro-template-"), repr=False)

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process is not None else None

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def has_children(self) -> bool:
        """Does any kernel forked by this template still run? (Stopping the template would end them.)"""
        from repro_core.kernels.memory import child_pids

        pid = self.pid
        return pid is not None and self.alive() and bool(child_pids({pid}))

    # -- life cycle ----------------------------------------------------------------------------------
    def _start(self) -> None:
        """Start the template and wait until it has imported everything. Call with the lock held."""
        from repro_core.kernels.memory import pss_mb  # memory reads /proc only; imported late to keep the graph simple

        self._stop()
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        log = open(os.path.join(self._dir, "template.log"), "ab")  # noqa: SIM115 - the child holds it; closed below
        try:
            self.process = subprocess.Popen(
                [sys.executable, str(TEMPLATE_SCRIPT), "--control-fd", str(theirs.fileno())],
                env=self.env,  # exactly the kernels' environment, never the server's
                stdin=subprocess.DEVNULL, stdout=log, stderr=log, pass_fds=(theirs.fileno(),),
                start_new_session=True,  # a Ctrl-C at the server's terminal is not the template's business
            )  # fmt: skip
        finally:
            theirs.close()
            log.close()
        self.control = ours
        self.starts += 1
        ours.settimeout(READY_TIMEOUT)
        try:
            data, _fds, _flags, _addr = socket.recv_fds(ours, MESSAGE_BYTES, 0)
        except OSError as exc:
            self._stop()
            raise TemplateError(f"the template did not come up: {exc}") from exc
        if not data:
            code = self.process.wait(timeout=10)
            self._stop()
            raise TemplateError(f"the template exited with code {code} before it was ready; see {self._dir}/template.log")
        ready = json.loads(data)
        if not ready.get("fork_safe"):
            self.unsafe = str(ready.get("why", "not fork-safe"))
            self._stop()
            raise TemplateError(f"the template refuses to fork: {self.unsafe}")
        with contextlib.suppress(OSError):
            self.baseline_pss_mb = pss_mb(self.process.pid)

    def _stop(self) -> None:
        if self.control is not None:
            self.control.close()  # the template exits when this closes; its kernels follow (PR_SET_PDEATHSIG)
            self.control = None
        process, self.process = self.process, None
        if process is not None and process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=5)

    def stop(self) -> None:
        with self._lock:
            self._stop()
        shutil.rmtree(self._dir, ignore_errors=True)

    def ensure_started(self) -> None:
        with self._lock:
            if self.unsafe:
                raise TemplateError(f"the template refuses to fork: {self.unsafe}")
            if not self.alive():
                self._start()

    # -- forking -------------------------------------------------------------------------------------
    def fork(self, connection_file: str, env: dict[str, str], cwd: str, stdout: int, stderr: int) -> ForkedKernel:
        """Ask the template for a kernel on `connection_file` (stdout/stderr: descriptors it gets as fd 1 and 2).

        Restarts the template once if it has died.
        """
        request = json.dumps({"connection_file": connection_file, "env": env, "cwd": cwd}).encode()
        fds = [stdout, stderr]
        with self._lock:
            if self.unsafe:
                raise TemplateError(f"the template refuses to fork: {self.unsafe}")
            self.last_used = time.monotonic()
            for attempt in (1, 2):
                if not self.alive():
                    self._start()
                try:
                    return self._request(request, fds)
                except (OSError, ValueError) as exc:
                    self._stop()  # broken channel: a dead or wedged template
                    if attempt == 2:
                        raise TemplateError(f"the template could not fork: {exc}") from exc
        raise AssertionError("unreachable")

    def _request(self, request: bytes, fds: list[int]) -> ForkedKernel:
        assert self.control is not None and self.process is not None
        self.control.settimeout(FORK_TIMEOUT)
        socket.send_fds(self.control, [request], fds)
        data, got, _flags, _addr = socket.recv_fds(self.control, MESSAGE_BYTES, 2)
        if not data:
            for fd in got:
                os.close(fd)
            raise ConnectionError("the template closed its socket")
        reply = json.loads(data)
        if "error" in reply or len(got) != 2:
            for fd in got:
                os.close(fd)
            raise TemplateError(f"the template could not fork: {reply.get('error', 'no pidfd came back')}")
        pidfd, status_fd = got
        return ForkedKernel(int(reply["pid"]), pidfd, socket.socket(fileno=status_fd), self.process.pid)


def exit_status(kernel: ForkedKernel, wait: float = 0.0) -> int | None:
    """The kernel's exit code once its template has reaped it, None while it runs.

    The pidfd becomes readable when the process ends; its template then reaps it and sends the code.
    When the template itself is gone, nobody can tell the code: report 1 (it is dead either way).
    """
    readable, _, _ = select.select([kernel.pidfd], [], [], wait)
    if not readable:
        return None
    deadline = time.monotonic() + 2.0  # the template reaps within a select round
    while True:
        readable, _, _ = select.select([kernel.status], [], [], max(0.0, deadline - time.monotonic()))
        if not readable:
            return 1
        try:
            data = kernel.status.recv(MESSAGE_BYTES)
        except OSError:
            return 1
        if not data:
            return 1
        with contextlib.suppress(ValueError, KeyError, TypeError):
            return int(json.loads(data)["exit"])


# -- the registry: one template per kernel environment ----------------------------------------------------
_templates: dict[EnvKey, PreloadedInterpreter] = {}
_registry_lock = threading.Lock()


def template_for(env: dict[str, str]) -> PreloadedInterpreter | None:
    """The template for this environment (created on first use), or None when it must be spawned.

    At most MAX_TEMPLATES exist; a new environment replaces the least recently used template that has no
    kernels left, or is spawned when every template still has kernels.
    """
    if not forkable(env):
        return None
    key: EnvKey = tuple(sorted(env.items()))
    retired: PreloadedInterpreter | None = None
    with _registry_lock:
        template = _templates.get(key)
        if template is None:
            if len(_templates) >= MAX_TEMPLATES:
                idle = sorted((t.last_used, k) for k, t in _templates.items() if not t.has_children())
                if not idle:
                    return None
                retired = _templates.pop(idle[0][1])
            template = _templates[key] = PreloadedInterpreter(dict(env))
    if retired is not None:
        retired.stop()
    return None if template.unsafe else template


def prestart(env: dict[str, str]) -> None:
    """Start the template for `env` in the background (e.g. when the server starts), so the first visitor does not wait."""
    template = template_for(env)

    def start() -> None:
        with contextlib.suppress(TemplateError):
            template.ensure_started()

    if template is not None:
        threading.Thread(target=start, daemon=True, name="repro-template-start").start()


def live_templates() -> list[PreloadedInterpreter]:
    with _registry_lock:
        return [template for template in _templates.values() if template.alive()]


def stop_templates() -> None:
    """Stop every template (their kernels go with them); the registry stays usable."""
    with _registry_lock:
        templates = list(_templates.values())
        _templates.clear()
    for template in templates:
        template.stop()


atexit.register(stop_templates)
