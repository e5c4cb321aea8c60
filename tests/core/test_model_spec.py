"""ModelSpec/LayerSpec validation: hostile input only ever raises Refusal; valid specs round-trip."""

from __future__ import annotations

import contextlib
import json
import math

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from repro_core.experiments.audit import Audit
from repro_core.recipes.model_spec import JSON_MAX_BYTES, SPEC_KEYS, LayerSpec, ModelSpec
from repro_core.validation import Refusal

FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

junk = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True, allow_infinity=True) | st.text(max_size=300)
    | st.integers(min_value=10**300, max_value=10**400) | st.binary(max_size=20),
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=10), inner, max_size=5) | st.tuples(inner, inner),
    max_leaves=20,
)  # fmt: skip
layer_like = st.fixed_dictionaries(
    {"kind": st.sampled_from(["dense", "dropout", "conv", 1, None])},
    optional={"units": junk, "activation": st.sampled_from(["relu", "exec", "__import__('os')", 3]) | junk, "rate": junk},
)
spec_like = st.dictionaries(
    st.sampled_from(SPEC_KEYS) | st.text(max_size=12),
    junk | st.lists(layer_like, max_size=14),
    max_size=14,
)


def _only_refusal(obj: object) -> None:
    try:
        spec = ModelSpec.from_dict(obj)
    except Refusal as exc:
        assert str(exc) and "\n" not in str(exc)
        return
    # anything accepted is fully normalised and round-trips
    assert ModelSpec.from_dict(spec.to_dict()) == spec
    assert ModelSpec.from_json(json.dumps(spec.to_dict())) == spec


@FAST
@given(junk)
def test_random_values_only_raise_value_error(obj):
    _only_refusal(obj)


@FAST
@given(spec_like)
def test_random_spec_dicts_only_raise_value_error(obj):
    _only_refusal(obj)


@FAST
@given(st.text(max_size=400) | st.binary(max_size=400))
def test_random_json_text_only_raises_value_error(text):
    with contextlib.suppress(Refusal):
        ModelSpec.from_json(text)


@FAST
@given(
    st.lists(st.builds(LayerSpec, kind=st.just("dense"), units=st.integers(1, 512), activation=st.sampled_from(["relu", "gelu", "softmax"])),
             min_size=1, max_size=12),
    st.floats(min_value=1e-6, max_value=1.0), st.integers(1, 1024), st.booleans(), st.integers(0, 2**31 - 1),
)  # fmt: skip
def test_valid_specs_round_trip_and_cells_embed_only_normalised_values(layers, rate, batch, shuffle, seed):
    spec = ModelSpec(layers=tuple(layers), learning_rate=rate, batch_size=batch, shuffle=shuffle, data_seed=seed)
    assert ModelSpec.from_dict(json.loads(json.dumps(spec.to_dict(), indent=2))) == spec
    audit = Audit(spec, reseed="full")
    cell = audit.setup()[0] + audit.cell()
    assert repr(float(rate)) in cell and f"RandomState({seed})" in cell and f"batch_size={batch}" in cell
    compile(cell, "<cell>", "exec")


@pytest.mark.parametrize(
    "changes, fragment",
    [
        ({"epochs": True}, "epochs must be a whole number"),
        ({"epochs": 51}, "epochs must be between 1 and 50"),
        ({"epochs": "3"}, "epochs must be a whole number"),
        ({"learning_rate": math.nan}, "learning rate must be in (0, 1]"),
        ({"learning_rate": 0}, "learning rate must be in (0, 1]"),
        ({"learning_rate": 10**400}, "learning rate is far too large"),
        ({"batch_size": 1025}, "batch size"),
        ({"samples": 5001}, "samples"),
        ({"features": 0}, "features"),
        ({"data_seed": 2**31}, "data seed"),
        ({"validation_split": 0.6}, "validation split"),
        ({"samples": 3, "validation_split": 0.1}, "leaves no validation samples"),
        ({"shuffle": 1}, "shuffle must be true or false"),
        ({"op_determinism": "yes"}, "op determinism must be true or false"),
        ({"optimizer": "adamw"}, "optimizer must be one of"),
        ({"engine": "jax"}, "engine must be one of"),
        ({"layers": []}, "between 1 and 12 layers"),
        ({"layers": [{"kind": "dense", "units": 4}] * 13}, "between 1 and 12 layers"),
        ({"layers": "dense"}, "layers must be a list"),
        ({"layers": [{"kind": "dense", "units": 513}]}, "dense units"),
        ({"layers": [{"kind": "dense", "units": 4, "activation": "__import__('os').system('x')"}]}, "activation must be one of"),
        ({"layers": [{"kind": "dense", "units": 4, "rate": 0.1}]}, "unknown key"),
        ({"layers": [{"kind": "dropout", "rate": 0.95}]}, "dropout rate"),
        ({"layers": [{"kind": "conv", "units": 4}]}, "layer kind"),
        ({"layers": [[1, 2]]}, "each layer must be an object"),
        ({"surprise": 1}, "unknown key"),
    ],
)
def test_targeted_rejections(changes, fragment):
    with pytest.raises(Refusal) as info:
        ModelSpec.from_dict({**ModelSpec().to_dict(), **changes})
    assert fragment in str(info.value)


def test_json_size_cap_and_nesting():
    with pytest.raises(Refusal, match="larger than"):
        ModelSpec.from_json(b" " * (JSON_MAX_BYTES + 1))
    with pytest.raises(Refusal):
        ModelSpec.from_json("[" * 50_000 + "]" * 50_000)
    with pytest.raises(Refusal, match="not valid JSON"):
        ModelSpec.from_json("{nope")


def test_direct_construction_validates_and_normalises():
    spec = ModelSpec(layers=[LayerSpec("dense", units=4.0, activation="tanh")], epochs=2.0, learning_rate=1)
    assert spec.layers[0].units == 4 and isinstance(spec.layers[0].units, int)
    assert spec.epochs == 2 and isinstance(spec.learning_rate, float)
    with pytest.raises(ValueError) as misuse:  # the lab's own code passing plain data: a bug, not a refused input
        ModelSpec(layers=[{"kind": "dense", "units": 4}])
    assert not isinstance(misuse.value, Refusal)
    with pytest.raises(Refusal):
        LayerSpec("dropout", rate=0.1, units=3)


def test_example_spec_is_valid():
    from pathlib import Path

    text = (Path(__file__).resolve().parents[2] / "examples" / "model.json").read_bytes()
    spec = ModelSpec.from_json(text)
    assert [layer.kind for layer in spec.layers] == ["dense", "dropout", "dense"]
