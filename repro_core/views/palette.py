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
# Text drawn on a role's colour: white on the dark ones, black on the light ones (contrast, not decoration).
ROLE_INK = {"good": "#FFFFFF", "bad": "#FFFFFF", "caution": "#000000", "neutral": "#000000", "failed": "#000000", "missing": "#000000"}
# The second channel of a verdict: a symbol readable in a 12-pixel cell and without colour ("→": each rerun starts where
# the previous one ended). None of them is an emoji, so no font draws it in colours of its own.
ROLE_SYMBOLS = {"good": "✓", "bad": "→", "caution": "≠", "neutral": "1", "failed": "!", "missing": "–"}

BEFORE_COLOR, AFTER_COLOR = "#0072B2", "#E69F00"  # blue, orange: the rerun chart's two moments
INK, PAPER = "#000000", "#FFFFFF"  # hand-overs, rules and marker text; cell borders
COLOR_WORDS = {BEFORE_COLOR: "blue", AFTER_COLOR: "orange", INK: "black"}  # how texts name the colours charts draw
DIVERGING_SCHEME = "blueorange"  # a colour-blind-safe diverging scheme (Vega's blue-orange), centred on zero

PALETTE = frozenset({*ROLE_COLORS.values(), *ROLE_INK.values(), BEFORE_COLOR, AFTER_COLOR, INK, PAPER})


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


def verdict_legend_label(present: list[str]) -> str:
    """A Vega labelExpr that shows each verdict with its symbol ("✓ stable"), so the legend explains the cells' text."""
    return relabel({name: f"{verdict_symbol(name)} {name}" for name in verdict_domain(present)})
