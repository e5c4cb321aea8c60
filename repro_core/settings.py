"""Validated run settings: every number that ends up inside a generated cell passes here first."""

from __future__ import annotations

import math
from dataclasses import dataclass

ENGINES: dict[str, str] = {
    "keras3": "Keras 3 (TensorFlow's default since 2.16)",
    "tf_keras": "tf_keras (Keras 2, TF_USE_LEGACY_KERAS=1)",
}

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


def _whole(name: str, value: object, low: int, high: int) -> int:
    """Accept ints (and integral floats such as 3.0 from a widget); reject bools, text and NaN."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"{name} must be a whole number, got {value!r}")
    if isinstance(value, float) and (not math.isfinite(value) or not value.is_integer()):
        raise ValueError(f"{name} must be a whole number, got {value!r}")
    number = int(value)
    if not low <= number <= high:
        raise ValueError(f"{name} must be between {low} and {high}, got {number}")
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
        object.__setattr__(self, "seed", _whole("seed", self.seed, 0, SEED_MAX))
        object.__setattr__(self, "reruns", _whole("reruns", self.reruns, 1, RERUNS_MAX))
        object.__setattr__(self, "epochs", _whole("epochs", self.epochs, 1, EPOCHS_MAX))
        object.__setattr__(self, "batch_size", _whole("batch size", self.batch_size, 1, BATCH_MAX))
        rate = self.learning_rate
        if isinstance(rate, bool) or not isinstance(rate, (int, float)):
            raise ValueError(f"learning rate must be a number, got {rate!r}")
        rate = float(rate)
        if not math.isfinite(rate) or not 0.0 < rate <= 1.0:
            raise ValueError(f"learning rate must be in (0, 1], got {rate!r}")
        object.__setattr__(self, "learning_rate", rate)
        if self.engine not in ENGINES:
            raise ValueError(f"engine must be one of {', '.join(ENGINES)}, got {self.engine!r}")
