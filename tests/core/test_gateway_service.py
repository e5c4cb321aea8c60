"""What tests/gateway_service.py starts Enterprise Gateway with: its kernelspec and its environment (nothing starts here)."""

from __future__ import annotations

from pathlib import Path

import gateway_service
from gateway_service import MARKER, gateway_command, gateway_environment, kernelspec_json, stamp_text

from repro_core.kernels.environment import LAB_VARIABLE_NAMES

# The sdist's python_distributed/kernel.json, as EG 3.3.0 ships it (argv shortened: it is replaced).
SDIST_SPEC = {
    "display_name": "Python 3 (distributed)",
    "language": "python",
    "metadata": {"process_proxy": {"class_name": gateway_service.DISTRIBUTED}, "debugger": True},
    "argv": ["python", "/usr/local/share/jupyter/kernels/python_distributed/scripts/launch_ipykernel.py"],
}
HOSTS = {
    "PATH": "/usr/bin:/bin",
    "HOME": "/home/lab",
    "LANG": "C.UTF-8",
    "LC_ALL": "C.UTF-8",
    "TMPDIR": "/tmp",
    "AWS_SECRET_ACCESS_KEY": "s3cr3t",
    "HF_TOKEN": "hf_x",
    "PYTHONPATH": "/elsewhere",
    "JUPYTER_PATH": "/home/lab/.jupyter-of-the-host",
    "EG_AUTH_TOKEN": "the host's own",
}


def test_the_kernelspec_starts_our_interpreter_through_the_launcher_on_localhost():
    for template in (None, SDIST_SPEC):
        spec = kernelspec_json("/lab/.venv/bin/python", Path("/g/launchers/python/scripts"), template)
        assert spec["argv"][:2] == ["/lab/.venv/bin/python", "/g/launchers/python/scripts/launch_ipykernel.py"]
        flags = dict(zip(spec["argv"][2::2], spec["argv"][3::2], strict=True))
        assert flags == {
            "--RemoteProcessProxy.kernel-id": "{kernel_id}",
            "--RemoteProcessProxy.response-address": "{response_address}",
            "--RemoteProcessProxy.public-key": "{public_key}",
            "--RemoteProcessProxy.port-range": "{port_range}",
            "--RemoteProcessProxy.spark-context-initialization-mode": "none",
        }
        proxy = spec["metadata"]["process_proxy"]
        assert proxy["class_name"] == "enterprise_gateway.services.processproxies.distributed.DistributedProcessProxy"
        assert proxy["config"]["remote_hosts"].split(",") == ["localhost"]  # EG splits the string; a list would fail
        assert spec["language"] == "python" and "env" not in spec
    assert SDIST_SPEC["argv"][0] == "python", "the template is not changed in place"
    assert kernelspec_json("p", "l", SDIST_SPEC)["metadata"]["debugger"] is True


def test_the_gateway_sees_the_allow_list_and_its_settings_never_the_hosts_secrets():
    env = gateway_environment(8888, "tok", 3, 9999, Path("/run/gw"), "m1", environ=HOSTS)
    passed = {"PATH", "HOME", "LANG", "LC_ALL", "TMPDIR"}
    assert {name for name in env if not name.startswith(("EG_", "JUPYTER_"))} == passed | {MARKER}
    assert all(env[name] == HOSTS[name] for name in passed)
    assert "AWS_SECRET_ACCESS_KEY" not in env and "HF_TOKEN" not in env and "PYTHONPATH" not in env
    assert env["EG_AUTH_TOKEN"] == "tok" and env["JUPYTER_PATH"] == "/run/gw/jupyter"
    assert (env["EG_IP"], env["EG_PORT"], env["EG_RESPONSE_IP"], env["EG_RESPONSE_PORT"]) == ("127.0.0.1", "8888", "127.0.0.1", "9999")
    assert env["EG_MAX_KERNELS"] == "3" and env[MARKER] == "m1"


def test_kernels_get_the_labs_variables_from_a_request_and_the_allow_list_from_the_gateway():
    env = gateway_environment(1, "t", 1, 2, Path("/g"), "m", environ=HOSTS)
    assert env["EG_CLIENT_ENVS"].split(",") == list(LAB_VARIABLE_NAMES)
    assert "TF_USE_LEGACY_KERAS" in env["EG_CLIENT_ENVS"].split(",") and "PYTHONHASHSEED" in env["EG_CLIENT_ENVS"].split(",")
    assert set(env["EG_INHERITED_ENVS"].split(",")) == {"PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", MARKER}


def test_only_the_distributed_kernelspec_is_offered():
    command = gateway_command(Path("/g/.venv-gateway"))
    assert command[0] == "/g/.venv-gateway/bin/jupyter-enterprisegateway"
    assert "--KernelSpecManager.whitelist=['python_distributed']" in command
    assert "--KernelSpecManager.ensure_native_kernel=False" in command


def test_the_stamp_changes_with_what_is_installed(tmp_path):
    site = tmp_path / "lib" / "python3.11" / "site-packages"
    site.mkdir(parents=True)
    (site / "jupyter_enterprise_gateway-3.3.0.dist-info").mkdir()
    scripts = tmp_path / "launchers" / "python" / "scripts"
    scripts.mkdir(parents=True)
    (scripts / "launch_ipykernel.py").write_text("v1")
    first = stamp_text(tmp_path)
    assert first.startswith("jupyter-enterprise-gateway==3.3.0\n") and stamp_text(tmp_path) == first
    (scripts / "launch_ipykernel.py").write_text("v2")
    second = stamp_text(tmp_path)
    (site / "pyzmq-24.0.1.dist-info").mkdir()
    assert len({first, second, stamp_text(tmp_path)}) == 3
