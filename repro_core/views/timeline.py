"""The timeline as a heatmap, tables and sentences, each built from verdicts recomputed from the records."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import altair as alt
import pandas as pd

from repro_core.machine import machine_words, trait_differences
from repro_core.records import VERDICTS, RunRecord, by_scenario, compare_records, format_sum
from repro_core.results.timeline import TimelineEntry, release_key
from repro_core.views.chart_size import WRAPPED_LABEL_LIMIT, label_expr, sized
from repro_core.views.palette import INK, PAPER, ink_scale, verdict_legend, verdict_scale, verdict_symbol, verdict_words
from repro_core.views.story import records_frame, short
from repro_core.vocabulary import SCENARIOS, STORY_SCENARIOS, backend_label, backend_release, engine_label, keras_release

# Column names of the heatmap's data (F_COLUMN and F_SCENARIO are also the fields of the "cell" selection the page reads back).
F_COLUMN, F_SCENARIO, F_VERDICT = "column", "scenario", "verdict"
F_COLUMN_LABEL, F_SCENARIO_TITLE = "column_label", "scenario_title"  # what the axes show, in words
F_VERDICT_WORDS = "verdict_words"  # the verdict as the legend says it ("→ drift, as a chain"), for the tooltip
HEATMAP_FIELDS = [F_COLUMN, F_COLUMN_LABEL, "release", "engine", "source", F_SCENARIO, F_SCENARIO_TITLE, F_VERDICT, F_VERDICT_WORDS, "symbol",
                  "versions", "rerun_1", "rerun_2", "error"]  # fmt: skip
SELECTION = "cell"
ROW_HEIGHT = 54  # pixels per scenario row of the heatmap: three lines of its label, and room around them


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


def cell_verdict(entry: TimelineEntry, scenario: str) -> str:
    """The recomputed verdict of one scenario in one report; "error" / "no records" when it has none."""
    return entry.report.verdicts().get(scenario) or ("error" if entry.report.error else "no-records")


def kernel_text(entry: TimelineEntry) -> str:
    """"TensorFlow 2.21.0 · Keras 3.15.1", "JAX 0.10.2 · Keras 3.15.1": what a column's kernel reported."""
    kernel = entry.report.kernel
    backend = str(kernel.get("backend") or entry.backend)
    version = str(kernel.get("backend_version") or (kernel.get("tensorflow", "") if backend == "tensorflow" else ""))
    return f"{backend_release(backend, version or '?')} · {keras_release(entry.engine, kernel.get('keras', ''))}"


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
                    F_VERDICT_WORDS: verdict_words(found),
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
        x=alt.X(f"{F_COLUMN_LABEL}:N", title=["TensorFlow release · engine,", "then Keras · backend"], sort=columns,
                axis=alt.Axis(labelAngle=-90, orient="top", labelLimit=0, labelOverlap=False, labelFontSize=10)),
        y=alt.Y(f"{F_SCENARIO_TITLE}:N", title=None, sort=rows,
                axis=alt.Axis(labelOverlap=False, labelExpr=label_expr(rows), labelFontSize=10, labelLimit=WRAPPED_LABEL_LIMIT)),
    )  # fmt: skip
    tooltip = [
        alt.Tooltip(f"{F_SCENARIO_TITLE}:N", title="scenario"),
        alt.Tooltip(f"{F_VERDICT_WORDS}:N", title="verdict"),
        alt.Tooltip("versions:N", title="kernel"),
        alt.Tooltip("rerun_1:N", title="rerun 1"),
        alt.Tooltip("rerun_2:N", title="rerun 2"),
    ]
    legend = verdict_legend(present)
    color = alt.Color(f"{F_VERDICT}:N", scale=verdict_scale(present), legend=legend)
    stroke = alt.condition(pick, alt.value(INK), alt.value(PAPER))
    cells = base.mark_rect(strokeWidth=1.5).encode(color=color, tooltip=tooltip, stroke=stroke).add_params(pick)
    symbols = base.mark_text(fontSize=11, fontWeight="bold").encode(
        text="symbol:N", color=alt.Color(f"{F_VERDICT}:N", scale=ink_scale(present), legend=None), tooltip=tooltip)  # fmt: skip
    return sized(alt.layer(cells, symbols).resolve_scale(color="independent"), ROW_HEIGHT * len(rows))


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
    where = f"recorded with {kernel_text(twin)} on {machine_words(twin.report.machine) or twin.report.machine.get('cpu', '?')}"
    if rows and same == len(rows):
        return f"All {len(rows)} live reruns have the same fingerprints as the recorded {twin.column} ({where})."
    traits = [trait.replace(" in A", " recorded").replace(" in B", " live").replace("A has", "the recorded machine has")
              .replace("B has", "the live one has").replace("A lacks", "the recorded one lacks").replace("B lacks", "the live one lacks")
              for trait in trait_differences(twin.report.machine, live.report.machine)]  # fmt: skip
    why = f" The machines' traits differ ({'; '.join(traits)}), which can change the bits: see Another machine." if traits else ""
    return f"{same} of {len(rows)} live reruns have the same fingerprints as the recorded {twin.column} ({where}); the others differ.{why}"


# -- what the reports say, in words ---------------------------------------------------------------------
@dataclass(frozen=True)
class Finding:
    """The two answers the page and the README (and docs/timeline.md) lead with, computed from recorded reports. Releases
    and engines are kept as values ("2.10", "keras2"); summary_sentence puts them into words."""

    first_stable: str  # earliest release where the article's fix is stable on every engine measured ("" if none)
    first_break: str  # first release after a stable one where it is not stable on some engine ("" if none)
    break_engines: tuple[tuple[str, str], ...]  # (engine, verdict) at that release, for the engines where it is not stable
    stable_again: tuple[tuple[str, str], ...]  # (release, engine) after the break where it is stable once more
    full_seed_runs: tuple[tuple[str, str], ...]  # (release, engine) that have factory-full-seed records
    full_seed_failures: tuple[tuple[str, str, str], ...]  # (release, engine, verdict) where it did not hold
    missing: tuple[tuple[str, str], ...]  # (release, engine) with no records (install or run failed)
    stable_releases: tuple[str, ...] = ()  # the releases from first_stable up to the break, stable on every engine
    newest: str = ""  # the newest release measured


def find(entries: Sequence[TimelineEntry]) -> Finding:
    """Release by release: TensorFlow's release columns only (a backend's column is not a release)."""
    recorded = [e for e in entries if e.source == "recorded" and not e.keras_release]
    tf_seed: dict[str, list[tuple[str, str]]] = {}
    for entry in recorded:
        if (found := entry.report.verdicts().get(TF_SEED)) is not None:
            tf_seed.setdefault(entry.release, []).append((entry.engine, found))
    first_stable = first_break = ""
    break_engines: tuple[tuple[str, str], ...] = ()
    stable_again: list[tuple[str, str]] = []
    stable_releases: list[str] = []
    for release in sorted(tf_seed, key=release_key):
        measured = tf_seed[release]
        all_stable = all(v == "stable" for _e, v in measured)
        if not first_break and all_stable:
            first_stable = first_stable or release
            stable_releases.append(release)
        elif first_stable and not first_break:
            first_break = release
            break_engines = tuple((e, v) for e, v in measured if v != "stable")
        elif first_break:
            stable_again.extend((release, e) for e, v in measured if v == "stable")
    full_seed = [(e, e.report.verdicts().get(FULL_SEED)) for e in recorded]
    full_runs = tuple((e.release, e.engine) for e, v in full_seed if v is not None)
    full_failures = tuple((e.release, e.engine, v) for e, v in full_seed if v not in (None, "stable"))
    missing = tuple((e.release, e.engine) for e in recorded if not e.report.records)
    newest = max(tf_seed, key=release_key) if tf_seed else ""
    return Finding(first_stable, first_break, break_engines, tuple(stable_again), full_runs, full_failures, missing,
                   tuple(stable_releases), newest)  # fmt: skip


def _on(release: str, engine: str) -> str:
    """"TensorFlow 2.10 with Keras 2"."""
    return f"TensorFlow {release} with {engine_label(engine)}"


def _verdict(name: str) -> str:
    return VERDICTS[name].headline.lower() if name in VERDICTS else name


def _span(releases: Sequence[str]) -> str:
    ordered = sorted(set(releases), key=release_key)
    return ordered[0] if len(ordered) == 1 else f"{ordered[0]} to {ordered[-1]}"


def timeline_caption(entries: Sequence[TimelineEntry]) -> str:
    """What the heatmap's columns are, counted so the numbers agree with Home's: one column per recorded report (a TensorFlow
    release with one engine, or Keras on one backend), then the live one."""
    recorded = [e for e in entries if e.source == "recorded" and not e.keras_release]
    if not recorded:
        return "No recorded reports."
    settings = {(e.report.settings.get("seed"), e.report.settings.get("reruns"), e.report.settings.get("epochs")) for e in recorded}
    how = "; ".join(f"seed {seed}, {reruns} reruns, {epochs} epochs" for seed, reruns, epochs in sorted(settings, key=str))
    releases = {e.release for e in recorded}
    backends = [e for e in entries if e.source == "recorded" and e.keras_release]
    live = [e for e in entries if e.source != "recorded"]
    parts = [f"{len(recorded)} for TensorFlow {_span(list(releases))} ({len(releases)} releases, each with every engine it offers)"]
    if backends:
        keras = " and ".join(sorted({e.keras_release for e in backends}))
        parts.append(f"{len(backends)} for Keras {keras} on {', '.join(backend_label(e.backend) for e in backends)}")
    if live:
        parts.append(f"{len(live)} live")
    total = len(recorded) + len(backends) + len(live)
    return f"{total} columns, one per report: {'; '.join(parts)}. Recorded with {how}. {measured_on(recorded + backends)}"


ARTICLE_FIX_WORDS = "The article's fix (a factory and `tf.random.set_seed`)"


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
    """Where the article's fix stops holding and whether keras.utils.set_random_seed always held, from the reports, with
    both ends of every span named ("stable on TensorFlow 2.9, and on no engine of TensorFlow 2.10 to 2.21")."""
    finding = find(entries)
    if not any(e.source == "recorded" for e in entries):
        return "No recorded reports yet: run `python -m timeline`."
    parts = []
    if finding.first_break:
        how = ", ".join(f"{_verdict(v)} with {engine_label(e)}" for e, v in finding.break_engines)
        if finding.stable_again:
            again = ", ".join(_on(release, engine) for release, engine in finding.stable_again)
            broken = f"not on TensorFlow **{finding.first_break}** ({how}); it is stable again on {again}"
        else:
            until = f" to {finding.newest}" if finding.newest != finding.first_break else ""
            broken = f"on no engine of TensorFlow **{finding.first_break}**{until} ({finding.first_break}: {how})"
        parts.append(f"{ARTICLE_FIX_WORDS} is stable on TensorFlow {_span(finding.stable_releases)}, and {broken}.")
    elif finding.first_stable:
        parts.append(f"{ARTICLE_FIX_WORDS} is stable on every release measured, TensorFlow {_span(finding.stable_releases)}.")
    else:
        parts.append(f"{ARTICLE_FIX_WORDS} is not stable on any release measured.")
    span = _span([release for release, _engine in finding.full_seed_runs]) if finding.full_seed_runs else ""
    if not finding.full_seed_runs:
        parts.append("No report has rows of the factory with `keras.utils.set_random_seed`.")
    elif finding.full_seed_failures:
        failed = ", ".join(f"{_on(release, engine)}: {_verdict(v)}" for release, engine, v in finding.full_seed_failures)
        parts.append(f"`keras.utils.set_random_seed` did **not** hold everywhere: {failed} (of {len(finding.full_seed_runs)} reports, "
                     f"TensorFlow {span}).")  # fmt: skip
    else:
        parts.append(f"`keras.utils.set_random_seed` held on every release that has it: stable in all {len(finding.full_seed_runs)} "
                     f"reports (every engine), TensorFlow {span}.")  # fmt: skip
    if finding.missing:
        parts.append(f"No records (install or run failed) for: {', '.join(_on(release, engine) for release, engine in finding.missing)}.")
    return " ".join(parts)
