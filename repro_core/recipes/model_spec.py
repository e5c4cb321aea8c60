"""A visitor's own model as validated data, for the "Your model" audit.
Nothing a visitor types is executed: numbers are normalised to int/float and names come from fixed allow-lists."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field, fields

from repro_core.recipes.settings import BATCH_MAX, EPOCHS_MAX, SEED_MAX
from repro_core.validation import Refusal, choice, flag, real_number, short_repr, whole_number
from repro_core.vocabulary import SELECTABLE_ENGINES

KINDS = ("dense", "dropout")
ACTIVATIONS = ("relu", "sigmoid", "tanh", "linear", "softmax", "elu", "gelu")
OPTIMIZERS = ("adam", "sgd", "rmsprop")

UNITS_MAX = 512
RATE_MAX = 0.9
LAYERS_MAX = 12
LR_MAX = 1.0
SPLIT_MAX = 0.5
SAMPLES_MAX = 5000
FEATURES_MAX = 64
JSON_MAX_BYTES = 100_000

LAYER_KEYS = {"dense": ("kind", "units", "activation"), "dropout": ("kind", "rate")}
SPEC_KEYS = (
    "layers", "optimizer", "learning_rate", "batch_size", "epochs", "shuffle", "validation_split",
    "samples", "features", "data_seed", "op_determinism", "engine",
)  # fmt: skip


@dataclass(frozen=True)
class LayerSpec:
    """One layer: dense (units, activation) or dropout (rate); the other kind's fields must stay unset."""

    kind: str
    units: int | None = None
    activation: str | None = None
    rate: float | None = None

    def __post_init__(self) -> None:
        kind = choice("layer kind", self.kind, KINDS)
        if kind == "dense":
            if self.rate is not None:
                raise Refusal("a dense layer has no dropout rate")
            object.__setattr__(self, "units", whole_number("dense units", self.units, 1, UNITS_MAX))
            activation = "linear" if self.activation is None else self.activation
            object.__setattr__(self, "activation", choice("activation", activation, ACTIVATIONS))
        else:
            if self.units is not None or self.activation is not None:
                raise Refusal("a dropout layer has no units or activation")
            object.__setattr__(self, "rate", real_number("dropout rate", self.rate, 0.0, RATE_MAX))

    def to_dict(self) -> dict[str, object]:
        if self.kind == "dense":
            return {"kind": "dense", "units": self.units, "activation": self.activation}
        return {"kind": "dropout", "rate": self.rate}

    @classmethod
    def from_dict(cls, obj: object) -> LayerSpec:
        if not isinstance(obj, Mapping):
            raise Refusal(f"each layer must be an object, got {short_repr(obj)}")
        kind = choice("layer kind", obj.get("kind"), KINDS)
        allowed = LAYER_KEYS[kind]
        unknown = [key for key in obj if key not in allowed]
        if unknown:
            raise Refusal(f"unknown key(s) for a {kind} layer: {short_repr(unknown)}; allowed: {', '.join(allowed)}")
        if kind == "dense":
            return cls("dense", units=obj.get("units"), activation=obj.get("activation", "linear"))
        return cls("dropout", rate=obj.get("rate"))


DEFAULT_LAYERS = (LayerSpec("dense", units=8, activation="relu"), LayerSpec("dense", units=4, activation="relu"))


@dataclass(frozen=True)
class ModelSpec:
    """Your model and its training settings. A final Dense(1) output layer is always added (regression, MSE loss)."""

    layers: tuple[LayerSpec, ...] = field(default=DEFAULT_LAYERS)
    optimizer: str = "adam"
    learning_rate: float = 0.001
    batch_size: int = 16
    epochs: int = 3
    shuffle: bool = True
    validation_split: float = 0.0
    samples: int = 64
    features: int = 4
    data_seed: int = 0
    op_determinism: bool = False
    engine: str = "keras3"

    def __post_init__(self) -> None:
        layers = self.layers
        if isinstance(layers, (str, bytes)) or not isinstance(layers, (list, tuple)):
            raise Refusal(f"layers must be a list of layers, got {short_repr(layers)}")
        if not 1 <= len(layers) <= LAYERS_MAX:
            raise Refusal(f"a model needs between 1 and {LAYERS_MAX} layers, got {len(layers)}")
        if not all(isinstance(layer, LayerSpec) for layer in layers):
            raise ValueError("layers must be LayerSpec objects (use ModelSpec.from_dict for plain data)")
        object.__setattr__(self, "layers", tuple(layers))
        object.__setattr__(self, "optimizer", choice("optimizer", self.optimizer, OPTIMIZERS))
        object.__setattr__(self, "learning_rate", real_number("learning rate", self.learning_rate, 0.0, LR_MAX, low_open=True))
        object.__setattr__(self, "batch_size", whole_number("batch size", self.batch_size, 1, BATCH_MAX))
        object.__setattr__(self, "epochs", whole_number("epochs", self.epochs, 1, EPOCHS_MAX))
        object.__setattr__(self, "shuffle", flag("shuffle", self.shuffle))
        object.__setattr__(self, "validation_split", real_number("validation split", self.validation_split, 0.0, SPLIT_MAX))
        object.__setattr__(self, "samples", whole_number("samples", self.samples, 1, SAMPLES_MAX))
        object.__setattr__(self, "features", whole_number("features", self.features, 1, FEATURES_MAX))
        object.__setattr__(self, "data_seed", whole_number("data seed", self.data_seed, 0, SEED_MAX))
        object.__setattr__(self, "op_determinism", flag("op determinism", self.op_determinism))
        object.__setattr__(self, "engine", choice("engine", self.engine, tuple(SELECTABLE_ENGINES)))
        if self.validation_split > 0:
            train = math.ceil(self.samples * (1.0 - self.validation_split))  # how Keras splits: the last samples validate
            if train < 1 or self.samples - train < 1:
                raise Refusal(f"validation split {self.validation_split!r} of {self.samples} samples leaves no validation samples; "
                                 "use more samples or a split of 0")  # fmt: skip

    def to_dict(self) -> dict[str, object]:
        return {**{f.name: getattr(self, f.name) for f in fields(self)}, "layers": [layer.to_dict() for layer in self.layers]}

    @classmethod
    def from_dict(cls, obj: object) -> ModelSpec:
        """Strict: an object with known keys only (missing keys take defaults); raises Refusal, nothing else."""
        if not isinstance(obj, Mapping):
            raise Refusal(f"a model spec must be a JSON object, got {short_repr(obj)}")
        unknown = [key for key in obj if key not in SPEC_KEYS]
        if unknown:
            raise Refusal(f"unknown key(s) in model spec: {short_repr(unknown)}; allowed: {', '.join(SPEC_KEYS)}")
        values = dict(obj)
        layers = values.get("layers")
        if isinstance(layers, (list, tuple)) and len(layers) <= LAYERS_MAX:  # else __post_init__ says what is wrong
            values["layers"] = tuple(LayerSpec.from_dict(layer) for layer in layers)
        return cls(**values)

    @classmethod
    def from_json(cls, text: str | bytes) -> ModelSpec:
        """Every failure (too large, not JSON, invalid) is a one-line Refusal."""
        if isinstance(text, str):
            text = text.encode("utf-8", errors="replace")
        if not isinstance(text, bytes):
            raise Refusal("model spec JSON must be text")
        if len(text) > JSON_MAX_BYTES:
            raise Refusal(f"model spec JSON is larger than {JSON_MAX_BYTES // 1000} kB")
        try:
            obj = json.loads(text)
        except (ValueError, RecursionError) as exc:
            raise Refusal(f"model spec is not valid JSON: {str(exc).splitlines()[0][:120]}") from None
        return cls.from_dict(obj)
