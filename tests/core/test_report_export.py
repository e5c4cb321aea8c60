"""JSON reports: write, read back hostile input, compare. (The notebook export re-executed in a fresh plain kernel is
tests/core/test_notebook_rerun.py's: `story --notebook` builds with notebook_from_cells, as the pages do.)"""

from __future__ import annotations

import contextlib
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from story_claims import run_cell, story_book

from repro_core.recipes.settings import StoryParams
from repro_core.records import compare_records
from repro_core.results.report import MAX_REPORT_BYTES, build_report, parse_report, report_json
from repro_core.validation import Refusal


@pytest.fixture(scope="module")
def run():
    params = StoryParams(reruns=2, epochs=3)
    with story_book(params) as book:
        records = [run_cell(book, params, "factory-full-seed") for _ in range(2)]
        yield records, list(book.log), book.versions


@pytest.mark.kernel
def test_report_round_trips(run):
    records, _, versions = run
    report = build_report(records, {"seed": 1234}, versions)
    again = parse_report(report_json(report))
    assert again.records == records
    assert again.verdicts() == {"factory-full-seed": "stable"}
    assert again.kernel["tensorflow"] == versions.tensorflow
    assert compare_records(report.records, again.records).outcome == "same"


@pytest.mark.kernel
def test_compare_finds_a_difference(run):
    records, _, versions = run
    a = build_report(records, {}, versions)
    changed = [records[0], type(records[1])(**{**records[1].as_dict(), "after_sha256": "0" * 64})]
    comparison = compare_records(a.records, build_report(changed, {}, versions).records)
    assert [(r.rerun, r.before_same, r.after_same) for r in comparison.rows] == [(1, True, True), (2, True, False)]
    assert (comparison.outcome, comparison.differing, comparison.paired) == ("different", 1, 2)


@pytest.mark.parametrize(
    "data, fragment",
    [
        (b"\xff\xfe", "not valid JSON"),
        (b"[1, 2]", "not a Keras Reproducibility Lab report"),
        (json.dumps({"schema": "keras-reproducibility-lab/report", "schema_version": 99}), "unsupported report version"),
        (b"{" * 600_000 + b"}" * 600_000, "at most"),
        (b"[" * 50_000 + b"]" * 50_000, "not valid JSON"),
        (json.dumps({"schema": "keras-reproducibility-lab/report", "schema_version": 1, "records": [{"rerun": 1}]}), "lacks"),
    ],
    ids=["not-utf8", "not-a-report", "future-version", "oversized", "deeply-nested", "record-lacks-fields"],
)
def test_bad_reports_get_clear_messages(data, fragment):
    with pytest.raises(Refusal, match=fragment):
        parse_report(data)


def test_oversized_report_is_refused():
    with pytest.raises(Refusal, match="at most"):
        parse_report(b" " * (MAX_REPORT_BYTES + 1))


@settings(max_examples=200, deadline=None)
@given(st.one_of(st.binary(max_size=2000), st.recursive(st.none() | st.booleans() | st.floats() | st.text(max_size=20),
       lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4)).map(json.dumps)))  # fmt: skip
def test_hostile_reports_only_raise_refusal(data):
    with contextlib.suppress(Refusal):
        parse_report(data)
