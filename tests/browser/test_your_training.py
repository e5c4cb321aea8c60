"""Your training in Chromium: a shipped example runs on the page; the verdict, the first divergence and the fix are read
from the page's JSON download (values come from downloads, not pixels), and the growth chart has a real plot area at a
desktop and a phone width."""

from __future__ import annotations

import json

import pytest
from lab_browser import at_widths, button, exception_texts, wait_for_app_run

pytestmark = pytest.mark.browser

RUN_TIMEOUT_MS = 600_000


def test_a_shipped_example_runs_on_the_page(page, app_url, screenshot_dir, tmp_path):
    page.goto(f"{app_url}/your-training")
    wait_for_app_run(page)
    page.get_by_role("heading", name="Your training").wait_for()
    toggle = page.locator(".st-key-train_doctor input")
    if toggle.is_checked():
        toggle.click(force=True)  # the doctor's extra runs belong to the kernel tests; here the page's path matters
        wait_for_app_run(page)
    button(page, "train_run").click()
    download = page.locator(".st-key-train_json button").first
    download.wait_for(state="visible", timeout=RUN_TIMEOUT_MS)
    wait_for_app_run(page, timeout_ms=RUN_TIMEOUT_MS)
    assert not exception_texts(page), exception_texts(page)
    with page.expect_download() as waiting:
        download.click()
    path = tmp_path / waiting.value.suggested_filename
    waiting.value.save_as(str(path))
    report = json.loads(path.read_text(encoding="utf-8"))
    assert report["script"]["name"] == "digits_cnn.py" and report["script"]["kind"] == "example"
    assert report["repeats"] is False and len(report["runs"]) == report["settings"]["runs"] == 3  # the sidebar's reruns
    first = report["first_divergence"]
    assert (first["stage"], first["fit"], first["step"], first["layer"]) == ("initial-weights", 1, None, "conv2d")
    assert report["fix"]["line_text"] == "import keras\nkeras.utils.set_random_seed(1234)" and report["fix"]["verified"] is False
    assert report["machine"]["kernelspec"] == "lab-python" and report["machine"]["backend"] == "tensorflow"
    # what the visitor reads is what the report says
    results = page.locator(".st-key-train_results")
    assert "part first at the initial weights" in results.inner_text() and "layer conv2d" in results.inner_text()
    chart = results.locator('[data-testid="stVegaLiteChart"]').first
    for width in at_widths(page, chart):
        box = chart.locator("svg").first.bounding_box()
        assert box is not None and box["height"] >= 260 and box["width"] <= width, box  # the plot area alone is 260 px tall
        page.screenshot(path=str(screenshot_dir / f"your-training-{width}.png"), full_page=True)
