"""The Factory page's three columns, the third the article's fix + random.seed (factory-python-tf-seed): each with its own
buttons, prediction and rows, which survive reruns and the other columns' clicks in any order; each headline says whether the
initial and the trained weights repeated. No kernel: a stand-in for the click adds rows the way a run does."""

from __future__ import annotations

import streamlit as st
from app_helpers import alerts, elements, exceptions, find_block, rows_of
from conftest import PAGES

from lab_ui import clicks, pages, session
from repro_core.judgement import judge
from repro_core.records import RunRecord
from repro_core.vocabulary import SCENARIOS

THIRD = "factory-python-tf-seed"


def rec(scenario: str, start: int, rerun: int, before: str, after: str) -> RunRecord:
    return RunRecord(scenario, rerun, 0.5, 0.7, before * 64, after * 64, 0.1, "3.11", "2.21.0", "3.15.1", "keras3", "lab-python", start,
                     seed=1234, epochs=10)  # fmt: skip


class StandInRunner:
    """What session.add_row reads of a runner: its kernel start, cells and versions."""

    kernel_starts, versions = 1, None

    def cells_of(self, kernel_start: int) -> list:
        return []


RUNNER = StandInRunner()
# Each column's cell as a kernel might answer it: the fix drifts, the full reseed and the fix + random.seed repeat.
ANSWERS = {"factory-tf-seed": ("a", "b", "c", "d"), "factory-full-seed": ("e", "f", "e", "f"), THIRD: ("g", "h", "g", "h")}


def stand_in_run_cell(view, cell: str) -> None:
    """clicks.run_cell without a kernel: one more row for the view's own scenario, in its own kernel, drawn at once."""
    assert cell.startswith("#") and "model.fit" in cell  # the page hands over the cell it shows
    rerun = len(session.rows_of(st.session_state, view.scenario)) + 1
    before, after = ANSWERS[view.scenario][2 * (rerun > 1):][:2]
    session.add_row(st.session_state, rec(view.scenario, 1, rerun, before, after), RUNNER)
    view.draw()


def table_of(at, scenario: str):
    return elements(find_block(at.main, f"{scenario}_results"), "dataframe")[0].value


def test_the_third_column_offers_the_fix_plus_random_seed_with_its_own_buttons(app):
    at = app.switch_page(PAGES["factory"]).run()
    assert not exceptions(at)
    assert pages.PAGES["factory"].scenarios[2] == THIRD and pages.PAGE_OF[THIRD] == "factory"
    assert SCENARIOS["factory-python-tf-seed"].title in [s.value for s in at.header]
    assert any("plus one line, `random.seed`" in c.value and "Python's `random`" in c.value for c in at.caption)  # what it adds, and why
    assert any("random.seed(1234)\ntf.random.set_seed(1234)\nmodel = MLP()" in c.value for c in at.code)  # the exact cell it runs
    for key in (f"{THIRD}_run_cell", f"{THIRD}_clear"):
        assert at.button(key=key) is not None
    assert at.radio(key=f"{THIRD}_predict").value is None  # the prediction is optional
    assert at.button(key="factory_run_many").label == "Run 2 times"  # one button runs every column


def test_each_column_keeps_its_rows_across_the_others_clicks_and_says_which_weights_repeated(app, monkeypatch):
    monkeypatch.setattr(clicks, "run_cell", stand_in_run_cell)
    at = app.switch_page(PAGES["factory"]).run()
    at.button(key=f"{THIRD}_run_cell").click().run()
    at.button(key="factory-tf-seed_run_cell").click().run()
    at.button(key=f"{THIRD}_run_cell").click().run()
    at.button(key="factory-full-seed_run_cell").click().run()
    at.button(key="factory-tf-seed_run_cell").click().run()
    assert not exceptions(at)
    assert [r.rerun for r in rows_of(at, THIRD)] == [1, 2] and {r.scenario for r in rows_of(at, THIRD)} == {"factory-python-tf-seed"}
    assert [r.rerun for r in rows_of(at, "factory-tf-seed")] == [1, 2] and len(rows_of(at, "factory-full-seed")) == 1
    assert len(table_of(at, THIRD)) == 2 and len(table_of(at, "factory-tf-seed")) == 2

    # Each headline: which weights repeated in the rows it judges, in the one phrasing, said once.
    expected = {THIRD: "Initial weights repeat, trained weights repeat", "factory-tf-seed": "Initial weights differ, trained weights differ"}
    for scenario, words in expected.items():
        [headline] = alerts(find_block(at.main, f"{scenario}_results"))
        assert judge(rows_of(at, scenario)).repeats.words == words.lower() and headline.count(words) == 1, (scenario, headline)

    # Another column's Clear rows and a plain rerun leave the third column's rows where they were.
    kept = rows_of(at, THIRD)
    at.button(key="factory-tf-seed_clear").click().run()
    at.run()
    assert rows_of(at, THIRD) == kept and not rows_of(at, "factory-tf-seed")
    assert len(table_of(at, THIRD)) == 2

    # Its prediction is answered from its own rows.
    at.radio(key=f"{THIRD}_predict").set_value(at.radio(key=f"{THIRD}_predict").options[0]).run()
    answer = alerts(find_block(at.main, f"{THIRD}_prediction"))
    assert len(answer) == 1

    # Home lists it among the results so far, with a link to this page.
    at.switch_page(PAGES["home"]).run()
    assert find_block(at.main, f"home_verdict_{THIRD}") is not None
