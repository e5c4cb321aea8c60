"""Exports after a real run hold its records and fingerprints. (The drift page's notebook re-executed in a fresh plain
kernel is tests/app/test_notebook_downloads.py's; the kernel picker's TF 2.9 kernel running the factory page's cells is
tests/browser/test_tf29_lever.py's, its rows' verdict on TF 2.9 tests/app/test_lever.py's.)"""

from __future__ import annotations

import csv
import io
import re

import nbformat
import pytest
from app_helpers import download, exceptions, find_block, lab_of, rows_of
from conftest import PAGES, RUN_TIMEOUT

from repro_core.results.ipynb_export import CELL_META
from repro_core.results.report import parse_report

pytestmark = pytest.mark.kernel

SHA_PREFIX = re.compile(r"sha256[^0-9a-f]*([0-9a-f]{12})\b")


def stdout_of(book) -> list[str]:
    texts = ["".join(o.text for o in c.outputs if o.get("name") == "stdout") for c in book.cells if c.cell_type == "code"]
    return [text for text in texts if text]


def test_drift_exports_hold_the_runs_records_and_fingerprints(app, media):
    at = app
    at.number_input(key="epochs").set_value(2).run()
    at = at.switch_page(PAGES["drift"]).run()
    assert find_block(at.main, "global-model_exports") is None  # nothing to export before a run
    at.button(key="drift_run_many").click().run(timeout=RUN_TIMEOUT)
    assert not exceptions(at)
    assert [b.label for b in at.get("download_button")] == ["Table (CSV)", "Report (JSON)", "Notebook (.ipynb)"]
    assert find_block(at.main, "global-model_exports") is not None

    records = rows_of(at, "global-model")
    assert [r.rerun for r in records] == [1, 2] and {(r.seed, r.epochs) for r in records} == {(1234, 2)}  # rows carry their settings
    table = list(csv.DictReader(io.StringIO(download(at, media, "global-model_csv"))))
    assert table == [{k: str(v) for k, v in r.as_dict().items()} for r in records]
    report = parse_report(download(at, media, "global-model_json"))
    versions = lab_of(at).lanes["global-model"].versions
    assert report.records == records and report.kernel["tensorflow"] == versions.tensorflow
    assert (report.settings["seed"], report.settings["epochs"], report.settings["reruns"]) == (1234, 2, 2)

    book = nbformat.reads(download(at, media, "global-model_ipynb"), as_version=4)
    assert len([c for c in book.cells if c.cell_type == "code"]) == 2 + len(records)  # setup cell, environment cell, each rerun
    exported = stdout_of(book)
    printed = [m for out in exported for m in SHA_PREFIX.findall(out)]
    expected = [p for r in records for p in (r.before_sha256[:12], r.after_sha256[:12])]
    assert printed == expected, (printed, expected)


def test_restart_page_exports_every_kernel_start(app, media):
    at = app
    at.number_input(key="epochs").set_value(1).run()
    at = at.switch_page(PAGES["restart"]).run()
    at.button(key="restart_run_cell").click().run(timeout=RUN_TIMEOUT)
    at.button(key="restart_kernel").click().run(timeout=RUN_TIMEOUT)
    at.button(key="restart_run_cell").click().run(timeout=RUN_TIMEOUT)
    assert not exceptions(at)
    records = rows_of(at, "restart")
    first = records[0].kernel_start
    assert [(r.kernel_start - first, r.rerun) for r in records] == [(0, 1), (1, 1)]
    assert [b.label for b in at.get("download_button")] == ["Table (CSV)", "Report (JSON)", "Notebook (.ipynb)"]
    book = nbformat.reads(download(at, media, "restart_ipynb"), as_version=4)
    assert [len(group) for group in kernel_start_groups_of(book)] == [3, 3]
    printed = [m for out in stdout_of(book) for m in SHA_PREFIX.findall(out)]
    assert printed == [p for r in records for p in (r.before_sha256[:12], r.after_sha256[:12])]


def kernel_start_groups_of(book) -> list[list]:
    """The notebook's code cells, split where the lab restarted the kernel (the export marks each kernel start)."""
    groups: dict[int, list] = {}
    for cell in book.cells:
        if cell.cell_type == "code":
            groups.setdefault(cell.metadata[CELL_META]["kernel_start"], []).append(cell)
    return list(groups.values())
