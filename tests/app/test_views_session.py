"""The plain modules behind the pages: tables, charts, diff, restart check, settings handling."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from lab_ui import session
from repro_core.judgement import judge
from repro_core.recipes import cells
from repro_core.recipes.settings import StoryParams
from repro_core.records import RunRecord, restart_check
from repro_core.results.report import build_report
from repro_core.views.story import (
    COL_SETTINGS,
    TABLE_COLUMNS,
    article_diff,
    article_reference_frame,
    chart_frames,
    chart_legend_words,
    headline,
    records_frame,
    rerun_chart,
)


def record(rerun: int, before: float, after: float, sb: str, sa: str) -> RunRecord:
    return RunRecord("global-model", rerun, before, after, sb * 64, sa * 64, 1.25, "3.11", "2.21.0", "3.15.1", "keras3", "lab-python",
                     seed=1234, epochs=10)  # fmt: skip


CHAIN = [record(1, -0.5, -0.4, "a", "b"), record(2, -0.4, -0.3, "b", "c"), record(3, -0.3, -0.2, "c", "d")]
STABLE = [record(1, 3.5, 3.7, "e", "f"), record(2, 3.5, 3.7, "e", "f")]


def test_table_columns_and_check_marks():
    frame = records_frame(STABLE + [record(3, 1.0, 2.0, "x", "y")])
    assert list(frame.columns) == TABLE_COLUMNS
    assert frame["same as rerun 1"].tolist() == [True, True, False]
    assert frame["before sha256"].tolist()[0] == "e" * 12
    with_kernel = records_frame([STABLE[0], replace(STABLE[1], kernel_start=2)], with_kernel=True)
    assert list(with_kernel.columns) == ["kernel start"] + TABLE_COLUMNS and with_kernel["kernel start"].tolist() == [1, 2]
    assert list(records_frame([]).columns) == TABLE_COLUMNS
    other = records_frame(STABLE + [replace(STABLE[0], seed=42, epochs=3, kernel_start=2)])  # two settings: each row says its own
    assert list(other.columns) == [COL_SETTINGS, "kernel start", *TABLE_COLUMNS]
    assert other[COL_SETTINGS].tolist() == ["seed 1234 · 10 epochs · Keras 3"] * 2 + ["seed 42 · 3 epochs · Keras 3"]
    assert other["same as rerun 1"].tolist() == [True, True, True]  # the seed-42 row is its own group's first


def test_chart_holds_every_sum_and_the_hand_overs():
    points, handovers = chart_frames(CHAIN)
    assert len(points) == 6 and len(handovers) == 2
    assert handovers["sum"].tolist() == [-0.4, -0.3]  # drawn flat: after(k) is before(k+1)
    assert points["sum_text"].tolist()[0] == "-0.5000000000000"  # 13 decimals, as the tables
    assert chart_frames(STABLE)[1].empty  # no chain, no hand-over segment
    spec = rerun_chart(CHAIN, "t").to_dict()
    text = json.dumps(spec)
    assert '"bind": "legend"' in text
    values = [row["sum"] for rows in spec["datasets"].values() for row in rows if "sum" in row and "series" in row]
    assert sorted(values) == sorted([-0.5, -0.4, -0.4, -0.3, -0.3, -0.2, -0.4, -0.3])


def test_the_headline_names_the_outcome_what_repeated_and_the_settings_it_judged_once():
    chain = headline(judge(CHAIN))
    assert chain.startswith("**Drift, as a chain**") and "trained weights differ" in chain
    assert "Rows judged: 3 reruns, kernel start #1, seed 1234, 10 epochs, Keras 3 on TensorFlow 2.21.0 (kernel lab-python)." in chain
    single = headline(judge(CHAIN[:1]))
    assert single.count("nothing to compare") == 1 and "(single-run)" not in single  # one sentence, no internal id
    assert "drift-chain" not in chain


def test_the_chart_words_describe_the_marks_the_chart_draws():
    spec = json.dumps(rerun_chart(CHAIN, "t").to_dict())
    words = chart_legend_words()
    assert "blue circles" in words and "orange squares" in words and "black dashed segments" in words.lower()
    assert "red" not in words and "grey" not in words
    assert '"#0072B2"' in spec and '"#E69F00"' in spec and '"circle"' in spec and '"square"' in spec


def test_diff_and_reference():
    diff = article_diff(StoryParams())
    assert diff.startswith("--- article cell")
    assert "lr=0.001" in diff and "learning_rate=0.001" in diff
    reference = article_reference_frame("factory-tf-seed")
    assert reference["before sum"].tolist() == [b for b, _ in cells.ARTICLE_FIGURES["factory-tf-seed"]]


def test_restart_check_compares_first_rows_of_kernel_starts():
    a1, a2 = record(1, 5.0, 5.3, "p", "q"), record(2, 0.4, 0.6, "r", "s")
    assert restart_check([a1, a2]) is None
    check = restart_check([a1, a2, replace(record(1, 5.0, 5.3, "p", "q"), kernel_start=2)])
    assert check.reproduces and check.before.kernel_start == 1 and check.after.kernel_start == 2
    check = restart_check([a1, replace(a2, kernel_start=2)])
    assert not check.reproduces


def test_settings_validation_keeps_previous_on_error():
    state: dict = {}
    assert session.apply_settings(state, 7, 2, 5, "keras3") is None
    assert session.current_params(state) == StoryParams(seed=7, reruns=2, epochs=5)
    for bad in [(-1, 2, 5, "keras3"), (7, 11, 5, "keras3"), (7, 2, 5, "jax"), (7.5, 2, 5, "keras3"), (None, 2, 5, "keras3")]:
        error = session.apply_settings(state, *bad)
        assert error
        assert session.current_params(state) == StoryParams(seed=7, reruns=2, epochs=5)


@pytest.mark.parametrize(
    ("change", "keeps_runner"), [({"reruns": 4}, True), ({"seed": 9}, True), ({"epochs": 3}, True), ({"engine": "tf_keras"}, False)]
)
def test_a_settings_change_resets_the_setup_and_an_engine_change_gives_the_kernels_back(change, keeps_runner):
    state: dict = {}
    session.apply_settings(state, 1234, 3, 10, "keras3")
    runner = session.lane_runner(state, "global-model")  # no kernel leased yet
    values = {"seed": 1234, "reruns": 3, "epochs": 10, "engine": "keras3", **change}
    session.apply_settings(state, values["seed"], values["reruns"], values["epochs"], values["engine"])
    assert (session.peek_runner(state, "global-model") is runner) == keeps_runner
    again = session.lane_runner(state, "global-model")
    assert again.setup == (cells.story_setup_cell(session.current_params(state)),)
    assert (again.seed, again.epochs) == (values["seed"], values["epochs"])  # the records it makes carry them
    session.close_lanes(state)


class FakeRunner:
    """What add_row reads from a runner: its kernel start's cells and versions."""

    versions, kernel_starts = None, 1

    def cells_of(self, start: int) -> list:
        return []


def test_rows_stay_across_reruns_kernel_starts_and_settings_each_group_judged_apart():
    state: dict = {}
    runner = FakeRunner()
    assert session.add_row(state, CHAIN[0], runner) is None
    assert session.add_row(state, CHAIN[1], runner) is None
    assert session.add_row(state, replace(CHAIN[0], kernel_start=2), runner) is None  # rerun 1 of a new kernel start
    rows = session.rows_of(state, "global-model")
    assert [(r.kernel_start, r.rerun) for r in rows] == [(1, 1), (1, 2), (2, 1)]
    message = session.add_row(state, replace(CHAIN[1], seed=99, kernel_start=3), runner)
    assert message is not None and "seed 1234 → 99" in message and "earlier rows stay" in message  # said, never silent
    found = session.judged(state, "global-model")
    assert len(found.records) == 4 and [g.settings.seed for g in found.groups] == [1234, 1234, 99]
    session.clear_rows(state, "global-model")
    assert session.rows_of(state, "global-model") == []


def test_factory_columns_keep_their_rows_however_run_cell_interleaves():
    state: dict = {}
    runner = FakeRunner()
    left = replace(CHAIN[0], scenario="factory-tf-seed")
    right = replace(CHAIN[0], scenario="factory-full-seed")
    for rerun, row in enumerate([left, right, left], 1):
        session.add_row(state, replace(row, rerun=rerun), runner)
    assert [r.rerun for r in session.rows_of(state, "factory-tf-seed")] == [1, 3]
    assert [r.rerun for r in session.rows_of(state, "factory-full-seed")] == [2]


def test_each_scenario_has_a_lane_of_its_own_and_a_lab_keeps_at_most_max_lanes():
    state: dict = {}
    lanes = ["global-model", "factory-tf-seed", "factory-full-seed", "factory-python-tf-seed"]
    runners = [session.lane_runner(state, lane) for lane in lanes]
    assert len(set(map(id, runners))) == len(lanes)
    assert list(session.lab(state).lanes) == lanes[-session.MAX_LANES:]  # the least recently used went first
    assert runners[1].starts is runners[2].starts  # one count of kernel starts for the whole lab


def test_a_reload_finds_the_lab_the_url_names_and_an_unknown_one_starts_afresh():
    first, query = {}, {}
    assert session.open_lab(first, query) is None
    lab_id = query[session.QUERY_KEY]
    session.apply_settings(first, 42, 2, 3, "keras3")
    session.add_row(first, replace(CHAIN[0], seed=42, epochs=3), FakeRunner())
    reloaded: dict = {}  # F5: a new Streamlit session with the same URL
    assert session.open_lab(reloaded, dict(query)) is None
    assert session.lab(reloaded) is session.lab(first) and len(session.rows_of(reloaded, "global-model")) == 1
    assert (reloaded["seed"], reloaded["reruns"], reloaded["epochs"]) == (42, 2, 3)  # the widgets show the settings again
    stranger, query = {}, {session.QUERY_KEY: "no-such-lab"}
    assert "expired" in session.open_lab(stranger, query)
    assert query[session.QUERY_KEY] != "no-such-lab" and session.lab(stranger).id != lab_id


def test_an_idle_lab_expires():
    store = session.LabStore(idle_seconds=60)
    lab = store.new()
    lab.touched -= 61
    assert store.expire() == [lab.id] and store.get(lab.id) is None


def test_a_report_loads_back_as_groups_of_its_own():
    state: dict = {}
    runner = FakeRunner()
    session.lab(state).starts.next()  # kernel start #1, counted as a runner counts it
    session.add_row(state, CHAIN[0], runner)
    report = build_report([*CHAIN, replace(CHAIN[0], scenario="factory-tf-seed")], {"seed": 1234}, None)
    assert session.load_report(state, report, ("global-model",), "mine.json") == 3
    found = session.judged(state, "global-model")
    assert [len(g.records) for g in found.groups] == [1, 3] and found.groups[1].kernel_start == 2
    assert session.lab(state).loaded == {2: "mine.json"} and found.outcome.name == "drift-chain"
