"""Predict, then run: an optional question before a story page's cell runs, and the rows' answer to it afterwards."""

from __future__ import annotations

import streamlit as st

from lab_ui import session
from repro_core.records import Verdict
from repro_core.views.predictions import ANSWERING, PREDICTIONS, judgement


def ask(name: str, key: str) -> str | None:
    """The page's question, unanswered by default (running never waits for it); the learner's guess, or None."""
    prediction = PREDICTIONS[name]
    return st.radio(f"Before you run it: {prediction.question}", prediction.labels, index=None, key=key,
                    help="Optional. Say what you expect; the result below then says whether the rows confirm it.")  # fmt: skip


def answer(name: str, guess: str | None, outcome: Verdict | None, where=None) -> None:
    """Under the rows: whether they confirm the guess (nothing without a guess; a hint while the rows cannot answer yet)."""
    if guess is None:
        return
    where = where or st
    if outcome is None or outcome.name not in ANSWERING:
        where.caption(f'You predicted "{guess}". The rows cannot answer it yet: run the cell until there are two reruns to compare.')
        return
    confirmed, text = judgement(PREDICTIONS[name], guess, outcome)
    (where.success if confirmed else where.warning)(text, icon=":material/thumb_up:" if confirmed else ":material/lightbulb:")


def answer_from_rows(name: str, guess: str | None, scenario: str, where=None) -> None:
    """`answer` with the outcome the scenario's results view headlines (the same judgement)."""
    found = session.judged(st.session_state, scenario)
    with (where or st).container(key=f"{scenario}_prediction"):
        answer(name, guess, found.outcome if found.records else None)
