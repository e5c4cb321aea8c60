"""Kernels leased from a Jupyter Enterprise Gateway (REPRO_GATEWAY_URL, REPRO_GATEWAY_TOKEN), so several lab servers
can share kernels that run on other machines. The gateway's REST API starts, interrupts, restarts and deletes a kernel;
its websocket carries the kernel's messages as JSON. No Jupyter client library fit as it is (auth header, `env`,
`user_expressions`, a kill noticed at once), so this is a small synchronous client on `requests` and `websocket-client`.

Two things the gateway does that a local kernel does not: after a restart the old websocket goes silent (we reconnect
every time), and its socket does not set TCP_NODELAY, so a small reply may wait for our delayed ACK; re-arming
TCP_QUICKACK after every frame we read avoids that (measured: 68 -> 46 ms per trivial cell). Most of the rest is EG's
own loop, held up by its response-socket polling: a deployment sets EG_SOCKET_TIMEOUT low (docs/hosting.md)."""

from __future__ import annotations

import contextlib
import json
import os
import queue
import re
import socket
import threading
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timezone

import requests
import websocket

from repro_core.kernels.connection import KernelConnection
from repro_core.kernels.environment import KernelKind, variables_of
from repro_core.kernels.kernel import STARTUP_TIMEOUT, KernelsFull, KernelStartError, LabKernel
from repro_core.kernels.provider import KernelProvider
from repro_core.validation import Refusal
from repro_core.vocabulary import DEFAULT_KERNEL

GATEWAY_KERNELSPEC = "python_distributed"  # Enterprise Gateway's kernelspec for kernels launched on other hosts
LAUNCH_TIMEOUT = 180.0  # POST /api/kernels answers once the remote kernel has started (EG_KERNEL_LAUNCH_TIMEOUT)
REQUEST_TIMEOUT = 30.0  # every other REST call
READY_POLL = 1.0  # a kernel_info_request is re-sent this often until one is answered
PROTOCOL_VERSION = "5.3"
DEFAULT_USER = "repro-lab"
_QUICKACK = getattr(socket, "TCP_QUICKACK", None)  # Linux only; elsewhere the Nagle delay stays


@dataclass(frozen=True)
class GatewaySettings:
    """Where the gateway is, the token it wants (`Authorization: token …`) and the kernelspec the lab's default
    kernel is leased as (REPRO_GATEWAY_KERNEL; the gateway's image must hold the lab's TensorFlow stack)."""

    url: str
    token: str = ""
    kernelspec: str = GATEWAY_KERNELSPEC

    @property
    def ws_url(self) -> str:
        return "ws" + self.url.removeprefix("http")

    @property
    def headers(self) -> dict[str, str]:
        """EG reads only `Authorization: token …` (a `Bearer` token gets 401)."""
        return {"Authorization": f"token {self.token}"} if self.token else {}


def gateway_from_environment(environ: Mapping[str, str] | None = None) -> GatewaySettings | None:
    """The gateway named by REPRO_GATEWAY_URL, or None when it is unset (kernels then run on this machine)."""
    environ = os.environ if environ is None else environ
    url = environ.get("REPRO_GATEWAY_URL", "").strip().rstrip("/")
    if not url:
        return None
    if not re.fullmatch(r"https?://[^\s/]+(/\S*)?", url):
        raise Refusal(f"REPRO_GATEWAY_URL must be an http:// or https:// address, not {url!r}")
    kernelspec = environ.get("REPRO_GATEWAY_KERNEL", "").strip() or GATEWAY_KERNELSPEC
    return GatewaySettings(url, environ.get("REPRO_GATEWAY_TOKEN", "").strip(), kernelspec)


def gateway_user(owner: str) -> str:
    """KERNEL_USERNAME for a session. On Kubernetes EG names each kernel's pod and namespace `<user>-<kernel id>`
    (36 characters), which must be a DNS label of at most 63: so lower-case letters, digits and '-' only, and at most
    18 characters (`repro-` and the start of the session id, enough to tell sessions apart in the gateway's logs)."""
    cleaned = re.sub(r"[^a-z0-9-]", "", owner.lower())[:12].strip("-")
    return f"repro-{cleaned}" if cleaned else DEFAULT_USER


def start_request(kernelspec: str, env: Mapping[str, str], username: str) -> dict:
    """The body of POST /api/kernels: the kernelspec, and as `env` only what the lab sets plus the session's user (the
    gateway adds its own allow-list, EG_INHERITED_ENVS, and drops names not in its EG_CLIENT_ENVS)."""
    return {"name": kernelspec, "env": {**env, "KERNEL_USERNAME": username}}


def _reason(response: requests.Response) -> str:
    """The gateway's own words for a refusal (its JSON `message` or `reason`), else the start of the body."""
    try:
        body = response.json()
    except ValueError:
        return response.text[:300].strip() or response.reason
    return str(body.get("message") or body.get("reason") or body)[:300] if isinstance(body, dict) else str(body)[:300]


class GatewayConnection(KernelConnection):
    """One kernel on the gateway: started with the lab's variables as `env` and KERNEL_USERNAME; messages read by a
    background thread into shell and IOPub queues. A `restarting` or `dead` status, or the socket closing under us,
    marks the kernel dead (the gateway restarts a killed kernel by itself, but its notebook state is gone)."""

    def __init__(self, settings: GatewaySettings, kernelspec: str, env: dict[str, str], username: str = DEFAULT_USER) -> None:
        self.settings = settings
        self.kernelspec = kernelspec
        self.env = env
        self.username = username
        self.kernel_id: str | None = None
        self._http = requests.Session()
        self._http.headers.update(settings.headers)
        self._ws: websocket.WebSocket | None = None
        self._session = ""
        self._shell: queue.Queue[dict] = queue.Queue()
        self._iopub: queue.Queue[dict] = queue.Queue()
        self._dead = True

    # -- REST ------------------------------------------------------------------------------------------------
    def _call(self, method: str, path: str, timeout: float, **kwargs: object) -> requests.Response:
        try:
            return self._http.request(method, f"{self.settings.url}{path}", timeout=timeout, **kwargs)
        except requests.RequestException as exc:
            raise KernelStartError(f"the kernel gateway at {self.settings.url} did not answer ({type(exc).__name__}); is it running?") from exc

    def _check(self, response: requests.Response, doing: str) -> dict:
        if response.ok:
            return response.json() if response.content else {}
        if response.status_code == 401:
            raise KernelStartError("the kernel gateway refused the lab's token (REPRO_GATEWAY_TOKEN)")
        reason = _reason(response)
        if response.status_code == 403 and "limit" in reason.lower():
            raise KernelsFull(f"the kernel gateway has no room for another kernel: {reason}")
        raise KernelStartError(f"the kernel gateway could not {doing} (HTTP {response.status_code}): {reason}")

    def start(self) -> None:
        body = start_request(self.kernelspec, self.env, self.username)
        self.kernel_id = self._check(self._call("POST", "/api/kernels", LAUNCH_TIMEOUT, json=body), "start a kernel")["id"]
        self._connect()

    def restart(self) -> None:
        if self.kernel_id is None:
            self.start()
            return
        self._disconnect()
        response = self._call("POST", f"/api/kernels/{self.kernel_id}/restart", LAUNCH_TIMEOUT)
        if response.status_code == 404:  # culled by the gateway meanwhile: lease a new one
            self.kernel_id = None
            self.start()
            return
        self._check(response, "restart the kernel")
        self._connect()

    def interrupt(self) -> None:
        if self.kernel_id is not None:
            with contextlib.suppress(KernelStartError):  # an interrupt that does not arrive ends in a restart
                self._call("POST", f"/api/kernels/{self.kernel_id}/interrupt", REQUEST_TIMEOUT)

    def stop(self) -> None:
        self._disconnect()
        kernel_id, self.kernel_id = self.kernel_id, None
        if kernel_id is not None:
            with contextlib.suppress(KernelStartError):  # gone already, or the gateway is: nothing left to free here
                self._call("DELETE", f"/api/kernels/{kernel_id}", REQUEST_TIMEOUT)

    def discard(self) -> None:
        self.stop()
        self._http.close()

    def is_alive(self) -> bool:
        return not self._dead and self._ws is not None

    # -- websocket -------------------------------------------------------------------------------------------
    def _connect(self) -> None:
        """Open a websocket on the kernel's channels (a new session each time) and wait until it answers."""
        self._session = uuid.uuid4().hex
        url = f"{self.settings.ws_url}/api/kernels/{self.kernel_id}/channels?session_id={self._session}"
        header = [f"{name}: {value}" for name, value in self.settings.headers.items()]
        self._shell, self._iopub = queue.Queue(), queue.Queue()
        try:
            ws = websocket.create_connection(url, header=header, timeout=REQUEST_TIMEOUT)
        except (OSError, websocket.WebSocketException) as exc:
            raise KernelStartError(f"could not open the kernel's channels at the gateway: {exc}") from exc
        ws.settimeout(None)  # the reader blocks; closing the socket ends it
        self._ws, self._dead = ws, False
        threading.Thread(target=self._read, args=(ws, self._shell, self._iopub), name="gateway-kernel-reader", daemon=True).start()
        self._wait_ready()

    def _disconnect(self) -> None:
        ws, self._ws, self._dead = self._ws, None, True
        if ws is not None:
            with contextlib.suppress(Exception):
                ws.close(timeout=1)

    def _read(self, ws: websocket.WebSocket, shell: queue.Queue[dict], iopub: queue.Queue[dict]) -> None:
        """Route every frame of `ws` to its queue until the socket closes; a death (or a close we did not ask for)
        marks the kernel dead. Binary frames carry buffers the lab never sends or reads."""
        try:
            while True:
                frame = ws.recv()
                if _QUICKACK is not None:
                    with contextlib.suppress(OSError):
                        ws.sock.setsockopt(socket.IPPROTO_TCP, _QUICKACK, 1)
                if not isinstance(frame, str):
                    continue
                msg = json.loads(frame)
                msg.setdefault("msg_type", msg.get("header", {}).get("msg_type", ""))
                if msg.get("channel") == "shell":
                    shell.put(msg)
                elif msg.get("channel") == "iopub":
                    if msg["msg_type"] == "status" and msg.get("content", {}).get("execution_state") in ("restarting", "dead"):
                        break
                    iopub.put(msg)
        except Exception:  # noqa: BLE001 - whatever ends the socket (closed by us or under us) ends the reader, quietly
            pass
        if self._ws is ws:
            self._dead = True

    def _send(self, msg_type: str, content: dict) -> str:
        msg_id = uuid.uuid4().hex
        header = {"msg_id": msg_id, "msg_type": msg_type, "username": self.username, "session": self._session,
                  "version": PROTOCOL_VERSION, "date": datetime.now(timezone.utc).isoformat()}  # fmt: skip
        msg = {"header": header, "parent_header": {}, "metadata": {}, "content": content, "channel": "shell", "buffers": []}
        ws = self._ws
        if ws is None:
            raise KernelStartError("the kernel's channels are closed")
        try:
            ws.send(json.dumps(msg))
        except (OSError, websocket.WebSocketException) as exc:
            self._dead = True
            raise KernelStartError(f"could not send to the kernel through the gateway: {exc}") from exc
        return msg_id

    def _wait_ready(self) -> None:
        """Ask kernel_info until answered: a fresh websocket may miss a request sent before the kernel's channels are up."""
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while time.monotonic() < deadline:
            msg_id = self._send("kernel_info_request", {})
            resend = time.monotonic() + READY_POLL
            while (now := time.monotonic()) < resend:
                if self._dead:
                    raise KernelStartError("the kernel died as it started")
                try:
                    reply = self._shell.get(timeout=resend - now)
                except queue.Empty:
                    break
                if reply.get("parent_header", {}).get("msg_id") == msg_id:
                    return
        raise KernelStartError(f"the gateway's kernel did not answer within {STARTUP_TIMEOUT:.0f} s")

    # -- what LabKernel drives -------------------------------------------------------------------------------
    def execute(self, code: str, user_expressions: dict[str, str]) -> str:
        content = {"code": code, "silent": False, "store_history": True, "user_expressions": user_expressions,
                   "allow_stdin": False, "stop_on_error": True}  # fmt: skip
        return self._send("execute_request", content)

    def get_iopub_msg(self, timeout: float) -> dict:
        return self._iopub.get(timeout=timeout) if timeout > 0 else self._iopub.get_nowait()

    def get_shell_msg(self, timeout: float) -> dict:
        return self._shell.get(timeout=timeout) if timeout > 0 else self._shell.get_nowait()


class GatewayProvider(KernelProvider):
    """Every kernel leased from the gateway: the lab's default kernel as the gateway's kernelspec, any other by its
    own name. The kernel's environment is the lab's variables only; the gateway adds its own allow-list."""

    def __init__(self, settings: GatewaySettings) -> None:
        self.settings = settings

    def new_kernel(self, kind: KernelKind, owner: str = "") -> LabKernel:
        kernelspec = self.settings.kernelspec if kind.kernelspec == DEFAULT_KERNEL else kind.kernelspec
        env = variables_of(kind)
        return LabKernel(kernelspec, env, connection=GatewayConnection(self.settings, kernelspec, env, gateway_user(owner)))
