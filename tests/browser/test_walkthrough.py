"""The lab in a real browser: walk the pages by their links, run the cells, and check what a visitor sees and downloads:
each page renders without an exception, its tables show the rows the clicks made, and its downloads agree with what it
says (the verdict banner names the verdict the CSV's fingerprints imply, the one its JSON report gives; after a restart
the first rerun repeats and the page says so).

That these numbers are the command line's, bit for bit, is checked in a browser by the load tests
(tests/browser/test_load.py: the drift and factory pages' CSV downloads against `python -m repro_core story` with the
same settings) and in AppTest by tests/app/test_runs.py (the factory page's rows against run_story, the restart page's
kernel starts and check). Nothing here imports TensorFlow.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from lab_browser import (
    button,
    button_label,
    download_report,
    download_rows,
    exception_texts,
    path_of,
    set_sidebar_number,
    wait_for_app_run,
    wait_for_rows,
)

from lab_ui.pages import PAGES as LAB_PAGES
from repro_core.records import VERDICTS

pytestmark = pytest.mark.browser

RERUNS = 2  # set in the sidebar; keeps the runs short
EPOCHS = 2  # likewise: the values are not compared with anything that needs the default 10
CLICK_TIMEOUT_S = 240.0  # kernel start + TF import + reruns, on a shared 2-core machine

PAGES = ["home", "seed", "drift", "factory", "restart", "why"]
FACTORY = LAB_PAGES["factory"].scenarios  # the factory page's recipes, one table each


def main_area(page):
    return page.locator('[data-testid="stMain"]')


def assert_page_ok(page, name: str) -> str:
    """The page rendered: a non-empty heading in the main area and no exception box. Returns the heading."""
    wait_for_app_run(page)
    errors = exception_texts(page)
    assert not errors, f"page '{name}' shows an exception:\n" + "\n---\n".join(errors)
    heading = main_area(page).locator("h1, h2").first
    heading.wait_for(state="visible")
    text = heading.inner_text().strip()
    assert text, f"page '{name}' has an empty heading"
    body = main_area(page).inner_text()
    assert len(body.strip()) > 200, f"page '{name}' looks empty: {body[:300]!r}"
    return text


def screenshot(page, directory: Path, name: str) -> None:
    """Full-page screenshot. Streamlit scrolls inside stMain (the document itself never grows), so
    full_page=True alone captures one viewport: grow the viewport to the content's height first."""
    size = page.viewport_size
    page.mouse.move(0, 0)  # no hover tooltip in the picture
    tall = page.evaluate(
        """() => Math.max(...['stMain', 'stSidebarContent', 'stAppViewContainer']
            .map((id) => document.querySelector(`[data-testid="${id}"]`))
            .filter(Boolean).map((el) => el.scrollHeight))"""
    )
    try:
        page.set_viewport_size({"width": size["width"], "height": max(size["height"], min(int(tall) + 40, 12000))})
        page.wait_for_timeout(400)
        page.screenshot(path=str(directory / f"{name}.png"), full_page=True)
    finally:
        page.set_viewport_size(size)
        page.wait_for_timeout(200)


def follow_link_to(page, target: str) -> None:
    """Click the page's own st.page_link to `target` (in the main area, not the sidebar nav)."""
    links = main_area(page).locator('[data-testid="stPageLink"] a')
    matching = [links.nth(i) for i in range(links.count()) if path_of(links.nth(i).get_attribute("href") or "") == target]
    hrefs = [links.nth(i).get_attribute("href") for i in range(links.count())]
    assert matching, f"no page link to '{target}' in the main area (links: {hrefs})"
    matching[-1].click()
    page.wait_for_url(lambda url: path_of(url) == target, timeout=30_000)


def expected_verdict(records: list[dict[str, str]]) -> str:
    """The verdict a table's fingerprints imply (re-derived here, not imported from the app)."""
    if len(records) < 2:
        return "single-run"
    first = records[0]
    if all(r["before_sha256"] == first["before_sha256"] and r["after_sha256"] == first["after_sha256"] for r in records):
        return "stable"
    if all(a["after_sha256"] == b["before_sha256"] for a, b in zip(records, records[1:], strict=False)):
        return "drift-chain"
    return "drift"


def check_verdict(page, where: str, rows: list[dict[str, str]], scenario: str) -> list[str]:
    """The verdict the downloaded rows' fingerprints imply is the one the results' banner announces (in the words
    records.VERDICTS gives it) and the one the page's JSON report gives; the report's records are the CSV's rows."""
    name = expected_verdict(rows)
    problems = []
    banner = page.locator(f".st-key-{scenario}_results [data-testid='stAlert']")
    text = banner.first.inner_text().strip() if banner.count() else "(no banner)"
    words = VERDICTS[name]
    if not text.startswith(f"{words.headline}: {words.meaning}"):
        problems.append(f"{where}: expected the banner to announce {words.headline!r} ({name}), it says: {text[:300]!r}")
    report = download_report(page, scenario)
    if report["verdicts"] != {scenario: name}:
        problems.append(f"{where}: the page's JSON report gives the verdicts {report['verdicts']}, expected {{{scenario!r}: {name!r}}}")
    fingerprints = [(r["rerun"], r["before_sha256"], r["after_sha256"]) for r in report["records"]]
    if fingerprints != [(int(r["rerun"]), r["before_sha256"], r["after_sha256"]) for r in rows]:
        problems.append(f"{where}: the JSON report's records {fingerprints} are not the CSV's rows")
    return problems


def show(title: str, rows: list[dict[str, str]]) -> None:
    print(f"\n[{title}] downloaded from the page:")
    for row in rows:
        print("   ", {field: row.get(field) for field in ("rerun", "kernel_start", "before_sum", "after_sum", "after_sha256")})


def click_and_wait(page, button_key: str, container_key: str, rows: int) -> None:
    button(page, button_key).click()
    wait_for_rows(page, page.locator(f".st-key-{container_key}"), rows, CLICK_TIMEOUT_S)


def run_many_and_download(page, button_key: str, scenario: str) -> list[dict[str, str]]:
    """Press "Run N times" once its label says the sidebar's reruns; wait for the rows; return the CSV's."""
    run = button(page, button_key)
    run.wait_for(state="visible")
    deadline = time.monotonic() + 30  # the rerun that follows a sidebar change may start a moment after the change
    while (label := button_label(page, button_key)) != f"Run {RERUNS} times" and time.monotonic() < deadline:
        page.wait_for_timeout(200)
    assert label == f"Run {RERUNS} times", f"button '{button_key}' says {label!r}, expected 'Run {RERUNS} times'"
    run.click()
    wait_for_rows(page, page.locator(f".st-key-{scenario}_results"), RERUNS, CLICK_TIMEOUT_S)
    rows = download_rows(page, scenario)
    show(scenario, rows)
    return rows


def numbers(where: str, rows: list[dict[str, str]], reruns: list[int], scenario: str) -> list[str]:
    """The CSV's rerun numbers and scenario are the ones the clicks made."""
    got = ([int(r["rerun"]) for r in rows], {r["scenario"] for r in rows})
    return [] if got == (reruns, {scenario}) else [f"{where}: the CSV's reruns and scenarios are {got}, expected {(reruns, {scenario})}"]


def restart_sequence(page) -> list[str]:
    """Run cell, Run cell, Restart kernel, Run cell: the rows are reruns 1, 2 and (a new kernel) 1 again, kernel starts
    k, k, k+1; the third repeats the first, and the page says the restart reproduces."""
    click_and_wait(page, "restart_run_cell", "restart_results", 1)
    click_and_wait(page, "restart_run_cell", "restart_results", 2)
    button(page, "restart_kernel").click()
    wait_for_app_run(page, CLICK_TIMEOUT_S * 1000)
    assert not exception_texts(page), "Restart kernel raised"
    click_and_wait(page, "restart_run_cell", "restart_results", 3)
    rows = download_rows(page, "restart")
    show("restart", rows)
    problems = []
    starts = [int(row["kernel_start"]) for row in rows]
    if [int(row["rerun"]) for row in rows] != [1, 2, 1] or not (starts[0] == starts[1] and starts[2] == starts[0] + 1):
        problems.append(f"restart: reruns {[row['rerun'] for row in rows]} and kernel starts {starts}, expected 1, 2, 1 and k, k, k+1")
    elif (rows[2]["before_sha256"], rows[2]["after_sha256"]) != (rows[0]["before_sha256"], rows[0]["after_sha256"]):
        problems.append(f"restart: the new kernel's rerun 1 {rows[2]} does not repeat the first {rows[0]}")
    check = page.locator(".st-key-restart_check").inner_text()
    if "reproduces" not in check or "does not reproduce" in check:
        problems.append(f"restart: the check box says {check!r}")
    return problems


def test_walkthrough_follows_links_runs_the_cells_and_downloads_what_it_shows(page, app_url, screenshot_dir):
    started = time.monotonic()
    page.goto(f"{app_url}/")
    assert path_of(page.url) in ("", "home")
    headings = {"home": assert_page_ok(page, "home")}
    screenshot(page, screenshot_dir, "home")

    problems: list[str] = []
    for previous, name in zip(PAGES, PAGES[1:], strict=False):
        follow_link_to(page, name)
        headings[name] = assert_page_ok(page, name)
        if name == "drift":
            set_sidebar_number(page, "reruns", RERUNS)
            set_sidebar_number(page, "epochs", EPOCHS)
            rows = run_many_and_download(page, "drift_run_many", "global-model")
            problems += numbers("drift", rows, list(range(1, RERUNS + 1)), "global-model")
            problems += check_verdict(page, "drift", rows, "global-model")
        elif name == "factory":
            run = button(page, "factory_run_many")
            run.wait_for(state="visible")
            label = button_label(page, "factory_run_many")
            assert str(RERUNS) in label, f"factory button says {label!r} but reruns is {RERUNS}"
            run.click()
            for scenario in FACTORY:  # each recipe in its own kernel
                wait_for_rows(page, page.locator(f".st-key-{scenario}_results"), RERUNS, 2 * CLICK_TIMEOUT_S)
            for scenario in FACTORY:
                rows = download_rows(page, scenario)
                show(scenario, rows)
                problems += numbers(f"factory ({scenario})", rows, list(range(1, RERUNS + 1)), scenario)
                problems += check_verdict(page, f"factory ({scenario})", rows, scenario)
        elif name == "restart":
            problems += restart_sequence(page)
        assert not exception_texts(page), f"page '{name}' shows an exception after running"
        screenshot(page, screenshot_dir, name)
        assert previous != name
    print(f"\nheadings: {headings}")
    print(f"walkthrough {time.monotonic() - started:.1f} s")
    assert not problems, "what the pages show and give disagree:\n" + "\n".join(problems)
