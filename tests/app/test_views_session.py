"""The plain modules behind the pages: tables, charts, diff, restart check, settings handling."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from lab_ui import session
from repro_core.recipes import cells
from repro_core.recipes.settings import StoryParams
from repro_core.records import RunRecord, restart_check
from repro_core.views.story import (
    TABLE_COLUMNS,
    article_diff,
    article_reference_frame,
    chart_frames,
    records_frame,
    rerun_chart,
    verdict_text,
)


def record(rerun: int, before: float, after: float, sb: str, sa: str) -> RunRecord:
    return RunRecord("global-model", rerun, before, after, sb * 64, sa * 64, 1.25, "3.11", "2.21.0", "3.15.1", "keras3", "lab-python")


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


def test_verdict_text_follows_records():
    assert verdict_text(CHAIN)[0] == "drift-chain"
    assert verdict_text(STABLE)[0] == "stable" and "**Verdict: Stable**" in verdict_text(STABLE)[1]
    assert verdict_text(CHAIN[:1])[0] == "single-run"


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
    assert state[session.PARAMS] == StoryParams(seed=7, reruns=2, epochs=5)
    for bad in [(-1, 2, 5, "keras3"), (7, 11, 5, "keras3"), (7, 2, 5, "jax"), (7.5, 2, 5, "keras3"), (None, 2, 5, "keras3")]:
        error = session.apply_settings(state, *bad)
        assert error
        assert state[session.PARAMS] == StoryParams(seed=7, reruns=2, epochs=5)


@pytest.mark.parametrize(
    ("change", "keeps_notebook"), [({"reruns": 4}, True), ({"seed": 9}, True), ({"epochs": 3}, True), ({"engine": "tf_keras"}, False)]
)
def test_settings_change_resets_the_setup_and_an_engine_change_retires_the_notebook(change, keeps_notebook):
    state: dict = {}
    session.apply_settings(state, 1234, 3, 10, "keras3")
    book = session.get_runner(state)  # no kernel leased yet
    values = {"seed": 1234, "reruns": 3, "epochs": 10, "engine": "keras3", **change}
    session.apply_settings(state, values["seed"], values["reruns"], values["epochs"], values["engine"])
    assert (session.peek_runner(state) is book) == keeps_notebook
    assert session.get_runner(state).setup == (cells.story_setup_cell(state[session.PARAMS]),)
    session.close_runner(state)


class FakeRunner:
    """What add_row reads from a runner: its kernel starts' cells, versions and kernel name."""

    kernel_name, versions, kernel_starts = "lab-python", None, 1

    def cells_of(self, start: int) -> list:
        return []


def test_rows_stay_across_reruns_and_kernel_starts_and_start_over_only_with_a_reason():
    state: dict = {}
    runner = FakeRunner()
    session.apply_settings(state, 1234, 3, 10, "keras3")
    rows, why = session.add_row(state, session.DRIFT, CHAIN[0], runner)
    assert why is None and len(rows.records) == 1
    rows, why = session.add_row(state, session.DRIFT, CHAIN[1], runner)
    assert why is None and len(rows.records) == 2
    rows, why = session.add_row(state, session.DRIFT, replace(CHAIN[0], kernel_start=2), runner)  # rerun 1 of a new kernel start
    assert why is None and [(r.kernel_start, r.rerun) for r in rows.records] == [(1, 1), (1, 2), (2, 1)]
    session.apply_settings(state, 99, 3, 10, "keras3")
    assert session.is_stale(session.get_rows(state, session.DRIFT), state[session.PARAMS])
    rows, why = session.add_row(state, session.DRIFT, CHAIN[1], runner)
    assert why is not None and "settings changed" in why and "3 earlier row(s)" in why  # said, never silent
    assert rows.params.seed == 99 and len(rows.records) == 1
    session.clear_rows(state, session.DRIFT)
    assert session.get_rows(state, session.DRIFT) is None


def test_factory_columns_keep_their_rows_however_run_cell_interleaves():
    state: dict = {}
    runner = FakeRunner()
    left = replace(CHAIN[0], scenario="factory-tf-seed")
    right = replace(CHAIN[0], scenario="factory-full-seed")
    for start, (slot, row) in enumerate([(session.FACTORY_TF, left), (session.FACTORY_FULL, right), (session.FACTORY_TF, left)], 1):
        runner.kernel_starts = start  # each switch of recipe restarts the kernel
        session.add_row(state, slot, replace(row, kernel_start=start), runner)
    assert [r.kernel_start for r in session.get_rows(state, session.FACTORY_TF).records] == [1, 3]
    assert [r.kernel_start for r in session.get_rows(state, session.FACTORY_FULL).records] == [2]
