"""Home's findings are computed from the reports they cite: change a report's rows and the sentence changes with it."""

from __future__ import annotations

from dataclasses import replace

from repro_core.records import VERDICTS
from repro_core.results.timeline import load_timeline
from repro_core.views.findings import (
    FINDING_SCENARIOS,
    LIVE_COLUMN,
    QUESTIONS,
    ReleaseVerdict,
    findings_frame,
    home_findings,
    release_verdicts,
    spans_sentence,
)


def test_spans_sentence_names_each_run_of_equal_verdicts():
    measured = [ReleaseVerdict("2.9", {"keras2": "stable"}), ReleaseVerdict("2.10", {"keras2": "drift"}),
                ReleaseVerdict("2.11", {"keras2": "drift"})]  # fmt: skip
    assert spans_sentence(measured) == "Stable on TF 2.9; Drift from TF 2.10 to 2.11"
    assert spans_sentence(measured[1:]) == "Drift on every release measured (TF 2.10 to 2.11)"
    assert spans_sentence([]) == "Not measured in any committed report"


def test_engines_that_disagree_fall_back_to_the_release_default():
    assert ReleaseVerdict("2.16", {"keras3": "drift", "tf_keras": "stable"}).verdict == "drift"
    assert ReleaseVerdict("2.15", {"keras2": "stable"}).verdict == "stable"


def test_findings_follow_the_committed_reports():
    entries = load_timeline()
    findings = home_findings(entries)
    assert [f.scenario for f in findings] == list(FINDING_SCENARIOS)
    for finding in findings:
        measured = release_verdicts(entries, finding.scenario)
        # the newest release's recomputed verdict colours the finding, and every verdict met is named in the sentence
        assert finding.verdict == measured[-1].verdict
        for item in measured:
            assert VERDICTS[item.verdict].headline in finding.headline
        assert finding.source.startswith(f"{len(entries)} committed reports")


def test_a_report_that_changes_changes_the_finding():
    entries = load_timeline()
    newest = max(range(len(entries)), key=lambda i: entries[i].sort_key)
    entry = entries[newest]
    # rerun 2 of the article's fix made identical to rerun 1 on the newest release: that release turns stable
    rows = [r for r in entry.report.records if r.scenario == "factory-tf-seed"]
    first = rows[0]
    patched = [replace(r, before_sha256=first.before_sha256, after_sha256=first.after_sha256) if r.scenario == "factory-tf-seed" else r
               for r in entry.report.records]  # fmt: skip
    others = [e for e in entries if e.release == entry.release and e is not entry]
    changed = [*entries]
    changed[newest] = replace(entry, report=replace(entry.report, records=patched))
    for other in others:  # every engine of that release
        index = entries.index(other)
        other_rows = [replace(r, before_sha256=first.before_sha256, after_sha256=first.after_sha256) if r.scenario == "factory-tf-seed" else r
                      for r in other.report.records]  # fmt: skip
        changed[index] = replace(other, report=replace(other.report, records=other_rows))
    before = home_findings(entries)[1]
    after = home_findings(changed)[1]
    assert after.verdict == "stable" and after.headline != before.headline
    assert f"Stable on TF {entry.release}" in after.headline or after.headline.endswith(f"{entry.release})")


def test_live_rows_get_their_own_labelled_column():
    entries = load_timeline()
    live = {"global-model": ("drift-chain", "your kernel (TF 2.21.0, 3 rows)")}
    frame = findings_frame(entries, live)
    mine = frame[frame["release"] == LIVE_COLUMN]
    assert list(mine["question"]) == [QUESTIONS["global-model"]]
    finding = home_findings(entries, live)[0]
    assert finding.live == "Drift, as a chain in your kernel (TF 2.21.0, 3 rows)"
    assert home_findings(entries, live)[1].live == ""
