"""What widgets hand back, read into the core's values; untrusted text kept literal in st messages."""

from __future__ import annotations

import pytest

from lab_ui.widgets import code_span, layers_from_rows, selected_cell
from repro_core.validation import Refusal


def test_selected_cell_reads_the_heatmap_selection():
    assert selected_cell({"cell": [{"column": "2.9 · keras2", "scenario": "fresh-kernel"}]}) == ("2.9 · keras2", "fresh-kernel")
    assert selected_cell({"cell": []}) is None and selected_cell(None) is None


def test_layers_from_rows_uses_only_each_kinds_fields():
    layers = layers_from_rows([{"kind": "dense", "units": 4, "activation": "relu", "rate": "junk"}, {"kind": "dropout", "rate": 0.2, "units": -1}])
    assert [layer.kind for layer in layers] == ["dense", "dropout"]
    with pytest.raises(Refusal, match="layer 2: "):
        layers_from_rows([{"kind": "dense", "units": 4, "activation": "relu"}, {"kind": "dense", "units": 0, "activation": "relu"}])


@pytest.mark.parametrize("text", ["plain", "[x](https://example.invalid/a)", "a`b", "``x``", "`", "two\nlines", ""])
def test_code_span_keeps_any_text_inside_one_span(text):
    span = code_span(text)
    fence = span[: len(span) - len(span.lstrip("`"))]
    inner = span[len(fence) : len(span) - len(fence)]
    assert span.endswith(fence) and fence not in inner
    assert inner.strip(" ") == " ".join(text.splitlines()).strip(" ") or not text.strip()
