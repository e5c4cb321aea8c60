"""Issue 16 in a real browser: the restart page's rows stay across the sidebar's navigation, and Home's restart line says
what the Restart page says. Epochs are set to 1: this is about rows, not training.

Rows kept however the buttons interleave are AppTest's: the factory page's Run cell buttons left, middle, left in
tests/app/test_runs.py (real kernels) and tests/app/test_views_session.py; the story's rows followed by a Run cell in
tests/app/test_rows_pages.py and, with real kernels, tests/app/test_runs.py."""

from __future__ import annotations

import pytest
from lab_browser import button, path_of, set_sidebar_number, wait_for_app_run, wait_for_rows

from repro_core.records import VERDICTS

pytestmark = pytest.mark.browser

CLICK_TIMEOUT_S = 240.0  # kernel start + TF import + reruns, on a shared 2-core machine
RESTART_OUTCOMES = {VERDICTS[name].headline for name in ("restart-reproduces", "restart-differs")}  # the restart check's two


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


def outcome_headline(text: str) -> str:
    """The outcome a headline announces: its bold first words, before the colon ("Drift, as a chain: each rerun ...")."""
    head, colon, _ = text.strip().partition(":")
    assert colon and head, f"no outcome headline in {text!r}"
    return head


def results(page, key: str):
    return page.locator(f".st-key-{key}")


def click(page, key: str, slot: str, rows: int) -> None:
    """Click a Run button and wait until the slot's table shows `rows` rows."""
    button(page, key).click()
    wait_for_rows(page, results(page, f"{slot}_results"), rows, CLICK_TIMEOUT_S)


def test_home_restart_verdict_equals_the_restart_pages(page, app_url):
    open_page(page, app_url, "restart")
    cheap(page)
    click(page, "restart_run_cell", "restart", 1)
    click(page, "restart_run_cell", "restart", 2)
    button(page, "restart_kernel").click()
    wait_for_app_run(page, CLICK_TIMEOUT_S * 1000)
    click(page, "restart_run_cell", "restart", 3)
    headline = page.locator(".st-key-restart_results [data-testid='stAlert']").first.inner_text()
    assert outcome_headline(headline) in RESTART_OUTCOMES, headline
    open_page(page, app_url, "")
    home = page.locator(".st-key-home_verdict_restart").inner_text()
    assert outcome_headline(home) == outcome_headline(headline), (home, headline)
