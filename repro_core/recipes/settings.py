"""Validated run settings: every number that ends up inside a generated cell passes here first."""

from __future__ import annotations

import math
from collections.abc import Collection
from dataclasses import dataclass

from repro_core.kernels.environment import ENGINES

SEED_MAX = 2**31 - 1
RERUNS_MAX = 10
EPOCHS_MAX = 50
BATCH_MAX = 1024


def short_repr(value: object) -> str:
    """A bounded repr for error messages (hostile input may be huge, or have a hostile __repr__)."""
    try:
        text = repr(value)
    except Exception:  # e.g. an int too long to print: the message must still be a plain ValueError
        text = f"<{type(value).__name__}>"
    return text if len(text) <= 60 else text[:57] + "..."


def whole_number(name: str, value: object, low: int, high: int) -> int:
    """An int (or an integral float, as widgets give); never a bool, text, NaN or infinity."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"{name} must be a whole number, got {short_repr(value)}")
    if isinstance(value, float) and (not math.isfinite(value) or not value.is_integer()):
        raise ValueError(f"{name} must be a whole number, got {short_repr(value)}")
    number = int(value)
    if not low <= number <= high:
        raise ValueError(f"{name} must be between {low} and {high}, got {short_repr(number)}")
    return number


def real_number(name: str, value: object, low: float, high: float, low_open: bool = False) -> float:
    """A finite float in [low, high] (or (low, high] when low_open); bools, text and NaN rejected."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"{name} must be a number, got {short_repr(value)}")
    try:
        number = float(value)
    except OverflowError:
        raise ValueError(f"{name} is far too large, got {short_repr(value)}") from None
    too_low = number <= low if low_open else number < low
    if not math.isfinite(number) or too_low or number > high:
        bracket = "(" if low_open else "["
        raise ValueError(f"{name} must be in {bracket}{low:g}, {high:g}], got {short_repr(value)}")
    return number


def choice(name: str, value: object, allowed: Collection[str]) -> str:
    """One of a fixed list of names (the list is what goes into a cell, never the visitor's string)."""
    if not isinstance(value, str) or value not in allowed:
        raise ValueError(f"{name} must be one of {', '.join(allowed)}, got {short_repr(value)}")
    return value


def flag(name: str, value: object) -> bool:
    if not isinstance(value, bool):
        raise ValueError(f"{name} must be true or false, got {short_repr(value)}")
    return value


@dataclass(frozen=True)
class StoryParams:
    """The knobs a visitor may turn. Construction validates and normalises them.

    `seed` is the TensorFlow/Keras seed used by the scenario cells (the article uses 1234);
    the start-of-notebook block keeps the article's 123 for NumPy and Python `random`.
    """

    seed: int = 1234
    reruns: int = 3
    epochs: int = 10
    batch_size: int = 1
    learning_rate: float = 0.001
    engine: str = "keras3"

    def __post_init__(self) -> None:
        object.__setattr__(self, "seed", whole_number("seed", self.seed, 0, SEED_MAX))
        object.__setattr__(self, "reruns", whole_number("reruns", self.reruns, 1, RERUNS_MAX))
        object.__setattr__(self, "epochs", whole_number("epochs", self.epochs, 1, EPOCHS_MAX))
        object.__setattr__(self, "batch_size", whole_number("batch size", self.batch_size, 1, BATCH_MAX))
        object.__setattr__(self, "learning_rate", real_number("learning rate", self.learning_rate, 0.0, 1.0, low_open=True))
        choice("engine", self.engine, ENGINES)
