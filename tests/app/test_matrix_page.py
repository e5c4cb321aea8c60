"""The Recipe matrix page in AppTest: loads, runs a tiny grid in real kernels, table and heatmap show the core's verdicts."""

from __future__ import annotations

import pytest
from app_helpers import chart_data, elements, exceptions
from conftest import RUN_TIMEOUT

from repro_core.records import verdict

MATRIX_PAGE = "lab_pages/matrix.py"


def test_matrix_page_loads_without_running(app):
    at = app.switch_page(MATRIX_PAGE).run()
    assert not exceptions(at)
    assert at.title[0].value == "Recipe matrix"
    assert at.button(key="matrix_run") is not None
    assert at.number_input(key="matrix_parallelism").value >= 1
    assert at.multiselect(key="matrix_engines").value == ["keras3", "tf_keras"]
    assert "matrix_result" not in at.session_state


def test_matrix_page_rejects_an_empty_engine_choice_plainly(app):
    at = app.switch_page(MATRIX_PAGE).run()
    at.multiselect(key="matrix_engines").set_value([]).run()
    at.button(key="matrix_run").click().run()
    assert not exceptions(at)
    assert any("engines" in e.value for e in at.error)
    assert "matrix_result" not in at.session_state


@pytest.mark.kernel
def test_matrix_run_fills_table_and_heatmap_with_the_cores_verdicts(app):
    at = app.switch_page(MATRIX_PAGE).run()
    at.multiselect(key="matrix_engines").set_value(["keras3"])
    at.number_input(key="matrix_reruns").set_value(2)
    at.number_input(key="matrix_epochs").set_value(1)
    at.number_input(key="matrix_parallelism").set_value(2).run()
    at.button(key="matrix_run").click().run(timeout=RUN_TIMEOUT)
    assert not exceptions(at) and not at.error

    matrix = at.session_state["matrix_result"]
    assert [(c.recipe.model, c.recipe.reseed, c.recipe.engine) for c in matrix.results] == [
        (s, r, "keras3") for s in ("global", "factory") for r in ("none", "tf", "full")
    ]
    expected = {result.recipe.label: verdict(result.records) for result in matrix.results}
    assert all(len(result.records) == 2 for result in matrix.results)
    assert expected["global+tf"] == "drift-chain" and expected["factory+tf"] == "drift" and expected["factory+full"] == "stable"

    tables = [t for t in elements(at.main, "dataframe") if "verdict" in t.value.columns]
    assert len(tables) == 1
    frame = tables[0].value
    assert dict(zip(frame["recipe"], frame["verdict"], strict=True)) == expected
    assert frame["max |Δ| before"].tolist() == [r.max_delta_before for r in matrix.results]

    charts = elements(at.main, "vega_lite_chart")
    assert len(charts) == 1
    spec, datasets = chart_data(charts[0])
    assert spec["layer"][0]["mark"]["type"] == "rect"
    shown = [dict(zip(d["recipe"], d["verdict"], strict=True)) for d in datasets if "verdict" in d.columns]
    assert shown and all(item == expected for item in shown)
    tooltip_fields = {t["field"] for t in spec["layer"][0]["encoding"]["tooltip"]}
    assert {"verdict", "same_as", "delta_before", "delta_after"} <= tooltip_fields  # short: no fingerprint list (the table has it)

    # Results stay in the session: another script run redraws them without training.
    at.run()
    assert at.session_state["matrix_result"] is matrix
    assert len(elements(at.main, "vega_lite_chart")) == 1
