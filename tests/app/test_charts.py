"""Every Altair chart the pages draw, in AppTest without a kernel (committed timeline reports, synthetic records): each axis names
every category present and none absent, legends list only what occurs, colours come from the project's palette."""

from __future__ import annotations

import json
from dataclasses import replace

import pandas as pd
from app_helpers import chart_data, check_chart, elements, exceptions, find_block, put_rows
from conftest import APP
from streamlit.testing.v1 import AppTest

from lab_ui import session
from lab_ui.pages import PAGES, STORY_PAGE_SCENARIOS
from repro_core.experiments.audit import Audit, AuditResult
from repro_core.experiments.matrix import MatrixOptions, MatrixResult, RecipeResult
from repro_core.recipes.model_spec import ModelSpec
from repro_core.records import VERDICTS, RunRecord, verdict
from repro_core.results.report import Report
from repro_core.results.timeline import TimelineEntry, load_timeline
from repro_core.views import backends, chart_size, timeline
from repro_core.views.palette import DIVERGING_SCHEME
from repro_core.views.story import RESTART_LABEL, SERIES_AFTER, SERIES_BEFORE, SERIES_HANDOVER, rerun_chart
from repro_core.vocabulary import SCENARIOS, STORY_SCENARIOS, Recipe


def record(scenario: str, rerun: int, before: str, after: str, kernel_start: int = 1, total: float = 0.0) -> RunRecord:
    return RunRecord(scenario, rerun, total + rerun, total + rerun + 0.5, before * 64, after * 64, 1.0, "3.11", "2.21.0", "3.15.1",
                     "keras3", "lab-python", kernel_start)  # fmt: skip


def only_chart(at: AppTest, block_key: str | None = None) -> tuple[dict, list]:
    charts = elements(find_block(at.main, block_key) if block_key else at.main, "vega_lite_chart")
    assert len(charts) == 1
    return chart_data(charts[0])


def spec_of(chart) -> tuple[dict, list]:
    """A chart's spec and datasets as Streamlit would ship them (for charts checked without a page)."""
    import pandas as pd

    spec = chart.to_dict()
    return spec, [pd.DataFrame(rows) for rows in spec.get("datasets", {}).values()]


def open_page(page: str, state: dict | None = None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60).run()
    for key, value in (state or {}).items():  # what the page keeps in the lab (a live column, a matrix, an audit)
        at.session_state[session.LAB].kept[key] = value
        at.session_state[key] = value
    at.switch_page(page).run()
    assert not exceptions(at)
    return at


# -- Across versions and backends -------------------------------------------------------------------------
def test_the_seed_switches_chart_says_initial_and_trained_apart_with_the_palette():
    at = open_page("lab_pages/versions.py")
    spec, frames = only_chart(at, "versions_backends")
    check_chart(spec, frames)
    data = frames[0]
    assert {"initial weights", "trained weights"} <= set(data.columns)
    # each cell says apart which half repeated, in two short lines the caption under the chart explains
    assert ("initial ✓", "trained ≠") in set(zip(data["initial_line"], data["trained_line"], strict=True))
    caption = " ".join(c.value for c in elements(find_block(at.main, "versions_backends"), "caption"))
    assert backends.switches_legend_words() in caption and "✓" in caption and "≠" in caption
    # no label is cut on a phone: the backends' labels break at " · " with no limit, the reseeds' wrap within their limit
    x_axis, y_axis = spec["layer"][0]["encoding"]["x"]["axis"], spec["layer"][0]["encoding"]["y"]["axis"]
    assert x_axis["labelLimit"] == 0 and "split(datum.label" in x_axis["labelExpr"]
    assert all(len(line) <= chart_size.LINE_CHARS for reseed in set(data["reseed"]) for line in chart_size.wrap_label(reseed))
    assert y_axis["labelLimit"] == chart_size.WRAPPED_LABEL_LIMIT



def test_timeline_heatmap_labels_rows_and_columns_in_words_with_the_palette():
    at = open_page("lab_pages/versions.py")
    spec, frames = only_chart(at, "versions_heatmap_area")
    check_chart(spec, frames)
    data = frames[0]
    entries = load_timeline(backends=True)
    assert list(dict.fromkeys(data["column_label"])) == [timeline.column_label(e) for e in entries]
    assert "TF 2.10 · Keras 2" in set(data["column_label"]) and "TF 2.21 · tf_keras" in set(data["column_label"])
    assert "Keras 3.15 · JAX" in set(data["column_label"]) and "Keras 3.15 · PyTorch" in set(data["column_label"])
    assert set(data["scenario_title"]) == {SCENARIOS[name].title for name in STORY_SCENARIOS}
    text = json.dumps(spec)
    assert '"labelAngle": -90' in text and '"labelOverlap": false' in text  # vertical labels, none dropped, at 390 px too
    # the legend lists the verdicts that occur, no others
    present = set(data["verdict"])
    scales = [node["scale"]["domain"] for layer in spec["layer"] for node in [layer["encoding"].get("color", {})] if "scale" in node]
    assert scales and all(set(domain) == present for domain in scales)
    assert present < set(VERDICTS)
    # a short tooltip: five lines, sums to 13 decimals, 12-character fingerprints
    tooltip = spec["layer"][0]["encoding"]["tooltip"]
    assert [t["title"] for t in tooltip] == ["scenario", "verdict", "kernel", "rerun 1", "rerun 2"]
    first = data.iloc[0]["rerun_1"]
    sha, rest = first.split(" ", 1)
    assert len(sha) == 12 and rest.startswith("(") and len(rest.split(")")[0].split(".")[1]) == 13
    # the page's click selection still reads the id fields
    assert [param["name"] for param in spec["params"]] == ["cell"]
    assert spec["params"][0]["select"]["fields"] == [timeline.F_COLUMN, timeline.F_SCENARIO]
    assert {timeline.F_COLUMN, timeline.F_SCENARIO} <= set(data.columns)


def test_live_rows_table_says_which_scenario_each_row_is():
    rows = [record(name, rerun, name[0], name[1]) for name in STORY_SCENARIOS for rerun in (1, 2)]
    report = Report(settings={"release": "2.21", "release_engine": "keras3"}, kernel={"tensorflow": "2.21.0", "keras": "3.15.1"},
                    machine={"cpu": "test CPU"}, records=rows)  # fmt: skip
    live = TimelineEntry("2.21", "keras3", report, source="live")
    at = open_page("lab_pages/versions.py", {"versions_live": live})
    spec, frames = only_chart(at, "versions_heatmap_area")
    check_chart(spec, frames)
    assert list(dict.fromkeys(frames[0]["column_label"]))[-1] == "TF 2.21 · Keras 3 · live"
    table = next(t.value for t in elements(find_block(at.main, "versions_live_note"), "dataframe"))
    assert table["scenario"].tolist() == [SCENARIOS[name].title for name in STORY_SCENARIOS for _ in (1, 2)]
    assert table["same as rerun 1"].all()  # each scenario compared with its own rerun 1


def test_wrapped_row_labels_keep_every_word():
    for scenario in SCENARIOS.values():
        lines = chart_size.wrap_label(scenario.title)
        assert "".join(lines).replace(" ", "") == scenario.title.replace(" ", "")
        assert all(len(line) <= chart_size.LINE_CHARS for line in lines)


# -- Recipe matrix --------------------------------------------------------------------------------------
def matrix_result() -> MatrixResult:
    same = [record("m", 1, "a", "b"), record("m", 2, "c", "d")]  # factory + none and factory + tf: the same fingerprints
    results = [
        RecipeResult(Recipe("global", "tf"), [record("m", 1, "a", "b"), record("m", 2, "b", "e")], 1.0, 1.0, 2.0),
        RecipeResult(Recipe("factory", "none"), same, 1.0, 1.0, 2.0),
        RecipeResult(Recipe("factory", "tf"), same, 1.0, 1.0, 2.0),
        RecipeResult(Recipe("factory", "full"), [record("m", 1, "f", "g"), record("m", 2, "f", "g")], 0.0, 0.0, 2.0),
    ]
    return MatrixResult(MatrixOptions(engines=("keras3",)), results, 8.0, 2)


def test_matrix_heatmap_names_recipes_in_words_and_shows_identical_fingerprints():
    result = matrix_result()
    at = open_page("lab_pages/matrix.py", {"matrix_result": result})
    spec, frames = only_chart(at)
    check_chart(spec, frames)
    data = frames[0]
    assert set(data["words"]) == {r.recipe.title for r in result.results}
    assert "factory + tf.random.set_seed" in set(data["words"]) and set(data["engine_words"]) == {"Keras 3"}
    y_axis = spec["layer"][0]["encoding"]["y"]["axis"]
    assert y_axis["labelOverlap"] is False and spec["height"] >= 32 * len(result.results)  # every label, rows at least 32 px
    assert set(data["verdict"]) == {verdict(r.records) for r in result.results}
    assert set(data["text"]) == {"→", "≠", "✓"}  # the legend's symbol beside the colour
    assert set(data["verdict_words"]) == {"→ drift, as a chain", "≠ drift", "✓ stable"}  # in the tooltip, never the verdict's id
    assert spec["title"]["subtitle"] == ["Same fingerprints on Keras 3:", "factory + no reseed", "= factory + tf.random.set_seed"]
    table = next(t.value for t in elements(at.main, "dataframe") if "verdict" in t.value.columns)
    same_as = dict(zip(table["recipe"], table["same fingerprints as"], strict=True))
    assert same_as == {"global+tf": "", "factory+none": "factory + tf.random.set_seed", "factory+tf": "factory + no reseed", "factory+full": ""}


def test_matrix_info_box_names_the_controls_that_exist():
    at = open_page("lab_pages/matrix.py")
    text = " ".join(info.value for info in at.info)
    assert "sources" in text and "seed switches" in text and "models and the engines" in text  # the seed switches are an axis now
    assert at.pills(key="matrix_reseeds") is not None


# -- the rerun chart (every story page) --------------------------------------------------------------------
def test_rerun_chart_draws_chains_flat_and_marks_each_restart():
    chain = [record("global-model", 1, "a", "b", 6), record("global-model", 2, "b", "c", 6), record("global-model", 1, "x", "y", 7)]
    spec, frames = spec_of(rerun_chart(chain, "t"))
    check_chart(spec, frames)
    text = json.dumps(spec, ensure_ascii=False)
    assert text.count('"type": "rule"') == 2  # the one hand-over (rerun 1 -> 2) and the restart rule
    handovers = [f for f in frames if "next_position" in f.columns]
    assert len(handovers) == 1 and handovers[0]["position"].tolist() == [1]
    restarts = [f for f in frames if "label" in f.columns]
    assert restarts[0]["label"].tolist() == [RESTART_LABEL] and restarts[0]["position"].tolist() == [2.5]
    shapes = next(layer["encoding"]["shape"]["scale"] for layer in spec["layer"] if "shape" in layer["encoding"])
    assert shapes["domain"] == [SERIES_BEFORE, SERIES_AFTER, SERIES_HANDOVER] and shapes["range"][:2] == ["circle", "square"]


def test_stable_rerun_chart_has_no_hand_over_in_data_or_legend():
    stable = [record("factory-full-seed", rerun, "e", "f") for rerun in (1, 2, 3)]
    stable = [replace(r, before_sum=3.5, after_sum=3.7) for r in stable]
    spec, frames = spec_of(rerun_chart(stable))
    check_chart(spec, frames)
    domains = {json.dumps(layer["encoding"]["color"]["scale"]["domain"]) for layer in spec["layer"] if "color" in layer["encoding"]}
    assert domains == {json.dumps([SERIES_BEFORE, SERIES_AFTER])}
    assert "kernel restarted" not in json.dumps(spec) and '"strokeDash"' not in json.dumps(spec)


# -- Your model -------------------------------------------------------------------------------------------
def test_your_model_defaults_to_a_drifting_recipe_and_its_heatmap_uses_the_palette():
    at = open_page("lab_pages/your_model.py")
    assert at.radio(key="model_way").value == "global" and at.radio(key="model_reseed").value == "tf"
    audit = Audit(ModelSpec(), reseed="tf", model="global", reruns=2, seed=1234)
    found = AuditResult(audit, records=[record("audit", 1, "a", "b", total=0.1234567890123), record("audit", 2, "b", "c")],
                        table=[{"layer": "l1_dense", "weight": "kernel", "shape": [2, 2], "max_abs_diff_before": 1e-7,
                                "max_abs_diff_after": 2e-7}],
                        diffs={"l1_dense/kernel": [[1e-7, -2e-7], [0.0, 3e-7]]})  # fmt: skip
    at.session_state[session.LAB].kept["model_result"] = found
    at.run()
    assert not exceptions(at)
    spec, frames = only_chart(at, "model_results")
    check_chart(spec, frames)
    assert spec["encoding"]["color"]["scale"]["scheme"] == DIVERGING_SCHEME
    records, layers = (frame for frame in elements(find_block(at.main, "model_results"), "dataframe"))
    formats = json.loads(records.proto.columns)
    assert formats["before sum"]["type_config"]["format"] == "%.13f" == formats["after sum"]["type_config"]["format"]
    assert json.loads(layers.proto.columns)["max |Δ| after training"]["type_config"]["format"] == "%.3e"


def test_home_findings_chart_names_every_release_and_question_with_the_palette():
    at = AppTest.from_file(APP, default_timeout=60).run()
    assert not exceptions(at)
    spec, frames = only_chart(at)
    check_chart(spec, frames)
    releases = {entry.release for entry in load_timeline()}
    assert set(frames[0]["release"]) == releases  # one column per committed release, no live column before any rows
    assert spec["resolve"]["scale"]["color"] == "independent"  # the symbols keep their ink, not the cells' colour


# -- every chart of every page, at its real size -----------------------------------------------------------------------
def story_rows() -> list[RunRecord]:
    """Rows for each story page's scenarios: a chain, a restart, and a group of other settings beside it."""
    rows = []
    for scenario in STORY_PAGE_SCENARIOS:
        rows += [record(scenario, 1, "a", "b", 1), record(scenario, 2, "b", "c", 1), record(scenario, 1, "a", "b", 2)]
        rows.append(replace(record(scenario, 1, "x", "y", 3), seed=42, epochs=3))
    return rows


def test_every_chart_on_every_page_has_its_categories_palette_and_a_readable_size():
    """Each page drawn with rows (story pages), a live column (Across versions), a matrix and an audit: every chart it draws
    passes check_chart, the plot size included (the audit heatmap's size is another branch's: checked without it)."""
    at = AppTest.from_file(APP, default_timeout=60).run()
    put_rows(at, story_rows())
    live_rows = [record(name, rerun, name[0], name[1]) for name in STORY_SCENARIOS for rerun in (1, 2)]
    live = TimelineEntry("2.21", "keras3", Report(settings={"release": "2.21", "release_engine": "keras3"},
                                                  kernel={"tensorflow": "2.21.0", "keras": "3.15.1"}, machine={"cpu": "test CPU"},
                                                  records=live_rows), source="live")  # fmt: skip
    for key, value in {"versions_live": live, "matrix_result": matrix_result()}.items():
        at.session_state[session.LAB].kept[key] = value
    checked = {}
    for name, page in PAGES.items():
        at.switch_page(page.path).run()
        assert not exceptions(at), name
        charts = elements(at.main, "vega_lite_chart")
        for chart in charts:
            spec, frames = chart_data(chart)
            check_chart(spec, frames, size=name != "your_model")
        checked[name] = len(charts)
    # the pages that draw charts drew them: Home's findings, a rerun chart per story scenario, two on Across, the matrix
    assert checked["home"] == 1 and checked["drift"] == 1 and checked["factory"] == 3 and checked["restart"] == 1
    assert checked["versions"] == 2 and checked["matrix"] == 1


def test_your_trainings_growth_chart_has_a_readable_plot_and_the_palette():
    from repro_core.experiments.diagnose import Difference
    from repro_core.views.diagnose import growth_chart

    growth = [{"point": str(step), "step": step, "layer": layer, "max_abs": 1e-7 * 2**step, "max_ulps": 2**step}
              for step in range(5) for layer in ("conv2d", "dense")]  # fmt: skip
    spec = growth_chart(Difference("1", growth=growth), "How the difference grows, step by step, from the first divergence").to_dict()
    frames = [pd.DataFrame(rows) for rows in spec.get("datasets", {}).values()]
    check_chart(spec, frames)
