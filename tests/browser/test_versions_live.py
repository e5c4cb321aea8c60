"""Across versions, live, in Chromium: the heatmap stays on screen with a progress bar while the four scenarios run, and the
live table says which scenario each row is and ticks the rows that repeat their own scenario's rerun 1 (issue 16)."""

from __future__ import annotations

import pytest
from lab_browser import button, exception_texts, read_grid, set_sidebar_number, wait_for_app_run, wait_for_rows

from repro_core.vocabulary import SCENARIOS

pytestmark = pytest.mark.browser

RERUNS = 3


def test_live_run_keeps_the_heatmap_and_ticks_like_with_like(page, app_url, screenshot_dir):
    page.goto(f"{app_url}/versions")
    wait_for_app_run(page)
    set_sidebar_number(page, "epochs", 2)
    charts = page.locator("[data-testid='stVegaLiteChart']")
    button(page, "versions_run_live").click()
    page.locator("[data-testid='stProgress']").first.wait_for(timeout=120_000)
    assert charts.count() >= 1 and charts.first.is_visible()  # the recorded heatmap stays while the live run goes on
    live = page.locator(".st-key-versions_live_note")
    wait_for_rows(page, live, 4 * RERUNS, 900)
    assert not exception_texts(page)
    rows = read_grid(live)
    title = SCENARIOS["factory-full-seed"].title
    full = [row for row in rows if row["scenario"].strip() == title]
    assert len(full) == RERUNS
    assert all(row["same as rerun 1"].strip().lower() == "true" for row in full), full
    chain = [row for row in rows if row["scenario"].strip() == SCENARIOS["global-model"].title]
    assert [row["same as rerun 1"].strip().lower() for row in chain] == ["true", "false", "false"], chain
    page.screenshot(path=str(screenshot_dir / "versions-live.png"), full_page=True)
