"""The template process: a Python that has imported TensorFlow, Keras and ipykernel, and forks kernels.

Run by the server (preloaded.py) as `python fork_template.py --control-fd N` with the kernels' environment; it never
runs a visitor's cell, and imports only the standard library at module level. TensorFlow is not fork-safe once ops
have run or devices have been listed, so it refuses to fork if its imports made an eager context. It stays
single-threaded in Python (a select loop): the native threads the imports leave (OpenBLAS, jemalloc) are idle and
have their own at-fork handlers; each child starts ipykernel's threads and zmq context itself.

Protocol, over a SOCK_SEQPACKET socket pair (JSON messages, file descriptors passed with SCM_RIGHTS):
  template -> server  {"ready": true, "pid", "fork_safe", "why"}            once, after the imports
  server -> template  {"connection_file", "env", "cwd"} + [stdout, stderr]   one per kernel
  template -> server  {"pid"} + [pidfd, status socket]  or  {"error"}
  template -> status  {"exit": returncode}                                   once it reaped that kernel
It exits when the control socket closes or its parent changes; each kernel has PR_SET_PDEATHSIG.
"""

from __future__ import annotations

import argparse
import atexit
import contextlib
import ctypes
import gc
import importlib
import json
import os
import random
import selectors
import signal
import socket
import sys
import traceback
import warnings

MESSAGE_BYTES = 1 << 20  # a request carries the kernel's environment; far below this
PR_SET_PDEATHSIG = 1
WATCH_SECONDS = 1.0  # how often the template checks that its parent is still the server
# Imported by a kernel while it starts (found by diffing sys.modules of a forked kernel and the template):
# the debugger (debugpy, pydevd), the history database, tornado's asyncio glue. Importing starts no thread.
KERNEL_START_MODULES = ("ipykernel.debugger", "sqlite3", "tornado.platform.asyncio", "tornado.queues", "IPython.core.debugger",
                        "IPython.core.completerlib", "IPython.core.oinspect", "IPython.core.logger", "IPython.extensions.storemagic")  # fmt: skip


def send(sock: socket.socket, message: dict, fds: list[int]) -> None:
    socket.send_fds(sock, [json.dumps(message).encode()], fds)


def close_all(fds: list[int]) -> None:
    for fd in fds:
        os.close(fd)


def preload() -> tuple[bool, str]:
    """Import what every kernel imports, run nothing; say whether forking is still safe afterwards."""
    import numpy  # noqa: F401
    import tensorflow as tf  # noqa: F401
    from tensorflow import keras  # Keras 3, or tf_keras when TF_USE_LEGACY_KERAS=1 (read here, once)

    # Attribute access makes the lazy loaders import these modules now, so children share them.
    for name in ("Sequential", "layers", "optimizers", "utils", "losses", "metrics", "callbacks"):
        getattr(keras, name)
    keras.layers.Dense, keras.optimizers.Adam, keras.utils.set_random_seed  # noqa: B018
    import ipykernel.ipkernel  # noqa: F401  (the kernel, its shell and IPython)
    import ipykernel.zmqshell  # noqa: F401
    from ipykernel.kernelapp import IPKernelApp  # noqa: F401

    for name in KERNEL_START_MODULES:  # what IPKernelApp.initialize would import in every child (~0.1 s)
        importlib.import_module(name)
    from tensorflow.python.eager import context

    if context._context is not None:  # an op ran or a device list was read: the runtime now has threads and state
        return False, "TensorFlow created its eager context while importing; forking it is not safe"
    return True, "no TensorFlow op has run in the template"


class Template:
    """The select loop: fork on request, reap children, exit when the server goes."""

    def __init__(self, control: socket.socket, base_path: list[str]) -> None:
        self.control = control
        self.base_path = base_path
        self.pid = os.getpid()
        self.parent = os.getppid()
        self.selector = selectors.DefaultSelector()
        self.selector.register(control, selectors.EVENT_READ, self._on_request)
        self.children: dict[int, tuple[int, socket.socket]] = {}  # pid -> (pidfd, our end of its status socket)

    def serve(self) -> None:
        while os.getppid() == self.parent:  # else the server died and its socket somehow stayed open
            for key, _ in self.selector.select(timeout=WATCH_SECONDS):
                if key.data() is False:
                    return

    def _on_request(self) -> bool:
        try:
            data, fds, _flags, _addr = socket.recv_fds(self.control, MESSAGE_BYTES, 4)
        except OSError:
            return False
        if not data:  # the server closed its end: it is gone or shutting down
            return False
        try:
            reply, reply_fds = self._fork(json.loads(data), fds)
        except Exception as exc:  # noqa: BLE001 - any failure goes back to the server as a message
            reply, reply_fds = {"error": f"{type(exc).__name__}: {exc}"}, []
        finally:
            close_all(fds)
        try:
            send(self.control, reply, reply_fds)
        except OSError:
            return False
        finally:
            close_all(reply_fds)
        return True

    def _fork(self, request: dict, fds: list[int]) -> tuple[dict, list[int]]:
        status_ours, status_theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        sys.stdout.flush()
        sys.stderr.flush()
        gc.freeze()  # objects made so far live in a permanent generation: a child's GC never writes to their pages
        with warnings.catch_warnings():
            # Python 3.12+ warns when a process with threads forks; ours are the idle native ones described above.
            warnings.simplefilter("ignore", DeprecationWarning)
            pid = os.fork()
        if pid == 0:  # the child: never returns into this loop
            code = 1
            try:
                status_ours.close()
                status_theirs.close()
                code = become_kernel(request, fds, self)
            except BaseException:  # noqa: BLE001 - report on the kernel's own stderr, then leave
                traceback.print_exc()
            finally:
                _leave(code)
        pidfd = os.pidfd_open(pid)
        self.children[pid] = (pidfd, status_ours)
        self.selector.register(pidfd, selectors.EVENT_READ, lambda: self._reap(pid))
        return {"pid": pid}, [os.dup(pidfd), status_theirs.detach()]

    def _reap(self, pid: int) -> bool:
        pidfd, status = self.children.pop(pid)
        self.selector.unregister(pidfd)
        os.close(pidfd)
        _, wait_status = os.waitpid(pid, 0)
        with contextlib.suppress(OSError):  # the server may already have let go of this kernel
            send(status, {"exit": os.waitstatus_to_exitcode(wait_status)}, [])
        status.close()
        return True

    def close_in_child(self) -> None:
        """In a child: close what the template holds for its own work (its socket, its other kernels' handles)."""
        self.selector.close()
        self.control.close()
        for pidfd, status in self.children.values():
            os.close(pidfd)
            status.close()
        self.children.clear()


def become_kernel(request: dict, fds: list[int], template: Template) -> int:
    """In the child: do what a freshly started interpreter would, then run ipykernel on the connection file."""
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) != 0:  # die with the thread that forked us
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_PDEATHSIG) failed")
    if os.getppid() != template.pid:
        return 1  # the template died between fork and prctl
    os.setsid()  # its own process group, like a spawned kernel: interrupts reach the kernel and its subprocesses
    template.close_in_child()
    fds = [os.open(os.devnull, os.O_RDONLY), *fds]  # stdin, then the server's stdout and stderr
    for target, fd in enumerate(fds):
        os.dup2(fd, target)
    close_all(fds)
    for signum in (signal.SIGTERM, signal.SIGHUP, signal.SIGCHLD, signal.SIGUSR1, signal.SIGUSR2):
        signal.signal(signum, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.default_int_handler)

    os.chdir(request["cwd"])
    # Exactly the kernel's environment: what the template's imports set (TF2_BEHAVIOR, PYDEVD_USE_FRAME_EVAL, ...)
    # was read by those modules while importing, so dropping it loses nothing.
    os.environ.clear()
    os.environ.update(request["env"])
    sys.path[:] = template.base_path
    import ipykernel
    import numpy

    sys.argv = [os.path.join(os.path.dirname(os.path.dirname(ipykernel.__file__)), "ipykernel_launcher.py"), "-f", request["connection_file"]]
    gc.enable()
    random.seed()  # from os.urandom, as a new interpreter seeds itself
    numpy.random.seed()  # likewise from the OS
    from ipykernel.kernelapp import IPKernelApp

    app = IPKernelApp.instance(parent_handle=os.getppid())  # ipykernel's parent poller watches the template
    app.initialize(["-f", request["connection_file"]])
    app.start()
    return 0


def _leave(code: int) -> None:
    """End a child the way an interpreter ends (exit handlers, flushed streams) without unwinding into the template."""
    try:
        atexit._run_exitfuncs()
        sys.stdout.flush()
        sys.stderr.flush()
    finally:
        os._exit(code)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--control-fd", type=int, required=True)
    args = parser.parse_args(argv)
    gc.disable()  # no collections while importing: fewer freed holes in pages the children will share
    script_dir = os.path.dirname(os.path.abspath(__file__))
    base_path = [entry for entry in sys.path if os.path.abspath(entry or ".") != script_dir]
    sys.path[:] = base_path  # the kernels directory is not on a kernel's path
    control = socket.socket(fileno=args.control_fd)
    try:
        fork_safe, why = preload()
    except Exception as exc:  # noqa: BLE001 - tell the server why, then stop
        fork_safe, why = False, f"importing failed: {type(exc).__name__}: {exc}"
    send(control, {"ready": True, "pid": os.getpid(), "fork_safe": fork_safe, "why": why}, [])
    if not fork_safe:
        return 1
    Template(control, base_path).serve()
    return 0


if __name__ == "__main__":
    sys.exit(main())
