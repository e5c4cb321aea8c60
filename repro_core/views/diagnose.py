"""A diagnosis as tables and charts (pandas/Altair), shared by the Your training page and `python -m repro_core diagnose`."""

from __future__ import annotations

import altair as alt
import pandas as pd

from repro_core.experiments.diagnose import STAGES, Diagnosis, Difference
from repro_core.views.chart_size import sized, title_lines
from repro_core.views.palette import ROLE_COLORS

SERIES = list(ROLE_COLORS.values())  # one colour per layer, in the palette's order

COL_LAYER, COL_MAX_ABS, COL_ULPS, COL_VALUES = "layer", "max |Δ|", "max ULPs", "values compared"
STAGE_WORDS = {
    "initial-weights": "the initial weights (before the first step)",
    "fit-inputs": "the data handed to fit",
    "training-step": "a training step",
    "final-weights": "the final weights (after the last step)",
}
assert set(STAGE_WORDS) == set(STAGES)


def verdict_line(found: Diagnosis) -> str:
    runs = f"{found.options.runs} runs" + (" in one kernel" if found.options.same_kernel else ", each in a fresh kernel")
    if found.repeats:
        return f"Repeats: {runs} gave bit-identical weights at every recorded point of every fit."
    return f"Differs: {runs} part first at {divergence_words(found)}."


def divergence_words(found: Diagnosis) -> str:
    d = found.divergence
    if d is None:
        return "nowhere"
    parts = [STAGE_WORDS[d.stage], f"fit {d.fit}"]
    if d.step is not None:
        parts.append(f"step {d.step}")
    if d.layer:
        parts.append(f"layer {d.layer}")
    if d.inputs:
        parts.append("input " + ", ".join(d.inputs))
    return ", ".join(parts)


def difference_frame(diff: Difference | None) -> pd.DataFrame:
    rows = [] if diff is None else diff.layers
    return pd.DataFrame([{COL_LAYER: r["layer"], COL_MAX_ABS: r["max_abs"], COL_ULPS: r["max_ulps"], COL_VALUES: r["values"]} for r in rows],
                        columns=[COL_LAYER, COL_MAX_ABS, COL_ULPS, COL_VALUES])  # fmt: skip


def growth_frame(diff: Difference | None) -> pd.DataFrame:
    rows = [] if diff is None else diff.growth
    return pd.DataFrame(rows, columns=["point", "step", "layer", "max_abs", "max_ulps"])


def growth_chart(diff: Difference, title: str = "") -> alt.Chart:
    """Each layer's largest |difference| (run 2 vs run 1) step by step from the first divergence, on a log scale (zeros are
    left out: a log axis has no zero). Step 0 is the initial weights; the last point, the final ones."""
    frame = growth_frame(diff)
    frame = frame[frame["max_abs"] > 0]
    layers = list(dict.fromkeys(frame["layer"]))
    colours = [SERIES[i % len(SERIES)] for i in range(len(layers))]
    chart = (
        alt.Chart(frame, title=title_lines(title) if title else alt.Undefined)
        .mark_line(point=True)
        .encode(
            x=alt.X("step:Q", title="training step (0: initial weights)"),
            y=alt.Y("max_abs:Q", title="largest |difference|", scale=alt.Scale(type="log")),
            color=alt.Color("layer:N", sort=layers, scale=alt.Scale(domain=layers, range=colours), legend=alt.Legend(orient="bottom")),
            tooltip=["layer", "step", alt.Tooltip("max_abs:Q", format=".3e"), alt.Tooltip("max_ulps:Q", format=",.0f")],
        )
    )
    return sized(chart, 260)


def runs_frame(found: Diagnosis) -> pd.DataFrame:
    rows = []
    for trace in found.traces:
        for index, fit in enumerate(trace.fits, start=1):
            prints = fit.fingerprints()
            rows.append({"run": trace.run, "fit": index, "steps": len(fit.steps), "initial": prints["initial"], "inputs": prints["inputs"],
                         "step weights": prints["step_weights"], "final": prints["final"], "seconds": round(trace.seconds, 2)})  # fmt: skip
    return pd.DataFrame(rows, columns=["run", "fit", "steps", "initial", "inputs", "step weights", "final", "seconds"])
