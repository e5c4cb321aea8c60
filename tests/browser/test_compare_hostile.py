"""Reports are passed between people: a crafted report's Markdown and HTML must show as text on the Compare page.

No <a> or <img> in the page's DOM may point where the report says, and a field with a known shape
(a kernelspec name) holding markup is refused with a message, the uploaded file's name shown literally too.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from lab_browser import exception_texts, wait_for_app_run

from repro_core.records import KernelVersions, RunRecord
from repro_core.results.report import build_report, report_json

pytestmark = pytest.mark.browser

LINK = "[x](https://example.invalid/a)"
IMAGE = "![](https://example.invalid/p.png)"
HTML = "<b>bold</b><img src=https://example.invalid/i.png>"
CRAFTED = f"{LINK} {IMAGE} {HTML}"
VERSIONS = KernelVersions(python="3.11.7", tensorflow="2.21.0", keras="3.15.1", engine="keras3", kernelspec="lab-python",
                          platform="Linux-x86_64", numpy="2.4.6")  # fmt: skip

FROM_REPORT_JS = """
() => [...document.querySelectorAll('a[href], img[src]')]
    .map((el) => el.getAttribute('href') || el.getAttribute('src'))
    .filter((url) => url.includes('example.invalid'))
"""


def crafted(path: Path, **kernel) -> Path:
    record = RunRecord(scenario="factory-full-seed", rerun=1, before_sum=1.5, after_sum=2.5, before_sha256="a" * 64,
                       after_sha256="b" * 64, seconds=1.0, python="3.11.7", tensorflow="2.21.0", keras="3.15.1",
                       engine="keras3", kernelspec="lab-python")  # fmt: skip
    document = json.loads(report_json(build_report([record], {"seed": 1234, "reruns": 1}, VERSIONS)))
    document["machine"] = {"platform": CRAFTED, "cpu": CRAFTED}
    document["kernel"]["platform"] = CRAFTED
    document["kernel"].update(kernel)
    document["error"] = CRAFTED
    path.write_text(json.dumps(document), encoding="utf-8")
    return path


def upload(page, key: str, path: Path) -> None:
    page.locator(f".st-key-{key} input[type=file]").set_input_files(str(path))
    wait_for_app_run(page)


def test_crafted_report_text_is_shown_literally(page, app_url, tmp_path, screenshot_dir):
    page.goto(f"{app_url}/compare")
    wait_for_app_run(page)
    page.get_by_role("heading", name="Compare reports").wait_for()
    upload(page, "compare_a", crafted(tmp_path / "a.json"))
    upload(page, "compare_b", crafted(tmp_path / "b.json", engine="tf_keras", keras="2.21.0"))
    page.locator(".st-key-compare_kernels").get_by_text("The reports' kernels differ in: engine, Keras.").wait_for(timeout=30_000)
    summary = page.locator(".st-key-compare_a_summary").inner_text()
    for piece in (LINK, IMAGE, HTML):
        assert piece in summary, summary  # the characters themselves, as typed
    assert page.evaluate(FROM_REPORT_JS) == []
    assert page.locator(".st-key-compare_a_summary b").count() == 0  # no tag from the report became an element
    assert not exception_texts(page)
    page.screenshot(path=str(screenshot_dir / "compare-crafted-report.png"), full_page=True)

    # A kernelspec name cannot hold markup: refused, with the field named; the file name is visitor text too.
    hostile_name = tmp_path / "[x](https:example.invalid)<b>bold<b>.json"
    upload(page, "compare_b", crafted(hostile_name, kernelspec=CRAFTED))
    alert = page.locator("[data-testid='stAlert']").filter(has_text="cannot be read")
    alert.wait_for(timeout=30_000)
    message = alert.inner_text()
    assert "kernel.kernelspec must be a kernelspec name" in message
    assert hostile_name.name in message  # shown literally, brackets and tags included
    assert page.evaluate(FROM_REPORT_JS) == []
    assert alert.locator("a, img, b").count() == 0
    assert not exception_texts(page)
