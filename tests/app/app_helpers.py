"""Reading what the app rendered: keyed containers, banners, chart data."""

from __future__ import annotations

import json

import pandas as pd
from streamlit.dataframe_util import convert_arrow_bytes_to_pandas_df

ALERTS = ("success", "error", "warning", "info")


def find_block(node, key: str):
    """The block (e.g. st.container(key=...)) whose key is `key`, searched depth first."""
    for child in getattr(node, "children", {}).values():
        if getattr(child, "key", None) == key and getattr(child, "type", None) == "flex_container":
            return child
        found = find_block(child, key)
        if found is not None:
            return found
    return None


def walk(node):
    for child in getattr(node, "children", {}).values():
        yield child
        yield from walk(child)


def alerts(node) -> list[str]:
    return [child.value for child in walk(node) if getattr(child, "type", None) in ALERTS]


def elements(node, kind: str) -> list:
    return [child for child in walk(node) if getattr(child, "type", None) == kind]


def exceptions(at) -> list[str]:
    """Exceptions shown anywhere, the sidebar included."""
    return [e.value for e in at.exception] + [e.value for e in at.sidebar.exception]


def chart_data(chart) -> tuple[dict, list[pd.DataFrame]]:
    """The Vega-Lite spec and the datasets Streamlit shipped with it (Arrow IPC in the proto)."""
    spec = json.loads(chart.proto.spec)
    frames = [convert_arrow_bytes_to_pandas_df(dataset.data.data) for dataset in chart.proto.datasets]
    return spec, frames
