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


def _nodes(value):
    """Every dict in a Vega-Lite spec, depth first."""
    if isinstance(value, dict):
        yield value
        for item in value.values():
            yield from _nodes(item)
    elif isinstance(value, list):
        for item in value:
            yield from _nodes(item)


def field_values(frames: list[pd.DataFrame], field: str) -> set:
    return {value for frame in frames if field in frame.columns for value in frame[field].dropna()}


def check_chart(spec: dict, frames: list[pd.DataFrame], size: bool = True) -> None:
    """What issue 16 asks of every chart: each axis names every category its data holds and none it does not (a nominal
    axis carries its categories as an explicit sort); each colour legend lists only the categories present; every colour is
    one of the project's palette (palette.PALETTE, or its diverging scheme), none a Vega default. And issue 27: a plot area
    big enough to read (check_chart_size)."""
    from repro_core.views.palette import DIVERGING_SCHEME, PALETTE

    if size:
        check_chart_size(spec)

    palette = {colour.upper() for colour in PALETTE}
    for node in _nodes(spec):
        for channel in ("x", "y"):
            encoding = node.get(channel)
            if isinstance(encoding, dict) and encoding.get("type") == "nominal" and "field" in encoding:
                assert isinstance(encoding.get("sort"), list), f"{channel} {encoding['field']}: categories not named"
                assert set(encoding["sort"]) == field_values(frames, encoding["field"]), (channel, encoding["field"])
        encoding = node.get("color")
        if isinstance(encoding, dict) and "field" in encoding and encoding.get("type") == "nominal":
            scale = encoding.get("scale", {})
            assert "range" in scale and "domain" in scale, f"colour {encoding['field']}: a Vega default palette"
            assert set(scale["domain"]) == field_values(frames, encoding["field"]), encoding["field"]
        if isinstance(node.get("scheme"), str):
            assert node["scheme"] == DIVERGING_SCHEME, node["scheme"]
        for key in ("range", "color", "stroke", "fill", "value"):
            values = node.get(key) if isinstance(node.get(key), list) else [node.get(key)]
            for value in values:
                if isinstance(value, str) and value.startswith("#"):
                    assert value.upper() in palette, f"{key}: {value} is not in the palette"


def check_chart_size(spec: dict) -> None:
    """The chart's plot area is at least chart_size.MIN_PLOT pixels tall, and as wide on a 390 px phone: the chart states its
    plot's own height (autosize "fit-x": title, axes and legend add to it, instead of being fitted into it), and what its y
    axes may take beside the plot (label limit, ticks, title) leaves the marks MIN_PLOT pixels of a phone's width. A y axis
    label limit of 0 (none) counts as Vega-Lite's default limit; a wrapped label is counted at its limit. A title comes in
    lines short enough for a third of a desktop page (chart_size.title_lines)."""
    from repro_core.views.chart_size import AUTOSIZE, MIN_PLOT, PHONE_CONTENT_WIDTH, TITLE_CHARS, plot_width, y_axis_band

    assert spec.get("autosize") == AUTOSIZE, f"the chart's height is not its plot's own (autosize {spec.get('autosize')!r})"
    assert isinstance(spec.get("height"), int) and spec["height"] >= MIN_PLOT, f"plot area {spec.get('height')} px tall"
    bands = [y_axis_band(encoding.get("axis", {}), titled=encoding.get("title", encoding["field"]) is not None)
             for node in _nodes(spec) for encoding in [node.get("y")] if isinstance(encoding, dict) and "field" in encoding]  # fmt: skip
    width = plot_width(max(bands, default=0))
    assert width >= MIN_PLOT, f"{width} px of a {PHONE_CONTENT_WIDTH} px phone are left for the marks beside the y axis"
    title = spec.get("title", {})
    text = title.get("text", "") if isinstance(title, dict) else title
    lines = [text] if isinstance(text, str) else text
    assert all(len(line) <= TITLE_CHARS for line in lines), f"a title line Vega would cut short in a narrow column: {lines}"


CONTENT_BLOCKS = ("home_findings",)  # blocks whose alerts are page content (Home's findings), not messages about a click


def messages(at, kinds: tuple[str, ...] = ALERTS) -> list[str]:
    """The alerts of these kinds on the page and in the sidebar, leaving out page content drawn as alerts (CONTENT_BLOCKS)."""

    def visit(node):
        for child in getattr(node, "children", {}).values():
            if getattr(child, "key", None) in CONTENT_BLOCKS:
                continue
            if getattr(child, "type", None) in kinds:
                yield child.value
            yield from visit(child)

    return [*visit(at.main), *visit(at.sidebar)]


def lab_of(at):
    """The session's lab (lab_ui.session.LabState): its rows, settings, lanes and kept results."""
    from lab_ui import session

    return at.session_state[session.LAB]


def rows_of(at, scenario: str) -> list:
    """A scenario's rows as the lab holds them (every settings and kernel start), in the order they came."""
    return list(lab_of(at).rows.get(scenario, []))


def put_rows(at, records: list) -> None:
    """Put rows straight into the lab (nothing trains), each scenario's after any it has."""
    lab = lab_of(at)
    for record in records:
        lab.rows.setdefault(record.scenario, []).append(record)


def download(at, media: dict[str, bytes], key: str) -> str:
    """The data behind the keyed download button, as the browser would receive it."""
    buttons = [b for b in at.get("download_button") if b.proto.id.endswith(key) or getattr(b, "key", None) == key]
    assert len(buttons) == 1, [b.proto.id for b in at.get("download_button")]
    file_id = buttons[0].proto.url.rsplit("/", 1)[-1].split(".")[0]
    return media[file_id].decode("utf-8")
