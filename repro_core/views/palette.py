"""The one palette of the lab's charts, keyed by a verdict's role (records.VERDICTS): Okabe and Ito's colours
(https://jfly.uni-koeln.de/color/) stay distinguishable with the common colour-vision deficiencies."""

from __future__ import annotations

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


def verdict_scale(present: list[str]) -> alt.Scale:
    """An Altair colour scale of the verdicts present only (a legend lists no verdict that does not occur)."""
    domain = [name for name in VERDICTS if name in present]
    return alt.Scale(domain=domain, range=[ROLE_COLORS[VERDICTS[name].role] for name in domain])
