"""Predict, then run: a guess is judged by the outcome of the rows only."""

from __future__ import annotations

import pytest

from repro_core.records import VERDICTS
from repro_core.views.predictions import ANSWERING, PREDICTIONS, RESTART_OUTCOMES, judgement


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
    confirmed, text = judgement(prediction, yes, "drift-chain")
    assert confirmed and "confirm" in text and VERDICTS["drift-chain"].meaning in text
    confirmed, text = judgement(prediction, no, "drift-chain")
    assert not confirmed and "otherwise" in text
    confirmed, text = judgement(PREDICTIONS["restart"], PREDICTIONS["restart"].labels[0], "reproduces")
    assert confirmed and RESTART_OUTCOMES["reproduces"] in text


def test_one_rerun_does_not_answer():
    assert "single-run" not in ANSWERING and "error" not in ANSWERING
