"""Story runs shared by test modules: each (kernel, engine) default story runs once per pytest process.

The timeline's live check, the per-engine story tests (the TF 2.9 one included) and the forked side of
test_fork's forked-vs-spawned check need the very same run (all four scenarios, the lab's default settings),
so they share it instead of paying for it several times.
"""

from __future__ import annotations

import functools

from repro_core.experiments.story import ScenarioResult, run_story
from repro_core.recipes.settings import StoryParams
from repro_core.vocabulary import STORY_SCENARIOS


@functools.cache
def default_story(kernel: str, engine: str) -> tuple[ScenarioResult, ...]:
    """All four scenarios with StoryParams() defaults (seed 1234, 3 reruns, 10 epochs) on `engine` in `kernel`."""
    return tuple(run_story(StoryParams(engine=engine), STORY_SCENARIOS, kernel))
