"""The recipe matrix as a table and an Altair heatmap (plain pandas/Altair; no Streamlit, no TensorFlow)."""

from __future__ import annotations

from collections.abc import Sequence

import altair as alt
import pandas as pd

from repro_core.experiments.matrix import RecipeResult
from repro_core.records import ONE_RERUN, repeat_word
from repro_core.views.chart_size import WRAPPED_LABEL_LIMIT, label_expr, sized, title_lines
from repro_core.views.palette import PAPER, ink_scale, verdict_legend, verdict_scale, verdict_symbol, verdict_words
from repro_core.views.story import COL_SECONDS, short
from repro_core.vocabulary import DEFAULT_BACKEND, engine_label

COL_RECIPE, COL_MODEL, COL_RESEED, COL_ENGINE, COL_VERDICT = "recipe", "model", "reseed", "engine", "verdict"
COL_MACHINE = "machine"  # the machine setting (oneDNN, threads, ISA cap) it ran with
COL_WORDS, COL_SAME_AS = "model + reseed", "same fingerprints as"
COL_INITIAL, COL_TRAINED = "initial weights", "trained weights"
COL_DELTA_BEFORE, COL_DELTA_AFTER = "max |Δ| before", "max |Δ| after"
COL_FINGERPRINTS = "fingerprints (before→after per rerun)"
MATRIX_COLUMNS = [COL_RECIPE, COL_WORDS, COL_MODEL, COL_RESEED, COL_ENGINE, COL_MACHINE, COL_VERDICT, COL_INITIAL, COL_TRAINED, COL_SAME_AS,
                  COL_DELTA_BEFORE, COL_DELTA_AFTER, COL_FINGERPRINTS, COL_SECONDS]  # fmt: skip
ROW_HEIGHT = 58  # pixels per recipe row: room for its wrapped label, and in each cell the verdict's symbol over the two halves


def backend_of(result: RecipeResult) -> str:
    """The backend its kernel reported (the records say it; TensorFlow for a result without rows)."""
    return result.records[0].backend if result.records else DEFAULT_BACKEND


def words_of(result: RecipeResult) -> str:
    """"factory + random.seed + tf.random.set_seed": the recipe in code words, with its backend's own seed call."""
    return result.recipe.title_on(backend_of(result))


def halves_lines(initial: str, trained: str) -> tuple[str, str]:
    """The heatmap cell's two short lines under the verdict, from the table's two words (short: a phone's cell is narrow)."""
    return (ONE_RERUN, "") if initial == ONE_RERUN else (f"initial {initial}", f"trained {trained}")


def same_fingerprints(results: Sequence[RecipeResult]) -> list[str]:
    """Per result: the other recipes on its engine whose reruns have exactly its fingerprints (the matrix's best insight:
    a reseed that changes nothing), in words; "" when none."""
    def key(result: RecipeResult) -> tuple:
        return result.recipe.engine, result.machine, tuple(r.fingerprints for r in result.records)

    return ["; ".join(words_of(o) for o in results if o is not r and r.records and key(o) == key(r)) for r in results]


def matrix_frame(results: Sequence[RecipeResult]) -> pd.DataFrame:
    """One row per recipe. The verdict judges whole fingerprints; the initial/trained columns say which half repeated
    (records.repeats via RecipeResult.repeats: a reseed can fix the initial weights and still leave training to drift)."""
    rows = [
        {
            COL_RECIPE: result.recipe.label,
            COL_WORDS: words_of(result),
            COL_MODEL: result.recipe.model,
            COL_RESEED: result.recipe.reseed,
            COL_ENGINE: result.recipe.engine,
            COL_MACHINE: result.machine.words(),
            COL_VERDICT: result.verdict,
            COL_INITIAL: repeat_word(result.repeats.initial),
            COL_TRAINED: repeat_word(result.repeats.trained),
            COL_SAME_AS: same_as,
            COL_DELTA_BEFORE: float(result.max_delta_before),
            COL_DELTA_AFTER: float(result.max_delta_after),
            COL_FINGERPRINTS: " | ".join(f"{short(r.before_sha256)}→{short(r.after_sha256)}" for r in result.records),
            COL_SECONDS: float(result.seconds),
        }
        for result, same_as in zip(results, same_fingerprints(results), strict=True)
    ]
    return pd.DataFrame(rows, columns=MATRIX_COLUMNS)


def identical_lines(frame: pd.DataFrame) -> list[str]:
    """Per group of recipes with the same fingerprints: a heading with the engines where that holds, then one recipe a
    line (short lines: the chart's subtitle must fit a phone)."""
    groups: dict[tuple[str, ...], list[str]] = {}
    for words, same_as, column in zip(frame[COL_WORDS], frame[COL_SAME_AS], column_words(frame), strict=True):
        if same_as:
            group = tuple(sorted({words, *same_as.split("; ")}))
            if column not in groups.setdefault(group, []):
                groups[group].append(column)
    lines = []
    for group, engines in groups.items():
        lines += [f"Same fingerprints on {', '.join(engines)}:", group[0], *(f"= {words}" for words in group[1:])]
    return lines


def column_words(frame: pd.DataFrame) -> list[str]:
    """The heatmap's column per row: the engine, and the machine setting when the grid ran more than one."""
    machines = frame[COL_MACHINE] if COL_MACHINE in frame else [""] * len(frame)
    several = len(set(machines)) > 1
    return [f"{engine_label(e)} · {m}" if several else engine_label(e) for e, m in zip(frame[COL_ENGINE], machines, strict=True)]


def matrix_heatmap(frame: pd.DataFrame) -> alt.LayerChart:
    """Rows recipes in words, columns engines; colour and the symbol the legend explains give the verdict, two lines under it
    which half repeated; identical recipes are named in the subtitle."""
    data = frame.rename(columns={COL_DELTA_BEFORE: "delta_before", COL_DELTA_AFTER: "delta_after", COL_WORDS: "words", COL_SAME_AS: "same_as",
                                 COL_INITIAL: "initial", COL_TRAINED: "trained"})  # fmt: skip
    halves = [halves_lines(initial, trained) for initial, trained in zip(data["initial"], data["trained"], strict=True)]
    data = data.assign(engine_words=column_words(frame),
                       text=[verdict_symbol(v) for v in data[COL_VERDICT]], verdict_words=[verdict_words(v) for v in data[COL_VERDICT]],
                       initial_line=[h[0] for h in halves], trained_line=[h[1] for h in halves])  # fmt: skip
    present = list(data[COL_VERDICT])
    legend = verdict_legend(present)
    color = alt.Color(f"{COL_VERDICT}:N", scale=verdict_scale(present), legend=legend)
    rows = list(dict.fromkeys(data["words"]))
    x_title = "engine" if len(set(frame[COL_MACHINE])) < 2 else "engine · machine"
    base = alt.Chart(data).encode(
        x=alt.X("engine_words:N", title=x_title, sort=list(dict.fromkeys(data["engine_words"])), axis=alt.Axis(labelAngle=0, orient="top")),
        y=alt.Y("words:N", title="model + reseed", sort=rows,  # wrapped labels ("factory +" / "tf.random.set_seed"), none dropped
                axis=alt.Axis(labelOverlap=False, labelExpr=label_expr(rows), labelLimit=WRAPPED_LABEL_LIMIT, labelPadding=6)),
    )  # fmt: skip
    tooltip = [
        alt.Tooltip("words:N", title="recipe"),
        alt.Tooltip("engine_words:N", title="engine"),
        alt.Tooltip(f"{COL_MACHINE}:N", title="machine"),
        alt.Tooltip("verdict_words:N", title="verdict"),
        alt.Tooltip("initial:N", title=COL_INITIAL),
        alt.Tooltip("trained:N", title=COL_TRAINED),
        alt.Tooltip("same_as:N", title="same fingerprints as"),
        alt.Tooltip("delta_before:Q", title=COL_DELTA_BEFORE, format=".3g"),
        alt.Tooltip("delta_after:Q", title=COL_DELTA_AFTER, format=".3g"),
    ]
    cells = base.mark_rect(stroke=PAPER, strokeWidth=2).encode(color=color, tooltip=tooltip)
    ink = alt.Color(f"{COL_VERDICT}:N", scale=ink_scale(present), legend=None)
    labels = base.mark_text(fontSize=15, fontWeight="bold", dy=-13).encode(text="text:N", color=ink, tooltip=tooltip)  # the legend's symbol
    # Under the verdict, which half repeated: a drift that keeps its initial weights reads apart from one that does not.
    initial = base.mark_text(fontSize=10, dy=4).encode(text="initial_line:N", color=ink, tooltip=tooltip)
    trained = base.mark_text(fontSize=10, dy=16).encode(text="trained_line:N", color=ink, tooltip=tooltip)
    chart = alt.layer(cells, labels, initial, trained).resolve_scale(color="independent")
    subtitle = identical_lines(frame)
    # Always a title: alt.Undefined as a title fails Altair's schema check (a grid where no two recipes share fingerprints).
    title = title_lines("Verdict per recipe and engine", subtitle)
    return sized(chart, ROW_HEIGHT * max(1, len(rows))).properties(title=title)
