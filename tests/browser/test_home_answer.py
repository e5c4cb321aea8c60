"""Home's answer up front, in Chromium: the three findings in the first screen on a desktop and on a phone."""

from __future__ import annotations

import time

import pytest
from lab_browser import exception_texts, wait_for_app_run

from repro_core.results.timeline import load_timeline
from repro_core.views.findings import home_findings

pytestmark = pytest.mark.browser

SCREENS = {"desktop": (1440, 900), "phone": (390, 844)}


@pytest.mark.parametrize("screen", list(SCREENS))
def test_home_findings_are_in_the_first_screen(browser, app_url, screenshot_dir, screen):
    width, height = SCREENS[screen]
    context = browser.new_context(viewport={"width": width, "height": height})
    try:
        page = context.new_page()
        started = time.monotonic()
        page.goto(app_url)
        findings = page.locator(".st-key-home_findings")
        findings.locator('[data-testid="stAlert"]').nth(2).wait_for(timeout=60_000)
        seconds = time.monotonic() - started
        wait_for_app_run(page)
        expected = home_findings(load_timeline())
        alerts = findings.locator('[data-testid="stAlert"]')
        assert alerts.count() == 3
        for index, finding in enumerate(expected):
            box = alerts.nth(index).bounding_box()
            assert box is not None and box["y"] >= 0 and box["y"] + box["height"] <= height, (screen, finding.scenario, box)
            assert finding.headline in alerts.nth(index).inner_text()
        run = page.get_by_role("button", name="Run the whole story")
        box = run.bounding_box()
        assert box is not None and box["y"] + box["height"] <= height, (screen, "Run the whole story", box)  # the page's button too
        assert not exception_texts(page)
        print(f"{screen}: Home's findings visible {seconds:.2f} s after navigation")
        page.screenshot(path=str(screenshot_dir / f"home-{screen}.png"))
    finally:
        context.close()
