"""The recipe matrix as a table and an Altair heatmap (plain pandas/Altair; no Streamlit, no TensorFlow)."""

from __future__ import annotations

from collections.abc import Sequence

import altair as alt
import pandas as pd

from repro_core.experiments.matrix import RecipeResult
from repro_core.views.palette import verdict_scale
from repro_core.views.story import COL_SECONDS, short

COL_RECIPE, COL_MODEL, COL_RESEED, COL_ENGINE, COL_VERDICT = "recipe", "model", "reseed", "engine", "verdict"
COL_DELTA_BEFORE, COL_DELTA_AFTER = "max |Δ| before", "max |Δ| after"
COL_FINGERPRINTS = "fingerprints (before→after per rerun)"
MATRIX_COLUMNS = [COL_RECIPE, COL_MODEL, COL_RESEED, COL_ENGINE, COL_VERDICT, COL_DELTA_BEFORE, COL_DELTA_AFTER, COL_FINGERPRINTS, COL_SECONDS]


def matrix_frame(results: Sequence[RecipeResult]) -> pd.DataFrame:
    rows = [
        {
            COL_RECIPE: result.recipe.label,
            COL_MODEL: result.recipe.model,
            COL_RESEED: result.recipe.reseed,
            COL_ENGINE: result.recipe.engine,
            COL_VERDICT: result.verdict,
            COL_DELTA_BEFORE: float(result.max_delta_before),
            COL_DELTA_AFTER: float(result.max_delta_after),
            COL_FINGERPRINTS: " | ".join(f"{short(r.before_sha256)}→{short(r.after_sha256)}" for r in result.records),
            COL_SECONDS: float(result.seconds),
        }
        for result in results
    ]
    return pd.DataFrame(rows, columns=MATRIX_COLUMNS)


def matrix_heatmap(frame: pd.DataFrame) -> alt.LayerChart:
    data = frame.rename(columns={COL_DELTA_BEFORE: "delta_before", COL_DELTA_AFTER: "delta_after", COL_FINGERPRINTS: "fingerprints"})
    color = alt.Color(f"{COL_VERDICT}:N", scale=verdict_scale(list(data[COL_VERDICT])), legend=alt.Legend(title="verdict", orient="bottom"))
    base = alt.Chart(data).encode(
        x=alt.X(f"{COL_ENGINE}:N", title="engine", axis=alt.Axis(labelAngle=0, orient="top")),
        y=alt.Y(f"{COL_RECIPE}:N", title="model + reseed", sort=list(dict.fromkeys(data[COL_RECIPE]))),
    )
    tooltip = [
        *(alt.Tooltip(f"{column}:N", title=column) for column in (COL_RECIPE, COL_ENGINE, COL_VERDICT)),
        alt.Tooltip("delta_before:Q", title=COL_DELTA_BEFORE, format=".3g"),
        alt.Tooltip("delta_after:Q", title=COL_DELTA_AFTER, format=".3g"),
        alt.Tooltip("fingerprints:N", title="fingerprints"),
    ]
    cells = base.mark_rect(stroke="white", strokeWidth=2).encode(color=color, tooltip=tooltip)
    labels = base.mark_text(fontSize=13, color="white").encode(text=f"{COL_VERDICT}:N", tooltip=tooltip)
    return alt.layer(cells, labels).properties(height=max(60, 44 * data[COL_RECIPE].nunique()))
