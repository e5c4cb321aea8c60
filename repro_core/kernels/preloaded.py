"""The server's side of forked kernels: template processes (fork_template.py, one per kernel environment) and their forks.

Only allow-listed environments fork, and a template runs with exactly that environment, because PYTHONHASHSEED,
TF_USE_LEGACY_KERAS and TF_ENABLE_ONEDNN_OPTS are read at start-up and by `import tensorflow` (and ONEDNN_MAX_CPU_ISA
before oneDNN's first kernel): a kernel with oneDNN off gets a template of its own, or is spawned past MAX_TEMPLATES.
Anything else (e.g. TF_DETERMINISTIC_OPS, read by TensorFlow's C++ side) is spawned.
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
from functools import cache
from pathlib import Path

from repro_core.kernels.environment import PASSED_PREFIXES, PASSED_THROUGH, lab_variables
from repro_core.kernels.fork_template import MESSAGE_BYTES, close_all, send
from repro_core.kernels.proc import child_pids, pss_mb

TEMPLATE_SCRIPT = Path(__file__).with_name("fork_template.py")
READY_TIMEOUT = 180.0  # the template imports TensorFlow, Keras and ipykernel: seconds on a busy 2-core box
FORK_TIMEOUT = 30.0
MAX_TEMPLATES = 2  # each holds ~430 MB; more environments than this are spawned
FORKABLE_NAMES = frozenset(PASSED_THROUGH) | frozenset(lab_variables("tf_keras", 0, "off", "AVX2"))  # every lab variable

EnvKey = tuple[tuple[str, str], ...]


class TemplateError(RuntimeError):
    """A template could not be started or could not fork; the caller spawns the kernel instead."""


def forkable(env: dict[str, str]) -> bool:
    """Is this a lab kernel environment (allow-listed names only), so a template can stand for it?"""
    return all(name in FORKABLE_NAMES or name.startswith(PASSED_PREFIXES) for name in env)


class ForkedProcess:
    """A kernel forked by a template, behind the Popen methods LocalProvisioner drives. The template reaps it and
    sends its exit code on `status`; the pidfd never refers to a stranger that reused the pid."""

    stdin = stdout = stderr = None  # LocalProvisioner.wait closes these when set

    def __init__(self, pid: int, pidfd: int, status: socket.socket) -> None:
        self.pid = pid
        self.pidfd = pidfd
        self.status = status
        self.returncode: int | None = None
        self._lock = threading.RLock()  # poll() runs from any thread; the descriptors are closed exactly once

    def poll(self) -> int | None:
        with self._lock:
            if self.returncode is None and self.pidfd >= 0:
                self.returncode = self._exit_code()
                if self.returncode is not None:
                    self._release()
            return self.returncode

    def _exit_code(self) -> int | None:
        """None while it runs; once it ended, the code its template reports (1 if the template is gone too)."""
        if not select.select([self.pidfd], [], [], 0)[0]:
            return None
        if not select.select([self.status], [], [], 2.0)[0]:  # the template reaps within a select round
            return 1
        with contextlib.suppress(OSError, ValueError, KeyError, TypeError):
            return int(json.loads(self.status.recv(MESSAGE_BYTES))["exit"])
        return 1

    def wait(self, timeout: float | None = None) -> int:
        deadline = None if timeout is None else time.monotonic() + timeout
        while (code := self.poll()) is None:
            if deadline is not None and time.monotonic() > deadline:
                raise subprocess.TimeoutExpired(f"forked kernel {self.pid}", timeout)
            time.sleep(0.05)
        return code

    def send_signal(self, signum: int) -> None:
        with self._lock:
            if self.poll() is not None:
                raise ProcessLookupError(3, "No such process")  # ESRCH, as os.kill raises; LocalProvisioner tolerates it
            signal.pidfd_send_signal(self.pidfd, signum)

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)

    def terminate(self) -> None:
        self.send_signal(signal.SIGTERM)

    def close(self) -> None:
        """Let go of the kernel; one still running is killed first (nothing could reach it afterwards)."""
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
        if self.pidfd >= 0:
            os.close(self.pidfd)
            self.pidfd = -1
        self.status.close()


@dataclass
class PreloadedInterpreter:
    """One template process for one kernel environment; started lazily, restarted if it died."""

    env: dict[str, str]
    process: subprocess.Popen | None = None
    control: socket.socket | None = None
    baseline_pss_mb: float = 0.0  # the template's PSS before it had children (what it costs by itself)
    unsafe: str = ""  # why the template said forking it is not safe: never retried
    last_used: float = field(default_factory=time.monotonic)
    _lock: threading.RLock = field(default_factory=threading.RLock, repr=False)
    _dir: str = field(default_factory=lambda: tempfile.mkdtemp(prefix="repro-template-"), repr=False)

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process is not None else None

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def has_children(self) -> bool:
        """Does a kernel it forked still run? (Stopping the template would end it.)"""
        return self.alive() and bool(child_pids({self.pid}))

    def _start(self) -> None:
        """Start the template and wait until it has imported everything. Lock held."""
        self._stop()
        _stop_templates_at_exit()
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
        ours.settimeout(READY_TIMEOUT)
        try:
            data = ours.recv(MESSAGE_BYTES)
        except OSError as exc:
            self._stop()
            raise TemplateError(f"the template did not come up: {exc}") from exc
        if not data:
            code = self.process.wait(timeout=10)
            self._stop()
            raise TemplateError(f"the template exited with code {code} before it was ready; see {self._dir}/template.log")
        ready = json.loads(data)
        if not ready.get("fork_safe"):
            self.unsafe = str(ready.get("why") or "not fork-safe")
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

    def fork(self, connection_file: str, env: dict[str, str], cwd: str, stdout: int, stderr: int) -> ForkedProcess:
        """A kernel on `connection_file` with `stdout`/`stderr` as its fd 1 and 2; a dead template is restarted once."""
        request = {"connection_file": connection_file, "env": env, "cwd": cwd}
        with self._lock:
            self.last_used = time.monotonic()
            for attempt in (1, 2):
                self.ensure_started()
                try:
                    return self._request(request, [stdout, stderr])
                except (OSError, ValueError) as exc:
                    self._stop()  # broken channel: a dead or wedged template
                    if attempt == 2:
                        raise TemplateError(f"the template could not fork: {exc}") from exc
        raise AssertionError("unreachable")

    def _request(self, request: dict, fds: list[int]) -> ForkedProcess:
        assert self.control is not None
        self.control.settimeout(FORK_TIMEOUT)
        send(self.control, request, fds)
        data, got, _flags, _addr = socket.recv_fds(self.control, MESSAGE_BYTES, 2)
        try:
            if not data:
                raise ConnectionError("the template closed its socket")
            reply = json.loads(data)
            if "error" in reply or len(got) != 2:
                raise TemplateError(f"the template could not fork: {reply.get('error', 'no pidfd came back')}")
        except BaseException:
            close_all(got)
            raise
        pidfd, status_fd = got
        return ForkedProcess(int(reply["pid"]), pidfd, socket.socket(fileno=status_fd))


_templates: dict[EnvKey, PreloadedInterpreter] = {}
_registry_lock = threading.Lock()


def template_for(env: dict[str, str]) -> PreloadedInterpreter | None:
    """The template for this environment (created on first use), or None when it must be spawned. Past MAX_TEMPLATES,
    a new environment replaces the least recently used template without kernels, or is spawned if none is idle."""
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
    """Start the template for `env` in the background, so the first visitor does not wait for its imports."""
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


@cache
def _stop_templates_at_exit() -> None:
    atexit.register(stop_templates)
