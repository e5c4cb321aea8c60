"""WCAG AA contrast (4.5:1 for text) of every colour the lab chooses: the theme of .streamlit/config.toml (with the 60 %
opacity Streamlit gives captions and help texts), the code highlighting of lab_ui/style.py, and the charts' text inks. The
browser tests' axe-core run measures the rendered pages (tests/browser/test_accessibility.py); this one needs no browser and
says which colour to change. The formulas are WCAG 2.2's: https://www.w3.org/TR/WCAG22/#dfn-contrast-ratio"""

from __future__ import annotations

from pathlib import Path

import pytest
import tomllib

from lab_ui import style
from repro_core.views import palette

THEME = tomllib.loads((Path(__file__).resolve().parents[2] / ".streamlit" / "config.toml").read_text())["theme"]
AA = 4.5
FADED = 0.6  # Streamlit's fadedText60: a caption, a help text, a widget's placeholder (and inline code in a caption)
PILL_TINT = 0.1  # a selected pill's background: the primary colour over the page at about this opacity


def rgb(colour: str) -> tuple[int, int, int]:
    text = colour.lstrip("#")
    return int(text[0:2], 16), int(text[2:4], 16), int(text[4:6], 16)


def luminance(colour: str) -> float:
    channels = [c / 255 for c in rgb(colour)]
    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(a: str, b: str) -> float:
    high, low = sorted((luminance(a), luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def over(colour: str, background: str, alpha: float) -> str:
    """`colour` at `alpha` opacity over `background`, as one opaque colour."""
    return "#" + "".join(f"{round(alpha * c + (1 - alpha) * b):02x}" for c, b in zip(rgb(colour), rgb(background), strict=True))


BACKGROUNDS = {name: THEME[name] for name in ("backgroundColor", "secondaryBackgroundColor", "codeBackgroundColor")}


def test_the_contrast_formula_matches_wcags_own_examples():
    assert contrast("#000000", "#FFFFFF") == pytest.approx(21.0)
    assert contrast("#767676", "#FFFFFF") == pytest.approx(4.54, abs=0.01)  # the lightest grey that passes on white
    assert contrast("#1f2933", over("#1f2933", "#fffdf8", FADED)) < AA  # and the caption: 4.03:1 before


@pytest.mark.parametrize("background", BACKGROUNDS)
def test_text_captions_and_inline_code_reach_aa_on_every_background(background):
    ground = BACKGROUNDS[background]
    for name in ("textColor", "codeTextColor"):
        assert contrast(THEME[name], ground) >= AA, (name, background)
        faded = over(THEME[name], ground, FADED)
        assert contrast(faded, ground) >= AA, f"{name} as a caption on {background}: {contrast(faded, ground):.2f}:1"


def test_primary_colour_reads_as_a_buttons_ground_and_as_a_selected_pills_text():
    primary = THEME["primaryColor"]
    assert contrast("#FFFFFF", primary) >= AA  # a primary button's label
    for ground in BACKGROUNDS.values():
        assert contrast(primary, ground) >= AA  # links, a selected tab
        assert contrast(primary, over(primary, ground, PILL_TINT)) >= AA  # a selected pill


@pytest.mark.parametrize("names", list(style.TOKEN_COLORS))
def test_every_code_token_colour_reaches_aa(names):
    colour = style.TOKEN_COLORS[names]
    for background in ("codeBackgroundColor", "secondaryBackgroundColor"):  # a code block in the page, and in the sidebar
        assert contrast(colour, THEME[background]) >= AA, (names, background, round(contrast(colour, THEME[background]), 2))


def test_chart_texts_reach_aa_on_what_they_are_drawn_on():
    for background in BACKGROUNDS.values():
        assert contrast(palette.LABEL_INK, background) >= AA  # axis labels, titles, legends
    for role, fill in palette.ROLE_COLORS.items():
        assert contrast(palette.ROLE_INK[role], fill) >= AA, f"the symbol on a {role} cell: {contrast(palette.ROLE_INK[role], fill):.2f}:1"
