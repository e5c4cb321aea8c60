"""A Jupyter Enterprise Gateway 3.3.0 on this machine, for tests and benches of the lab's gateway kernels.

EG pins jupyter_client<7, jupyter_server<2 and pyzmq<25, so it lives in a venv of its own (`.venv-gateway/` at the
repository root, git-ignored), never in the lab's `.venv`. Its kernels are the lab's own interpreter started through
EG's Python kernel launcher (DistributedProcessProxy on "localhost": a local process, no SSH), so a kernel started
through the gateway is the same Python, TensorFlow and Keras a spawned kernel is.

    python tests/gateway_service.py --provision-only    # create or reuse .venv-gateway
    python tests/gateway_service.py [--max-kernels N]   # provision, start a gateway, print its exports; Ctrl-C stops it

Tests use `running_gateway()` (tests/conftest.py's `gateway` fixture); it never provisions by itself.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tarfile
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as a script: the lab's package is importable from the checkout
    sys.path.insert(0, str(ROOT))

from repro_core.kernels.environment import LAB_VARIABLE_NAMES  # noqa: E402
from repro_core.kernels.gateway import GatewaySettings, gateway_from_environment  # noqa: E402

EG_VERSION = "3.3.0"
EG_REQUIREMENT = f"jupyter-enterprise-gateway=={EG_VERSION}"
VENV = ROOT / ".venv-gateway"
LAUNCHERS = VENV / "launchers" / "python" / "scripts"  # launch_ipykernel.py, from the sdist (the wheel has none)
SDIST_KERNELSPEC = VENV / "launchers" / "python_distributed.kernel.json"  # the sdist's kernelspec, our template
STAMP = VENV / "stamp"
KERNELSPEC = "python_distributed"
ENTRY_POINT = "jupyter-enterprisegateway"  # enterprise_gateway.enterprisegatewayapp:launch_instance
PROVISION_COMMAND = "python tests/gateway_service.py --provision-only"
DISTRIBUTED = "enterprise_gateway.services.processproxies.distributed.DistributedProcessProxy"

# What EG's own process may see of ours: paths, locale and temp; everything else it needs is set here (EG_*, Jupyter dirs).
SERVER_VARIABLES = ("PATH", "HOME", "LANG", "TMPDIR")
SERVER_PREFIXES = ("LC_",)
# Every gateway's kernels carry this variable (its value names the gateway), so what one leaves behind is found in /proc.
MARKER = "REPRO_GATEWAY_SERVICE"
PIP_TIMEOUT = 1800.0
START_TIMEOUT = 60.0  # until GET /api/kernelspecs answers
KERNEL_LAUNCH_TIMEOUT = 120  # EG_KERNEL_LAUNCH_TIMEOUT: a loaded CI machine can take a while to import ipykernel
SOCKET_TIMEOUT = 0.001  # EG_SOCKET_TIMEOUT, seconds (see gateway_environment)
LOG_TAIL = 3000  # characters of EG's log in a start-up error


class GatewayUnavailable(RuntimeError):
    """The gateway's venv is missing, or EG did not start."""


@dataclass
class Gateway:
    """A running Enterprise Gateway: its base URL, token (`Authorization: token <token>`), kernel cap and kernelspec."""

    url: str
    token: str
    max_kernels: int
    kernelspec: str
    process: subprocess.Popen
    log: Path

    @property
    def headers(self) -> dict[str, str]:
        return self.settings.headers

    @property
    def lab_environment(self) -> dict[str, str]:
        """The variables that point a lab process (a server, the CLI) at this gateway."""
        return {"REPRO_GATEWAY_URL": self.url, "REPRO_GATEWAY_TOKEN": self.token}

    @property
    def settings(self) -> GatewaySettings:
        """What the lab reads from those variables (`gateway_from_environment`, the servers' own path)."""
        settings = gateway_from_environment(self.lab_environment)
        assert settings is not None
        return settings

    def request(self, method: str, path: str, timeout: float = 10.0) -> tuple[int, bytes]:
        """One REST call with the token; the status and body, whatever the status."""
        request = urllib.request.Request(f"{self.url}{path}", method=method, headers=self.headers)
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                return response.status, response.read()
        except urllib.error.HTTPError as error:
            return error.code, error.read()

    def kernel_count(self, attempts: int = 5) -> int:
        """Kernels the gateway runs now, whoever started them (GET /api/kernels). EG 3.3.0 can answer 500 while a kernel is
        being started or shut down beside the listing (seen in a loaded CI run): that answer is asked again, a few times."""
        for attempt in range(attempts):
            status, body = self.request("GET", "/api/kernels")
            if status == 200:
                return len(json.loads(body))
            if status < 500 or attempt == attempts - 1:
                break
            time.sleep(0.5)
        last = body.decode("utf-8", "replace").replace("\\n", "\n").strip().splitlines()[-1:] or [""]
        raise RuntimeError(f"GET /api/kernels answered HTTP {status} ({attempts} tries): {last[0][-300:]}")


# -- provisioning ---------------------------------------------------------------------------------------------
def base_python() -> str:
    """The interpreter a new .venv-gateway is made with: pyenv's newest 3.11 if there is one, else python3."""
    root = Path(os.environ.get("PYENV_ROOT") or Path.home() / ".pyenv")
    found = sorted(root.glob("versions/3.11*/bin/python"), key=lambda p: [int(x) for x in p.parents[1].name.split(".") if x.isdigit()])
    if found:
        return str(found[-1])
    return shutil.which("python3") or ""


def venv_python(venv: Path = VENV) -> Path:
    return venv / "bin" / "python"


def is_provisioned(venv: Path = VENV) -> bool:
    launcher = venv / "launchers" / "python" / "scripts" / "launch_ipykernel.py"
    return venv_python(venv).exists() and (venv / "bin" / ENTRY_POINT).exists() and launcher.exists()


def stamp_text(venv: Path = VENV) -> str:
    """What the stamp says of a venv as it is now: EG's version, and a hash of its path, its installed distributions (their
    dist-info folder names: name and version) and of the launcher files. Reading it runs nothing (well under a second)."""
    digest = hashlib.sha256(str(venv.resolve()).encode() + b"\n")  # a venv's scripts name its path: a moved one is remade
    for info in sorted(venv.glob("lib/python*/site-packages/*.dist-info")):
        digest.update(info.name.encode() + b"\n")
    for script in sorted((venv / "launchers").rglob("*")):
        if script.is_file():
            digest.update(script.relative_to(venv).as_posix().encode() + b"\0" + script.read_bytes())
    return f"{EG_REQUIREMENT}\nsha256 {digest.hexdigest()}\n"


def is_current(venv: Path = VENV) -> bool:
    stamp = venv / "stamp"
    return is_provisioned(venv) and stamp.exists() and stamp.read_text(encoding="utf-8") == stamp_text(venv)


def _run(command: list[str], timeout: float = PIP_TIMEOUT) -> None:
    done = subprocess.run(command, capture_output=True, text=True, timeout=timeout)
    if done.returncode != 0:
        tail = (done.stdout + done.stderr)[-LOG_TAIL:]
        raise GatewayUnavailable(f"{' '.join(command)} failed (exit {done.returncode}):\n{tail}")


def _extract_launchers(sdist: Path, launchers: Path) -> None:
    """The Python kernel launcher scripts and the python_distributed kernelspec, out of EG's source tarball."""
    wanted = "/etc/kernel-launchers/python/scripts/"
    scripts = launchers / "python" / "scripts"
    scripts.mkdir(parents=True, exist_ok=True)
    found = False
    with tarfile.open(sdist) as tar:
        for member in tar.getmembers():
            if not member.isfile():
                continue
            if wanted in member.name:
                target = scripts / member.name.split(wanted, 1)[1]
            elif member.name.endswith("/etc/kernelspecs/python_distributed/kernel.json"):
                target = launchers / "python_distributed.kernel.json"
            else:
                continue
            if ".." in Path(member.name).parts:
                raise GatewayUnavailable(f"unexpected path in {sdist.name}: {member.name}")
            target.parent.mkdir(parents=True, exist_ok=True)
            source = tar.extractfile(member)
            assert source is not None
            target.write_bytes(source.read())
            found = found or target.name == "launch_ipykernel.py"
    if not found:
        raise GatewayUnavailable(f"{sdist.name} has no etc/kernel-launchers/python/scripts/launch_ipykernel.py")


def provision(venv: Path = VENV, python: str = "", say=print) -> Path:
    """Make `venv` hold EG 3.3.0 and its Python kernel launchers, unless its stamp says it already does (then this takes
    well under a second). Returns the venv; raises GatewayUnavailable on failure."""
    started = time.monotonic()
    if is_current(venv):
        say(f"{venv.name}: Enterprise Gateway {EG_VERSION} reused ({time.monotonic() - started:.1f} s)")
        return venv
    shutil.rmtree(venv, ignore_errors=True)  # changed, moved or half made: made again from nothing (about a minute)
    if not venv_python(venv).exists():
        python = python or base_python()
        if not python:
            raise GatewayUnavailable("no Python to create the gateway's venv with (pyenv's 3.11 or python3)")
        _run([python, "-m", "venv", str(venv)], 300)
    pip = [str(venv_python(venv)), "-m", "pip", "--disable-pip-version-check", "-q"]
    _run(pip + ["install", "--upgrade", "pip"])
    _run(pip + ["install", "--no-compile", EG_REQUIREMENT])
    with tempfile.TemporaryDirectory(prefix="eg-sdist-") as folder:
        _run(pip + ["download", "--no-deps", "--no-binary", ":all:", "--dest", folder, EG_REQUIREMENT])
        sdists = list(Path(folder).glob("*.tar.gz"))
        if len(sdists) != 1:
            raise GatewayUnavailable(f"pip download gave {[p.name for p in Path(folder).iterdir()]}, not one source tarball")
        shutil.rmtree(venv / "launchers", ignore_errors=True)
        _extract_launchers(sdists[0], venv / "launchers")
    if not is_provisioned(venv):
        raise GatewayUnavailable(f"{venv} has no {ENTRY_POINT} after installing {EG_REQUIREMENT}")
    (venv / "stamp").write_text(stamp_text(venv), encoding="utf-8")
    say(f"{venv.name}: Enterprise Gateway {EG_VERSION} installed ({time.monotonic() - started:.0f} s)")
    return venv


# -- what EG is started with (pure) ---------------------------------------------------------------------------
def kernelspec_json(kernel_python: str, launchers: Path | str, template: Mapping | None = None) -> dict:
    """The `python_distributed` kernelspec: EG's own (the sdist's kernel.json, when given as `template`) with our
    interpreter and launcher in argv, and DistributedProcessProxy on "localhost" (a local Popen, no SSH).
    remote_hosts is a comma-separated string: DistributedProcessProxy splits it on ","."""
    spec = json.loads(json.dumps(template)) if template else {"display_name": "Python 3 (distributed)", "language": "python"}
    spec["display_name"] = "Python 3 (distributed, local)"
    spec["language"] = "python"
    spec["argv"] = [
        kernel_python, str(Path(launchers) / "launch_ipykernel.py"),
        "--RemoteProcessProxy.kernel-id", "{kernel_id}",
        "--RemoteProcessProxy.response-address", "{response_address}",
        "--RemoteProcessProxy.public-key", "{public_key}",
        "--RemoteProcessProxy.port-range", "{port_range}",
        "--RemoteProcessProxy.spark-context-initialization-mode", "none",
    ]  # fmt: skip
    metadata = spec.setdefault("metadata", {})
    metadata["process_proxy"] = {"class_name": DISTRIBUTED, "config": {"remote_hosts": "localhost"}}
    spec.pop("env", None)
    return spec


def server_variables(environ: Mapping[str, str]) -> dict[str, str]:
    """The allow-listed part of `environ` EG's process (and, through EG_INHERITED_ENVS, its kernels) may see."""
    return {name: value for name, value in environ.items() if name in SERVER_VARIABLES or name.startswith(SERVER_PREFIXES)}


def gateway_environment(port: int, token: str, max_kernels: int, response_port: int, home: Path, marker: str,
                        environ: Mapping[str, str] | None = None) -> dict[str, str]:  # fmt: skip
    """EG's whole environment: the allow-listed variables plus its settings, never a copy of os.environ.

    `home` is the gateway's own folder: its kernelspec (JUPYTER_PATH), Jupyter config/data/runtime dirs (so a user's
    ~/.jupyter config is not read) and the kernels' logs. A start request's `env` reaches a kernel only for KERNEL_*
    names and those in EG_CLIENT_ENVS, so that lists the lab's variables; EG_INHERITED_ENVS gives kernels EG's
    PATH, HOME, locale and temp dir (a request with `env` otherwise starts its kernel with nothing else), and the
    marker by which leftovers are found."""
    base = server_variables(os.environ if environ is None else environ)
    inherited = [*base, MARKER]
    return base | {
        "EG_IP": "127.0.0.1",
        "EG_PORT": str(port),
        "EG_PORT_RETRIES": "0",  # the port we chose, or fail: never a neighbour we would not know about
        "EG_AUTH_TOKEN": token,
        "EG_MAX_KERNELS": str(max_kernels),
        "EG_RESPONSE_IP": "127.0.0.1",
        "EG_RESPONSE_PORT": str(response_port),  # default 8877: two gateways at once would collide
        "EG_CLIENT_ENVS": ",".join(LAB_VARIABLE_NAMES),
        "EG_INHERITED_ENVS": ",".join(inherited),
        "EG_KERNEL_LAUNCH_TIMEOUT": str(KERNEL_LAUNCH_TIMEOUT),
        # Once a remote kernel has started, EG polls its response socket every 0.1 ms with a blocking accept that waits
        # up to EG_SOCKET_TIMEOUT (default 5 ms), holding up its event loop: every message through the gateway waited
        # for it (a trivial cell cost about 28 ms more than a local one, measured here). 1 ms keeps its other use, a
        # connect to a kernel's listener on this machine, working (0 fails that connect with EINPROGRESS).
        "EG_SOCKET_TIMEOUT": str(SOCKET_TIMEOUT),
        "EG_KERNEL_LOG_DIR": str(home / "kernel-logs"),
        "EG_LIST_KERNELS": "True",
        "EG_DEFAULT_KERNEL_NAME": KERNELSPEC,
        # A start request without KERNEL_USERNAME runs as EG's own user, and EG refuses "root" by default (HTTP 403, as
        # for its kernel limit). Kernels here run as whoever runs the tests, impersonating no one: nobody is refused.
        "EG_UNAUTHORIZED_USERS": "",
        "JUPYTER_PATH": str(home / "jupyter"),
        "JUPYTER_CONFIG_DIR": str(home / "config"),
        "JUPYTER_DATA_DIR": str(home / "data"),
        "JUPYTER_RUNTIME_DIR": str(home / "runtime"),
        MARKER: marker,
    }


def gateway_command(venv: Path = VENV) -> list[str]:
    """EG's command line: only our kernelspec is offered (no native python3 from EG's venv or the user's home)."""
    return [
        str(venv / "bin" / ENTRY_POINT),
        f"--KernelSpecManager.whitelist=['{KERNELSPEC}']",  # jupyter_client 6's name for allowed_kernelspecs
        "--KernelSpecManager.ensure_native_kernel=False",
        f"--RemoteMappingKernelManager.default_kernel_name={KERNELSPEC}",
    ]


# -- running it -----------------------------------------------------------------------------------------------
def free_ports(count: int) -> list[int]:
    """`count` distinct ports free on 127.0.0.1 just now."""
    sockets = []
    try:
        for _ in range(count):
            sock = socket.socket()
            sock.bind(("127.0.0.1", 0))
            sockets.append(sock)
        return [sock.getsockname()[1] for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


def log_tail(log: Path, size: int = LOG_TAIL) -> str:
    with suppress(OSError):
        return log.read_text(encoding="utf-8", errors="replace")[-size:]
    return ""


def marked_processes(marker: str) -> list[int]:
    """The processes whose environment holds MARKER=marker: the kernels (and their launchers' listeners) one gateway started."""
    wanted = f"{MARKER}={marker}".encode()
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        with suppress(OSError):
            if wanted in (entry / "environ").read_bytes().split(b"\0"):
                found.append(int(entry.name))
    return found


def _signal_all(pids: list[int], signum: int) -> None:
    for pid in pids:
        with suppress(ProcessLookupError, PermissionError):
            os.kill(pid, signum)


def _wait_gone(marker: str, timeout: float) -> list[int]:
    deadline = time.monotonic() + timeout
    while (left := marked_processes(marker)) and time.monotonic() < deadline:
        time.sleep(0.1)
    return left


def _stop(gateway: Gateway, marker: str) -> None:
    """Shut every kernel down through EG, stop EG's process group, then end any marked process still there. Kernels
    run in sessions of their own (jupyter_client's launch_kernel), so stopping EG alone would leave them running."""
    if gateway.process.poll() is None:
        with suppress(OSError, ValueError):
            status, body = gateway.request("GET", "/api/kernels")
            for kernel in json.loads(body) if status == 200 else []:
                with suppress(OSError):
                    gateway.request("DELETE", f"/api/kernels/{kernel['id']}", timeout=30)
        with suppress(ProcessLookupError, PermissionError):
            os.killpg(gateway.process.pid, signal.SIGTERM)
        try:
            gateway.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            with suppress(ProcessLookupError, PermissionError):
                os.killpg(gateway.process.pid, signal.SIGKILL)
            gateway.process.wait(timeout=10)
    with suppress(ProcessLookupError, PermissionError):
        os.killpg(gateway.process.pid, signal.SIGKILL)  # anything left in EG's own group
    _signal_all(marked_processes(marker), signal.SIGTERM)
    if left := _wait_gone(marker, 5):
        _signal_all(left, signal.SIGKILL)
        _wait_gone(marker, 5)


@contextmanager
def running_gateway(max_kernels: int = 3, kernel_python: str = sys.executable, token: str | None = None) -> Iterator[Gateway]:
    """An Enterprise Gateway on 127.0.0.1 (random port and token) offering one kernelspec, `python_distributed`:
    `kernel_python` started through EG's launcher. Ready when it yields (it answered GET /api/kernelspecs); when the block
    ends, every kernel it started is shut down and EG is stopped. Needs `provision()` to have run."""
    if not is_provisioned():
        raise GatewayUnavailable(f"{VENV} is not provisioned: run `{PROVISION_COMMAND}` first")
    token = token or secrets.token_hex(16)
    marker = secrets.token_hex(8)
    with tempfile.TemporaryDirectory(prefix="repro-gateway-") as folder:
        home = Path(folder)
        for name in ("config", "data", "runtime", "kernel-logs"):
            (home / name).mkdir()
        spec_dir = home / "jupyter" / "kernels" / KERNELSPEC
        spec_dir.mkdir(parents=True)
        template = json.loads(SDIST_KERNELSPEC.read_text(encoding="utf-8")) if SDIST_KERNELSPEC.exists() else None
        (spec_dir / "kernel.json").write_text(json.dumps(kernelspec_json(kernel_python, LAUNCHERS, template), indent=2), encoding="utf-8")
        port, response_port = free_ports(2)
        log = home / "enterprise-gateway.log"
        with open(log, "wb") as out:
            process = subprocess.Popen(gateway_command(), env=gateway_environment(port, token, max_kernels, response_port, home, marker),
                                       cwd=home, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                                       start_new_session=True)  # fmt: skip
        gateway = Gateway(f"http://127.0.0.1:{port}", token, max_kernels, KERNELSPEC, process, log)
        try:
            _wait_ready(gateway)
            yield gateway
        finally:
            _stop(gateway, marker)
            if os.environ.get("REPRO_GATEWAY_KEEP_LOG"):  # the temp folder goes; keep EG's log where asked
                shutil.copy(log, os.environ["REPRO_GATEWAY_KEEP_LOG"])


def _wait_ready(gateway: Gateway, timeout: float = START_TIMEOUT) -> None:
    deadline = time.monotonic() + timeout
    last = "no answer yet"
    while time.monotonic() < deadline:
        if gateway.process.poll() is not None:
            raise GatewayUnavailable(f"Enterprise Gateway exited ({gateway.process.returncode}) before answering; its log:\n{log_tail(gateway.log)}")
        try:
            status, body = gateway.request("GET", "/api/kernelspecs", timeout=2)
            if status == 200 and KERNELSPEC in json.loads(body).get("kernelspecs", {}):
                return
            last = f"HTTP {status}: {body[:200]!r}"
        except (OSError, ValueError) as error:
            last = str(error)
        time.sleep(0.2)
    raise GatewayUnavailable(
        f"Enterprise Gateway did not answer GET /api/kernelspecs within {timeout:.0f} s ({last}); its log:\n{log_tail(gateway.log)}"
    )


# -- command line ---------------------------------------------------------------------------------------------
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--provision-only", action="store_true", help=f"create or reuse {VENV.name}, then exit")
    parser.add_argument("--max-kernels", type=int, default=3, help="EG_MAX_KERNELS (default 3)")
    parser.add_argument("--kernel-python", default=sys.executable, help="the kernels' interpreter (default: this one)")
    args = parser.parse_args(argv)
    try:
        provision()
        if args.provision_only:
            return 0
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))  # SystemExit unwinds running_gateway's cleanup
        started = time.monotonic()
        with running_gateway(args.max_kernels, args.kernel_python) as gateway:
            print(f"# Enterprise Gateway {EG_VERSION} ready in {time.monotonic() - started:.1f} s, log {gateway.log}", file=sys.stderr)
            print(f"export REPRO_GATEWAY_URL={gateway.url}")
            print(f"export REPRO_GATEWAY_TOKEN={gateway.token}", flush=True)
            print("# serving until Ctrl-C", file=sys.stderr)
            while gateway.process.poll() is None:
                time.sleep(0.5)
            print(f"Enterprise Gateway exited ({gateway.process.returncode}); its log:\n{log_tail(gateway.log)}", file=sys.stderr)
            return 1
    except GatewayUnavailable as error:
        print(error, file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 0


if __name__ == "__main__":
    sys.exit(main())
