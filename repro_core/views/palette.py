"""The one palette of the lab's charts, keyed by a verdict's role (records.VERDICTS): Okabe and Ito's colours
(https://jfly.uni-koeln.de/color/) stay distinguishable with the common colour-vision deficiencies. Every chart takes its
colours, text inks and symbols from here, so a test can check a spec against PALETTE."""

from __future__ import annotations

import json

import altair as alt

from repro_core.records import VERDICTS

ROLE_COLORS = {
    "good": "#0072B2",  # blue
    "bad": "#D55E00",  # vermillion
    "caution": "#E69F00",  # orange
    "neutral": "#56B4E9",  # sky blue
    "failed": "#CC79A7",  # reddish purple
    "missing": "#BBBBBB",  # grey
}
# Text drawn on a role's colour: whichever of white and black contrasts more, at least 4.5:1 (tests/app/test_contrast.py):
# white on blue 5.2:1, black on vermillion 5.4:1 (white there is 3.9:1) and on the light colours.
ROLE_INK = {"good": "#FFFFFF", "bad": "#000000", "caution": "#000000", "neutral": "#000000", "failed": "#000000", "missing": "#000000"}
# The second channel of a verdict: a symbol readable in a 12-pixel cell and without colour ("→": each rerun starts where
# the previous one ended). None of them is an emoji, so no font draws it in colours of its own.
ROLE_SYMBOLS = {"good": "✓", "bad": "→", "caution": "≠", "neutral": "1", "failed": "!", "missing": "–"}

BEFORE_COLOR, AFTER_COLOR = "#0072B2", "#E69F00"  # blue, orange: the rerun chart's two moments
INK, PAPER = "#000000", "#FFFFFF"  # hand-overs, rules and marker text; cell borders
# Axis and legend text: 7.8:1 on the page's background (Streamlit's chart theme draws them in #808495, 3.7:1, below WCAG AA).
LABEL_INK = "#4B5259"
COLOR_WORDS = {BEFORE_COLOR: "blue", AFTER_COLOR: "orange", INK: "black"}  # how texts name the colours charts draw
DIVERGING_SCHEME = "blueorange"  # a colour-blind-safe diverging scheme (Vega's blue-orange), centred on zero

PALETTE = frozenset({*ROLE_COLORS.values(), *ROLE_INK.values(), BEFORE_COLOR, AFTER_COLOR, INK, PAPER, LABEL_INK})


def verdict_domain(present: list[str]) -> list[str]:
    """The verdicts present, in VERDICTS order (a legend lists no verdict that does not occur)."""
    return [name for name in VERDICTS if name in present]


def verdict_scale(present: list[str]) -> alt.Scale:
    """An Altair colour scale of the verdicts present only."""
    domain = verdict_domain(present)
    return alt.Scale(domain=domain, range=[ROLE_COLORS[VERDICTS[name].role] for name in domain])


def ink_scale(present: list[str]) -> alt.Scale:
    """The text colour on each present verdict's cell."""
    domain = verdict_domain(present)
    return alt.Scale(domain=domain, range=[ROLE_INK[VERDICTS[name].role] for name in domain])


def verdict_symbol(name: str) -> str:
    return ROLE_SYMBOLS[VERDICTS[name].role] if name in VERDICTS else "?"


def relabel(labels: dict[str, str]) -> str:
    """A Vega labelExpr that shows each value as its label (JSON quoting keeps an apostrophe in a label safe)."""
    return "".join(f"datum.label == {json.dumps(value)} ? {json.dumps(label)} : " for value, label in labels.items()) + "datum.label"


def verdict_words(name: str) -> str:
    """A verdict as a legend or a cell names it: its symbol and headline ("→ drift, as a chain"), never its id."""
    return f"{verdict_symbol(name)} {VERDICTS[name].headline.lower()}" if name in VERDICTS else name


def verdict_legend_label(present: list[str]) -> str:
    """A Vega labelExpr that shows each verdict with its symbol ("✓ stable"), so the legend explains the cells' text."""
    return relabel({name: verdict_words(name) for name in verdict_domain(present)})


def verdict_legend(present: list[str], title: str | None = "verdict") -> alt.Legend:
    """The verdict legend of every heatmap: below the plot, one entry a line (a row of them outgrows a phone), no label cut."""
    return alt.Legend(title=title, orient="bottom", columns=1, labelExpr=verdict_legend_label(present), labelLimit=0)
