"""No test reads values off the data grid (issue 26). st.dataframe draws its cells on a canvas (glide-data-grid); the
text glide mirrors into an accessibility table holds only the cells in view, and a reader that scrolled it read blank
cells and missed columns on slower machines. A test takes the values from the page's CSV/JSON download
(tests/browser/lab_browser.py: download_rows, download_report) or from AppTest's `at.dataframe[i].value`; a browser test
may count the grid's rows (aria-rowcount), nothing more.

This file scans tests/ and bench/ for what reading the grid takes: the removed reader's name, the grid's cells, headers
and scroller, and a canvas's pixels. It is the one file allowed to name them."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SCANNED = ("tests", "bench")

# what each pattern finds -> the pattern (searched in the file's text, comments included: a reader hides nowhere)
GRID_READING = {
    "the removed grid reader": re.compile(r"\bread[_]grid\b|\bREAD[_]GRID_JS\b"),
    "the grid's cells or headers (glide's accessibility table)": re.compile(r"gridcell|columnheader|aria-colindex|aria-rowindex"),
    "glide's scroller (scrolled to bring cells into view)": re.compile(r"dvn-scroller"),
    "the cells of a table, by tag": re.compile(r"""querySelector(?:All)?\(\s*[`'"][^`'"]*\b(?:td|th|tr)\b"""),
    "a canvas element or its pixels": re.compile(
        r"""getImageData|toDataURL|readPixels|(?:locator|querySelector(?:All)?|query_selector(?:_all)?)\(\s*[`'"f]*[^`'"]*\bcanvas\b"""
    ),
    "the text of a dataframe element": re.compile(r"stDataFrame[^\n]*(?:inner_text|text_content|textContent|innerText)"),
}


def grid_reading(text: str) -> list[str]:
    """What in `text` reads the grid: one 'line N: what (the match)' per finding, empty when nothing does."""
    found = []
    for number, line in enumerate(text.splitlines(), start=1):
        for what, pattern in GRID_READING.items():
            match = pattern.search(line)
            if match:
                found.append(f"line {number}: {what} ({match.group(0)!r})")
    return found


def scanned_files() -> list[Path]:
    me = Path(__file__).resolve()
    return sorted(path for folder in SCANNED for path in (ROOT / folder).rglob("*.py") if path.resolve() != me)


def test_no_test_or_bench_reads_values_off_the_grid():
    files = scanned_files()
    assert any(path.name == "lab_browser.py" for path in files)  # the browser tests' helpers are among them
    offenders = {str(path.relative_to(ROOT)): found for path in files if (found := grid_reading(path.read_text(encoding="utf-8")))}
    assert not offenders, "values must come from the page's CSV/JSON download or AppTest, not the grid:\n" + "\n".join(
        f"{path}: {finding}" for path, findings in offenders.items() for finding in findings
    )


# Lines of the reader this guard replaced (tests/browser/lab_browser.py before issue 26) and of a test that used it. The
# reader's name is spelled in pieces here ("<reader>" below, [_] above), so that a plain grep for it finds no file in tests/.
REMOVED_READER = """
from lab_browser import button, <reader>, set_sidebar_number
    for (const td of tr.querySelectorAll('td[aria-colindex]')) {
    for (const th of grid.querySelectorAll('th[role=columnheader]')) {
  const scroller = root.querySelector('.dvn-scroller');
    rows = {row["reseed"]: row for row in <reader>(main)}
""".replace("<reader>", "read" + "_grid")


def test_the_scan_finds_the_removed_reader():
    found = grid_reading(REMOVED_READER)
    assert {line.split(":")[0] for line in found} == {f"line {n}" for n in (2, 3, 4, 5, 6)}, found  # each line, by itself


def test_counting_rows_and_downloading_are_allowed():
    allowed = """
    const grid = root.querySelector('table[role=grid]');
    return grid ? Number(grid.getAttribute('aria-rowcount')) - 1 : -1;
    rows = download_rows(page, "drift")
    frame = at.dataframe[0].value
    """
    assert grid_reading(allowed) == []
