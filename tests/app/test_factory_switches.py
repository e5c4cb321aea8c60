"""The Factory page's third recipe, the article's fix + random.seed (factory-python-tf-seed): its own column, buttons,
prediction and rows, which survive reruns and the other columns' clicks; each column says whether the initial and the
trained weights repeated (records.repeats). No kernel: a stand-in for the click adds rows the way a run does."""

from __future__ import annotations

import streamlit as st
from app_helpers import alerts, elements, exceptions, find_block
from conftest import PAGES

from lab_ui import clicks, session
from repro_core.records import RunRecord, repeats, repeats_words
from repro_core.vocabulary import SCENARIOS

THIRD = session.FACTORY_PYTHON_TF


def rec(scenario: str, start: int, rerun: int, before: str, after: str) -> RunRecord:
    return RunRecord(scenario, rerun, 0.5, 0.7, before * 64, after * 64, 0.1, "3.11", "2.21.0", "3.15.1", "keras3", "lab-python", start)


class StandInRunner:
    """What session.add_row reads of a runner: its kernel start, cells and versions."""

    kernel_starts, versions, kernel_name = 1, None, "lab-python"

    def cells_of(self, kernel_start: int) -> list:
        return []


RUNNER = StandInRunner()
# Each column's cell as a kernel might answer it: the fix drifts, the full reseed and the fix + random.seed repeat.
ANSWERS = {session.FACTORY_TF: ("a", "b", "c", "d"), session.FACTORY_FULL: ("e", "f", "e", "f"), THIRD: ("g", "h", "g", "h")}


def stand_in_run_cell(view) -> None:
    """clicks.run_cell without a kernel: one more row for the view's own slot, drawn at once."""
    rows = session.get_rows(st.session_state, view.slot)
    rerun = len(rows.records) + 1 if rows is not None else 1
    before, after = ANSWERS[view.slot][2 * (rerun > 1):][:2]
    found, _why = session.add_row(st.session_state, view.slot, rec(session.SCENARIO_OF[view.slot], 1, rerun, before, after), RUNNER)
    view.draw(found)


def rows_of(at, slot: str) -> list[RunRecord]:
    rows = at.session_state[session.RESULTS].get(slot) if session.RESULTS in at.session_state else None
    return list(rows.records) if rows is not None else []


def table_of(at, slot: str):
    return elements(find_block(at.main, f"{slot}_results"), "dataframe")[0].value


def test_the_third_column_offers_the_fix_plus_random_seed_with_its_own_buttons(app):
    at = app.switch_page(PAGES["factory"]).run()
    assert not exceptions(at)
    assert session.SCENARIO_OF[THIRD] == "factory-python-tf-seed" and session.PAGE_OF[THIRD] == "factory"
    assert SCENARIOS["factory-python-tf-seed"].title in [s.value for s in at.subheader]
    assert any("plus one line, `random.seed`" in c.value and "Python's `random`" in c.value for c in at.caption)  # what it adds, and why
    assert any("random.seed(1234)\ntf.random.set_seed(1234)\nmodel = MLP()" in c.value for c in at.code)  # the exact cell it runs
    for key in (f"{THIRD}_run_cell", f"{THIRD}_run_many", f"{THIRD}_clear"):
        assert at.button(key=key) is not None
    assert at.radio(key=f"{THIRD}_predict").value is None  # the prediction is optional
    assert at.button(key=f"{THIRD}_run_many").label == "Run 2 times"


def test_each_column_keeps_its_rows_across_the_others_clicks_and_says_which_weights_repeated(app, monkeypatch):
    monkeypatch.setattr(clicks, "run_cell", stand_in_run_cell)
    at = app.switch_page(PAGES["factory"]).run()
    at.button(key=f"{THIRD}_run_cell").click().run()
    at.button(key=f"{session.FACTORY_TF}_run_cell").click().run()
    at.button(key=f"{THIRD}_run_cell").click().run()
    at.button(key=f"{session.FACTORY_FULL}_run_cell").click().run()
    at.button(key=f"{session.FACTORY_TF}_run_cell").click().run()
    assert not exceptions(at)
    assert [r.rerun for r in rows_of(at, THIRD)] == [1, 2] and {r.scenario for r in rows_of(at, THIRD)} == {"factory-python-tf-seed"}
    assert [r.rerun for r in rows_of(at, session.FACTORY_TF)] == [1, 2] and len(rows_of(at, session.FACTORY_FULL)) == 1
    assert len(table_of(at, THIRD)) == 2 and len(table_of(at, session.FACTORY_TF)) == 2

    # The line under each column: records.repeats of the rows the headline judges, in its one phrasing.
    expected = {THIRD: "initial weights repeat, trained weights repeat", session.FACTORY_TF: "initial weights differ, trained weights differ"}
    for slot, words in expected.items():
        block = find_block(at.main, f"{slot}_repeats")
        text = " ".join(m.value for m in elements(block, "markdown"))
        assert repeats_words(repeats(rows_of(at, slot))) == words and words in text, (slot, text)

    # Another column's Clear rows and a plain rerun leave the third column's rows where they were.
    kept = rows_of(at, THIRD)
    at.button(key=f"{session.FACTORY_TF}_clear").click().run()
    at.run()
    assert rows_of(at, THIRD) == kept and not rows_of(at, session.FACTORY_TF)
    assert len(table_of(at, THIRD)) == 2

    # Its prediction is answered from its own rows.
    at.radio(key=f"{THIRD}_predict").set_value(at.radio(key=f"{THIRD}_predict").options[0]).run()
    answer = alerts(find_block(at.main, f"{THIRD}_prediction"))
    assert len(answer) == 1

    # Home lists it among the results so far, with a link to this page.
    at.switch_page(PAGES["home"]).run()
    assert find_block(at.main, f"home_verdict_{THIRD}") is not None
