"""The Your model and Recipe matrix pages in Chromium: run them with their defaults and read the results."""

from __future__ import annotations

import pytest
from lab_browser import button, exception_texts, grid_row_count, read_grid, wait_for_app_run

from repro_core.experiments.matrix import MatrixOptions
from repro_core.records import VERDICTS

pytestmark = pytest.mark.browser

RUN_TIMEOUT_S = 600.0


def wait_for_grid(page, selector: str, rows: int) -> None:
    deadline_ms = RUN_TIMEOUT_S * 1000
    waited = 0
    while grid_row_count(page.locator(selector)) != rows:
        assert not exception_texts(page), exception_texts(page)
        assert waited < deadline_ms, f"{selector} did not reach {rows} rows"
        page.wait_for_timeout(500)
        waited += 500
    wait_for_app_run(page, timeout_ms=deadline_ms)


def test_your_model_audit_runs_in_the_browser(page, app_url, screenshot_dir):
    page.goto(f"{app_url}/your-model")
    wait_for_app_run(page)
    page.get_by_role("heading", name="Your model").wait_for()
    button(page, "model_run").click()
    results = page.locator(".st-key-model_results")  # its first table: the reruns; its second: per-layer max |delta|
    wait_for_grid(page, ".st-key-model_results", 2)  # the page's default: 2 reruns
    rows = read_grid(results)
    assert [row["rerun"] for row in rows] == ["1", "2"]
    assert results.locator('[data-testid="stDataFrame"]').count() == 2
    assert not exception_texts(page)
    page.screenshot(path=str(screenshot_dir / "your-model.png"), full_page=True)


def test_recipe_matrix_runs_in_the_browser(page, app_url, screenshot_dir):
    page.goto(f"{app_url}/matrix")
    wait_for_app_run(page)
    page.get_by_role("heading", name="Recipe matrix").wait_for()
    button(page, "matrix_run").click()
    wait_for_grid(page, '[data-testid="stMain"]', len(MatrixOptions().recipes()))  # the page's one table: the default grid
    rows = read_grid(page.locator('[data-testid="stMain"]'))
    assert all(row["verdict"] in VERDICTS for row in rows), rows
    assert page.locator('[data-testid="stVegaLiteChart"]').count() >= 1  # the heatmap
    assert not exception_texts(page)
    page.screenshot(path=str(screenshot_dir / "matrix.png"), full_page=True)
