"""A newcomer in Chromium: open the Factory page, run it, download the notebook, and find in it the checksum lines of
the page's table (as its CSV download gives it), for a plain python3 kernel.

That the page's notebook repeats when re-executed in a plain python3 kernel is tests/app/test_notebook_downloads.py's (the
same download button's file, Keras 3 and tf_keras) and tests/core/test_notebook_rerun.py's (the same builder, four
exports); nothing here imports TensorFlow.
"""

from __future__ import annotations

import nbformat
import pytest
from lab_browser import button, download, download_rows, set_sidebar_number, wait_for_app_run, wait_for_rows

from tests.notebook_checks import recorded_lines

pytestmark = pytest.mark.browser

RERUNS = 2
SCENARIO = "factory-full-seed"  # the article's fix plus keras.utils.set_random_seed: its column on the Factory page
CLICK_TIMEOUT_S = 300.0


def test_download_the_factory_notebook_and_find_the_pages_table_in_it(page, app_url, screenshot_dir):
    page.goto(f"{app_url}/factory")
    wait_for_app_run(page)
    page.get_by_role("heading", name="Factory + reseed").wait_for()
    set_sidebar_number(page, "reruns", RERUNS)
    results = page.locator(f".st-key-{SCENARIO}_results")
    for rows in range(1, RERUNS + 1):
        button(page, f"{SCENARIO}_run_cell").click()
        wait_for_rows(page, results, rows, CLICK_TIMEOUT_S)
    table = download_rows(page, SCENARIO)
    assert [int(row["rerun"]) for row in table] == list(range(1, RERUNS + 1))

    notebook = download(page, f"{SCENARIO}_ipynb")
    assert notebook.name == f"keras-lab-{SCENARIO}.ipynb"
    page.screenshot(path=str(screenshot_dir / "factory-notebook-download.png"), full_page=True)

    text = notebook.text
    book = nbformat.reads(text, as_version=4)
    assert book.metadata.kernelspec.name == "python3"
    assert f"check-notebook keras-lab-{SCENARIO}.ipynb" in book.cells[0].source

    lines = recorded_lines(text)

    # The notebook's lines are the page's table: sums to 13 decimals and 12-character fingerprints, row by row.
    from_notebook = []
    for line in lines:  # "summary of trainable variables before training: 3.5910992622375  sha256 e5649c943694"
        head, digest = line.split("  sha256 ")
        from_notebook.append((head.rsplit(": ", 1)[1], digest))
    from_page = []
    for row in table:
        for moment in ("before", "after"):
            from_page.append(("%.13f" % float(row[f"{moment}_sum"]), row[f"{moment}_sha256"][:12]))
    assert from_notebook == from_page, (from_notebook, from_page)
