"""The Compare page in Chromium: upload two CLI reports (Keras 3 vs tf_keras), then a malformed file."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from lab_browser import REPO_ROOT, button, download, exception_texts, set_sidebar_number, wait_for_app_run, wait_for_rows

from repro_core.results.exports import compare
from repro_core.results.report import parse_report, report_json

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def reports(engine_reports, tmp_path_factory) -> dict[str, Path]:
    """Two reports from `story --report` (keras3 and tf_keras; tests/conftest.py runs them for tests/core/test_cli.py
    too), written back through repro_core.results.report."""
    folder = tmp_path_factory.mktemp("reports")
    paths = {}
    for engine, (raw, done) in engine_reports.items():
        assert done.returncode == 0, done.stderr[-2000:]
        path = folder / f"{engine}.json"
        path.write_text(report_json(parse_report(raw.read_bytes())), encoding="utf-8")
        paths[engine] = path
    return paths


def upload(page, key: str, path: Path) -> None:
    page.locator(f".st-key-{key} input[type=file]").set_input_files(str(path))
    wait_for_app_run(page)


def test_compare_two_reports_then_a_malformed_file(page, app_url, reports, tmp_path, screenshot_dir):
    a, b = parse_report(reports["keras3"].read_bytes()), parse_report(reports["tf_keras"].read_bytes())
    expected = compare(a, b).headline()  # the page's headline is the command's

    page.goto(f"{app_url}/compare")
    wait_for_app_run(page)
    page.get_by_role("heading", name="Compare reports").wait_for()
    upload(page, "compare_a", reports["keras3"])
    upload(page, "compare_b", reports["tf_keras"])
    result = page.locator(".st-key-compare_result")
    result.get_by_text(expected).wait_for(timeout=30_000)
    result.locator("[data-testid='stDataFrame']").first.wait_for(timeout=30_000)  # drawn after the headline, on a slow machine later
    wait_for_app_run(page)
    assert " of 2 rerun(s) in both reports differ" in expected
    assert "tf_keras" in page.locator(".st-key-compare_b_summary").inner_text()
    assert "Keras 3" in page.locator(".st-key-compare_a_summary").inner_text()  # the engine in words, not its id
    assert result.locator("[data-testid='stDataFrame']").count() == 1
    assert not exception_texts(page)
    page.screenshot(path=str(screenshot_dir / "compare-two-reports.png"), full_page=True)

    bad = tmp_path / "broken.json"
    bad.write_bytes(b'{"schema": "keras-reproducibility-lab/report", oops')
    upload(page, "compare_a", bad)
    page.get_by_text("broken.json cannot be read").wait_for(timeout=30_000)
    assert "not valid JSON" in page.locator("[data-testid='stAlert']").filter(has_text="broken.json").inner_text()
    result.get_by_text("Upload two reports to compare them.").wait_for()
    assert not exception_texts(page)


def test_a_page_report_against_a_cli_report_is_judged_on_the_rerun_both_hold(page, app_url, reports, tmp_path):
    """Issue 16: a live page report (one rerun, from kernel start #2) against the command line's report of the same
    scenario (2 reruns, kernel start 1): the headline counts the one rerun both hold, names the one that is in one report
    only, and `compare` exits 0, as the headline says "identical"."""
    page.goto(f"{app_url}/factory")
    wait_for_app_run(page)
    set_sidebar_number(page, "epochs", 2)  # the CLI report's settings: factory-full-seed, 2 epochs
    button(page, "factory-tf-seed_run_cell").click()  # kernel start 1 runs the other recipe ...
    wait_for_rows(page, page.locator(".st-key-factory-tf-seed_results"), 1, 600)
    button(page, "factory-full-seed_run_cell").click()  # ... so this row comes from kernel start 2
    wait_for_rows(page, page.locator(".st-key-factory-full-seed_results"), 1, 600)
    mine = tmp_path / "page.json"
    mine.write_bytes(download(page, "factory-full-seed_json").data)
    page_report = parse_report(mine.read_bytes())
    assert [r.kernel_start for r in page_report.records] == [2]

    comparison = compare(page_report, parse_report(reports["keras3"].read_bytes()))
    assert (comparison.paired, comparison.differing, comparison.one_sided) == (1, 0, 1)
    expected = comparison.headline()
    assert expected.startswith("All 1 rerun(s) in both reports are identical") and "1 rerun(s) are in one report only" in expected
    done = subprocess.run([sys.executable, "-m", "repro_core", "compare", str(mine), str(reports["keras3"])], cwd=REPO_ROOT,
                          capture_output=True, text=True, timeout=120)  # fmt: skip
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert expected in done.stdout

    page.goto(f"{app_url}/compare")
    wait_for_app_run(page)
    upload(page, "compare_a", mine)
    upload(page, "compare_b", reports["keras3"])
    page.locator(".st-key-compare_result").get_by_text(expected).wait_for(timeout=30_000)
    assert not exception_texts(page)
