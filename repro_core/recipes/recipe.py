"""The lab's one vocabulary: a recipe is how the model is made x how the cell reseeds x which Keras runs it.

The story's scenarios are named presets of it, the recipe matrix is a grid over it, and the audit is
your model spec with one recipe. Nothing here knows about kernels: `repro_core.recipes.cells` turns a
recipe into the cell source, `repro_core.experiments` runs it.
"""

from __future__ import annotations

from dataclasses import dataclass

from repro_core.kernels.environment import ENGINES
from repro_core.recipes.settings import choice

MODELS: dict[str, str] = {
    "global": "one model built in the setup cell, re-fitted every rerun",
    "factory": "a new model from the factory every rerun",
    "restored": "the global model, its weights reset with set_weights() to the setup's initial weights every rerun",
}
RESEEDS: dict[str, str] = {
    "none": "no reseeding in the cell",
    "tf": "tf.random.set_seed(seed)",
    "full": "keras.utils.set_random_seed(seed) (Python, NumPy and TensorFlow)",
}


@dataclass(frozen=True)
class Recipe:
    """How the model is made (`model`), how the cell reseeds before it (`reseed`), and the Keras engine."""

    model: str
    reseed: str
    engine: str = "keras3"

    def __post_init__(self) -> None:
        choice("model", self.model, MODELS)
        choice("reseed", self.reseed, RESEEDS)
        choice("engine", self.engine, ENGINES)

    @property
    def label(self) -> str:
        return f"{self.model}+{self.reseed}"

    @property
    def name(self) -> str:
        return f"{self.label} on {self.engine}"


@dataclass(frozen=True)
class Scenario:
    """A named preset of the story: a recipe (engine left to the settings) and how kernels are (re)started.

    `restart_every_rerun`: each rerun in a newly started kernel ("restart and run all").
    `restart_then_once`: re-run the cell N times in one kernel, restart it, run the cell once more.
    """

    name: str
    model: str
    reseed: str
    description: str
    restart_every_rerun: bool = False
    restart_then_once: bool = False

    def recipe(self, engine: str) -> Recipe:
        return Recipe(self.model, self.reseed, engine)


SCENARIOS: dict[str, Scenario] = {
    s.name: s
    for s in (
        Scenario("global-model", "global", "tf", "One model built in the setup cell; each rerun reseeds TensorFlow, compiles and fits it."),
        Scenario("factory-tf-seed", "factory", "tf", "The article's fix: each rerun calls tf.random.set_seed, builds a new model, compiles, fits."),
        Scenario("factory-full-seed", "factory", "full", "Each rerun calls keras.utils.set_random_seed (Python, NumPy, TF), builds, compiles, fits."),
        Scenario("fresh-kernel", "factory", "tf", "Each rerun in a newly started kernel: setup cell, then the article's fix.",
                 restart_every_rerun=True),  # fmt: skip
        Scenario("restart", "factory", "tf", "The article's fix re-run N times in one kernel, then once more after restarting the kernel.",
                 restart_then_once=True),  # fmt: skip
    )
}
# What `python -m repro_core story` runs by default, and what the Home page's "Run the whole story" runs.
STORY_SCENARIOS = ("global-model", "factory-tf-seed", "factory-full-seed", "fresh-kernel")
WHOLE_STORY = ("global-model", "factory-tf-seed", "factory-full-seed", "restart")


def check_scenario(name: object) -> Scenario:
    return SCENARIOS[choice("scenario", name, SCENARIOS)]
