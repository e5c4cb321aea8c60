"""Validated run settings: every number that ends up inside a generated cell passes here first."""

from __future__ import annotations

from dataclasses import dataclass

from repro_core.validation import Refusal, choice, real_number, whole_number
from repro_core.vocabulary import DEFAULT_BACKEND, DEFAULT_SEED, ENGINES, check_backend

SEED_MAX = 2**31 - 1
RERUNS_MAX = 10
EPOCHS_MAX = 50
BATCH_MAX = 1024


@dataclass(frozen=True)
class StoryParams:
    """The knobs a visitor may turn, validated on construction. `seed` is the TensorFlow/Keras seed of the cells;
    the start-of-notebook block keeps the article's 123 for NumPy and Python `random`."""

    seed: int = DEFAULT_SEED
    reruns: int = 3
    epochs: int = 10
    batch_size: int = 1
    learning_rate: float = 0.001
    engine: str = "keras3"
    backend: str = DEFAULT_BACKEND  # the kernel's: a JAX or PyTorch kernel runs Keras 3 on that backend

    def __post_init__(self) -> None:
        object.__setattr__(self, "seed", whole_number("seed", self.seed, 0, SEED_MAX))
        object.__setattr__(self, "reruns", whole_number("reruns", self.reruns, 1, RERUNS_MAX))
        object.__setattr__(self, "epochs", whole_number("epochs", self.epochs, 1, EPOCHS_MAX))
        object.__setattr__(self, "batch_size", whole_number("batch size", self.batch_size, 1, BATCH_MAX))
        object.__setattr__(self, "learning_rate", real_number("learning rate", self.learning_rate, 0.0, 1.0, low_open=True))
        choice("engine", self.engine, ENGINES)  # keras2 when the kernel offers only it (TensorFlow < 2.16)
        check_backend(self.backend)
        if self.backend != DEFAULT_BACKEND and self.engine != "keras3":
            raise Refusal(f"only Keras 3 runs on {self.backend}; engine {self.engine!r} is TensorFlow's")
