"""Shared test settings: the pytest process itself must never import TensorFlow."""

from __future__ import annotations

import os
import sys

import pytest

HEAVY = ("tensorflow", "keras", "tf_keras")


def _require(flag: str, available: bool, reason: str) -> None:
    if available:
        return
    if os.environ.get(flag) == "1":
        pytest.fail(f"{reason} ({flag}=1 makes this mandatory)")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def require():
    """`require(flag, available, reason)`: skip when something optional is missing, fail when CI sets flag=1."""
    return _require


@pytest.fixture(scope="session", autouse=True)
def no_tensorflow_in_test_process():
    """Training belongs in kernels: after the whole session, TF must not be loaded here."""
    yield
    loaded = [name for name in HEAVY if name in sys.modules]
    assert not loaded, f"the pytest process imported {loaded}; training must stay in kernels"
