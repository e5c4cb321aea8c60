"""Home's "Results so far" and each page's results view headline the same judgement of the same rows, and rows of several
kernel starts or settings are shown as groups, each named by its settings. Rows are put in the lab directly: nothing trains."""

from __future__ import annotations

from app_helpers import alerts, elements, exceptions, find_block, put_rows, rows_of
from conftest import PAGES

from repro_core.judgement import judge
from repro_core.records import RunRecord


def rec(scenario: str, start: int, rerun: int, before: str, after: str, seed: int = 1234, epochs: int = 10) -> RunRecord:
    return RunRecord(scenario, rerun, 0.5, 0.7, before * 64, after * 64, 0.1, "3.11", "2.21.0", "3.15.1", "keras3", "lab-python", start,
                     seed=seed, epochs=epochs)  # fmt: skip


def home_line(at, slot: str) -> str:
    block = find_block(at.main, f"home_verdict_{slot}")
    assert block is not None
    return " ".join(alerts(block))


def page_headline(at, scenario: str) -> str:
    shown = alerts(find_block(at.main, f"{scenario}_results"))
    assert len(shown) == 1
    return shown[0]


def test_home_and_the_restart_page_headline_the_same_outcome(app):
    # the article's fix on a recent TensorFlow: reruns in one kernel differ, the first run after the restart repeats rerun 1
    restart_rows = [rec("restart", 5, 1, "a", "b"), rec("restart", 5, 2, "c", "d"), rec("restart", 6, 1, "a", "b")]
    put_rows(app, restart_rows)
    at = app.switch_page(PAGES["home"]).run()
    found = judge(restart_rows).outcome
    assert found.name == "restart-reproduces"
    assert home_line(at, "restart").startswith(f"**{found.headline}**: 3 rerun(s), seed 1234, 10 epochs")
    at.switch_page(PAGES["restart"]).run()
    assert not exceptions(at)
    headline = page_headline(at, "restart")
    assert headline.startswith(f"**{found.headline}**: {found.meaning}.") and "restart-reproduces" not in headline
    check = alerts(find_block(at.main, "restart_check"))
    assert len(check) == 1 and found.headline in check[0] and "does not reproduce" not in check[0]


def test_story_rows_and_a_later_run_cell_show_as_two_kernel_start_groups(app):
    story = [rec("global-model", 1, k, str(k), str(k + 1)) for k in (1, 2, 3)]
    later = [rec("global-model", 6, 1, "1", "2")]
    put_rows(app, story + later)
    at = app.switch_page(PAGES["drift"]).run()
    assert not exceptions(at)
    block = find_block(at.main, "global-model_results")
    frame = elements(block, "dataframe")[0].value
    assert frame["kernel start"].tolist() == [1, 1, 1, 6]
    assert frame["same as rerun 1"].tolist() == [True, False, False, True]
    assert page_headline(at, "global-model").startswith("**Single run**") and "kernel start #6" in page_headline(at, "global-model")
    assert any("kernel start #1 (3 row(s), seed 1234, 10 epochs" in c.value and ": Drift, as a chain" in c.value
               for c in elements(block, "caption"))  # fmt: skip
    at.switch_page(PAGES["home"]).run()
    assert home_line(at, "global-model").startswith("**Single run**: 1 rerun(s), seed 1234") and "1 earlier group(s)" in home_line(at, "global-model")


def test_seed_42_then_seed_1234_keeps_both_groups_each_named_by_its_settings(app):
    seed_42 = [rec("factory-tf-seed", 2, k, str(k), "x", seed=42, epochs=3) for k in (1, 2)]
    seed_1234 = [rec("factory-tf-seed", 3, k, "a", "b") for k in (1, 2)]
    put_rows(app, seed_42 + seed_1234)
    at = app.switch_page(PAGES["factory"]).run()
    assert not exceptions(at)
    block = find_block(at.main, "factory-tf-seed_results")
    frame = elements(block, "dataframe")[0].value
    assert frame["settings"].tolist() == ["seed 42 · 3 epochs · Keras 3"] * 2 + ["seed 1234 · 10 epochs · Keras 3"] * 2
    assert page_headline(at, "factory-tf-seed").startswith("**Stable**") and "seed 1234, 10 epochs" in page_headline(at, "factory-tf-seed")
    assert any("seed 42, 3 epochs" in c.value and ": Drift" in c.value for c in elements(block, "caption"))
    at.switch_page(PAGES["home"]).run()
    assert "seed 1234, 10 epochs" in home_line(at, "factory-tf-seed") and "seed 42" not in home_line(at, "factory-tf-seed")
    # Home's sentence is the page's, even when the sidebar now says other settings
    at.number_input(key="seed").set_value(42).run()
    assert "seed 1234, 10 epochs" in home_line(at, "factory-tf-seed") and len(rows_of(at, "factory-tf-seed")) == 4


def test_clear_rows_says_what_it_does_and_clears(app):
    put_rows(app, [rec("global-model", 2, 1, "1", "2")])
    at = app.switch_page(PAGES["drift"]).run()
    button = at.button(key="global-model_clear")
    assert button.label == "Clear rows" and "every row" in button.help
    button.click().run()
    assert rows_of(at, "global-model") == []
    assert any("Rows cleared" in text for text in alerts(at.main))
