"""The same questions on Keras 3's backends: which generator controls the initial and the trained weights on each, whether
the verdicts agree across backends, and whether the numbers do. Everything is computed from the backend reports' rows
(results.timeline: keras-<X.Y>-<backend>.json) or from a live column, never written in by hand."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import altair as alt
import pandas as pd

from repro_core.records import DIFFER, ONE_RERUN, REPEAT, VERDICTS, Repeats, by_scenario, format_sum, repeat_word, repeats
from repro_core.results.timeline import TimelineEntry
from repro_core.views.chart_size import WRAPPED_LABEL_LIMIT, label_expr, sized, title_lines
from repro_core.views.palette import PAPER, ink_scale, verdict_legend, verdict_scale, verdict_symbol, verdict_words
from repro_core.vocabulary import (
    BACKENDS,
    GENERATORS,
    RESEEDS,
    SCENARIOS,
    STORY_SCENARIOS,
    SWITCH_SCENARIOS,
    backend_label,
)

COL_RESEED, COL_BACKEND, COL_VERDICT = "reseed", "backend", "verdict"
COL_INITIAL, COL_TRAINED, COL_FIRST_SUMS = "initial weights", "trained weights", "rerun 1 sums (before → after)"
SWITCH_COLUMNS = [COL_RESEED, COL_BACKEND, COL_VERDICT, COL_INITIAL, COL_TRAINED, COL_FIRST_SUMS]
ROW_HEIGHT = 52  # px per reseed row: the cell's two lines, and a label of up to three lines beside it
COLUMN_LINES = "split(datum.label, ' · ')"  # a Vega labelExpr: "Keras 3.15 · TensorFlow" on two lines, never cut on a phone
FULL_SEED = "factory-full-seed"


def backend_columns(entries: Sequence[TimelineEntry]) -> list[TimelineEntry]:
    """The columns that are a Keras release on one backend (not a TensorFlow release), in the order given."""
    return [entry for entry in entries if entry.keras_release]


def generic_reseed(reseed: str) -> str:
    """A reseed in words that fit every backend: "random.seed + the backend's seed"."""
    found = RESEEDS[reseed]
    if found.everything or not found.generators:
        return found.code()
    return " + ".join("the backend's seed" if g == "backend" else GENERATORS[g].code for g in found.generators)


@dataclass(frozen=True)
class SwitchResult:
    """One seed switch (a factory-<reseed>-seed scenario) in one backend column."""

    column: str
    backend: str
    reseed: str
    verdict: str
    found: Repeats
    first_before: float | None
    first_after: float | None


def switch_results(entries: Sequence[TimelineEntry]) -> list[SwitchResult]:
    """Every seed switch each backend column holds rows for, reseeds in RESEEDS order within each column."""
    found = []
    for entry in backend_columns(entries):
        grouped, verdicts = by_scenario(entry.report.records), entry.report.verdicts()
        for name in SWITCH_SCENARIOS:
            rows = grouped.get(name, [])
            if rows:
                found.append(SwitchResult(entry.column, entry.backend, SCENARIOS[name].reseed, verdicts[name], repeats(rows),
                                          rows[0].before_sum, rows[0].after_sum))  # fmt: skip
    return found


def switches_frame(entries: Sequence[TimelineEntry]) -> pd.DataFrame:
    rows = [
        {
            COL_RESEED: RESEEDS[r.reseed].code(r.backend),
            COL_BACKEND: r.column,
            COL_VERDICT: r.verdict,
            COL_INITIAL: repeat_word(r.found.initial),
            COL_TRAINED: repeat_word(r.found.trained),
            COL_FIRST_SUMS: f"{format_sum(r.first_before)} → {format_sum(r.first_after)}",
        }
        for r in switch_results(entries)
    ]
    return pd.DataFrame(rows, columns=SWITCH_COLUMNS)


HALF_MARKS = {REPEAT: verdict_symbol("stable"), DIFFER: verdict_symbol("drift"), ONE_RERUN: verdict_symbol("single-run")}


def half_line(half: str, word: str) -> str:
    """One line of a switch chart's cell: "initial ✓" (repeated), "trained ≠" (differed)."""
    return f"{half} {HALF_MARKS[word]}"


def switches_legend_words() -> str:
    """What the switch chart's cells show, from the marks it draws."""
    repeat, differ = HALF_MARKS[REPEAT], HALF_MARKS[DIFFER]
    return (f"A cell's colour is the verdict of its reruns (the legend below the chart). Its two lines say which weights "
            f"repeated: {repeat} the initial (or trained) weights were bit-identical in every rerun, {differ} they differed. "
            "Hover a cell for the exact call it makes on that backend.")


def switches_chart(entries: Sequence[TimelineEntry]) -> alt.LayerChart:
    """Rows the reseeds (in words that fit every backend, wrapped), columns the backends; colour the verdict, and two short
    lines in each cell say apart whether the initial and the trained weights repeated. Narrow enough for a phone: every
    label is wrapped rather than cut, and a cell's two lines fit a third of a phone's plot."""
    results = switch_results(entries)
    data = pd.DataFrame(
        [{"reseed": generic_reseed(r.reseed), "code": RESEEDS[r.reseed].code(r.backend), "column": r.column, COL_VERDICT: r.verdict,
          "verdict_words": verdict_words(r.verdict), "initial_line": half_line("initial", repeat_word(r.found.initial)),
          "trained_line": half_line("trained", repeat_word(r.found.trained)),
          COL_INITIAL: repeat_word(r.found.initial), COL_TRAINED: repeat_word(r.found.trained)}
         for r in results],
        columns=["reseed", "code", "column", COL_VERDICT, "verdict_words", "initial_line", "trained_line", COL_INITIAL, COL_TRAINED],
    )  # fmt: skip
    present = list(data[COL_VERDICT])
    rows = list(dict.fromkeys(data["reseed"]))
    base = alt.Chart(data).encode(
        x=alt.X("column:N", title=None, sort=list(dict.fromkeys(data["column"])),
                axis=alt.Axis(labelAngle=0, orient="top", labelExpr=COLUMN_LINES, labelLimit=0, labelOverlap=False)),
        y=alt.Y("reseed:N", title=None, sort=rows,
                axis=alt.Axis(labelExpr=label_expr(rows), labelLimit=WRAPPED_LABEL_LIMIT, labelOverlap=False)),
    )  # fmt: skip
    tooltip = [alt.Tooltip("code:N", title="the cell calls"), alt.Tooltip("column:N", title="kernel"),
               alt.Tooltip("verdict_words:N", title="verdict"), alt.Tooltip(f"{COL_INITIAL}:N", title=COL_INITIAL),
               alt.Tooltip(f"{COL_TRAINED}:N", title=COL_TRAINED)]  # fmt: skip
    cells = base.mark_rect(stroke=PAPER, strokeWidth=2).encode(
        color=alt.Color(f"{COL_VERDICT}:N", scale=verdict_scale(present), legend=verdict_legend(present)), tooltip=tooltip)
    ink = alt.Color(f"{COL_VERDICT}:N", scale=ink_scale(present), legend=None)
    initial = base.mark_text(fontSize=11, dy=-7).encode(text="initial_line:N", color=ink, tooltip=tooltip)
    trained = base.mark_text(fontSize=11, dy=8).encode(text="trained_line:N", color=ink, tooltip=tooltip)
    chart = alt.layer(cells, initial, trained).resolve_scale(color="independent")
    return sized(chart, ROW_HEIGHT * max(1, len(rows))).properties(title=title_lines("What each rerun reseeds, backend by backend"))


# -- in words ------------------------------------------------------------------------------------------------
def _smallest(results: Sequence[SwitchResult], half: str) -> list[str]:
    """The reseeds with the fewest generators whose `half` ("initial" / "trained") repeated, keras.utils.set_random_seed
    counted only when nothing smaller does."""
    held = [r for r in results if getattr(r.found, half)]
    sets = [r for r in held if not RESEEDS[r.reseed].everything]
    if not sets:
        return [RESEEDS[r.reseed].code(r.backend) for r in held]
    fewest = min(len(RESEEDS[r.reseed].generators) for r in sets)
    return [RESEEDS[r.reseed].code(r.backend) for r in sets if len(RESEEDS[r.reseed].generators) == fewest]


def _either(codes: Sequence[str]) -> str:
    quoted = [f"`{code}`" for code in codes]
    return " or ".join(quoted) if quoted else "no reseed measured"


def controls_sentences(entries: Sequence[TimelineEntry]) -> list[str]:
    """Per backend column: the smallest reseed that repeats the initial weights, and the smallest that repeats the trained ones."""
    results = switch_results(entries)
    lines = []
    for column in dict.fromkeys(r.column for r in results):
        mine = [r for r in results if r.column == column]
        lines.append(f"**{column}**: the initial weights repeat with {_either(_smallest(mine, 'initial'))}; "
                     f"the trained weights with {_either(_smallest(mine, 'trained'))}.")  # fmt: skip
    return lines


def _verdict_split(verdicts: Sequence[dict[str, str]], names: Sequence[str]) -> tuple[list[str], list[str]]:
    """(scenarios every column's verdicts hold, those among them whose verdicts are not all the same)."""
    common = [name for name in names if all(name in v for v in verdicts)]
    return common, [name for name in common if len({v[name] for v in verdicts}) > 1]


def agreement_sentence(entries: Sequence[TimelineEntry]) -> str:
    """Do the backends' verdicts agree on the story's scenarios, which seed switches split them, and do their numbers agree?
    (The numbers: rerun 1 of keras.utils.set_random_seed, the same seed on each backend.)"""
    columns = backend_columns(entries)
    if len(columns) < 2:
        return "Fewer than two backends recorded: nothing to compare across backends."
    names = ", ".join(backend_label(e.backend) for e in columns)
    verdicts = [entry.report.verdicts() for entry in columns]  # recomputed from the rows: once per column
    common, differing = _verdict_split(verdicts, STORY_SCENARIOS)
    if differing:
        said = [f"On the story's scenarios the verdicts differ across {names} for {'; '.join(SCENARIOS[n].title for n in differing)}."]
    else:
        said = [f"On the story's {len(common)} scenarios the verdicts agree across {names}."]
    switches = [name for name in SWITCH_SCENARIOS if name not in STORY_SCENARIOS]
    common, differing = _verdict_split(verdicts, switches)
    if differing:
        labels = [backend_label(e.backend) for e in columns]
        split = "; ".join(f"{generic_reseed(SCENARIOS[n].reseed)}: " + ", ".join(f"{label} {VERDICTS[v[n]].headline.lower()}"
                                                                                   for label, v in zip(labels, verdicts, strict=True))
                          for n in differing)  # fmt: skip
        said.append(f"Of the other {len(common)} seed switches, {len(differing)} split them ({split}): a different generator "
                    "decides the trained weights on each.")  # fmt: skip
    elif common:
        said.append(f"So do the other {len(common)} seed switches.")
    firsts = [by_scenario(e.report.records).get(FULL_SEED, [None])[0] for e in columns]
    known = [(e, r) for e, r in zip(columns, firsts, strict=True) if r is not None]
    if len(known) >= 2:
        sums = ", ".join(f"{format_sum(r.before_sum)} on {backend_label(e.backend)}" for e, r in known)
        if len({r.fingerprints for _e, r in known}) == 1:
            said.append(f"With `keras.utils.set_random_seed` and the same seed they also give the same weights ({sums}).")
        else:
            said.append(f"The numbers differ: with `keras.utils.set_random_seed` and the same seed, rerun 1's initial weights sum to {sums}.")
    return " ".join(said)


def backends_measured(entries: Sequence[TimelineEntry]) -> str:
    """Which backends have a column, and which of the lab's backends have none (not recorded, or not provisioned)."""
    have = list(dict.fromkeys(backend_label(e.backend) for e in backend_columns(entries)))
    missing = [b.label for name, b in BACKENDS.items() if b.label not in have]
    tail = f"; no report for {', '.join(missing)}" if missing else ""
    return f"Backend reports: {', '.join(have) or 'none'}{tail}."
