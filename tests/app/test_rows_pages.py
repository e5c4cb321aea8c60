"""Home's "Results so far" and each page's results view headline the same outcome of the same rows (issue 16), and rows
of several kernel starts are shown as groups. Rows are put in the session directly: nothing trains here."""

from __future__ import annotations

from app_helpers import alerts, elements, exceptions, find_block
from conftest import PAGES

from lab_ui import session
from repro_core.records import RunRecord
from repro_core.views.story import outcome_of


def rec(scenario: str, start: int, rerun: int, before: str, after: str) -> RunRecord:
    return RunRecord(scenario, rerun, 0.5, 0.7, before * 64, after * 64, 0.1, "3.11", "2.21.0", "3.15.1", "keras3", "lab-python", start)


def put_rows(at, slot: str, records: list[RunRecord]) -> None:
    rows = session.PageRows(params=at.session_state[session.PARAMS], records=records)
    at.session_state[session.RESULTS] = {**at.session_state[session.RESULTS], slot: rows} if session.RESULTS in at.session_state else {slot: rows}


def home_line(at, slot: str) -> str:
    block = find_block(at.main, f"home_verdict_{slot}")
    assert block is not None
    return " ".join(alerts(block))


def page_headline(at, slot: str) -> str:
    shown = [text for text in alerts(find_block(at.main, f"{slot}_results")) if text.startswith("**Verdict:")]
    assert len(shown) == 1
    return shown[0]


def test_home_and_the_restart_page_headline_the_same_outcome(app):
    # the article's fix on a recent TensorFlow: reruns in one kernel differ, the first run after the restart repeats rerun 1
    restart_rows = [rec("restart", 5, 1, "a", "b"), rec("restart", 5, 2, "c", "d"), rec("restart", 6, 1, "a", "b")]
    put_rows(app, session.RESTART, restart_rows)
    at = app.switch_page(PAGES["home"]).run()
    found = outcome_of(restart_rows)
    assert found.name == "restart-reproduces"
    assert f"**{found.headline}** ({found.name}" in home_line(at, session.RESTART)
    at.switch_page(PAGES["restart"]).run()
    assert not exceptions(at)
    headline = page_headline(at, session.RESTART)
    assert f"**Verdict: {found.headline}** ({found.name})" in headline
    check = alerts(find_block(at.main, "restart_check"))
    assert len(check) == 1 and found.headline in check[0] and "does not reproduce" not in check[0]


def test_story_rows_and_a_later_run_cell_show_as_two_kernel_start_groups(app):
    story = [rec("global-model", 1, k, str(k), str(k + 1)) for k in (1, 2, 3)]
    later = [rec("global-model", 6, 1, "1", "2")]
    put_rows(app, session.DRIFT, story + later)
    at = app.switch_page(PAGES["drift"]).run()
    assert not exceptions(at)
    block = find_block(at.main, "drift_results")
    frame = elements(block, "dataframe")[0].value
    assert frame["kernel start"].tolist() == [1, 1, 1, 6]
    assert frame["same as rerun 1"].tolist() == [True, False, False, True]
    assert "(single-run)" in page_headline(at, session.DRIFT) and "#6" in page_headline(at, session.DRIFT)
    assert any("#1 (3 row(s)): Drift, as a chain" in c.value for c in elements(block, "caption"))
    at.switch_page(PAGES["home"]).run()
    assert "(single-run, 4 rows, 2 kernel start(s))" in home_line(at, session.DRIFT)


def test_clear_rows_says_what_it_does_and_clears(app):
    put_rows(app, session.DRIFT, [rec("global-model", 2, 1, "1", "2")])
    at = app.switch_page(PAGES["drift"]).run()
    button = at.button(key="drift_clear")
    assert button.label == "Clear rows" and "every row" in button.help
    button.click().run()
    assert session.DRIFT not in at.session_state[session.RESULTS]
    assert any("Rows cleared" in text for text in alerts(at.main))
