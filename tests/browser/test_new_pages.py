"""The Your model page in Chromium: run it with its defaults; its two tables show (the Recipe matrix's browser run is
tests/browser/test_matrix_switches.py). What the tables hold is AppTest's: tests/app/test_your_model_page.py (a tiny
audit in a real kernel, its verdict table and heatmap)."""

from __future__ import annotations

import pytest
from lab_browser import at_widths, button, exception_texts, grid_row_count, wait_for_app_run

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
    wait_for_grid(page, ".st-key-model_results", 3)  # the page's default: the sidebar's 3 reruns
    assert results.locator('[data-testid="stDataFrame"]').count() == 2
    assert page.locator(".st-key-model_ipynb [data-testid='stDownloadButton']").count() == 1  # the notebook of what ran
    assert not exception_texts(page)
    page.screenshot(path=str(screenshot_dir / "your-model.png"), full_page=True)
    # issue 27: the heatmap has a real plot area (not the one line a 120 px chart with its legend left), desktop and phone
    chart = results.locator('[data-testid="stVegaLiteChart"]').first
    for width in at_widths(page, chart):
        cells = chart.locator("svg g.mark-rect").first.bounding_box()
        assert cells is not None and cells["height"] >= 100 and cells["width"] <= width, (width, cells)
        assert chart.locator("svg g.role-legend").count() == 1 and chart.locator("svg g.role-axis-title").count() == 2
        page.screenshot(path=str(screenshot_dir / f"your-model-heatmap-{width}.png"), full_page=True)
