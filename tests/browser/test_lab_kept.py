"""Issue 27 from the learner's side, in a real browser: a row survives a reload (F5), a downloaded report loads back into
its page, other settings start a group of their own beside the old one, Compare names a seed difference, and the Factory
page's columns can be pressed in any order. Values come from the page's downloads; epochs are 1 (this is about rows)."""

from __future__ import annotations

from dataclasses import replace
from urllib.parse import parse_qs, urlparse

import pytest
from lab_browser import button, download_rows, exception_texts, results_selector, set_sidebar_number, wait_for_app_run, wait_for_rows

from repro_core.records import RunRecord
from repro_core.results.report import build_report, report_json

pytestmark = pytest.mark.browser

CLICK_TIMEOUT_S = 240.0  # a kernel start with TensorFlow's import, then a rerun, on a shared 2-core machine


def lab_id(page) -> str:
    found = parse_qs(urlparse(page.url).query).get("lab", [""])[0]
    assert found, f"the URL names no lab: {page.url}"
    return found


def headline(page, scenario: str) -> str:
    return page.locator(f"{results_selector(scenario)} [data-testid='stAlert']").first.inner_text()


def run_cell(page, key: str, scenario: str, rows: int) -> None:
    button(page, key).click()
    wait_for_rows(page, page.locator(results_selector(scenario)), rows, CLICK_TIMEOUT_S)


def record(scenario: str, rerun: int, seed: int, before: str, after: str) -> RunRecord:
    return RunRecord(scenario, rerun, 0.25 * rerun, 0.5 * rerun, before * 64, after * 64, 0.1, "3.11.7", "2.21.0", "3.15.1", "keras3",
                     "lab-python", 1, seed=seed, epochs=10)  # fmt: skip


def write_report(tmp_path, name: str, records: list[RunRecord], seed: int) -> str:
    path = tmp_path / name
    path.write_text(report_json(build_report(records, {"seed": seed, "epochs": 10, "reruns": len(records)}, None)), encoding="utf-8")
    return str(path)


def test_a_row_survives_a_reload_and_other_settings_start_a_group_beside_it(page, app_url):
    page.goto(f"{app_url}/drift")
    wait_for_app_run(page)
    set_sidebar_number(page, "epochs", 1)
    run_cell(page, "drift_run_cell", "global-model", 1)
    first = lab_id(page)

    page.reload()  # F5: a new Streamlit session; the URL still names the lab
    wait_for_app_run(page)
    wait_for_rows(page, page.locator(results_selector("global-model")), 1, 60)
    assert lab_id(page) == first and not exception_texts(page)
    assert page.locator(".st-key-epochs input").first.input_value() == "1"  # the settings the row was made with
    [kept] = download_rows(page, "global-model")
    assert (kept["seed"], kept["epochs"], kept["rerun"]) == ("1234", "1", "1")

    set_sidebar_number(page, "seed", 42)
    run_cell(page, "drift_run_cell", "global-model", 2)
    rows = download_rows(page, "global-model")
    assert [(row["seed"], row["rerun"]) for row in rows] == [("1234", "1"), ("42", "1")]  # both kept, each with its settings
    said = headline(page, "global-model")
    assert "seed 42, 1 epochs" in said, said  # the headline names the settings of the rows it judges
    earlier = page.locator(f"{results_selector('global-model')} [data-testid='stCaptionContainer']").all_inner_texts()
    assert any("Earlier groups" in text and "seed 1234, 1 epochs" in text for text in earlier), earlier
    assert page.get_by_text("New settings (seed 1234 → 42)").count() >= 1


def test_a_downloaded_report_loads_back_into_its_page(page, app_url, tmp_path):
    chain = [record("global-model", k, 1234, str(k), str(k + 1)) for k in (1, 2)]
    other_page = replace(chain[0], scenario="factory-tf-seed")
    path = write_report(tmp_path, "mine.json", [*chain, other_page], 1234)
    page.goto(f"{app_url}/drift")
    wait_for_app_run(page)
    page.get_by_text("Load a downloaded report back into this page").click()
    page.locator('[data-testid="stFileUploaderDropzoneInput"]').first.set_input_files(path)
    wait_for_app_run(page)
    page.get_by_text("2 row(s) loaded from").first.wait_for(timeout=30_000)
    wait_for_rows(page, page.locator(results_selector("global-model")), 2, 60)
    rows = download_rows(page, "global-model")
    assert [(row["before_sha256"][:1], row["after_sha256"][:1]) for row in rows] == [("1", "2"), ("2", "3")]
    assert headline(page, "global-model").startswith("Drift, as a chain")  # judged like any rows: the chain is seen


def test_compare_of_two_reports_that_differ_only_in_seed_names_the_seed(page, app_url, tmp_path):
    a = write_report(tmp_path, "a.json", [record("factory-tf-seed", 1, 1234, "a", "b")], 1234)
    b = write_report(tmp_path, "b.json", [record("factory-tf-seed", 1, 42, "c", "d")], 42)
    page.goto(f"{app_url}/compare")
    wait_for_app_run(page)
    for key, path in (("compare_a", a), ("compare_b", b)):
        page.locator(f".st-key-{key} input[type=file]").set_input_files(path)
        wait_for_app_run(page)
    causes = page.locator(".st-key-compare_causes")
    causes.wait_for(timeout=30_000)
    lines = [line.strip() for line in causes.inner_text().splitlines() if line.strip()]
    assert lines[0].startswith("Likely causes") and lines[1].lstrip("• ") == "seed 1234 in A, 42 in B", lines  # the setting, first


def test_left_middle_left_on_factory_gives_the_left_column_a_comparison(page, app_url):
    page.goto(f"{app_url}/factory")
    wait_for_app_run(page)
    set_sidebar_number(page, "epochs", 1)
    run_cell(page, "factory-tf-seed_run_cell", "factory-tf-seed", 1)
    run_cell(page, "factory-full-seed_run_cell", "factory-full-seed", 1)
    run_cell(page, "factory-tf-seed_run_cell", "factory-tf-seed", 2)
    left = download_rows(page, "factory-tf-seed")
    assert [row["rerun"] for row in left] == ["1", "2"] and left[0]["kernel_start"] == left[1]["kernel_start"]  # one kernel
    assert not headline(page, "factory-tf-seed").startswith("Single run")  # two reruns of one cell: a comparison
    assert len(download_rows(page, "factory-full-seed")) == 1
