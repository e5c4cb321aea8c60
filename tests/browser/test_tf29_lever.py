"""TensorFlow as the visible lever, in Chromium: with the TF 2.9 kernel picked, the engine box gives way to a caption
naming Keras 2, and the rows the kernel makes say Keras 2 in their headline and keras2 in their JSON report (settings and kernel).
Mandatory where CI sets REQUIRE_TF29=1, as the other TF 2.9 tests."""

from __future__ import annotations

import pytest
from lab_browser import button, download_report, exception_texts, set_sidebar_number, wait_for_app_run, wait_for_rows
from playwright.sync_api import expect

from repro_core.kernels.kernel import available_kernels

pytestmark = pytest.mark.browser

TF29 = "repro-tf29"
TF29_LABEL = "TensorFlow 2.9.3 · Python 3.8"
RUN_TIMEOUT_S = 300.0


def pick_kernel(page, label: str) -> None:
    page.locator(".st-key-kernel").get_by_role("combobox").first.click()
    page.get_by_role("option", name=label, exact=True).click()
    wait_for_app_run(page)


def test_tf29_rows_say_keras2_and_the_engine_box_follows(page, app_url, require, screenshot_dir):
    require("REQUIRE_TF29", TF29 in available_kernels(), f"kernelspec {TF29!r} (Python 3.8, TF 2.9.3) is not installed")
    page.goto(f"{app_url}/factory")
    wait_for_app_run(page)
    sidebar = page.locator('[data-testid="stSidebar"]')
    assert sidebar.locator(".st-key-engine").count() == 1  # the bundled TensorFlow offers Keras 3 and tf_keras
    assert sidebar.locator(".st-key-kernel").get_by_role("combobox").input_value() == "TensorFlow 2.21.0 · bundled"
    pick_kernel(page, TF29_LABEL)
    # the rerun the pick starts may not have begun when wait_for_app_run looks (a loaded CI machine): wait for the box to go
    expect(sidebar.locator(".st-key-engine")).to_have_count(0, timeout=30_000)
    assert "Keras 2 (the only engine TensorFlow 2.9 has)" in sidebar.locator(".st-key-engine_only").inner_text()
    set_sidebar_number(page, "epochs", 2)
    button(page, "factory-tf-seed_run_cell").click()
    results = page.locator(".st-key-factory-tf-seed_results")
    wait_for_rows(page, results, 1, RUN_TIMEOUT_S)
    assert not exception_texts(page)
    shown = results.inner_text()
    assert "Keras 2 on TensorFlow 2.9" in shown and "Keras 3" not in shown, shown  # the headline's "Rows judged: ..."
    assert "Keras 3" not in sidebar.inner_text()  # neither a box nor the kernel card says Keras 3 on TF 2.9
    report = download_report(page, "factory-tf-seed")
    assert report["kernel"]["tensorflow"].startswith("2.9.")
    assert report["settings"]["engine"] == report["kernel"]["engine"] == "keras2"
    assert {record["engine"] for record in report["records"]} == {"keras2"}
    page.screenshot(path=str(screenshot_dir / "factory-tf29-keras2.png"), full_page=True)
