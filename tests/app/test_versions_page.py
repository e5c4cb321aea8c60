"""The Across versions page: recorded heatmap and sentence without a kernel; a live column through the session's kernel."""

from __future__ import annotations

import pytest
from app_helpers import chart_data, elements, exceptions, find_block
from conftest import APP, RUN_TIMEOUT, close_kernel, open_page
from streamlit.testing.v1 import AppTest

from lab_ui import session
from repro_core.results.timeline import load_timeline
from repro_core.views import backends
from repro_core.views.timeline import summary_sentence

PAGE = "lab_pages/versions.py"


def heatmap_columns(at: AppTest) -> list[str]:
    """The heatmap's columns, in order, from the data shipped with the chart (which must carry the "cell" selection)."""
    charts = [chart for chart in elements(at.main, "vega_lite_chart") if getattr(chart, "key", None) == "versions_heatmap"]
    assert len(charts) == 1
    spec, datasets = chart_data(charts[0])
    assert [param["name"] for param in spec["params"]] == ["cell"]
    return list(dict.fromkeys(datasets[0]["column"]))


def test_page_renders_the_recorded_heatmap_and_the_computed_sentence():
    at = open_page(PAGE)
    assert not exceptions(at)
    assert [t.value for t in at.title] == ["Across versions and backends"]
    entries = load_timeline(backends=True)
    assert {e.backend for e in entries} >= {"tensorflow", "jax", "torch"}
    assert heatmap_columns(at) == [e.column for e in entries]
    sentence_block = find_block(at.main, "versions_sentence")
    texts = [child.value for child in elements(sentence_block, "markdown")]
    assert summary_sentence(entries) in texts
    assert any("keras-team/keras/commit/69b41cf" in text for text in texts)
    assert at.button(key="versions_run_live") is not None
    # The backends' part: every sentence computed from the same reports, the switches chart and table.
    backend_block = find_block(at.main, "versions_backends")
    said = [child.value for child in elements(backend_block, "markdown")]
    assert backends.agreement_sentence(entries) in said
    assert all(f"- {line}" in said for line in backends.controls_sentences(entries)) and backends.controls_sentences(entries)
    assert len(elements(backend_block, "vega_lite_chart")) == 1 and len(elements(backend_block, "dataframe")) == 1
    assert not at.session_state[session.LAB].lanes  # loading the page never starts a kernel


def test_factory_and_why_link_to_the_page():
    for page in ("lab_pages/factory.py", "lab_pages/why.py"):
        at = AppTest.from_file(APP, default_timeout=60).run()
        at.switch_page(page).run()
        assert not exceptions(at)
        assert any(link.proto.page == PAGE or link.proto.page.endswith("versions") for link in at.get("page_link")), page


@pytest.mark.kernel
def test_live_button_adds_a_live_column_with_provenance():
    at = open_page(PAGE)
    try:
        at.number_input(key="reruns").set_value(1).run()
        at.number_input(key="epochs").set_value(1).run()
        at.button(key="versions_run_live").click().run(timeout=RUN_TIMEOUT)
        assert not exceptions(at)
        live = session.kept(at.session_state, "versions_live")
        assert live.source == "live" and live.report.kernel["kernelspec"] == "lab-python"
        assert len(live.report.records) == 4 and live.report.machine.get("cpu")
        assert heatmap_columns(at)[-1] == live.column and live.column.endswith("· live")
        note = [child.value for child in elements(find_block(at.main, "versions_live_note"), "markdown")]
        assert any("settings differ (reruns, epochs)" in text for text in note)
    finally:
        close_kernel(at)
