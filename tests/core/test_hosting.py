"""Hosted-mode settings and the per-click budget (pure logic)."""

from __future__ import annotations

import pytest

from repro_core.kernels import memory
from repro_core.kernels.environment import LAB_VARIABLE_NAMES, KernelKind, lab_variables
from repro_core.kernels.gateway import GatewayProvider, gateway_user, start_request
from repro_core.kernels.hosting import check_budget, default_provider, hosting_from_environment, server_pool
from repro_core.validation import Refusal

KEYS = ("REPRO_HOSTED", "REPRO_MAX_KERNELS", "REPRO_CLICK_BUDGET", "REPRO_CELL_TIMEOUT", "REPRO_IDLE_SECONDS", "REPRO_PREEMPT_SECONDS",
        "REPRO_GATEWAY_URL", "REPRO_GATEWAY_TOKEN", "REPRO_GATEWAY_KERNEL")


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch):
    for key in KEYS:
        monkeypatch.delenv(key, raising=False)


def test_hosted_mode_is_tighter_than_local(monkeypatch):
    local = hosting_from_environment()
    monkeypatch.setenv("REPRO_HOSTED", "1")
    hosted = hosting_from_environment()
    assert hosted.hosted and not local.hosted
    assert hosted.max_kernels is None and local.max_kernels is None  # no REPRO_MAX_KERNELS: the pool measures memory
    assert hosted.click_budget < local.click_budget
    assert local.allow_kernel_picker and not hosted.allow_kernel_picker


def test_environment_overrides_are_validated(monkeypatch):
    monkeypatch.setenv("REPRO_MAX_KERNELS", "3")
    monkeypatch.setenv("REPRO_CELL_TIMEOUT", "30")
    settings = hosting_from_environment()
    assert (settings.max_kernels, settings.cell_timeout) == (3, 30.0)
    monkeypatch.setenv("REPRO_CELL_TIMEOUT", "soon")
    with pytest.raises(Refusal, match="REPRO_CELL_TIMEOUT must be a number"):
        hosting_from_environment()
    monkeypatch.setenv("REPRO_CELL_TIMEOUT", "0.1")
    with pytest.raises(Refusal, match="between"):
        hosting_from_environment()
    monkeypatch.delenv("REPRO_CELL_TIMEOUT")
    for bad in ("0", "-1", "many", "1000", "2.5"):
        monkeypatch.setenv("REPRO_MAX_KERNELS", bad)
        with pytest.raises(Refusal, match="REPRO_MAX_KERNELS must be"):
            hosting_from_environment()


def test_click_budget(monkeypatch):
    monkeypatch.setenv("REPRO_CLICK_BUDGET", "100")
    settings = hosting_from_environment()
    check_budget(10, 10, settings)
    with pytest.raises(Refusal, match="10 reruns x 11 epochs = 110"):
        check_budget(10, 11, settings)


def test_lab_variable_names_cover_every_variable_the_lab_sets():
    assert set(lab_variables("tf_keras", 7, "off", "AVX2")) == set(LAB_VARIABLE_NAMES)


# -- a gateway's kernels (REPRO_GATEWAY_URL) -------------------------------------------------------------------
def test_without_a_gateway_kernels_are_this_machines(monkeypatch):
    assert hosting_from_environment().gateway is None
    assert not isinstance(default_provider(), GatewayProvider)


def test_a_gateway_is_read_from_the_environment_and_checked(monkeypatch):
    monkeypatch.setenv("REPRO_GATEWAY_URL", " https://eg.example.org:8888/ ")
    monkeypatch.setenv("REPRO_GATEWAY_TOKEN", "t0ken")
    gateway = hosting_from_environment().gateway
    assert gateway is not None and (gateway.url, gateway.token, gateway.kernelspec) == ("https://eg.example.org:8888", "t0ken", "python_distributed")
    assert gateway.ws_url == "wss://eg.example.org:8888"
    assert gateway.headers == {"Authorization": "token t0ken"}  # EG answers `Bearer` with 401
    monkeypatch.delenv("REPRO_GATEWAY_TOKEN")
    assert hosting_from_environment().gateway.headers == {}  # no token: no header at all
    monkeypatch.setenv("REPRO_GATEWAY_KERNEL", "lab_kubernetes")
    assert hosting_from_environment().gateway.kernelspec == "lab_kubernetes"
    for bad in ("eg.example.org:8888", "ftp://eg", "http://", "http://eg host"):
        monkeypatch.setenv("REPRO_GATEWAY_URL", bad)
        with pytest.raises(Refusal, match="REPRO_GATEWAY_URL must be an http:// or https:// address"):
            hosting_from_environment()


def test_a_server_with_a_gateway_measures_no_memory_for_its_cap(monkeypatch):
    """The gateway's EG_MAX_KERNELS is the limit that holds; the server's own cap only stands back (or REPRO_MAX_KERNELS)."""
    monkeypatch.setenv("REPRO_GATEWAY_URL", "http://127.0.0.1:9")
    monkeypatch.setattr(memory, "kernel_cap", lambda *_: pytest.fail("a gateway server measured local memory"))
    pool = server_pool(hosting_from_environment())
    try:
        assert isinstance(pool.provider, GatewayProvider) and pool.cap == memory.MAX_CAP and pool.live == 0
    finally:
        pool.shutdown()
    monkeypatch.setenv("REPRO_MAX_KERNELS", "5")
    pool = server_pool(hosting_from_environment())
    try:
        assert pool.cap == 5
    finally:
        pool.shutdown()


def test_a_gateway_kernel_is_started_with_the_lab_variables_and_its_sessions_user(monkeypatch):
    monkeypatch.setenv("REPRO_GATEWAY_URL", "http://127.0.0.1:9")
    monkeypatch.setenv("REPRO_TEST_SECRET", "must-not-reach-a-kernel")
    kernel = default_provider().new_kernel(KernelKind(engine="tf_keras", hash_seed=3), owner="5f1c-9a/../$(id)")
    connection = kernel._connection
    body = start_request(connection.kernelspec, connection.env, connection.username)
    assert body == {"name": "python_distributed", "env": {**lab_variables("tf_keras", 3), "KERNEL_USERNAME": "repro-5f1c-9aid"}}
    assert set(body["env"]) <= {*LAB_VARIABLE_NAMES, "KERNEL_USERNAME"}
    assert gateway_user("") == gateway_user("../$()") == "repro-lab"
    assert len(gateway_user("6a1f0c7e-3b5d-4e8a-9c2f-1d7b6e5a4c3b") + "-" + "6a1f0c7e-3b5d-4e8a-9c2f-1d7b6e5a4c3b") <= 63  # a pod name
