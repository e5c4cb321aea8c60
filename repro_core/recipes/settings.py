"""Validated run settings: every number that ends up inside a generated cell passes here first."""

from __future__ import annotations

from dataclasses import dataclass, replace

from repro_core.machine import MachineSettings
from repro_core.validation import Refusal, choice, real_number, whole_number
from repro_core.vocabulary import DEFAULT_BACKEND, DEFAULT_SEED, ENGINES, check_backend

SEED_MAX = 2**31 - 1
RERUNS_MAX = 10
EPOCHS_MAX = 50
BATCH_MAX = 1024


@dataclass(frozen=True)
class Network:
    """A network the story's cells can build, with the training it comes with (epochs and batch size, unless set)."""

    name: str
    description: str
    epochs: int
    batch_size: int


NETWORKS = {n.name: n for n in (
    Network("article", "the article's 2-3-1 network on three samples of three ones (21 weights)", 10, 1),
    Network("wide", "Dense 256→1024→1024→10 on 2,048 samples of 256 features (1.3 million weights): wide enough for the "
            "thread count and the instruction set to show, which the article's 21 weights hide", 2, 256),
)}  # fmt: skip


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
    network: str = "article"  # NETWORKS: what the setup cell builds
    onednn: str = "default"  # machine switches (repro_core.machine.MachineSettings), written into the setup cell
    threads: int = 0
    isa: str = "default"
    op_determinism: bool = False

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
        choice("network", self.network, NETWORKS)
        machine = MachineSettings(self.onednn, self.threads, self.isa, self.op_determinism)  # validates the four
        object.__setattr__(self, "threads", machine.threads)
        if self.backend != DEFAULT_BACKEND and (machine.onednn != "default" or machine.isa != "default"):
            raise Refusal(f"oneDNN's switch and ISA cap are TensorFlow's; on {self.backend} only the thread count can be set")
        if self.backend == "jax" and machine.op_determinism:
            raise Refusal("op determinism is a TensorFlow and PyTorch switch; JAX's CPU backend has none")

    @property
    def machine(self) -> MachineSettings:
        return MachineSettings(self.onednn, self.threads, self.isa, self.op_determinism)


def network_params(network: str = "article", **values: object) -> StoryParams:
    """StoryParams for `network` with its own epochs and batch size unless `values` set them (None means unset)."""
    found = NETWORKS[choice("network", network, NETWORKS)]
    chosen = {key: value for key, value in values.items() if value is not None}
    return StoryParams(**{"epochs": found.epochs, "batch_size": found.batch_size, **chosen, "network": network})  # type: ignore[arg-type]


def with_machine(params: StoryParams, machine: MachineSettings) -> StoryParams:
    return replace(params, onednn=machine.onednn, threads=machine.threads, isa=machine.isa, op_determinism=machine.op_determinism)
