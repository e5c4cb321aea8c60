"""Predict, then run: the question a story page asks before its cell runs, and whether the rows confirm the learner's answer.
A guess names the outcomes that would confirm it; the outcome is always the rows' own (repro_core.judgement: the headline of
the page's results view), so a prediction can never be judged by anything the page does not show."""

from __future__ import annotations

from dataclasses import dataclass

from repro_core.records import Verdict


@dataclass(frozen=True)
class Guess:
    label: str
    confirmed_by: frozenset[str]


@dataclass(frozen=True)
class Prediction:
    question: str
    guesses: tuple[Guess, ...]

    @property
    def labels(self) -> list[str]:
        return [guess.label for guess in self.guesses]

    def confirmed(self, label: str, outcome: str) -> bool:
        """Does the outcome called `outcome` (a verdict, or restart-reproduces / restart-differs) confirm the guess `label`?"""
        guess = next(g for g in self.guesses if g.label == label)
        return outcome in guess.confirmed_by


def judgement(prediction: Prediction, label: str, outcome: Verdict) -> tuple[bool, str]:
    """(confirmed?, the sentence a page shows under its rows)."""
    confirmed = prediction.confirmed(label, outcome.name)
    verdict = "The rows confirm it" if confirmed else "The rows say otherwise"
    return confirmed, f'You predicted "{label}". {verdict}: {outcome.headline.lower()} ({outcome.meaning}).'


# Outcomes that can answer a question; anything else (one rerun, an error) leaves the prediction open.
ANSWERING = frozenset({"stable", "drift-chain", "drift", "restart-reproduces", "restart-differs"})

SAME_WEIGHTS = Prediction(
    "Will every rerun of this cell give bit-identical weights?",
    (Guess("Yes: every rerun repeats rerun 1", frozenset({"stable"})),
     Guess("No: the weights change from rerun to rerun", frozenset({"drift", "drift-chain"}))),
)  # fmt: skip
PREDICTIONS = {
    "drift": Prediction(
        "Will rerun 2 start from rerun 1's weights?",
        (Guess("Yes: each rerun continues from where the last one ended", frozenset({"drift-chain"})),
         Guess("No: every rerun starts from the same weights", frozenset({"stable"})),
         Guess("No: each rerun starts from new weights of its own", frozenset({"drift"}))),
    ),
    "factory": SAME_WEIGHTS,
    "restart": Prediction(
        "After a restart, will the first run reproduce the first run before the restart?",
        (Guess("Yes: a restarted kernel repeats its first run", frozenset({"restart-reproduces"})),
         Guess("No: a restart gives other weights", frozenset({"restart-differs"}))),
    ),
}  # fmt: skip
