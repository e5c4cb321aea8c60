"""AppTest of Your training: the page shows the recorder it runs, keeps its inputs across pages, follows the sidebar's
reruns, refuses visitors' code on a hosted demo unless the operator allows it with a gateway, and runs a shipped example
(kernel tier): verdict, first divergence, fix, difference chart and downloads, all from the kernels' runs."""

from __future__ import annotations

import json

import pytest
from app_helpers import chart_data, elements, exceptions, find_block
from conftest import APP, RUN_TIMEOUT, close_kernel, open_page
from kernel_helpers import kept_and_lent
from streamlit.testing.v1 import AppTest

from lab_ui import session

PAGE = "lab_pages/your_training.py"


@pytest.fixture
def page():
    at = open_page(PAGE)
    yield at  # pytest runs the rest as the test's teardown, failed or not
    close_kernel(at)


def test_page_shows_the_example_and_the_recorder_without_starting_a_kernel(page):
    assert not exceptions(page) and [t.value for t in page.title] == ["Your training"]
    assert page.radio(key="train_source").value == "example"
    codes = [c.value for c in page.code]
    assert any("tf.random.set_seed(1234)  # the article's fix" in c for c in codes)  # the example, as it runs
    assert any("_lab_recorder = _LabRecorder()" in c and "def fit(self, *args, **kwargs)" in c for c in codes)  # the recorder, readable
    assert not page.button(key="train_run").disabled
    assert kept_and_lent(session.pool()) == (0, 0)


def test_inputs_survive_other_pages_and_runs_follow_the_sidebar_until_edited(page):
    at = page
    assert at.number_input(key="train_runs").value == 3  # the sidebar's reruns
    at.sidebar.number_input(key="reruns").set_value(5).run()
    assert at.number_input(key="train_runs").value == 5
    at.radio(key="train_source").set_value("typed").run()
    at.text_area(key="train_code").set_value("import keras\nprint('mine')\n").run()
    at.number_input(key="train_runs").set_value(4).run()
    at.sidebar.number_input(key="reruns").set_value(6).run()
    assert at.number_input(key="train_runs").value == 4  # edited: no longer the sidebar's
    at.switch_page("lab_pages/drift.py").run()
    at.switch_page(PAGE).run()
    assert not exceptions(at)
    assert at.radio(key="train_source").value == "typed" and at.text_area(key="train_code").value == "import keras\nprint('mine')\n"
    assert at.number_input(key="train_runs").value == 4
    at.text_area(key="train_code").set_value("def f(:\n").run()
    assert any("syntax error at line 1" in e.value for e in at.error) and at.button(key="train_run").disabled


@pytest.mark.parametrize("allow", ["", "1"])
def test_a_hosted_demo_refuses_typed_and_uploaded_code_without_the_operators_consent_and_a_gateway(hosting_env, allow):
    hosting_env(REPRO_HOSTED="1", **({"REPRO_ALLOW_CODE": allow} if allow else {}))
    at = AppTest.from_file(APP, default_timeout=60).run()
    at.switch_page(PAGE).run()
    for source in ("typed", "uploaded"):
        at.radio(key="train_source").set_value(source).run()
        assert not exceptions(at)
        warnings = [w.value for w in at.warning]
        assert any("does not run code typed or uploaded" in w and "gateway" in w for w in warnings), warnings
        assert not at.text_area and at.button(key="train_run").disabled
    at.radio(key="train_source").set_value("example").run()
    assert not at.button(key="train_run").disabled  # the shipped examples run anywhere


@pytest.mark.kernel
def test_a_shipped_example_runs_and_every_value_comes_from_its_runs(page):
    at = page
    at.selectbox(key="train_example").set_value("digits_cnn.py").run()
    at.toggle(key="train_doctor").set_value(False).run()
    at.number_input(key="train_runs").set_value(2).run()
    at.button(key="train_run").click().run(timeout=RUN_TIMEOUT)
    assert not exceptions(at)
    block = find_block(at.main, "train_results")
    assert any("Differs: 2 runs" in e.value and "initial weights" in e.value and "layer conv2d" in e.value for e in at.error)
    difference = next(frame.value for frame in elements(block, "dataframe") if "max ULPs" in frame.value.columns)
    assert list(difference["layer"])[0] == "conv2d" and difference["max |Δ|"].iloc[0] > 0
    spec, frames = chart_data(elements(block, "vega_lite_chart")[0])
    assert spec["autosize"]["type"] == "fit-x" and spec["height"] >= 100 and set(frames[0]["layer"]) >= {"conv2d"}
    downloads = {b.proto.label: b for b in at.get("download_button")}
    assert set(downloads) == {"Report (JSON)", "Notebook (.ipynb)"}
    assert kept_and_lent(session.pool()) == (0, 0)
    state = session.kept(at.session_state, "train_result")
    report = json.loads(json.dumps(state.as_dict()))
    assert report["first_divergence"]["stage"] == "initial-weights" and report["fix"]["switches"] == ["keras"]
