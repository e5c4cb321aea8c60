"""What the theme options of .streamlit/config.toml cannot set, as one small style sheet every page gets (app.py):

- the code highlighting: Streamlit 1.67 colours Prism's tokens from a fixed palette (comments #808495, numbers #29b09d,
  strings #09ab3b: 2.5:1 to 3.6:1 on the code background), so these colours bring every token to WCAG AA's 4.5:1;
- code blocks wrap their long lines instead of scrolling sideways: a scrolled <pre> cannot take the keyboard's focus
  (axe-core's scrollable-region-focusable), and a wrapped line can be read without scrolling (the copy button still copies
  the cell character for character);
- a link to another page wraps its label instead of cutting it off with an ellipsis (on a phone most were cut).

tests/app/test_contrast.py measures every colour here against the theme's backgrounds."""

from __future__ import annotations

import streamlit as st


# Prism's token classes (and a diff's line classes) -> their colour; each at least 4.5:1 on the code background and on the
# sidebar's background (!important: Streamlit's own rules are as specific, and come later).
def _tokens(*names: str) -> tuple[str, ...]:
    return tuple(f".token.{name}" for name in names)


TOKEN_COLORS = {
    _tokens("comment", "prolog", "doctype", "cdata", "punctuation"): "#57606a",
    _tokens("keyword", "tag", "function", "class-name", "selector"): "#0550ae",
    _tokens("string", "char", "attr-value", "inserted"): "#116329",
    _tokens("number", "regex"): "#0a6b63",
    _tokens("boolean", "constant", "symbol"): "#7a3e9d",
    _tokens("operator", "entity", "decorator", "atrule"): "#953800",
    _tokens("attr-name", "property", "variable"): "#0a5a8a",
    _tokens("url"): "#6639ba",
    (*_tokens("important", "deleted"), ".deleted.line", ".deleted.prefix"): "#b42318",
    (".inserted.line", ".inserted.prefix"): "#116329",
    (".unchanged.line",): "#57606a",
}

STYLE = "\n".join(
    [
        *(f"{', '.join(f'.stCode pre {classes}' for classes in chains)} {{ color: {colour} !important; }}"
          for chains, colour in TOKEN_COLORS.items()),
        # A page link's label is one line cut with an ellipsis; the lab's links are sentences: let them wrap.
        '[data-testid="stPageLink-NavLink"] span, [data-testid="stPageLink-NavLink"] p { white-space: normal; overflow: visible; }',
        # A code block wraps its long lines rather than scroll sideways (see the module's docstring), at every width: a
        # traceback or a learner's script in a narrow column scrolls on a desktop too.
        ".stCode pre, .stCode pre code { white-space: pre-wrap !important; overflow-wrap: anywhere; }",
    ]
)


def apply() -> None:
    """The style sheet, sent with each page (a <style>-only st.html takes no room on the page)."""
    st.html(f"<style>\n{STYLE}\n</style>")
