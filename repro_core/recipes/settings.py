"""Validated run settings: every number that ends up inside a generated cell passes here first."""

from __future__ import annotations

import math
from dataclasses import dataclass

from repro_core.kernels.environment import ENGINES

SCENARIOS: dict[str, str] = {
    "global-model": "One model built in the setup cell; each rerun reseeds TensorFlow, compiles and fits it.",
    "factory-tf-seed": "The article's fix: each rerun calls tf.random.set_seed, builds a new model, compiles, fits.",
    "factory-full-seed": "Each rerun calls keras.utils.set_random_seed (Python, NumPy, TF), builds, compiles, fits.",
    "fresh-kernel": "Each rerun in a newly started kernel: setup cell, then the article's fix.",
}

SEED_MAX = 2**31 - 1
RERUNS_MAX = 10
EPOCHS_MAX = 50
BATCH_MAX = 64


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
        rate = self.learning_rate
        if isinstance(rate, bool) or not isinstance(rate, (int, float)):
            raise ValueError(f"learning rate must be a number, got {rate!r}")
        rate = float(rate)
        if not math.isfinite(rate) or not 0.0 < rate <= 1.0:
            raise ValueError(f"learning rate must be in (0, 1], got {rate!r}")
        object.__setattr__(self, "learning_rate", rate)
        if self.engine not in ENGINES:
            raise ValueError(f"engine must be one of {', '.join(ENGINES)}, got {self.engine!r}")
