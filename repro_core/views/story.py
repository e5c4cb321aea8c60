"""The story pages' tables, charts and diffs (plain pandas and Altair, testable without Streamlit), built from run records."""

from __future__ import annotations

import difflib
from collections.abc import Sequence

import altair as alt
import pandas as pd

from repro_core.judgement import Judgement, RowSettings, judge
from repro_core.recipes import cells
from repro_core.recipes.settings import StoryParams
from repro_core.records import KernelVersions, RunRecord, format_sum
from repro_core.views.chart_size import sized, title_lines
from repro_core.views.palette import AFTER_COLOR, BEFORE_COLOR, COLOR_WORDS, INK
from repro_core.vocabulary import DEFAULT_BACKEND, backend_label, engine_label

SHA_CHARS = 12

# Column labels shown in every results table (browser tests look for these exact strings).
COL_KERNEL, COL_RERUN, COL_SECONDS, COL_SAME = "kernel start", "rerun", "seconds", "same as rerun 1"
COL_SETTINGS = "settings"
COL_BEFORE, COL_AFTER, COL_BEFORE_SHA, COL_AFTER_SHA = "before sum", "after sum", "before sha256", "after sha256"
TABLE_COLUMNS = [COL_RERUN, COL_BEFORE, COL_AFTER, COL_BEFORE_SHA, COL_AFTER_SHA, COL_SECONDS, COL_SAME]

SERIES_BEFORE, SERIES_AFTER, SERIES_HANDOVER = "before training", "after training", "after k → before k+1"
SERIES = [SERIES_BEFORE, SERIES_AFTER, SERIES_HANDOVER]
SERIES_COLORS = {SERIES_BEFORE: BEFORE_COLOR, SERIES_AFTER: AFTER_COLOR, SERIES_HANDOVER: INK}
SERIES_SHAPES = {SERIES_BEFORE: "circle", SERIES_AFTER: "square", SERIES_HANDOVER: "stroke"}  # the second channel
RESTART_LABEL = "kernel restarted"
RERUN_PLOT_HEIGHT = 220  # px of the plot area alone: axis titles and legend take room of their own (views/chart_size.py)

ARTICLE_LABEL = f"published in the article, TensorFlow {cells.ARTICLE_TF_VERSION}"


def short(sha: str) -> str:
    return sha[:SHA_CHARS]


def records_frame(rows: Judgement | Sequence[RunRecord], with_kernel: bool = False) -> pd.DataFrame:
    """The table of rows judged together: "same as rerun 1" is the judgement's (each row against its own group's first), and
    a settings column appears once the rows hold more than one settings."""
    found = rows if isinstance(rows, Judgement) else judge(rows)
    with_settings = len({group.settings for group in found.groups}) > 1
    frame = [
        {
            COL_SETTINGS: short_settings(RowSettings.of(record)),
            COL_KERNEL: int(record.kernel_start),
            COL_RERUN: int(record.rerun),
            COL_BEFORE: float(record.before_sum),
            COL_AFTER: float(record.after_sum),
            COL_BEFORE_SHA: short(record.before_sha256),
            COL_AFTER_SHA: short(record.after_sha256),
            COL_SECONDS: float(record.seconds),
            COL_SAME: same,
        }
        for record, same in zip(found.records, found.same_as_first, strict=True)
    ]
    columns = ([COL_SETTINGS] if with_settings else []) + ([COL_KERNEL] if with_kernel or with_settings else []) + TABLE_COLUMNS
    return pd.DataFrame(frame, columns=[COL_SETTINGS, COL_KERNEL, *TABLE_COLUMNS])[columns]


def short_settings(settings: RowSettings) -> str:
    """A table cell's settings: "seed 42 · 3 epochs · Keras 3" (the kernel's name is in the headline)."""
    seed = f"seed {settings.seed} · {settings.epochs} epochs" if settings.seed or settings.epochs else "not recorded"
    return f"{seed} · {engine_label(settings.engine)}"


SHAPE_WORDS = {"circle": "circles", "square": "squares", "stroke": "dashed segments"}


def chart_legend_words() -> str:
    """The rerun chart's marks in words, from the same colours and shapes it draws (a text can never describe other marks)."""
    before, after, handover = (f"{COLOR_WORDS[SERIES_COLORS[s]]} {SHAPE_WORDS[SERIES_SHAPES[s]]}" for s in SERIES)
    return (f"The {before} are the sum of all weights before training, the {after} after it. {handover[:1].upper()}{handover[1:]} "
            f"join the end of one rerun to the start of the next, drawn only where they hold bit-identical weights; a "
            f"{COLOR_WORDS[INK]} vertical line marks a kernel restart.")


def chart_frames(records: Sequence[RunRecord]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Long-form points (one per rerun and moment) and hand-over segments: only where after(k) is bit-identical to
    before(k+1) (a chain), so a segment always lies flat and never reads as movement."""
    points = [
        {"position": position, "kernel_start": int(record.kernel_start), "rerun": int(record.rerun), "series": series,
         "sum": float(value), "sum_text": format_sum(value), "sha256": short(sha)}
        for position, record in enumerate(records, start=1)
        for series, value, sha in ((SERIES_BEFORE, record.before_sum, record.before_sha256), (SERIES_AFTER, record.after_sum, record.after_sha256))
    ]  # fmt: skip
    handovers = [
        {"position": position, "next_position": position + 1, "series": SERIES_HANDOVER, "sum": float(a.after_sum),
         "sum_text": format_sum(a.after_sum), "sha256": short(a.after_sha256), "from_rerun": int(a.rerun), "to_rerun": int(b.rerun)}
        for position, (a, b) in enumerate(zip(records, records[1:], strict=False), start=1)
        if a.after_sha256 == b.before_sha256
    ]  # fmt: skip
    point_columns = ["position", "kernel_start", "rerun", "series", "sum", "sum_text", "sha256"]
    handover_columns = ["position", "next_position", "series", "sum", "sum_text", "sha256", "from_rerun", "to_rerun"]
    return pd.DataFrame(points, columns=point_columns), pd.DataFrame(handovers, columns=handover_columns)


def restart_frame(records: Sequence[RunRecord]) -> pd.DataFrame:
    """Where consecutive rows come from different kernel starts (whatever their numbers), half-way between them."""
    rows = [
        {"position": position + 0.5, "label": RESTART_LABEL, "from_start": int(a.kernel_start), "to_start": int(b.kernel_start)}
        for position, (a, b) in enumerate(zip(records, records[1:], strict=False), start=1)
        if a.kernel_start != b.kernel_start
    ]
    return pd.DataFrame(rows, columns=["position", "label", "from_start", "to_start"])


def rerun_chart(records: Sequence[RunRecord], title: str = "") -> alt.LayerChart:
    """Before (circles) and after (squares) sums per rerun; a flat dashed hand-over where rerun k+1 starts from rerun k's
    weights; a rule where the kernel restarted. The legend lists only the series drawn."""
    points, handovers = chart_frames(records)
    restarts = restart_frame(records)
    present = [SERIES_BEFORE, SERIES_AFTER] + ([SERIES_HANDOVER] if len(handovers) else [])
    pick = alt.selection_point(fields=["series"], bind="legend", name="series_pick")
    legend = alt.Legend(title="click to highlight", orient="bottom", labelLimit=0, columns=1)  # one a line: fits a narrow column
    color = alt.Color("series:N", scale=alt.Scale(domain=present, range=[SERIES_COLORS[s] for s in present]), legend=legend)
    shape = alt.Shape("series:N", scale=alt.Scale(domain=present, range=[SERIES_SHAPES[s] for s in present]), legend=legend)
    opacity = alt.condition(pick, alt.value(1.0), alt.value(0.15))
    x_scale = alt.Scale(domain=[0.5, max(len(records), 1) + 0.5], nice=False)
    x = alt.X("position:Q", axis=alt.Axis(title="rerun (in table order)", tickMinStep=1, format="d"), scale=x_scale)
    y = alt.Y("sum:Q", title="sum of all weights", scale=alt.Scale(zero=False))
    point_tooltip = [
        alt.Tooltip("kernel_start:Q", title="kernel start"),
        alt.Tooltip("rerun:Q", title="rerun"),
        alt.Tooltip("series:N", title="moment"),
        alt.Tooltip("sum_text:N", title="sum"),
        alt.Tooltip("sha256:N", title=f"sha256 (first {SHA_CHARS})"),
    ]
    lines = alt.Chart(points).mark_line(strokeWidth=1.5).encode(x=x, y=y, color=color,
                                                               detail="kernel_start:N", opacity=opacity)  # fmt: skip
    dots = alt.Chart(points).mark_point(size=80, filled=True).encode(x=x, y=y, color=color, shape=shape, opacity=opacity, tooltip=point_tooltip)
    layers: list[alt.Chart] = [lines, dots.add_params(pick)]
    if len(handovers):
        layers.insert(0, alt.Chart(handovers).mark_rule(strokeDash=[5, 4], strokeWidth=2).encode(
            x=x, x2="next_position:Q", y=y, color=color, opacity=opacity,
            tooltip=[alt.Tooltip("from_rerun:Q", title="after rerun"), alt.Tooltip("to_rerun:Q", title="= before rerun"),
                     alt.Tooltip("sum_text:N", title="sum"), alt.Tooltip("sha256:N", title=f"sha256 (first {SHA_CHARS})")],
        ))  # fmt: skip
    if len(restarts):
        marker = alt.Chart(restarts).encode(x=x)
        layers.append(marker.mark_rule(color=INK, strokeWidth=1.5).encode(tooltip=[alt.Tooltip("label:N", title="kernel")]))
        layers.append(marker.mark_text(color=INK, align="left", dx=4, dy=-4, baseline="top", fontSize=11).encode(
            y=alt.value(0), text="label:N"))  # fmt: skip
    chart = sized(alt.layer(*layers), RERUN_PLOT_HEIGHT)
    return chart.properties(title=title_lines(title)) if title else chart


def headline(found: Judgement) -> str:
    """The one sentence a results view, Home and the command line give for a judgement: the outcome, which weights repeated,
    and the settings and rows it judged."""
    outcome = found.outcome
    text = f"**{outcome.headline}**: {outcome.meaning}."
    if found.newest is None:
        return text
    if found.restart is not None:
        text += f" Compared with it, the first run after the restart: {found.repeats.words}."
    elif found.repeats.words:
        text += f" Against rerun 1: {found.repeats.words[:1].upper()}{found.repeats.words[1:]}."
    return f"{text} {judged_on(found)}"


def judged_on(found: Judgement) -> str:
    """What the headline judged, e.g. "Rows judged: 3 reruns, kernel start #4, seed 42, 3 epochs, Keras 3 on TensorFlow 2.21.0
    (kernel lab-python)."""
    group = found.newest
    if group is None:
        return ""
    count = f"{len(group.records)} rerun{'s' if len(group.records) != 1 else ''}"
    return f"Rows judged: {count}, {group.where}, {group.settings.label}."


def article_reference_frame(scenario: str) -> pd.DataFrame:
    """The article's published checksums for a scenario (reference only, never live values)."""
    figures = cells.ARTICLE_FIGURES.get(scenario, [])
    return pd.DataFrame(
        [{COL_RERUN: index, COL_BEFORE: before, COL_AFTER: after} for index, (before, after) in enumerate(figures, start=1)],
        columns=[COL_RERUN, COL_BEFORE, COL_AFTER],
    )


def article_diff(params: StoryParams | None = None) -> str:
    """Unified diff from the article's factory cell to the lab's factory-tf-seed cell."""
    ours = cells.scenario_cell("factory-tf-seed", params or StoryParams())
    lines = difflib.unified_diff(
        cells.ARTICLE_FACTORY_CELL.splitlines(keepends=True),
        ours.splitlines(keepends=True),
        fromfile=f"article cell (TensorFlow {cells.ARTICLE_TF_VERSION})",
        tofile="lab cell (factory + tf.random.set_seed)",
    )
    return "".join(lines)


def settings_label(params: StoryParams, versions: KernelVersions | None = None) -> str:
    """The settings rows were made with; the engine (and backend) the kernel reported (`versions`) once it has run."""
    engine = versions.engine if versions is not None else params.engine
    backend = versions.backend if versions is not None else params.backend
    on = "" if backend == DEFAULT_BACKEND else f" on {backend_label(backend)}"
    return f"seed {params.seed}, {params.epochs} epochs, {engine_label(engine)}{on}"
