"""Bad input and faults over the UI: each gets a plain message, no traceback, and the session stays usable."""

from __future__ import annotations

import pytest
from app_helpers import exceptions, messages, rows_of
from conftest import PAGES, RUN_TIMEOUT

from lab_ui import session
from repro_core.recipes.settings import EPOCHS_MAX, RERUNS_MAX, SEED_MAX


@pytest.mark.parametrize("key, value", [("reruns", 99), ("epochs", -5), ("seed", 2**40)])
def test_out_of_range_widget_values_never_reach_the_kernel(app, key, value):
    """Streamlit refuses a number outside the widget's min/max (the browser enforces it too; the widget falls
    back to its default): the settings the kernel gets stay in range."""
    app.number_input(key=key).set_value(value).run()
    assert not exceptions(app) and not messages(app, ("error",))
    params = app.session_state[session.LAB].settings
    low, high = {"reruns": (1, RERUNS_MAX), "epochs": (1, EPOCHS_MAX), "seed": (0, SEED_MAX)}[key]
    assert low <= getattr(params, key) <= high and getattr(params, key) != value


def test_bad_values_that_reach_the_script_get_one_message_each():
    """Values written to the session state directly (not through a widget) are checked before the widgets draw."""
    state = {"reruns": 99, "epochs": 2.5, "seed": "1; import os", "engine": "jax"}
    messages = session.sanitize_widget_state(state)
    assert len(messages) == 4
    assert any("between 1 and 10" in m for m in messages) and any("whole number" in m for m in messages)
    assert any("'jax'" in m for m in messages) and all("Traceback" not in m for m in messages)
    assert not {"reruns", "epochs", "seed", "engine"} & set(state)
    assert session.apply_settings(state, float("nan"), 3, 10, "keras3") is not None
    assert session.current_params(state) == session.DEFAULTS


def test_a_click_over_the_budget_is_refused_before_any_kernel_starts(app, hosting_env):
    hosting_env(REPRO_CLICK_BUDGET="19")  # reruns 2 x epochs 10 = 20
    at = app.switch_page(PAGES["drift"]).run()
    at.button(key="drift_run_many").click().run(timeout=RUN_TIMEOUT)
    assert not exceptions(at)
    errors = [e.value for e in at.error]
    assert len(errors) == 1 and "2 reruns x 10 epochs = 20" in errors[0] and "budget of 19" in errors[0]
    assert not rows_of(at, "global-model")
    assert not at.session_state[session.LAB].lanes  # refused before any kernel was leased


@pytest.mark.kernel
def test_a_cell_over_its_time_is_interrupted_and_the_next_click_works(app, hosting_env):
    hosting_env(REPRO_CELL_TIMEOUT="0.5")  # one rerun takes about a second; the setup cell has its own limit
    at = app.switch_page(PAGES["drift"]).run()
    at.button(key="drift_run_cell").click().run(timeout=RUN_TIMEOUT)
    assert not exceptions(at)
    errors = [e.value for e in at.error]
    assert len(errors) == 1 and "Timed out" in errors[0] and "interrupted" in errors[0]
    book = at.session_state[session.LAB].lanes["global-model"]
    assert book.kernel.state == "idle"
    hosting_env(REPRO_CELL_TIMEOUT="300")
    at.button(key="drift_run_cell").click().run(timeout=RUN_TIMEOUT)
    assert not messages(at, ("error",)) and not exceptions(at)
    assert len(rows_of(at, "global-model")) == 1
    assert at.session_state[session.LAB].lanes["global-model"].kernel.state == "idle"


def test_hosted_mode_runs_only_the_bundled_kernel_and_shows_no_picker(app, hosting_env):
    """A picker with one choice is not a choice: a hosted demo shows none, and runs the bundled kernel."""
    hosting_env(REPRO_HOSTED="1")
    app.run()
    assert not exceptions(app)
    assert not [box for box in app.sidebar.selectbox if box.key == "kernel"]
    assert session.current_kernel(app.session_state) == "lab-python"
