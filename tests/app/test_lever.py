"""TensorFlow as the lever: one alert per budget rejection, the Seed page describing the kernel it just set up, and the
article's fix on TF 2.9 and the bundled TensorFlow side by side in one click."""

from __future__ import annotations

import pytest
from app_helpers import exceptions, messages
from conftest import PAGES, RUN_TIMEOUT

from lab_ui import pages, session, sidebar
from repro_core.judgement import judge
from repro_core.kernels.kernel import available_kernels
from repro_core.records import verdict
from repro_core.views.story import headline
from repro_core.vocabulary import engine_label

TF29 = "repro-tf29"
BUDGETED = [  # every button whose click trains reruns x epochs, and its page
    ("home", "run_story"), ("drift", "drift_run_many"), ("factory", "factory_run_many"),
    ("factory", "factory_versions_run"), ("versions", "versions_run_live"),
]  # fmt: skip


def every_alert(at) -> list[str]:
    """Alerts anywhere on the page, the sidebar included."""
    return messages(at)


@pytest.mark.parametrize("page, key", BUDGETED)
def test_a_budget_rejection_is_one_alert(app, hosting_env, page, key):
    hosting_env(REPRO_CLICK_BUDGET="19")  # reruns 2 x epochs 10 = 20
    at = app.switch_page(f"lab_pages/{page}.py").run()
    if not [b for b in at.button if b.key == key]:
        pytest.skip(f"{key} is not on this machine's {page} page (no TF < 2.10 kernelspec)")
    for _ in range(2):  # a second rejection replaces the first: never two stacked
        at.button(key=key).click().run(timeout=60)
        assert not exceptions(at)
        alerts = every_alert(at)
        assert len(alerts) == 1 and "budget of 19" in alerts[0], alerts
    assert not at.session_state[session.LAB].lanes  # refused before any kernel was leased


def test_factory_offers_the_side_by_side_only_where_a_tf29_kernel_is_offered(app, hosting_env):
    at = app.switch_page(PAGES["factory"]).run()
    shown = [b for b in at.button if b.key == "factory_versions_run"]
    assert bool(shown) == (TF29 in sidebar.kernel_choices())
    hosting_env(REPRO_HOSTED="1")  # a hosted demo offers one kernel: no second TensorFlow to compare with
    at.run()
    assert not [b for b in at.button if b.key == "factory_versions_run"] and not exceptions(at)


@pytest.mark.kernel
def test_the_seed_page_reports_the_kernel_its_setup_cell_started(app):
    at = app.switch_page(PAGES["seed"]).run()
    text = " ".join(m.value for m in at.markdown)
    assert "not known yet — the kernel has not started" in text
    at.button(key="seed_run_setup").click().run(timeout=RUN_TIMEOUT)
    assert not exceptions(at)
    versions = at.session_state[session.LAB].last_runner.versions
    text = " ".join(m.value for m in at.markdown)
    assert "not known yet" not in text
    assert f"in this kernel (Python {versions.python}" in text
    assert f"op determinism **{'on' if versions.op_determinism else 'off'}**" in text


@pytest.mark.kernel
def test_the_articles_fix_runs_on_tf29_and_the_bundled_tensorflow_in_one_click(app, require):
    require("REQUIRE_TF29", TF29 in available_kernels(), f"kernelspec {TF29!r} (Python 3.8, TF 2.9.3) is not installed")
    at = app
    at.number_input(key="epochs").set_value(2).run()
    at = at.switch_page(PAGES["factory"]).run()
    at.button(key="factory_versions_run").click().run(timeout=3 * RUN_TIMEOUT)
    assert not exceptions(at) and not at.error
    params, results = session.kept(at.session_state, "factory_versions_results")
    assert params.epochs == 2 and [r.versions.kernelspec for r in results] == [TF29, "lab-python"]
    old, new = results
    assert old.versions.tensorflow.startswith("2.9.") and old.versions.engine == "keras2"
    assert {r.engine for r in old.records} == {"keras2"} and {r.engine for r in new.records} == {new.versions.engine}
    assert [len(r.records) for r in results] == [2, 2]
    assert verdict(old.records) == "stable"  # the article's fix holds on TF 2.9 (its rows, not a prediction)
    shown = [a.value for a in at.success] + [a.value for a in at.warning] + [a.value for a in at.error]
    for result in results:  # each column's headline is the judgement of the rows beside it
        assert any(text == headline(judge(result.records)) for text in shown), shown
    captions = " ".join(c.value for c in at.caption)
    assert f"{engine_label('keras2')} · kernelspec repro-tf29" in captions
    assert f"{engine_label(new.versions.engine)} · kernelspec lab-python" in captions


def test_a_page_that_makes_two_refused_clicks_in_one_run_shows_one_alert(monkeypatch):
    """The click decorator asks the sidebar's per-run record before it alerts; the sidebar resets it every run."""
    state: dict = {sidebar.REJECTED: set()}
    monkeypatch.setattr(sidebar.st, "session_state", state)
    message = "this click asks for 10 reruns x 11 epochs = 110, over this server's budget of 100"
    assert sidebar.first_rejection(message) and not sidebar.first_rejection(message)
    assert sidebar.first_rejection("another refusal")


ALL_PAGES = list(pages.PAGES)  # every page the app registers (Your training among them)


def test_every_page_renders_with_the_tf29_kernel_picked_and_its_only_engine(app, require):
    """Picking the TF 2.9 kernel (no kernel starts) makes keras2 the setting; no page refuses it."""
    require("REQUIRE_TF29", TF29 in sidebar.kernel_choices(), f"kernelspec {TF29!r} (Python 3.8, TF 2.9.3) is not installed")
    at = app
    at.selectbox(key="kernel").set_value(TF29).run()
    assert not exceptions(at) and session.current_kernel(at.session_state) == TF29
    assert at.session_state[session.LAB].settings.engine == "keras2"
    assert not [box for box in at.sidebar.selectbox if box.key == "engine"]
    assert any("Keras 2 (the only engine TensorFlow 2.9 has)" in c.value for c in at.sidebar.caption)
    for name in ALL_PAGES:
        at = at.switch_page(f"lab_pages/{name}.py").run()
        assert not exceptions(at), (name, exceptions(at))
    at.selectbox(key="kernel").set_value("lab-python").run()
    assert at.selectbox(key="engine").value == "keras3" and at.session_state[session.LAB].settings.engine == "keras3"
