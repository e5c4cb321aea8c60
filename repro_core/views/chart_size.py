"""How big a chart is, said once for every chart of the lab.

A chart states the height of its *plot area*, not of the whole figure: Streamlit's theme fits a Vega-Lite chart's title,
axis labels and legend into the height it is given (autosize "fit"), so a chart with long labels or a legend below kept
only a sliver for its marks (the rerun chart drew its sums in about 70 px of a 300 px figure). With autosize "fit-x" the
width still fits the page's column, and the height is the plot's own; the labels and legend add to it.

A plot must be readable at a phone's width too: `plot_width` is what is left for the marks once a y axis's labels and
title have taken their room, at the 358 px a 390 px wide phone gives a chart (the app's 16 px margins)."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence

import altair as alt

from repro_core.views.palette import LABEL_INK

MIN_PLOT = 100  # px: no plot area (height, or width on a phone) smaller than this
PHONE_CONTENT_WIDTH = 358  # px a chart is given on a 390 px wide phone
LINE_CHARS = 19  # an axis label's line length, so the labels leave the plot room on a phone
WRAPPED_LABEL_LIMIT = 120  # px for a wrapped label's line: LINE_CHARS characters at the theme's 12 px label font (about 5.5 px
# each, measured in Chromium), with room to spare; a phone keeps about 220 px of plot beside it
TITLE_CHARS = 30  # a chart title's line length: Streamlit's bold 16 px title (about 7.3 px a character) in a third of a
# desktop's page (Factory's columns, about 280 px, less the 40 px Streamlit keeps beside a title)
AUTOSIZE = {"type": "fit-x", "contains": "padding"}
DEFAULT_LABEL_LIMIT = 180  # Vega-Lite's own label limit (px), used when an axis sets none
AXIS_TITLE_BAND = 24  # px an axis title (one line, rotated beside a y axis) takes, with its padding
TICK_BAND = 12  # px of ticks and label padding beside the labels


def sized(chart, plot_height: int):
    """The chart with a plot area `plot_height` pixels tall and as wide as its column, its axis and legend texts in an ink
    that reads at WCAG AA."""
    framed = chart.properties(height=int(plot_height), autosize=alt.AutoSizeParams(**AUTOSIZE))
    return framed.configure_axis(labelColor=LABEL_INK, titleColor=LABEL_INK).configure_legend(labelColor=LABEL_INK, titleColor=LABEL_INK)


def title_lines(text: str, subtitle: list[str] | None = None) -> alt.TitleParams:
    """A chart title broken into lines that fit a phone or a narrow column (Vega cuts a long title short with an ellipsis)."""
    return alt.TitleParams(wrap_label(text, TITLE_CHARS), subtitle=subtitle or alt.Undefined, anchor="start")


def y_axis_band(axis: dict | None, titled: bool) -> int:
    """The most room (px) a y axis takes beside the plot: its labels' limit, ticks and padding, and its title. `axis` is the
    encoding's axis properties ({} for a default axis), None for no axis at all."""
    if axis is None:
        return 0
    if axis.get("labels") is False:
        labels = 0
    else:
        limit = axis.get("labelLimit", DEFAULT_LABEL_LIMIT)
        labels = DEFAULT_LABEL_LIMIT if not limit else int(limit)  # 0 means "no limit": count the default's room
    return labels + TICK_BAND + int(axis.get("labelPadding", 0)) + (AXIS_TITLE_BAND if titled else 0)


def plot_width(y_band: int, content_width: int = PHONE_CONTENT_WIDTH) -> int:
    """The plot's width once the y axis has taken `y_band` pixels of a column `content_width` wide."""
    return content_width - y_band


def wrap_label(text: str, width: int = LINE_CHARS) -> list[str]:
    """A label in lines of at most about `width` characters, broken at spaces; a longer word is broken after its dots
    (keras.utils. / set_random_seed)."""
    lines: list[str] = []
    for word in text.split():
        if len(word) > width:  # its own lines, one per dot-ended part that fits
            lines.append("")
            for part in re.findall(r"[^.]+\.?|\.", word):
                if lines[-1] and len(lines[-1]) + len(part) > width:
                    lines.append("")
                lines[-1] += part
        elif lines and len(lines[-1]) + 1 + len(word) <= width:
            lines[-1] += " " + word
        else:
            lines.append(word)
    return lines or [text]


def label_expr(labels: Sequence[str]) -> str:
    """A Vega labelExpr drawing each label on several lines (Vega draws an array as lines); others as they are."""
    cases = " : ".join(f"datum.label == {json.dumps(label)} ? {json.dumps(wrap_label(label), ensure_ascii=False)}" for label in labels)
    return f"{cases} : datum.label" if cases else "datum.label"
