"""Hosted-demo settings: caps and budgets read from the environment, validated once.

Locally the lab is generous; with REPRO_HOSTED=1 (a public demo on a small box) the caps
tighten, only the bundled kernel may be picked, and uploads are capped harder.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from repro_core.kernels.pool import cap_from_environment
from repro_core.validation import number_text

TRUE = {"1", "true", "yes", "on"}


@dataclass(frozen=True)
class HostingSettings:
    hosted: bool
    max_kernels: int | None  # REPRO_MAX_KERNELS; None: the pool measures memory at each admission (kernels/memory.py)
    click_budget: int  # reruns x epochs allowed for one click
    cell_timeout: float  # seconds before a cell is interrupted
    idle_seconds: float  # a session idle this long gives its kernel back
    preempt_seconds: float  # while others wait, a session idle this long gives its kernel to them
    upload_bytes: int
    allow_kernel_picker: bool


def _number(name: str, default: float, low: float, high: float) -> float:
    raw = os.environ.get(name, "").strip()
    return number_text(name, raw, low, high) if raw else default


def hosting_from_environment() -> HostingSettings:
    """Read REPRO_HOSTED, REPRO_MAX_KERNELS, REPRO_CLICK_BUDGET, REPRO_CELL_TIMEOUT, REPRO_IDLE_SECONDS, REPRO_PREEMPT_SECONDS."""
    hosted = os.environ.get("REPRO_HOSTED", "").strip().lower() in TRUE
    return HostingSettings(
        hosted=hosted,
        max_kernels=cap_from_environment(None) if os.environ.get("REPRO_MAX_KERNELS", "").strip() else None,
        click_budget=int(_number("REPRO_CLICK_BUDGET", 100 if hosted else 500, 1, 10_000)),
        cell_timeout=_number("REPRO_CELL_TIMEOUT", 120 if hosted else 300, 0.5, 3600),
        idle_seconds=_number("REPRO_IDLE_SECONDS", 600 if hosted else 3600, 10, 86_400),
        preempt_seconds=_number("REPRO_PREEMPT_SECONDS", 30 if hosted else 120, 0, 86_400),
        upload_bytes=200_000 if hosted else 1_000_000,
        allow_kernel_picker=not hosted,
    )


def check_budget(reruns: int, epochs: int, settings: HostingSettings) -> None:
    """One click may train at most `click_budget` reruns x epochs; say how to fit when over."""
    units = reruns * epochs
    if units > settings.click_budget:
        raise ValueError(
            f"this click asks for {reruns} reruns x {epochs} epochs = {units}, over this server's budget of "
            f"{settings.click_budget}; lower the reruns or the epochs"
        )
