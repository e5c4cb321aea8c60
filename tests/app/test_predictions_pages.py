"""Predict, then run, on the story pages: nothing is required before running, and the answer under the rows is judged by the
outcome the page's own results view headlines. Rows are put in the session directly: nothing trains here."""

from __future__ import annotations

from app_helpers import alerts, exceptions, find_block, put_rows
from conftest import PAGES
from test_rows_pages import rec

from repro_core.judgement import judge
from repro_core.views.predictions import PREDICTIONS


def prediction_alerts(at, slot: str) -> list[str]:
    block = find_block(at.main, f"{slot}_prediction")
    assert block is not None
    return alerts(block)


def test_no_prediction_no_answer_and_the_run_buttons_are_enabled(app):
    at = app.switch_page(PAGES["drift"]).run()
    assert at.radio(key="drift_predict").value is None
    assert not at.button(key="drift_run_cell").disabled
    assert prediction_alerts(at, "global-model") == []


def test_drift_prediction_is_judged_by_the_rows_headline(app):
    chain = [rec("global-model", 3, 1, "a", "b"), rec("global-model", 3, 2, "b", "c")]
    put_rows(app, chain)
    at = app.switch_page(PAGES["drift"]).run()
    yes, no = PREDICTIONS["drift"].labels[:2]
    at.radio(key="drift_predict").set_value(yes).run()
    assert not exceptions(at)
    [shown] = prediction_alerts(at, "global-model")
    assert "The rows confirm it" in shown and judge(chain).outcome.meaning in shown
    at.radio(key="drift_predict").set_value(no).run()
    [shown] = prediction_alerts(at, "global-model")
    assert "The rows say otherwise" in shown


def test_restart_prediction_uses_the_restart_check(app):
    restart_rows = [rec("restart", 5, 1, "a", "b"), rec("restart", 5, 2, "c", "d"), rec("restart", 6, 1, "a", "b")]
    put_rows(app, restart_rows)
    at = app.switch_page(PAGES["restart"]).run()
    at.radio(key="restart_predict").set_value(PREDICTIONS["restart"].labels[1]).run()  # "No: a restart gives other weights"
    [shown] = prediction_alerts(at, "restart")
    assert "The rows say otherwise" in shown and judge(restart_rows).outcome.name == "restart-reproduces"


def test_each_factory_column_answers_its_own_prediction(app):
    put_rows(app, [rec("factory-tf-seed", 2, 1, "a", "b"), rec("factory-tf-seed", 2, 2, "c", "d")])
    put_rows(app, [rec("factory-full-seed", 3, 1, "a", "b"), rec("factory-full-seed", 3, 2, "a", "b")])
    at = app.switch_page(PAGES["factory"]).run()
    same = PREDICTIONS["factory"].labels[0]  # "Yes: every rerun repeats rerun 1"
    at.radio(key="factory-tf-seed_predict").set_value(same)
    at.radio(key="factory-full-seed_predict").set_value(same).run()
    assert not exceptions(at)
    [tf] = prediction_alerts(at, "factory-tf-seed")
    [full] = prediction_alerts(at, "factory-full-seed")
    assert "say otherwise" in tf and "confirm" in full
