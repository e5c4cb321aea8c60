"""Predict, then run: an optional question before a story page's cell runs, and the rows' answer to it afterwards."""

from __future__ import annotations

import streamlit as st

from repro_core.views.predictions import ANSWERING, PREDICTIONS, judgement


def ask(name: str, key: str) -> str | None:
    """The page's question, unanswered by default (running never waits for it); the learner's guess, or None."""
    prediction = PREDICTIONS[name]
    return st.radio(f"Before you run it: {prediction.question}", prediction.labels, index=None, key=key,
                    help="Optional. Say what you expect; the result below then says whether the rows confirm it.")  # fmt: skip


def answer(name: str, guess: str | None, outcome: str | None, where=None) -> None:
    """Under the rows: whether they confirm the guess (nothing without a guess; a hint while the rows cannot answer yet)."""
    if guess is None:
        return
    where = where or st
    if outcome not in ANSWERING:
        where.caption(f'You predicted "{guess}". The rows cannot answer it yet: run the cell until there are two reruns to compare.')
        return
    confirmed, text = judgement(PREDICTIONS[name], guess, outcome)
    (where.success if confirmed else where.warning)(text, icon=":material/thumb_up:" if confirmed else ":material/lightbulb:")
