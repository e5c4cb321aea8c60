"""Where Streamlit meets the core: widget state read into the core's values, untrusted text written into st messages."""

from __future__ import annotations

import re
from collections.abc import Mapping, MutableMapping, Sequence

from lab_ui import session
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


# -- inputs that survive a visit to another page, and a reload ------------------------------------------------------------
# Streamlit forgets a widget's value once a page without that widget has run, and a reload starts a new session. A page
# that keeps its inputs copies each value into the lab (lab_ui.session: kept on the server across reloads) after drawing
# (`remember`) and puts it back before drawing (`kept`). An input that follows a sidebar setting takes the sidebar's value
# until the learner edits it (`edited`, set by the widget's on_change).
KEPT, EDITED = "kept_", "edited_"


def kept(state: MutableMapping, key: str, default: object, follows: bool = False) -> str:
    """The widget key, with its last value (or `default`) in place. With `follows`, `default` is the sidebar's and wins
    until the learner has edited this input."""
    memo = session.lab(state).kept
    if follows and key in state and KEPT + key in memo and state[key] != memo[KEPT + key]:
        memo[EDITED + key] = True  # set since it was last drawn (a widget, or session_state itself): the learner's own now
    if follows and not memo.get(EDITED + key):
        state[key] = default
    elif key not in state:
        state[key] = memo.get(KEPT + key, default)
    return key


def edited(state: MutableMapping, key: str):
    """The on_change callback that marks an input as the learner's own (no longer following the sidebar)."""
    return lambda: session.lab(state).kept.__setitem__(EDITED + key, True)


def remember(state: MutableMapping, *keys: str) -> None:
    memo = session.lab(state).kept
    for key in keys:
        if key in state:
            memo[KEPT + key] = state[key]
