"""The Recipe matrix page in AppTest: loads, the seed switches reach MatrixOptions (TensorFlow and a JAX kernel), the table
and heatmap say apart whether the initial and the trained weights repeated, and a tiny grid runs in real kernels."""

from __future__ import annotations

import pytest
from app_helpers import chart_data, check_chart, elements, exceptions
from conftest import RUN_TIMEOUT

from lab_ui import session, sidebar
from repro_core.experiments import matrix as matrix_core
from repro_core.experiments.matrix import MatrixOptions, MatrixResult, RecipeResult
from repro_core.kernels.kernelspecs import KernelSpecInfo
from repro_core.machine import MachineSettings, parse_machine_label, presets_for
from repro_core.records import RunRecord, repeats, verdict
from repro_core.views.matrix import COL_INITIAL, COL_TRAINED
from repro_core.vocabulary import DEFAULT_KERNEL, DEFAULT_RESEEDS, RESEEDS, Recipe

MATRIX_PAGE = "lab_pages/matrix.py"


def rec(rerun: int, before: str, after: str, backend: str = "tensorflow") -> RunRecord:
    return RunRecord("m", rerun, 0.5, 0.7, before * 64, after * 64, 0.1, "3.11", "2.21.0", "3.15.1", "keras3", "lab-python",
                     backend=backend)  # fmt: skip


def capture_options(monkeypatch) -> list[MatrixOptions]:
    """Stand in for the core's run_matrix: keep the options the page built, train nothing."""
    seen: list[MatrixOptions] = []

    def fake_matrix(options, parallelism, on_result, kernel_name, *, pool, owner, on_wait):
        seen.append(options)
        return None  # nothing stored: the page stays as before the click

    monkeypatch.setattr(matrix_core, "run_matrix", fake_matrix)
    return seen


def test_the_seed_switches_are_offered_in_code_words_and_reach_matrix_options(app, monkeypatch):
    seen = capture_options(monkeypatch)
    at = app.switch_page(MATRIX_PAGE).run()
    switches = at.pills(key="matrix_reseeds")
    assert switches.value == list(DEFAULT_RESEEDS)
    assert switches.options == [reseed.code("tensorflow") for reseed in RESEEDS.values()]  # all nine, labelled by their code
    assert "random.seed + tf.random.set_seed" in switches.options
    switches.set_value(["python", "tf", "python-numpy-tf"])
    at.multiselect(key="matrix_models").set_value(["factory"])
    at.multiselect(key="matrix_engines").set_value(["keras3"]).run()
    at.button(key="matrix_run").click().run()
    assert not exceptions(at) and not at.error
    [options] = seen
    assert options.reseeds == ("python", "tf", "python-numpy-tf") and options.models == ("factory",) and options.engines == ("keras3",)
    assert options.backend == "tensorflow"
    assert [r.label for r in options.recipes()] == ["factory+python", "factory+tf", "factory+python-numpy-tf"]


def test_no_seed_switch_is_refused_plainly(app, monkeypatch):
    seen = capture_options(monkeypatch)
    at = app.switch_page(MATRIX_PAGE).run()
    at.pills(key="matrix_reseeds").set_value([]).run()
    at.button(key="matrix_run").click().run()
    assert not exceptions(at) and not seen
    assert any("reseeds" in e.value for e in at.error)


def test_on_a_jax_kernel_the_switches_name_jax_and_only_keras3_is_offered(app, monkeypatch):
    seen = capture_options(monkeypatch)
    jax = KernelSpecInfo(DEFAULT_KERNEL, "JAX", "/usr/bin/python3", True, python="3.11.7", keras="3.15.1", jax="0.10.2")
    assert jax.backend == "jax"  # what the probe reports of a venv with Keras and JAX and no TensorFlow
    monkeypatch.setattr(sidebar, "kernel_choices", lambda: {DEFAULT_KERNEL: jax})
    at = app.switch_page(MATRIX_PAGE).run()
    assert not exceptions(at)
    assert at.pills(key="matrix_reseeds").options[RESEEDS_INDEX["tf"]] == "no backend seed on JAX"
    assert at.multiselect(key="matrix_engines").options == ["Keras 3"]
    at.button(key="matrix_run").click().run()
    assert not exceptions(at) and not at.error
    [options] = seen
    assert options.backend == "jax" and options.engines == ("keras3",)
    assert 'os.environ["KERAS_BACKEND"] = "jax"' in options.setup("keras3")[0]


RESEEDS_INDEX = {name: index for index, name in enumerate(RESEEDS)}


def switch_result() -> MatrixResult:
    """Three switches as a TensorFlow kernel might answer them: nothing repeats, only the initial weights, both."""
    results = [
        RecipeResult(Recipe("factory", "tf"), [rec(1, "a", "b"), rec(2, "c", "d")], 1.0, 1.0, 2.0),
        RecipeResult(Recipe("factory", "python"), [rec(1, "e", "f"), rec(2, "e", "g")], 0.0, 1.0, 2.0),
        RecipeResult(Recipe("factory", "python-tf"), [rec(1, "e", "f"), rec(2, "e", "f")], 0.0, 0.0, 2.0),
    ]
    return MatrixResult(MatrixOptions(engines=("keras3",), models=("factory",), reseeds=("tf", "python", "python-tf")), results, 6.0, 2)


def test_table_and_heatmap_say_apart_whether_initial_and_trained_weights_repeated(app):
    found = switch_result()
    app.session_state[session.LAB].kept["matrix_result"] = found
    at = app.switch_page(MATRIX_PAGE).run()
    assert not exceptions(at)
    table = next(t.value for t in elements(at.main, "dataframe") if "verdict" in t.value.columns)
    expected = {r.recipe.label: ("repeat" if repeats(r.records).initial else "differ", "repeat" if repeats(r.records).trained else "differ")
                for r in found.results}  # fmt: skip
    assert dict(zip(table["recipe"], zip(table[COL_INITIAL], table[COL_TRAINED], strict=True), strict=True)) == expected
    assert expected == {"factory+tf": ("differ", "differ"), "factory+python": ("repeat", "differ"), "factory+python-tf": ("repeat", "repeat")}
    assert set(table["model + reseed"]) == {"factory + tf.random.set_seed", "factory + random.seed", "factory + random.seed + tf.random.set_seed"}
    [chart] = elements(at.main, "vega_lite_chart")
    spec, frames = chart_data(chart)
    check_chart(spec, frames)
    tooltip_fields = {t["field"] for t in spec["layer"][0]["encoding"]["tooltip"]}
    assert {"initial", "trained", "verdict_words", "same_as"} <= tooltip_fields  # the verdict in words, not its id
    lines = {recipe: (a, b) for recipe, a, b in zip(frames[0]["recipe"], frames[0]["initial_line"], frames[0]["trained_line"], strict=True)}
    assert lines["factory+python"] == ("initial repeat", "trained differ") and lines["factory+python-tf"] == ("initial repeat", "trained repeat")
    assert {layer["encoding"]["text"]["field"] for layer in spec["layer"][1:]} == {"text", "initial_line", "trained_line"}  # in each cell


def test_matrix_page_loads_without_running(app):
    at = app.switch_page(MATRIX_PAGE).run()
    assert not exceptions(at)
    assert at.title[0].value == "Recipe matrix"
    assert at.button(key="matrix_run") is not None
    assert at.number_input(key="matrix_parallelism").value >= 1
    assert at.multiselect(key="matrix_engines").value == ["keras3", "tf_keras"]
    assert session.kept(at.session_state, "matrix_result") is None


def test_matrix_page_rejects_an_empty_engine_choice_plainly(app):
    at = app.switch_page(MATRIX_PAGE).run()
    at.multiselect(key="matrix_engines").set_value([]).run()
    at.button(key="matrix_run").click().run()
    assert not exceptions(at)
    assert any("engines" in e.value for e in at.error)
    assert session.kept(at.session_state, "matrix_result") is None


@pytest.mark.kernel
def test_matrix_run_fills_table_and_heatmap_with_the_cores_verdicts(app):
    at = app.switch_page(MATRIX_PAGE).run()
    at.multiselect(key="matrix_engines").set_value(["keras3"])
    at.pills(key="matrix_reseeds").set_value(["tf", "full"])  # 4 recipes: the three verdicts, kept small
    at.number_input(key="matrix_reruns").set_value(2)
    at.number_input(key="matrix_epochs").set_value(1)
    at.number_input(key="matrix_parallelism").set_value(2).run()
    at.button(key="matrix_run").click().run(timeout=RUN_TIMEOUT)
    assert not exceptions(at) and not at.error

    matrix = session.kept(at.session_state, "matrix_result")
    assert [(c.recipe.model, c.recipe.reseed, c.recipe.engine) for c in matrix.results] == [
        (s, r, "keras3") for s in ("global", "factory") for r in ("tf", "full")
    ]
    expected = {result.recipe.label: verdict(result.records) for result in matrix.results}
    assert all(len(result.records) == 2 for result in matrix.results)
    assert expected["global+tf"] == "drift-chain" and expected["factory+tf"] == "drift" and expected["factory+full"] == "stable"

    tables = [t for t in elements(at.main, "dataframe") if "verdict" in t.value.columns]
    assert len(tables) == 1
    frame = tables[0].value
    assert dict(zip(frame["recipe"], frame["verdict"], strict=True)) == expected
    assert frame["max |Δ| before"].tolist() == [r.max_delta_before for r in matrix.results]
    words = {True: "repeat", False: "differ"}
    assert frame[COL_INITIAL].tolist() == [words[repeats(r.records).initial] for r in matrix.results]
    assert frame[COL_TRAINED].tolist() == [words[repeats(r.records).trained] for r in matrix.results]

    charts = elements(at.main, "vega_lite_chart")
    assert len(charts) == 1
    spec, datasets = chart_data(charts[0])
    assert spec["layer"][0]["mark"]["type"] == "rect"
    shown = [dict(zip(d["recipe"], d["verdict"], strict=True)) for d in datasets if "verdict" in d.columns]
    assert shown and all(item == expected for item in shown)
    tooltip_fields = {t["field"] for t in spec["layer"][0]["encoding"]["tooltip"]}
    assert {"verdict_words", "same_as", "delta_before", "delta_after"} <= tooltip_fields  # short: no fingerprint list (the table has it)

    # Results stay in the session: another script run redraws them without training.
    at.run()
    assert session.kept(at.session_state, "matrix_result") is matrix
    assert len(elements(at.main, "vega_lite_chart")) == 1


def test_machine_settings_are_an_axis_that_reaches_matrix_options(app, monkeypatch):
    """The machine pills (oneDNN, threads, ISA cap, op determinism) and the network go into MatrixOptions, in the page's order."""
    seen = capture_options(monkeypatch)
    at = app.switch_page(MATRIX_PAGE).run()
    pills = at.pills(key="matrix_machines")
    assert pills.value == ["default"]
    assert list(pills.options) == [parse_machine_label(label).words() for label in presets_for(True)]
    at.radio(key="matrix_network").set_value("wide")
    pills.set_value(["default", "onednn-off", "threads-1"]).run()
    at.button(key="matrix_run").click().run()
    assert not exceptions(at) and not at.error
    assert seen[-1].network == "wide"
    assert seen[-1].machines == (MachineSettings(), MachineSettings(onednn="off"), MachineSettings(threads=1))


@pytest.mark.kernel
def test_a_machine_axis_gives_a_column_per_setting(app):
    at = app.switch_page(MATRIX_PAGE).run()
    at.multiselect(key="matrix_engines").set_value(["keras3"])
    at.multiselect(key="matrix_models").set_value(["factory"])
    at.pills(key="matrix_reseeds").set_value(["full"])
    at.radio(key="matrix_network").set_value("wide")
    at.pills(key="matrix_machines").set_value(["default", "threads-1"])
    at.number_input(key="matrix_reruns").set_value(1)
    at.number_input(key="matrix_epochs").set_value(1).run()
    at.button(key="matrix_run").click().run(timeout=RUN_TIMEOUT)
    assert not exceptions(at) and not at.error
    result = session.kept(at.session_state, "matrix_result")
    assert [r.machine for r in result.results] == [MachineSettings(), MachineSettings(threads=1)]
    frame = [t.value for t in elements(at.main, "dataframe") if "verdict" in t.value.columns][0]
    assert frame["machine"].tolist() == ["the machine's defaults", "1 thread"]
    spec, datasets = chart_data(elements(at.main, "vega_lite_chart")[0])
    columns = {c for d in datasets if "engine_words" in d.columns for c in d["engine_words"]}
    assert columns == {"Keras 3 · the machine's defaults", "Keras 3 · 1 thread"}
