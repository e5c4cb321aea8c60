"""Issue 16 in a real browser: no row discarded (Factory's two Run cell buttons interleaved), and Home's restart line, after
the sidebar's navigation, says what the Restart page says. Epochs are set to 1: these tests are about rows, not training.
The tables' row counts are what the page shows; kernel starts and rerun numbers come from its CSV download.

The story's rows followed by a Run cell (3 + 1 rows in two kernel start groups) are AppTest's: rendered in
tests/app/test_rows_pages.py, with real kernels in tests/app/test_runs.py (the whole story fills every page; a Run cell
after Run N times is a new kernel start group)."""

from __future__ import annotations

import re

import pytest
from lab_browser import button, download_rows, exception_texts, path_of, set_sidebar_number, wait_for_app_run, wait_for_rows

pytestmark = pytest.mark.browser

CLICK_TIMEOUT_S = 240.0  # kernel start + TF import + reruns, on a shared 2-core machine


def open_page(page, app_url: str, path: str) -> None:
    """The first page by URL (a new session); the others by the sidebar's navigation, so the session and its rows stay."""
    if page.url in ("", "about:blank"):
        page.goto(f"{app_url}/{path}")
    else:
        links = page.locator('[data-testid="stSidebarNav"] a')
        hrefs = [links.nth(i).get_attribute("href") or "" for i in range(links.count())]
        matching = [i for i, href in enumerate(hrefs) if path_of(href) == path]
        assert matching, f"no sidebar link to {path!r} (links: {hrefs})"
        links.nth(matching[0]).click()
        page.wait_for_url(lambda url: path_of(url) == path, timeout=30_000)
    wait_for_app_run(page)


def cheap(page) -> None:
    set_sidebar_number(page, "epochs", 1)


def kernel_starts(rows: list[dict[str, str]]) -> list[int]:
    return [int(row["kernel_start"]) for row in rows]


def verdict_name(text: str) -> str:
    """The verdict or outcome name a headline gives in parentheses, e.g. "(restart-reproduces" -> restart-reproduces."""
    found = re.search(r"\(([a-z-]+)[,)]", text)
    assert found, f"no verdict name in {text!r}"
    return found.group(1)


def results(page, key: str):
    return page.locator(f".st-key-{key}")


def click(page, key: str, slot: str, rows: int) -> None:
    """Click a Run button and wait until the slot's table shows `rows` rows."""
    button(page, key).click()
    wait_for_rows(page, results(page, f"{slot}_results"), rows, CLICK_TIMEOUT_S)


def test_factory_run_cell_left_right_left_keeps_each_columns_rows(page, app_url):
    open_page(page, app_url, "factory")
    cheap(page)
    click(page, "factory_tf_run_cell", "factory_tf", 1)
    click(page, "factory_full_run_cell", "factory_full", 1)
    click(page, "factory_tf_run_cell", "factory_tf", 2)
    left, right = download_rows(page, "factory_tf"), download_rows(page, "factory_full")
    assert len(left) == 2 and len(right) == 1
    assert len(set(kernel_starts(left))) == 2  # each Run cell on the other recipe restarted the kernel: two groups
    assert not exception_texts(page)


def test_home_restart_verdict_equals_the_restart_pages(page, app_url):
    open_page(page, app_url, "restart")
    cheap(page)
    click(page, "restart_run_cell", "restart", 1)
    click(page, "restart_run_cell", "restart", 2)
    button(page, "restart_kernel").click()
    wait_for_app_run(page, CLICK_TIMEOUT_S * 1000)
    click(page, "restart_run_cell", "restart", 3)
    headline = page.locator(".st-key-restart_results [data-testid='stAlert']").filter(has_text="Verdict:").first.inner_text()
    open_page(page, app_url, "")
    home = page.locator(".st-key-home_verdict_restart").inner_text()
    assert verdict_name(home) == verdict_name(headline), (home, headline)
    assert home.split("(")[0].strip() in headline
