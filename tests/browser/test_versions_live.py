"""Across versions, live, in Chromium: the heatmap stays on screen with a progress bar while the four scenarios run, and the
live table shows a row per rerun of each. What the rows say (which scenario, ticked when they repeat their own scenario's
rerun 1, issue 16) is AppTest's: tests/app/test_charts.py (the live table) and tests/app/test_versions_page.py (a live run
in a real kernel); records.same_as_first is tests/core/test_rows.py's."""

from __future__ import annotations

import pytest
from lab_browser import button, exception_texts, set_sidebar_number, wait_for_app_run, wait_for_rows

from repro_core.vocabulary import STORY_SCENARIOS

pytestmark = pytest.mark.browser

RERUNS = 2  # set in the sidebar, with 1 epoch: what is checked here is what the page shows while it runs


def test_live_run_keeps_the_heatmap_and_shows_every_rerun(page, app_url, screenshot_dir):
    page.goto(f"{app_url}/versions")
    wait_for_app_run(page)
    set_sidebar_number(page, "reruns", RERUNS)
    set_sidebar_number(page, "epochs", 1)
    charts = page.locator("[data-testid='stVegaLiteChart']")
    button(page, "versions_run_live").click()
    page.locator("[data-testid='stProgress']").first.wait_for(timeout=120_000)
    assert charts.count() >= 1 and charts.first.is_visible()  # the recorded heatmap stays while the live run goes on
    live = page.locator(".st-key-versions_live_note")
    wait_for_rows(page, live, len(STORY_SCENARIOS) * RERUNS, 900)
    assert not exception_texts(page)
    assert charts.count() >= 1 and charts.first.is_visible()  # the heatmap, now with the live column
    page.screenshot(path=str(screenshot_dir / "versions-live.png"), full_page=True)
