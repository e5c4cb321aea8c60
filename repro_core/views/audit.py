"""Tables and the heatmap of the "Your model" audit (plain pandas/Altair; no Streamlit, no TensorFlow)."""

from __future__ import annotations

from collections.abc import Sequence

import altair as alt
import pandas as pd

from repro_core.views.chart_size import sized, title_lines
from repro_core.views.palette import DIVERGING_SCHEME

COL_DELTA_BEFORE, COL_DELTA_AFTER = "max |Δ| before training", "max |Δ| after training"
PLOT_HEIGHT_MIN = 120  # pixels of plot area, whatever the legend and axes take


def layer_table(rows: Sequence[dict]) -> pd.DataFrame:
    """The in-kernel per-weight table: largest |difference| from rerun 1 over all reruns."""
    data = [
        {
            "layer": row["layer"],
            "weight": row["weight"],
            "shape": " × ".join(str(int(n)) for n in row["shape"]),
            COL_DELTA_BEFORE: float(row["max_abs_diff_before"]),
            COL_DELTA_AFTER: float(row["max_abs_diff_after"]),
            "identical": float(row["max_abs_diff_before"]) == 0.0 and float(row["max_abs_diff_after"]) == 0.0,
        }
        for row in rows
    ]
    return pd.DataFrame(data, columns=["layer", "weight", "shape", COL_DELTA_BEFORE, COL_DELTA_AFTER, "identical"])


def _ticks(count: int, most: int = 8) -> list[int]:
    """At most `most` evenly spaced tick values, so a 64-wide axis keeps readable labels on a phone."""
    step = max(1, -(-count // most))
    return list(range(0, count, step))


def diff_heatmap(matrix: Sequence[Sequence[float]], title: str = "") -> alt.Chart:
    """Rerun 2 minus rerun 1, cell by cell (row = input unit); a colour-blind-safe diverging scale centred on zero
    (all zero = one flat colour)."""
    cells = [{"input": i, "unit": j, "difference": float(value)} for i, row in enumerate(matrix) for j, value in enumerate(row)]
    frame = pd.DataFrame(cells, columns=["input", "unit", "difference"])
    largest = float(frame["difference"].abs().max()) if not frame.empty else 0.0
    domain = [-largest, largest] if largest > 0 else [-1.0, 1.0]
    rows, units = len(matrix), max((len(row) for row in matrix), default=0)
    chart = (
        alt.Chart(frame, title=title_lines(title) if title else alt.Undefined)
        .mark_rect()
        .encode(
            x=alt.X("unit:O", title="output unit", axis=alt.Axis(values=_ticks(units), labelAngle=0)),
            y=alt.Y("input:O", title="input (row)", axis=alt.Axis(values=_ticks(rows))),
            color=alt.Color("difference:Q", scale=alt.Scale(scheme=DIVERGING_SCHEME, domain=domain, domainMid=0),
                            legend=alt.Legend(title="rerun 2 − rerun 1", orient="bottom", format=".1e", gradientLength=220)),
            tooltip=["input", "unit", alt.Tooltip("difference:Q", format=".3e")],
        )  # fmt: skip
    )
    # The height is the plot area's own (Streamlit's default "fit" squeezed the plot, legend and axes into the height,
    # leaving a 4x8 kernel about 0 px of plot); views.chart_size says how, for every chart.
    return sized(chart, min(400, max(PLOT_HEIGHT_MIN, 18 * rows)))
