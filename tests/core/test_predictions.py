"""Predict, then run: a guess is judged by the outcome of the rows only."""

from __future__ import annotations

import pytest

from repro_core.judgement import judge
from repro_core.records import VERDICTS, RunRecord
from repro_core.views.predictions import ANSWERING, PREDICTIONS, judgement

RESTART_OUTCOMES = ("restart-reproduces", "restart-differs")


@pytest.mark.parametrize("name", list(PREDICTIONS))
def test_every_answering_outcome_confirms_exactly_one_guess(name):
    prediction = PREDICTIONS[name]
    outcomes = set(RESTART_OUTCOMES) if name == "restart" else {"stable", "drift-chain", "drift"}
    for outcome in outcomes:
        assert outcome in ANSWERING
        assert sum(prediction.confirmed(label, outcome) for label in prediction.labels) == 1, (name, outcome)


def test_judgement_names_the_outcome_in_words():
    prediction = PREDICTIONS["drift"]
    yes, no = prediction.labels[0], prediction.labels[1]
    chain = judge([record(1, "a", "b"), record(2, "b", "c")]).outcome
    assert chain.name == "drift-chain"
    confirmed, text = judgement(prediction, yes, chain)
    assert confirmed and "confirm" in text and VERDICTS["drift-chain"].meaning in text
    confirmed, text = judgement(prediction, no, chain)
    assert not confirmed and "otherwise" in text
    restart = judge([record(1, "a", "b"), record(2, "b", "c"), record(1, "a", "b", kernel_start=2)]).outcome
    assert restart.name == "restart-reproduces"
    confirmed, text = judgement(PREDICTIONS["restart"], PREDICTIONS["restart"].labels[0], restart)
    assert confirmed and restart.meaning in text


def test_one_rerun_does_not_answer():
    assert "single-run" not in ANSWERING and "error" not in ANSWERING


def record(rerun: int, before: str, after: str, kernel_start: int = 1) -> RunRecord:
    return RunRecord("restart", rerun, 0.0, 0.0, before * 64, after * 64, 1.0, "3.11", "2.21.0", "3.15.1", "keras3", "lab-python", kernel_start)
