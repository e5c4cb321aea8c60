"""Where Streamlit meets the core: widget state read into the core's values, untrusted text written into st messages."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from repro_core.recipes.model_spec import LayerSpec
from repro_core.validation import Refusal
from repro_core.views.timeline import F_COLUMN, F_SCENARIO, SELECTION


def selected_cell(selection: object) -> tuple[str, str] | None:
    """(column, scenario) of the clicked heatmap cell, from st.altair_chart's selection state; None if nothing."""
    points = selection.get(SELECTION) if isinstance(selection, Mapping) else None
    if isinstance(points, Sequence) and points and isinstance(points[0], Mapping):
        column, scenario = points[0].get(F_COLUMN), points[0].get(F_SCENARIO)
        if isinstance(column, str) and isinstance(scenario, str):
            return column, scenario
    return None


def layers_from_rows(rows: Sequence[dict]) -> tuple[LayerSpec, ...]:
    """Widget rows -> LayerSpecs; only the fields of each row's kind are used (Refusal when invalid)."""
    layers = []
    for index, row in enumerate(rows, start=1):
        try:
            if row.get("kind") == "dropout":
                layers.append(LayerSpec("dropout", rate=row.get("rate")))
            else:
                layers.append(LayerSpec(row.get("kind"), units=row.get("units"), activation=row.get("activation")))
        except Refusal as exc:
            raise Refusal(f"layer {index}: {exc}") from None
    return tuple(layers)


def code_span(text: str) -> str:
    """`text` as a Markdown code span, so Markdown and HTML in it show literally (the fence outruns any backticks inside)."""
    flat = " ".join(str(text).splitlines())
    fence = "`" * (max((len(run) for run in re.findall(r"`+", flat)), default=0) + 1)
    pad = " " if flat.startswith("`") or flat.endswith("`") or not flat.strip() else ""
    return f"{fence}{pad}{flat}{pad}{fence}"
