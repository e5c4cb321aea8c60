"""The timeline as a heatmap, tables and sentences, each built from verdicts recomputed from the records."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass

import altair as alt
import pandas as pd

from repro_core.machine import machine_words
from repro_core.records import RunRecord, by_scenario, compare_records, format_sum
from repro_core.results.timeline import TimelineEntry, release_key
from repro_core.views.palette import INK, PAPER, ink_scale, verdict_legend_label, verdict_scale, verdict_symbol
from repro_core.views.story import records_frame, short
from repro_core.vocabulary import SCENARIOS, STORY_SCENARIOS, backend_release, engine_label

# Column names of the heatmap's data (F_COLUMN and F_SCENARIO are also the fields of the "cell" selection the page reads back).
F_COLUMN, F_SCENARIO, F_VERDICT = "column", "scenario", "verdict"
F_COLUMN_LABEL, F_SCENARIO_TITLE = "column_label", "scenario_title"  # what the axes show, in words
HEATMAP_FIELDS = [F_COLUMN, F_COLUMN_LABEL, "release", "engine", "source", F_SCENARIO, F_SCENARIO_TITLE, F_VERDICT, "symbol", "versions",
                  "rerun_1", "rerun_2", "error"]  # fmt: skip
SELECTION = "cell"
ROW_HEIGHT = 54  # pixels per scenario row of the heatmap: three lines of its label, and room around them
LABELS_HEIGHT = 200  # the vertical "TF 2.10 · Keras 2" labels and the legend
LINE_CHARS = 19  # a row label's line length, so the labels leave the grid room on a 390-pixel phone


FULL_SEED = "factory-full-seed"
TF_SEED = "factory-tf-seed"


def rerun_text(record: RunRecord) -> str:
    return f"{short(record.before_sha256)} ({format_sum(record.before_sum)}) → {short(record.after_sha256)} ({format_sum(record.after_sum)})"


def column_label(entry: TimelineEntry) -> str:
    """"TF 2.10 · Keras 2", or "Keras 3.15 · JAX" for a backend's column (and "· live" for the session's own column)."""
    if entry.keras_release:
        return entry.column  # a backend's column is named alike in the data and on the axis
    label = f"TF {entry.release} · {engine_label(entry.engine)}"
    return f"{label} · live" if entry.source == "live" else label


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


def cell_verdict(entry: TimelineEntry, scenario: str) -> str:
    """The recomputed verdict of one scenario in one report; "error" / "no records" when it has none."""
    return entry.report.verdicts().get(scenario) or ("error" if entry.report.error else "no-records")


def kernel_text(entry: TimelineEntry) -> str:
    """"TensorFlow 2.21.0 · Keras 3 3.15.1", "JAX 0.10.2 · Keras 3 3.15.1": what a column's kernel reported."""
    kernel = entry.report.kernel
    backend = str(kernel.get("backend") or entry.backend)
    version = str(kernel.get("backend_version") or (kernel.get("tensorflow", "") if backend == "tensorflow" else ""))
    return f"{backend_release(backend, version or '?')} · {engine_label(entry.engine)} {kernel.get('keras', '')}".strip()


def heatmap_frame(entries: Sequence[TimelineEntry]) -> pd.DataFrame:
    rows = []
    for entry in entries:
        grouped = by_scenario(entry.report.records)
        for scenario in STORY_SCENARIOS:
            records = grouped.get(scenario, [])
            rows.append(
                {
                    F_COLUMN: entry.column,
                    F_COLUMN_LABEL: column_label(entry),
                    "release": entry.release,
                    "engine": entry.engine,
                    "source": entry.source,
                    F_SCENARIO: scenario,
                    F_SCENARIO_TITLE: SCENARIOS[scenario].title,
                    F_VERDICT: (found := cell_verdict(entry, scenario)),
                    "symbol": verdict_symbol(found),
                    "versions": kernel_text(entry),
                    "rerun_1": rerun_text(records[0]) if records else "",
                    "rerun_2": rerun_text(records[1]) if len(records) > 1 else "",
                    "error": entry.report.error.splitlines()[0][:200] if entry.report.error else "",
                }
            )
    return pd.DataFrame(rows, columns=HEATMAP_FIELDS)


def timeline_heatmap(frame: pd.DataFrame) -> alt.LayerChart:
    """Columns "TF 2.10 · Keras 2" (live ones last), rows scenarios in words, colour and a symbol the verdict; click a cell
    to select it. Vertical column labels and wrapped row labels keep every label readable at 390 pixels."""
    pick = alt.selection_point(name=SELECTION, fields=[F_COLUMN, F_SCENARIO], on="click", clear="dblclick", empty=False)
    columns = list(dict.fromkeys(frame[F_COLUMN_LABEL]))
    rows = [SCENARIOS[name].title for name in STORY_SCENARIOS if name in set(frame[F_SCENARIO])]
    present = list(frame[F_VERDICT])
    base = alt.Chart(frame).encode(  # labelOverlap=False: every label is drawn; the angles and wrapping leave them room
        x=alt.X(f"{F_COLUMN_LABEL}:N", title="TensorFlow release · engine, then Keras · backend", sort=columns,
                axis=alt.Axis(labelAngle=-90, orient="top", labelLimit=200, labelOverlap=False, labelFontSize=10)),
        y=alt.Y(f"{F_SCENARIO_TITLE}:N", title=None, sort=rows,
                axis=alt.Axis(labelOverlap=False, labelExpr=label_expr(rows), labelFontSize=10, labelLimit=140)),
    )  # fmt: skip
    tooltip = [
        alt.Tooltip(f"{F_SCENARIO_TITLE}:N", title="scenario"),
        alt.Tooltip(f"{F_VERDICT}:N", title="verdict"),
        alt.Tooltip("versions:N", title="kernel"),
        alt.Tooltip("rerun_1:N", title="rerun 1"),
        alt.Tooltip("rerun_2:N", title="rerun 2"),
    ]
    legend = alt.Legend(title="verdict", orient="bottom", columns=2, labelExpr=verdict_legend_label(present))
    color = alt.Color(f"{F_VERDICT}:N", scale=verdict_scale(present), legend=legend)
    stroke = alt.condition(pick, alt.value(INK), alt.value(PAPER))
    cells = base.mark_rect(strokeWidth=1.5).encode(color=color, tooltip=tooltip, stroke=stroke).add_params(pick)
    symbols = base.mark_text(fontSize=11, fontWeight="bold").encode(
        text="symbol:N", color=alt.Color(f"{F_VERDICT}:N", scale=ink_scale(present), legend=None), tooltip=tooltip)  # fmt: skip
    # Streamlit fits the whole chart (column labels included) into this height, so it budgets for them.
    chart = alt.layer(cells, symbols).resolve_scale(color="independent")
    return chart.properties(height=ROW_HEIGHT * len(rows) + LABELS_HEIGHT)


def cell_rows(entries: Sequence[TimelineEntry], column: str, scenario: str) -> pd.DataFrame:
    """The rows behind one heatmap cell (every rerun's sums and fingerprints), as the other pages show them."""
    entry = next((e for e in entries if e.column == column), None)
    return records_frame(by_scenario(entry.report.records).get(scenario, []) if entry else [])


COL_SCENARIO = "scenario"


def live_rows(live: TimelineEntry) -> pd.DataFrame:
    """The live column's rows with the scenario of each in words (the table mixes four scenarios)."""
    records = [record for rows in by_scenario(live.report.records).values() for record in rows]
    frame = records_frame(records, with_kernel=True)
    frame.insert(0, COL_SCENARIO, [SCENARIOS[r.scenario].title if r.scenario in SCENARIOS else r.scenario for r in records])
    return frame


def provenance_frame(entries: Sequence[TimelineEntry]) -> pd.DataFrame:
    rows = [
        {
            "run": entry.column,
            "source": entry.source,
            "TensorFlow": entry.report.kernel.get("tensorflow", ""),
            "backend": kernel_text(entry).split(" · ")[0],
            "Keras": f"{entry.report.kernel.get('engine', '')} {entry.report.kernel.get('keras', '')}".strip(),
            "numpy": entry.report.kernel.get("numpy", ""),
            "Python": entry.report.kernel.get("python", ""),
            "platform": entry.report.machine.get("platform", ""),
            "CPU": entry.report.machine.get("cpu", ""),
            "date": entry.report.created,
            "lab commit": entry.report.lab_commit[:10],
            "error": entry.report.error.splitlines()[0][:200] if entry.report.error else "",
        }
        for entry in entries
    ]
    return pd.DataFrame(rows)


COMPARED_SETTINGS = ("seed", "reruns", "epochs", "batch_size", "learning_rate")


def live_agreement(live: TimelineEntry, entries: Sequence[TimelineEntry]) -> str:
    """Do the live fingerprints equal the recorded ones for the same release (or Keras and backend), engine and settings?"""
    def key(entry: TimelineEntry) -> tuple[str, str, str, str]:
        return entry.release, entry.engine, entry.backend, entry.keras_release

    twin = next((e for e in entries if e.source == "recorded" and key(e) == key(live)), None)
    if twin is None:
        return f"No recorded report for {column_label(live).removesuffix(' · live')} to compare the live fingerprints with."
    differ = [key for key in COMPARED_SETTINGS if live.report.settings.get(key) != twin.report.settings.get(key)]
    if differ:
        return f"Not compared with the recorded {twin.column}: the settings differ ({', '.join(differ)})."
    rows = compare_records(twin.report.records, live.report.records).rows
    same = sum(1 for row in rows if row.same)
    where = f"recorded with {kernel_text(twin)} on {twin.report.machine.get('cpu', '?')}"
    if rows and same == len(rows):
        return f"All {len(rows)} live reruns have the same fingerprints as the recorded {twin.column} ({where})."
    return f"{same} of {len(rows)} live reruns have the same fingerprints as the recorded {twin.column} ({where}); the others differ."


# -- what the reports say, in words ---------------------------------------------------------------------
@dataclass(frozen=True)
class Finding:
    """The two answers the page and the README lead with, computed from recorded reports."""

    first_stable: str  # earliest release where the article's fix is stable on every engine measured ("" if none)
    first_break: str  # first release after a stable one where it is not stable on some engine ("" if none)
    break_engines: tuple[str, ...]  # "engine: verdict" at that release
    stable_again: tuple[str, ...]  # "release engine" after the break where it is stable once more
    full_seed_runs: tuple[str, ...]  # "release engine" that have factory-full-seed records
    full_seed_failures: tuple[str, ...]  # "release engine: verdict" where it did not hold
    missing: tuple[str, ...]  # "release engine" with no records (install or run failed)


def find(entries: Sequence[TimelineEntry]) -> Finding:
    """Release by release: TensorFlow's release columns only (a backend's column is not a release)."""
    recorded = [e for e in entries if e.source == "recorded" and not e.keras_release]
    tf_seed: dict[str, list[tuple[str, str]]] = {}
    for entry in recorded:
        if (found := entry.report.verdicts().get(TF_SEED)) is not None:
            tf_seed.setdefault(entry.release, []).append((entry.engine, found))
    first_stable = first_break = ""
    break_engines: tuple[str, ...] = ()
    stable_again: list[str] = []
    for release in sorted(tf_seed, key=release_key):
        measured = tf_seed[release]
        all_stable = all(v == "stable" for _e, v in measured)
        if not first_stable and all_stable:
            first_stable = release
        elif first_stable and not first_break and not all_stable:
            first_break = release
            break_engines = tuple(f"{e}: {v}" for e, v in measured if v != "stable")
        elif first_break:
            stable_again.extend(f"{release} {e}" for e, v in measured if v == "stable")
    full_seed = [(e, e.report.verdicts().get(FULL_SEED)) for e in recorded]
    full_runs = tuple(f"{e.release} {e.engine}" for e, v in full_seed if v is not None)
    full_failures = tuple(f"{e.release} {e.engine}: {v}" for e, v in full_seed if v not in (None, "stable"))
    missing = tuple(f"{e.release} {e.engine}" for e in recorded if not e.report.records)
    return Finding(first_stable, first_break, break_engines, tuple(stable_again), full_runs, full_failures, missing)


def _span(releases: Sequence[str]) -> str:
    ordered = sorted(set(releases), key=release_key)
    return ordered[0] if len(ordered) == 1 else f"{ordered[0]} to {ordered[-1]}"


def timeline_caption(entries: Sequence[TimelineEntry]) -> str:
    recorded = [e for e in entries if e.source == "recorded" and not e.keras_release]
    if not recorded:
        return "No recorded reports."
    settings = {(e.report.settings.get("seed"), e.report.settings.get("reruns"), e.report.settings.get("epochs")) for e in recorded}
    how = "; ".join(f"seed {seed}, {reruns} reruns, {epochs} epochs" for seed, reruns, epochs in sorted(settings, key=str))
    return f"{len(recorded)} recorded reports, TensorFlow {_span([e.release for e in recorded])} ({how}). {measured_on(recorded)}"


def measured_on(entries: Sequence[TimelineEntry]) -> str:
    """Which machine measured the recorded reports, from the fingerprints they carry: one sentence. Digits depend on machine
    traits (oneDNN, threads, CPU features: the Another machine page), so a reader must know where they come from."""
    recorded = [e for e in entries if e.source == "recorded"]
    if not recorded:
        return ""
    groups: dict[str, list[TimelineEntry]] = {}
    for entry in recorded:
        groups.setdefault(machine_words(entry.report.machine) or "a machine the report does not name", []).append(entry)
    parts = []
    for where, members in groups.items():
        onednn = sorted({e.report.machine.get("onednn", "") for e in members} - {""})
        threads = sorted({e.report.machine.get("intra_op_threads", "0") for e in members} - {"", "0"})
        traits = ([f"TensorFlow ran with oneDNN {'/'.join(onednn)}"] if onednn else []) + (
            [f"{'/'.join(threads)} intra-op threads"] if threads else ["default threads"])
        cols = [e.column for e in members]
        which = "" if len(groups) == 1 else f" ({len(cols)} report(s): {', '.join(cols[:4])}{', ...' if len(cols) > 4 else ''})"
        parts.append(f"{where}, {', '.join(traits)}{which}")
    if len(parts) == 1:
        return f"Measured on one machine: {parts[0]}."
    return f"Measured on {len(parts)} machines, so their trained digits may differ by machine, not version: " + "; ".join(parts) + "."


def summary_sentence(entries: Sequence[TimelineEntry]) -> str:
    """Where the article's fix stops holding and whether keras.utils.set_random_seed always held, from the reports."""
    finding = find(entries)
    if not any(e.source == "recorded" for e in entries):
        return "No recorded reports yet: run `python -m timeline`."
    parts = []
    if finding.first_break:
        stable_again = ", ".join(finding.stable_again)
        later = f"; it is stable again on {stable_again}" if stable_again else "; it is not stable on any later release measured"
        parts.append(f"The article's fix (`{TF_SEED}`) is stable from TensorFlow {finding.first_stable} and first stops being stable on "
                     f"TensorFlow **{finding.first_break}** ({', '.join(finding.break_engines)}){later}.")
    elif finding.first_stable:
        parts.append(f"The article's fix (`{TF_SEED}`) is stable on every release measured from TensorFlow {finding.first_stable}.")
    else:
        parts.append(f"The article's fix (`{TF_SEED}`) is not stable on any release measured.")
    span = _span([run.split()[0] for run in finding.full_seed_runs]) if finding.full_seed_runs else ""
    if not finding.full_seed_runs:
        parts.append(f"No report has `{FULL_SEED}` records.")
    elif finding.full_seed_failures:
        parts.append(f"`keras.utils.set_random_seed` (`{FULL_SEED}`) did **not** hold everywhere: {', '.join(finding.full_seed_failures)} "
                     f"(of {len(finding.full_seed_runs)} reports, TensorFlow {span}).")
    else:
        parts.append(f"`keras.utils.set_random_seed` (`{FULL_SEED}`) held on every release that has it: "
                     f"stable in all {len(finding.full_seed_runs)} reports (every engine), TensorFlow {span}.")
    if finding.missing:
        parts.append(f"No records (install or run failed) for: {', '.join(finding.missing)}.")
    return " ".join(parts)
