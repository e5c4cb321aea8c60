"""Hosted-mode settings and the per-click budget (pure logic)."""

from __future__ import annotations

import pytest

from repro_core.kernels.hosting import check_budget, hosting_from_environment

KEYS = ("REPRO_HOSTED", "REPRO_MAX_KERNELS", "REPRO_CLICK_BUDGET", "REPRO_CELL_TIMEOUT", "REPRO_IDLE_SECONDS", "REPRO_PREEMPT_SECONDS")


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
    assert hosted.click_budget < local.click_budget and hosted.upload_bytes < local.upload_bytes
    assert local.allow_kernel_picker and not hosted.allow_kernel_picker


def test_environment_overrides_are_validated(monkeypatch):
    monkeypatch.setenv("REPRO_MAX_KERNELS", "3")
    monkeypatch.setenv("REPRO_CELL_TIMEOUT", "30")
    settings = hosting_from_environment()
    assert (settings.max_kernels, settings.cell_timeout) == (3, 30.0)
    monkeypatch.setenv("REPRO_CELL_TIMEOUT", "soon")
    with pytest.raises(ValueError, match="REPRO_CELL_TIMEOUT must be a number"):
        hosting_from_environment()
    monkeypatch.setenv("REPRO_CELL_TIMEOUT", "0.1")
    with pytest.raises(ValueError, match="between"):
        hosting_from_environment()
    monkeypatch.delenv("REPRO_CELL_TIMEOUT")
    for bad in ("0", "-1", "many", "1000", "2.5"):
        monkeypatch.setenv("REPRO_MAX_KERNELS", bad)
        with pytest.raises(ValueError, match="REPRO_MAX_KERNELS must be"):
            hosting_from_environment()


def test_click_budget(monkeypatch):
    monkeypatch.setenv("REPRO_CLICK_BUDGET", "100")
    settings = hosting_from_environment()
    check_budget(10, 10, settings)
    with pytest.raises(ValueError, match="10 reruns x 11 epochs = 110"):
        check_budget(10, 11, settings)


def test_lab_variable_names_cover_every_variable_the_lab_sets():
    from repro_core.kernels.environment import LAB_VARIABLE_NAMES, lab_variables

    assert set(lab_variables("tf_keras", 7)) == set(LAB_VARIABLE_NAMES)
