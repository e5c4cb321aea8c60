"""A newcomer in Chromium: open the Factory page, run it, download the notebook, re-execute it in a plain
python3 kernel, and compare its checksum lines with the table the page shows.

The kernelspec is installed into a temporary JUPYTER_PATH from this interpreter (as a reader's Jupyter has it);
nothing here imports TensorFlow.
"""

from __future__ import annotations

import nbformat
import pytest
from lab_browser import button, normalise_sum, read_grid, set_sidebar_number, wait_for_app_run, wait_for_rows

from tests.notebook_checks import assert_repeats, install_plain_python3, plain_jupyter_path

pytestmark = pytest.mark.browser

RERUNS = 2
CLICK_TIMEOUT_S = 300.0


def test_download_the_factory_notebook_and_repeat_it(page, app_url, tmp_path, screenshot_dir):
    page.goto(f"{app_url}/factory")
    wait_for_app_run(page)
    page.get_by_role("heading", name="Factory + reseed").wait_for()
    set_sidebar_number(page, "reruns", RERUNS)
    results = page.locator(".st-key-factory_full_results")
    for rows in range(1, RERUNS + 1):
        button(page, "factory_full_run_cell").click()
        wait_for_rows(page, results, rows, CLICK_TIMEOUT_S)
    table = read_grid(results)
    assert [row["rerun"].strip() for row in table] == [str(n) for n in range(1, RERUNS + 1)]

    download_button = page.locator(".st-key-factory_full_ipynb button").first
    download_button.wait_for(state="visible")
    with page.expect_download() as waiting:
        download_button.click()
    download = waiting.value
    assert download.suggested_filename == "keras-lab-factory_full.ipynb"
    path = tmp_path / download.suggested_filename
    download.save_as(str(path))
    page.screenshot(path=str(screenshot_dir / "factory-notebook-download.png"), full_page=True)

    text = path.read_text(encoding="utf-8")
    book = nbformat.reads(text, as_version=4)
    assert book.metadata.kernelspec.name == "python3"
    assert "check-notebook keras-lab-factory_full.ipynb" in book.cells[0].source

    with plain_jupyter_path(install_plain_python3(tmp_path / "jupyter")):
        lines = assert_repeats(text, expected_lines=2 * RERUNS)

    # The repeated lines are the page's table: sums to 13 decimals and 12-character fingerprints, row by row.
    from_notebook = []
    for line in lines:  # "summary of trainable variables before training: 3.5910992622375  sha256 e5649c943694"
        head, digest = line.split("  sha256 ")
        from_notebook.append((head.rsplit(": ", 1)[1], digest))
    from_page = []
    for row in table:
        from_page.append((normalise_sum(row["before sum"]), row["before sha256"].strip().rstrip("\u2026")[:12]))
        from_page.append((normalise_sum(row["after sum"]), row["after sha256"].strip().rstrip("\u2026")[:12]))
    assert from_notebook == from_page, (from_notebook, from_page)
