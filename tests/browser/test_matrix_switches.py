"""The Recipe matrix with the seed switches as its axis, in Chromium: the chips and pills a visitor presses (one model,
three switches, one engine, 2 reruns of 2 epochs, kept small) give a table of one row per switch and the heatmap. (It is
also the matrix page's browser run with chosen switches; its default grid runs in the browser in
tests/browser/test_hosted_cap.py.)

The values the table holds are checked where they are computed and rendered: the verdicts and the initial/trained words
equal to records.repeats in tests/app/test_matrix_page.py (AppTest, real kernels), and that random.seed alone repeats the
initial weights and random.seed + tf.random.set_seed everything in tests/core/test_matrix.py."""

from __future__ import annotations

import pytest
from lab_browser import button, exception_texts, set_sidebar_number, wait_for_app_run, wait_for_rows

from repro_core.vocabulary import RESEEDS

pytestmark = pytest.mark.browser

RUN_TIMEOUT_S = 600.0
WANTED = ("tf", "python", "python-tf")  # no random.seed; random.seed alone; both (the article's fix plus one line)


def remove_chip(page, key: str, label: str) -> None:
    """Untick one value of a keyed st.multiselect (its chip's remove button)."""
    page.locator(f".st-key-{key} button[aria-label='Remove {label}']").first.click()
    wait_for_app_run(page)


def set_switch(page, name: str, on: bool) -> None:
    """Press a seed switch (a pill labelled by its code words) until it is on or off."""
    pill = page.locator(".st-key-matrix_reseeds").get_by_role("button", name=RESEEDS[name].code(), exact=True)
    if (pill.get_attribute("aria-pressed") == "true") != on:
        pill.click()
        wait_for_app_run(page)
    assert (pill.get_attribute("aria-pressed") == "true") == on, name


def test_matrix_with_chosen_seed_switches_shows_a_row_per_switch_and_the_heatmap(page, app_url, screenshot_dir):
    page.goto(f"{app_url}/matrix")
    wait_for_app_run(page)
    page.get_by_role("heading", name="Recipe matrix").wait_for()
    remove_chip(page, "matrix_models", "global")
    remove_chip(page, "matrix_engines", "tf_keras")
    for name in RESEEDS:
        set_switch(page, name, name in WANTED)
    set_sidebar_number(page, "matrix_reruns", 2)
    set_sidebar_number(page, "matrix_epochs", 2)
    button(page, "matrix_run").click()
    main = page.locator('[data-testid="stMain"]')
    wait_for_rows(page, main, len(WANTED), RUN_TIMEOUT_S)
    assert not exception_texts(page)
    assert f"{len(WANTED)} recipes on" in main.inner_text()  # the caption above the table: the switches picked are what ran
    assert page.locator('[data-testid="stVegaLiteChart"]').count() >= 1  # the heatmap, its cells naming both halves too
    page.screenshot(path=str(screenshot_dir / "matrix-switches.png"), full_page=True)
