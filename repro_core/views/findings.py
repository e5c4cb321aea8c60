"""Home's three findings and their compact chart, computed from the committed reports (and the session's live rows
when it has them): a finding is one scenario's verdicts release by release, put into words; nothing here is asserted."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import altair as alt
import pandas as pd

from repro_core.records import VERDICTS
from repro_core.results.timeline import TimelineEntry, release_key
from repro_core.views.chart_size import sized
from repro_core.views.palette import PAPER, ink_scale, relabel, verdict_legend, verdict_scale, verdict_symbol
from repro_core.vocabulary import engine_label, engines_offered

# The three questions Home answers first, in the order a learner meets them in the notebook.
FINDING_SCENARIOS = ("global-model", "factory-tf-seed", "factory-full-seed")
QUESTIONS = {
    "global-model": "Re-run the global model's cell",
    "factory-tf-seed": "The article's fix: factory + tf.random.set_seed",
    "factory-full-seed": "Factory + keras.utils.set_random_seed",
}
ROW_LABELS = {"global-model": "global model", "factory-tf-seed": "article's fix", "factory-full-seed": "set_random_seed"}  # narrow
LIVE_COLUMN = "yours"
ROW_HEIGHT = 36  # px per question row: the three rows make a plot area over chart_size.MIN_PLOT
F_RELEASE, F_QUESTION, F_VERDICT, F_HEADLINE, F_ENGINE = "release", "question", "verdict", "verdict in words", "engine"


@dataclass(frozen=True)
class ReleaseVerdict:
    release: str
    verdicts: dict[str, str]  # engine -> verdict

    @property
    def verdict(self) -> str:
        """The release's verdict where its engines agree; otherwise the verdict of the Keras TensorFlow ships by default."""
        found = set(self.verdicts.values())
        if len(found) == 1:
            return found.pop()
        return self.verdicts.get(engines_offered(release_key(self.release))[0], sorted(found)[0])


@dataclass(frozen=True)
class HomeFinding:
    scenario: str
    question: str
    headline: str  # e.g. "Stable on TF 2.9; Drift from TF 2.10 to 2.21"
    verdict: str  # the newest release's verdict: what the finding is coloured by
    source: str  # which reports the sentence comes from
    live: str = ""  # what this session's own rows say, when it has them
    live_verdict: str = ""

    @property
    def role(self) -> str:
        return VERDICTS[self.verdict].role


def release_verdicts(entries: Sequence[TimelineEntry], scenario: str) -> list[ReleaseVerdict]:
    """One scenario's recomputed verdict on every recorded release and engine, oldest release first."""
    found: dict[str, dict[str, str]] = {}
    for entry in entries:
        if entry.source == "recorded" and (name := entry.report.verdicts().get(scenario)) is not None:
            found.setdefault(entry.release, {})[entry.engine] = name
    return [ReleaseVerdict(release, found[release]) for release in sorted(found, key=release_key)]


def _span(releases: Sequence[str]) -> str:
    return f"TF {releases[0]}" if len(releases) == 1 else f"TF {releases[0]} to {releases[-1]}"


def spans_sentence(measured: Sequence[ReleaseVerdict]) -> str:
    """Runs of equal verdicts in release order, in words: "Stable on TF 2.9; Drift from TF 2.10 to 2.21"."""
    if not measured:
        return "Not measured in any committed report"
    runs: list[tuple[str, list[str]]] = []
    for item in measured:
        if runs and runs[-1][0] == item.verdict:
            runs[-1][1].append(item.release)
        else:
            runs.append((item.verdict, [item.release]))
    if len(runs) == 1:
        return f"{VERDICTS[runs[0][0]].headline} on every release measured ({_span(runs[0][1])})"
    parts = [f"{VERDICTS[name].headline} {'on' if i == 0 or len(rel) == 1 else 'from'} {_span(rel)}" for i, (name, rel) in enumerate(runs)]
    return "; ".join(parts)


def home_findings(entries: Sequence[TimelineEntry], live: Mapping[str, tuple[str, str]] | None = None) -> list[HomeFinding]:
    """The three findings. `live`: scenario -> (verdict, "what produced it") from the session's own rows, if any."""
    recorded = [e for e in entries if e.source == "recorded"]
    releases = sorted({e.release for e in recorded}, key=release_key)
    source = f"{len(recorded)} committed reports on {len(releases)} TensorFlow releases ({_span(releases)})" if recorded else "no committed reports"
    findings = []
    for scenario in FINDING_SCENARIOS:
        measured = release_verdicts(entries, scenario)
        newest = measured[-1].verdict if measured else "no-records"
        live_verdict, live_text = (live or {}).get(scenario, ("", ""))
        findings.append(HomeFinding(scenario, QUESTIONS[scenario], spans_sentence(measured), newest, source,
                                    f"{VERDICTS[live_verdict].headline} in {live_text}" if live_verdict else "", live_verdict))  # fmt: skip
    return findings


def chart_caption(entries: Sequence[TimelineEntry], live: bool) -> str:
    """What the chart's columns are, counted the way the Across versions and backends page counts its own."""
    recorded = [e for e in entries if e.source == "recorded"]
    releases = {e.release for e in recorded}
    yours = f'; "{LIVE_COLUMN}" is this session\'s rows' if live else ""
    return (f"One column per TensorFlow release ({len(releases)}), each with the Keras it ships by default{yours}. The Across versions "
            f"and backends page shows each of the {len(recorded)} reports (every engine of every release) as a column of its own, "
            "and Keras 3 on JAX and PyTorch.")


def findings_frame(entries: Sequence[TimelineEntry], live: Mapping[str, tuple[str, str]] | None = None) -> pd.DataFrame:
    """One cell per (release, question); the live column last, when the session has rows."""
    rows = []
    for scenario in FINDING_SCENARIOS:
        for item in release_verdicts(entries, scenario):
            engines = ", ".join(f"{engine_label(e)}: {VERDICTS[v].headline}" for e, v in item.verdicts.items())
            rows.append({F_RELEASE: item.release, F_QUESTION: QUESTIONS[scenario], F_VERDICT: item.verdict,
                         F_HEADLINE: VERDICTS[item.verdict].headline, F_ENGINE: engines})  # fmt: skip
        if live and scenario in live:
            name, text = live[scenario]
            rows.append({F_RELEASE: LIVE_COLUMN, F_QUESTION: QUESTIONS[scenario], F_VERDICT: name,
                         F_HEADLINE: VERDICTS[name].headline, F_ENGINE: text})  # fmt: skip
    return pd.DataFrame(rows, columns=[F_RELEASE, F_QUESTION, F_VERDICT, F_HEADLINE, F_ENGINE])




def findings_chart(frame: pd.DataFrame) -> alt.LayerChart:
    """Releases across, the three questions down; narrow enough for a phone (short column labels, one letter-size mark)."""
    data = frame.assign(mark=[verdict_symbol(name) for name in frame[F_VERDICT]])  # a second channel beside colour
    columns = list(dict.fromkeys(data[F_RELEASE]))
    questions = [QUESTIONS[s] for s in FINDING_SCENARIOS if QUESTIONS[s] in set(data[F_QUESTION])]
    base = alt.Chart(data).encode(
        x=alt.X(f"{F_RELEASE}:N", sort=columns, title="TensorFlow release",
                axis=alt.Axis(orient="top", labelAngle=-90, labelOverlap=False, labelPadding=4)),  # fmt: skip
        y=alt.Y(f"{F_QUESTION}:N", sort=questions, title=None,
                axis=alt.Axis(labelOverlap=False, labelExpr=relabel({QUESTIONS[s]: ROW_LABELS[s] for s in FINDING_SCENARIOS}))),
        tooltip=[alt.Tooltip(f"{F_RELEASE}:N", title="release"), alt.Tooltip(f"{F_QUESTION}:N", title="cell"),
                 alt.Tooltip(f"{F_HEADLINE}:N", title="verdict"), alt.Tooltip(f"{F_ENGINE}:N", title="by engine")],  # fmt: skip
    )
    present = list(data[F_VERDICT])
    legend = verdict_legend(present, title=None)
    color = alt.Color(f"{F_VERDICT}:N", scale=verdict_scale(present), legend=legend)
    cells = base.mark_rect(stroke=PAPER, strokeWidth=1.5).encode(color=color)
    ink = alt.Color(f"{F_VERDICT}:N", scale=ink_scale(present), legend=None)
    marks = base.mark_text(fontSize=14, fontWeight="bold").encode(text="mark:N", color=ink)
    return sized(alt.layer(cells, marks).resolve_scale(color="independent"), ROW_HEIGHT * len(questions))
