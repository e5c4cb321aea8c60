"""Every page loads in AppTest without an exception and without starting a kernel."""

from __future__ import annotations

import pytest
from app_helpers import exceptions
from conftest import APP, PAGES
from streamlit.testing.v1 import AppTest

from lab_ui import session

TITLES = {
    "home": "Keras Reproducibility Lab",
    "seed": "Seed the notebook",
    "drift": "Rerun drift",
    "factory": "Factory + reseed",
    "restart": "Restart the kernel",
    "why": "Why re-running a cell changes the weights",
}

KEYS = {
    "home": ["run_story"],
    "seed": ["seed_run_setup"],
    "drift": ["drift_run_cell", "drift_run_many"],
    "factory": ["factory_run_many", "factory-tf-seed_run_cell", "factory-full-seed_run_cell"],
    "restart": ["restart_run_cell", "restart_kernel"],
    "why": [],
}


@pytest.mark.parametrize("name", list(PAGES))
def test_page_loads(name):
    at = AppTest.from_file(APP, default_timeout=60).run()
    at.switch_page(PAGES[name]).run()
    assert not exceptions(at)
    assert [t.value for t in at.title] == [TITLES[name]]
    for key in KEYS[name]:
        assert at.button(key=key) is not None
    # the sidebar's settings and the kernel card are on every page
    assert [w.value for w in at.number_input] == [1234, 3, 10]
    assert at.selectbox(key="engine").value == "keras3"
    assert any("not known yet" in c.value for c in at.sidebar.caption)
    # walkthrough order: every page links to the next one
    assert len(at.get("page_link")) >= 1
    # loading a page never starts a kernel
    assert not at.session_state[session.LAB].lanes


def test_run_buttons_show_configured_reruns():
    at = AppTest.from_file(APP, default_timeout=60).run()
    at.number_input(key="reruns").set_value(4).run()
    at.switch_page(PAGES["drift"]).run()
    assert at.button(key="drift_run_many").label == "Run 4 times"
    at.switch_page(PAGES["factory"]).run()
    assert at.button(key="factory_run_many").label == "Run 4 times"


def test_factory_page_shows_article_diff():
    at = AppTest.from_file(APP, default_timeout=60).run()
    at.switch_page(PAGES["factory"]).run()
    diffs = [c.value for c in at.code if c.language == "diff"]
    assert len(diffs) == 1
    assert "-adm = keras.optimizers.Adam(lr=0.001" in diffs[0]
    assert "+optimizer = keras.optimizers.Adam(learning_rate=0.001" in diffs[0]


def test_home_leads_with_the_three_findings_from_the_reports():
    from app_helpers import alerts, elements, find_block

    from repro_core.results.timeline import load_timeline
    from repro_core.views.findings import home_findings

    at = AppTest.from_file(APP, default_timeout=60).run()
    block = find_block(at.main, "home_findings")
    shown = alerts(block)
    expected = home_findings(load_timeline())
    assert len(shown) == 3
    for text, finding in zip(shown, expected, strict=True):
        assert text == f"**{finding.question}:** {finding.headline}"
    assert len(elements(at.main, "vega_lite_chart")) == 1
