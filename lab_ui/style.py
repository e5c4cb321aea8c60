"""What the theme options of .streamlit/config.toml cannot set, as one small style sheet every page gets (app.py):

- the code highlighting: Streamlit 1.67 colours Prism's tokens from a fixed palette (comments #808495, numbers #29b09d,
  strings #09ab3b: 2.5:1 to 3.6:1 on the code background), so these colours bring every token to WCAG AA's 4.5:1;
- code blocks on a phone wrap their long lines instead of scrolling sideways: a scrolled <pre> cannot take the keyboard's
  focus (axe-core's scrollable-region-focusable), and a wrapped line can be read without scrolling.

tests/app/test_contrast.py measures every colour here against the theme's backgrounds."""

from __future__ import annotations

import streamlit as st

# Prism's token classes -> their colour; each at least 4.5:1 on the code background and on the sidebar's background.
TOKEN_COLORS = {
    ("comment", "prolog", "doctype", "cdata", "punctuation"): "#57606a",
    ("keyword", "tag", "function", "class-name", "selector"): "#0550ae",
    ("string", "char", "attr-value", "inserted"): "#116329",
    ("number", "regex"): "#0a6b63",
    ("boolean", "constant", "symbol"): "#7a3e9d",
    ("operator", "entity", "decorator", "atrule"): "#953800",
    ("attr-name", "property", "variable"): "#0a5a8a",
    ("url",): "#6639ba",
    ("important", "deleted"): "#b42318",
}
NARROW = "640px"  # Streamlit's own "sm" breakpoint: below it the sidebar collapses and the layout is a phone's

STYLE = "\n".join(
    [
        *(f"{', '.join(f'.stCode pre .token.{name}' for name in names)} {{ color: {colour}; }}" for names, colour in TOKEN_COLORS.items()),
        f"@media (max-width: {NARROW}) {{",
        "  .stCode pre, .stCode pre code { white-space: pre-wrap !important; overflow-wrap: anywhere; }",
        "}",
    ]
)


def apply() -> None:
    """The style sheet, sent with each page (a <style>-only st.html takes no room on the page)."""
    st.html(f"<style>\n{STYLE}\n</style>")
