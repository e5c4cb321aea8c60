"""AppTest of the "Your model" page: loads without a kernel, a tiny audit fills verdict/table/heatmap, bad values give st.error."""

from __future__ import annotations

import pytest
from app_helpers import alerts, chart_data, elements, exceptions, find_block
from conftest import RUN_TIMEOUT, close_kernel, open_page
from kernel_helpers import kept_and_lent

from lab_ui import session

PAGE = "lab_pages/your_model.py"


@pytest.fixture
def page():
    at = open_page(PAGE)
    yield at  # pytest runs the rest as the test's teardown, failed or not
    close_kernel(at)


def test_page_loads_without_starting_a_kernel(page):
    assert not exceptions(page)
    assert [t.value for t in page.title] == ["Your model"]
    assert page.button(key="model_run") is not None
    assert any("tf.random.set_seed(1234)" in c.value for c in page.code)  # the default recipe, global model + tf.random.set_seed
    assert kept_and_lent(session.pool()) == (0, 0)


def test_reseed_radio_offers_five_seed_switches_in_code_words_default_the_articles(page):
    """Nine switches would not read as a radio: five (none, each generator the story turns on, the fix + random.seed,
    Keras's own) in code words; the Recipe matrix has all nine."""
    radio = page.radio(key="model_reseed")
    assert radio.value == "tf"
    assert radio.options == ["no reseed", "random.seed", "tf.random.set_seed", "random.seed + tf.random.set_seed", "keras.utils.set_random_seed"]
    assert "Recipe matrix" in radio.help
    radio.set_value("python-tf").run()
    assert not exceptions(page)
    assert any("random.seed(1234)\ntf.random.set_seed(1234)" in c.value for c in page.code)  # the audit's cell follows the radio


@pytest.mark.kernel
def test_tiny_audit_fills_verdict_table_and_heatmap(page):
    at = page
    at.radio(key="model_way").set_value("factory")
    at.radio(key="model_reseed").set_value("full")
    at.number_input(key="model_n_layers").set_value(1).run()
    at.number_input(key="model_units_0").set_value(3)
    at.number_input(key="model_samples").set_value(16)
    at.number_input(key="model_features").set_value(2)
    at.number_input(key="model_epochs").set_value(1)
    at.number_input(key="model_reruns").set_value(2).run()
    assert not exceptions(at) and not alerts(at.main)
    at.button(key="model_run").click().run(timeout=RUN_TIMEOUT)
    assert not exceptions(at)
    block = find_block(at.main, "model_results")
    texts = alerts(block)
    assert any(text.startswith("**Stable**") and "Rows judged: 2 reruns" in text for text in texts), texts
    records, table = (frame.value for frame in elements(block, "dataframe"))
    assert len(records) == 2
    assert list(table["layer"]) == ["l1_dense", "l1_dense", "output", "output"] and table["identical"].all()
    assert at.selectbox(key="model_layer_pick").value == "l1_dense/kernel"
    _spec, frames = chart_data(elements(block, "vega_lite_chart")[0])
    assert len(frames[0]) == 2 * 3 and set(frames[0]["difference"]) == {0.0}
    assert [b.label for b in at.get("download_button")] == ["Notebook (.ipynb)"]  # the same file as `audit --notebook`

    # the audit's kernel was only lent for the click: the pool has taken it back
    assert kept_and_lent(session.pool()) == (0, 0)

    # op determinism goes into the setup cell; the old results are marked stale
    at.toggle(key="model_op_determinism").set_value(True).run()
    assert not exceptions(at)
    assert any("enable_op_determinism()" in c.value for c in at.code)
    assert any("other settings" in w.value for w in at.warning)


@pytest.mark.parametrize(
    "key, value, fragment",
    [
        ("model_epochs", 500, "epochs must be between 1 and 50"),
        ("model_units_0", 0, "dense units must be between 1 and 512"),
        ("model_split", 0.9, "validation split"),
        ("model_n_layers", 40, "number of layers"),
        ("model_reruns", 0, "reruns"),
    ],
)
def test_invalid_values_show_an_error_and_the_page_stays_usable(page, key, value, fragment):
    at = page
    at.session_state[key] = value
    at.run()
    assert not exceptions(at)
    errors = [e.value for e in at.error]
    assert any(fragment in text for text in errors), errors
    assert at.button(key="model_run").disabled
    at.session_state[key] = {"model_epochs": 3, "model_units_0": 8, "model_split": 0.0, "model_n_layers": 2, "model_reruns": 2}[key]
    at.run()
    assert not exceptions(at) and not at.error and not at.button(key="model_run").disabled


def test_inputs_survive_other_pages_and_epochs_and_reruns_follow_the_sidebar(page):
    """Issue 27: an edited layer survives a visit to another page; epochs and reruns are the sidebar's until edited here."""
    at = page
    assert at.number_input(key="model_epochs").value == 10 and at.number_input(key="model_reruns").value == 3  # the sidebar's
    at.sidebar.number_input(key="epochs").set_value(4).run()
    assert at.number_input(key="model_epochs").value == 4
    at.number_input(key="model_units_0").set_value(7)
    at.selectbox(key="model_act_0").set_value("tanh")
    at.number_input(key="model_reruns").set_value(5).run()
    at.sidebar.number_input(key="reruns").set_value(2).run()
    at.switch_page("lab_pages/factory.py").run()
    at.switch_page(PAGE).run()
    assert not exceptions(at)
    assert at.number_input(key="model_units_0").value == 7 and at.selectbox(key="model_act_0").value == "tanh"
    assert at.number_input(key="model_reruns").value == 5 and at.number_input(key="model_epochs").value == 4


def test_the_heatmap_has_a_plot_area_a_legend_and_axis_titles():
    from repro_core.views.audit import PLOT_HEIGHT_MIN, diff_heatmap

    for matrix in ([[0.1, -0.2, 0.0, 0.3]], [[0.01 * i * j for j in range(8)] for i in range(4)]):
        spec = diff_heatmap(matrix, "l1_dense/kernel").to_dict()
        assert spec["autosize"] == {"type": "fit-x", "contains": "padding"}  # height is the plot area's, not legend + axes
        assert spec["height"] >= PLOT_HEIGHT_MIN >= 100
        encoding = spec["encoding"]
        assert encoding["color"]["legend"]["title"] and encoding["x"]["title"] and encoding["y"]["title"]


def test_a_described_model_goes_to_your_training_as_a_script(page):
    at = page
    at.button(key="model_to_training").click().run()
    assert not exceptions(at) and [t.value for t in at.title] == ["Your training"]
    assert at.radio(key="train_source").value == "spec"
    assert any("def MLP():" in c.value and "history = model.fit(" in c.value for c in at.code)
    assert not at.button(key="train_run").disabled
