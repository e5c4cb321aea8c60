"""The lab in a real browser: walk the pages by their links, run the cells, and check that the
numbers the page offers for download (its "Table (CSV)") are bit for bit the ones the CLI computes for the same settings,
and that its tables show the rows and its verdict banner the verdict the fingerprints imply.

The CLI reference runs in a subprocess (its own kernels) while the browser drives the app;
nothing here imports TensorFlow.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from pathlib import Path

import pytest
from lab_browser import (
    REPO_ROOT,
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

pytestmark = pytest.mark.browser

RERUNS = 2  # set in the sidebar; keeps the runs short
SEED = 1234
EPOCHS = 10
ENGINE = "keras3"
CLICK_TIMEOUT_S = 240.0  # kernel start + TF import + reruns, on a shared 2-core machine
REFERENCE_TIMEOUT_S = 600.0

# url path -> what the page must show (any of these words, case-insensitive, in the main area)
PAGES = ["home", "seed", "drift", "factory", "restart", "why"]
SCENARIOS = ["global-model", "factory-tf-seed", "factory-full-seed", "fresh-kernel"]

COMPARED_FIELDS = ("rerun", "before_sum", "after_sum", "before_sha256", "after_sha256", "scenario", "engine")


class CliReference:
    """`python -m repro_core story --format json` for the three scenarios, started in the background."""

    def __init__(self) -> None:
        self.command = [sys.executable, "-m", "repro_core", "story", "--format", "json",
                        "--reruns", str(RERUNS), "--seed", str(SEED), "--epochs", str(EPOCHS), "--engine", ENGINE]  # fmt: skip
        for scenario in SCENARIOS:
            self.command += ["--scenario", scenario]
        self.records: list[dict] | None = None
        self.error: str | None = None
        self.seconds = 0.0
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        started = time.monotonic()
        try:
            done = subprocess.run(self.command, cwd=REPO_ROOT, capture_output=True, text=True, timeout=REFERENCE_TIMEOUT_S)
            if done.returncode != 0:
                self.error = f"exit {done.returncode}\n{done.stderr[-3000:]}"
            else:
                self.records = json.loads(done.stdout)
        except Exception as exc:  # noqa: BLE001 - reported to the test that needs the reference
            self.error = f"{type(exc).__name__}: {exc}"
        self.seconds = time.monotonic() - started

    def rows(self, scenario: str) -> list[dict]:
        self._thread.join(REFERENCE_TIMEOUT_S)
        if self.records is None:
            pytest.fail(f"the CLI reference failed: {' '.join(self.command)}\n{self.error}", pytrace=False)
        rows = sorted((r for r in self.records if r["scenario"] == scenario), key=lambda r: r["rerun"])
        assert len(rows) == RERUNS, f"CLI gave {len(rows)} records for {scenario}, expected {RERUNS}"
        return rows


@pytest.fixture(scope="session")
def cli_reference(app_url: str) -> CliReference:
    """Started as soon as the server is up, so it computes while the browser walks the pages."""
    return CliReference()


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


def compare_rows(where: str, downloaded: list[dict[str, str]], expected: list[tuple[int, dict]],
                 fields: Sequence[str] = COMPARED_FIELDS) -> list[str]:  # fmt: skip
    """Every difference between the page's CSV rows and the CLI's records (empty when bit-identical).

    `expected` is, in table order, (the rerun number the page should give, the CLI record). The CSV writes floats as
    repr, so float(text) is the page's exact value; fingerprints are whole.
    """
    problems: list[str] = []
    if len(downloaded) != len(expected):
        problems.append(f"{where}: the page's CSV has {len(downloaded)} rows, expected {len(expected)}")
    for row, (rerun, cli) in zip(downloaded, expected, strict=False):
        want = {**{field: cli[field] for field in COMPARED_FIELDS}, "rerun": rerun}
        got: dict[str, object] = {field: row.get(field) for field in COMPARED_FIELDS}
        got["rerun"] = int(row.get("rerun") or 0)
        got["before_sum"], got["after_sum"] = float(row.get("before_sum") or "nan"), float(row.get("after_sum") or "nan")
        for field in fields:
            if got[field] != want[field]:
                problems.append(f"{where} rerun {rerun} {field}: page {got[field]!r} != CLI {want[field]!r}")
    return problems


def expected_verdict(records: list[dict]) -> str:
    """The verdict the CLI's fingerprints imply (re-derived here, not imported from the app)."""
    if len(records) < 2:
        return "single-run"
    first = records[0]
    if all(r["before_sha256"] == first["before_sha256"] and r["after_sha256"] == first["after_sha256"] for r in records):
        return "stable"
    if all(a["after_sha256"] == b["before_sha256"] for a, b in zip(records, records[1:], strict=False)):
        return "drift-chain"
    return "drift"


def check_verdict(page, where: str, slot: str, records: list[dict]) -> list[str]:
    """The verdict the fingerprints imply is the one the results' banner names and the one the page's JSON report gives."""
    name = expected_verdict(records)
    problems = []
    banner = page.locator(f".st-key-{slot}_results [data-testid='stAlert']").filter(has_text="Verdict:")
    text = banner.first.inner_text() if banner.count() else "(no verdict banner)"
    if f"({name})" not in text:
        problems.append(f"{where}: expected verdict '{name}' in the results' banner, it says: {text[:300]!r}")
    verdicts = download_report(page, slot)["verdicts"]
    if verdicts != {records[0]["scenario"]: name}:
        problems.append(f"{where}: the page's JSON report gives the verdicts {verdicts}, expected {name!r}")
    return problems


def show(title: str, rows: list[dict[str, str]]) -> None:
    print(f"\n[{title}] downloaded from the page:")
    for row in rows:
        print("   ", {field: row.get(field) for field in ("rerun", "kernel_start", "before_sum", "after_sum", "after_sha256")})


def click_and_wait(page, button_key: str, container_key: str, rows: int) -> None:
    button(page, button_key).click()
    wait_for_rows(page, page.locator(f".st-key-{container_key}"), rows, CLICK_TIMEOUT_S)


def run_many_and_download(page, button_key: str, container_key: str, slot: str) -> list[dict[str, str]]:
    run = button(page, button_key)
    run.wait_for(state="visible")
    deadline = time.monotonic() + 30  # the rerun that follows a sidebar change may start a moment after the change
    while (label := button_label(page, button_key)) != f"Run {RERUNS} times" and time.monotonic() < deadline:
        page.wait_for_timeout(200)
    assert label == f"Run {RERUNS} times", f"button '{button_key}' says {label!r}, expected 'Run {RERUNS} times'"
    run.click()
    container = page.locator(f".st-key-{container_key}")
    wait_for_rows(page, container, RERUNS, CLICK_TIMEOUT_S)
    rows = download_rows(page, slot)
    show(slot, rows)
    return rows


def numbered(records: list[dict]) -> list[tuple[int, dict]]:
    return [(record["rerun"], record) for record in records]


def restart_sequence(page, cli_reference: CliReference) -> list[str]:
    """Run cell, Run cell, Restart kernel, Run cell: the rows must be the CLI's factory-tf-seed reruns 1 and 2,
    then its fresh-kernel rerun (a new kernel gives rerun 1 again), and the page must say the restart reproduces."""
    click_and_wait(page, "restart_run_cell", "restart_results", 1)
    click_and_wait(page, "restart_run_cell", "restart_results", 2)
    button(page, "restart_kernel").click()
    wait_for_app_run(page, CLICK_TIMEOUT_S * 1000)
    assert not exception_texts(page), "Restart kernel raised"
    click_and_wait(page, "restart_run_cell", "restart_results", 3)
    rows = download_rows(page, "restart")
    show("restart", rows)
    factory_tf, fresh = cli_reference.rows("factory-tf-seed"), cli_reference.rows("fresh-kernel")
    expected = [(1, fresh[0]), (2, factory_tf[1]), (1, fresh[1])]
    problems = compare_rows("restart", rows, expected, [f for f in COMPARED_FIELDS if f != "scenario"])  # two CLI scenarios
    starts = [int(row["kernel_start"]) for row in rows]
    if not (len(starts) == 3 and starts[0] == starts[1] and starts[2] == starts[0] + 1):
        problems.append(f"restart: kernel start column {starts}, expected k, k, k+1")
    check = page.locator(".st-key-restart_check").inner_text()
    if "reproduces" not in check or "does not reproduce" in check:
        problems.append(f"restart: the check box says {check!r}")
    return problems


def test_walkthrough_follows_links_and_matches_cli(page, app_url, cli_reference, screenshot_dir):
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
            rows = run_many_and_download(page, "drift_run_many", "drift_results", "drift")
            problems += compare_rows("drift (global-model)", rows, numbered(cli_reference.rows("global-model")))
            problems += check_verdict(page, "drift", "drift", cli_reference.rows("global-model"))
        elif name == "factory":
            run = button(page, "factory_run_many")
            run.wait_for(state="visible")
            label = button_label(page, "factory_run_many")
            assert str(RERUNS) in label, f"factory button says {label!r} but reruns is {RERUNS}"
            run.click()
            tf_box, full_box = page.locator(".st-key-factory_tf_results"), page.locator(".st-key-factory_full_results")
            wait_for_rows(page, full_box, RERUNS, 2 * CLICK_TIMEOUT_S)
            wait_for_rows(page, tf_box, RERUNS, CLICK_TIMEOUT_S)
            for scenario, slot in (("factory-tf-seed", "factory_tf"), ("factory-full-seed", "factory_full")):
                rows = download_rows(page, slot)
                show(scenario, rows)
                problems += compare_rows(f"factory ({scenario})", rows, numbered(cli_reference.rows(scenario)))
                problems += check_verdict(page, f"factory ({scenario})", slot, cli_reference.rows(scenario))
        elif name == "restart":
            problems += restart_sequence(page, cli_reference)
        assert not exception_texts(page), f"page '{name}' shows an exception after running"
        screenshot(page, screenshot_dir, name)
        assert previous != name
    print(f"\nheadings: {headings}")
    print(f"walkthrough {time.monotonic() - started:.1f} s; CLI reference {cli_reference.seconds:.1f} s")
    assert not problems, "page and CLI differ:\n" + "\n".join(problems)
