"""The recipe matrix in real kernels (Keras 3): its verdicts match the single scenarios, and what dropout/shuffle do.

Kept small on purpose: reruns=2, epochs=2, only the combinations each test needs.
"""

from __future__ import annotations

import pytest

from repro_core.experiments.matrix import DEFAULT_MODELS, MatrixOptions, check_parallelism, run_matrix
from repro_core.experiments.story import run_story
from repro_core.recipes import cells
from repro_core.recipes.settings import StoryParams
from repro_core.records import Repeats
from repro_core.validation import Refusal
from repro_core.vocabulary import DEFAULT_RESEEDS, RESEEDS, SELECTABLE_ENGINES, Recipe

SMALL = {"reruns": 2, "epochs": 2, "engines": ("keras3",)}


def fingerprints(result):
    return [(r.before_sha256, r.after_sha256) for r in result.records]


def result_of(matrix, model: str, reseed: str, engine: str):
    """The matrix's result for one recipe."""
    return next(result for result in matrix.results if result.recipe == Recipe(model, reseed, engine))


@pytest.mark.parametrize(
    "bad",
    [{"reruns": 0}, {"reruns": 11}, {"epochs": 0}, {"epochs": 51}, {"engines": ()}, {"engines": ("jax",)}, {"reseeds": ("torch",)}, {"shuffle": 1}],
)
def test_options_are_validated(bad):
    with pytest.raises(Refusal):
        MatrixOptions(**bad)


@pytest.mark.parametrize("bad", [0, 9, 2.5, True, "2"])
def test_parallelism_is_validated(bad):
    with pytest.raises(Refusal):
        check_parallelism(bad)
    with pytest.raises(Refusal):
        run_matrix(MatrixOptions(**SMALL), parallelism=bad)


@pytest.mark.parametrize("backend", ["jax", "torch"])
def test_off_tensorflow_the_matrix_runs_keras3_only_and_writes_the_backends_cells(backend):
    with pytest.raises(Refusal, match="only Keras 3 runs"):
        MatrixOptions(backend=backend)  # the default engines include tf_keras
    with pytest.raises(Refusal, match="only Keras 3 runs"):
        MatrixOptions(backend=backend, engines=("tf_keras",))
    options = MatrixOptions(backend=backend, engines=("keras3",), reseeds=tuple(RESEEDS))
    setup = options.setup("keras3")[0]
    assert f'os.environ["KERAS_BACKEND"] = "{backend}"' in setup and "import tensorflow" not in setup
    assert options.params("keras3").backend == backend
    cell = options.cell(Recipe("factory", "python-tf"))
    assert cell.splitlines()[1] == "random.seed(1234)"
    code = [line.split("#")[0] for line in cell.splitlines()]
    assert ("torch.manual_seed(1234)" in code) == (backend == "torch") and not [line for line in code if "tf." in line]
    with pytest.raises(Refusal, match="backend"):
        MatrixOptions(backend="mxnet", engines=("keras3",))


def test_tensorflow_matrix_cells_are_the_scenario_cells_of_each_seed_switch():
    """One cell per switch, whichever page writes it: the matrix's factory cell is the switch scenario's (shuffle on)."""
    options = MatrixOptions(shuffle=True, engines=("keras3",), reseeds=tuple(RESEEDS))
    params = StoryParams(reruns=options.reruns, epochs=options.epochs, engine="keras3")
    for reseed in RESEEDS:
        assert options.cell(Recipe("factory", reseed)) == cells.scenario_cell(f"factory-{reseed}-seed", params), reseed


def test_default_grid_is_models_by_default_reseeds_by_engines():
    combos = MatrixOptions().recipes()
    assert len(combos) == len(DEFAULT_MODELS) * len(DEFAULT_RESEEDS) * len(SELECTABLE_ENGINES) == 12 and len(set(combos)) == 12


@pytest.mark.kernel
def test_matrix_matches_the_single_scenarios():
    """Shuffle on (fit's default) and no dropout: the matrix reuses the scenario cells byte for byte and gets their rows."""
    options = MatrixOptions(shuffle=True, dropout=False, models=("global", "factory"), reseeds=("tf", "full"), **SMALL)
    wanted = [Recipe("global", "tf", "keras3"), Recipe("factory", "tf", "keras3"), Recipe("factory", "full", "keras3")]
    seen = []
    matrix = run_matrix(options, parallelism=2, recipes=wanted, on_result=lambda result, done, total: seen.append((done, total)))
    assert [done for done, _ in seen] == [1, 2, 3] and {total for _, total in seen} == {3}
    params = StoryParams(reruns=2, epochs=2, engine="keras3")
    story = {r.scenario: r for r in run_story(params, ["global-model", "factory-tf-seed", "factory-full-seed"])}
    for combo, scenario in zip(wanted, ["global-model", "factory-tf-seed", "factory-full-seed"], strict=True):
        result = result_of(matrix, combo.model, combo.reseed, combo.engine)
        assert options.cell(combo) == cells.scenario_cell(scenario, params)
        assert result.verdict == story[scenario].verdict, combo
        assert fingerprints(result) == fingerprints(story[scenario]), combo
    assert result_of(matrix, "global", "tf", "keras3").verdict == "drift-chain"
    assert result_of(matrix, "factory", "tf", "keras3").verdict == "drift"
    assert result_of(matrix, "factory", "full", "keras3").verdict == "stable"
    # The in-kernel max |w_k - w_1| agrees with the fingerprints.
    assert result_of(matrix, "factory", "full", "keras3").max_delta_before == 0.0 == result_of(matrix, "factory", "full", "keras3").max_delta_after
    assert result_of(matrix, "factory", "tf", "keras3").max_delta_before > 0.0
    assert result_of(matrix, "global", "tf", "keras3").max_delta_before > 0.0


@pytest.mark.kernel
def test_dropout_drifts_past_any_reseed_of_a_reused_model_while_shuffle_changes_nothing_here():
    """What reseeding controls once the initial weights are made identical by other means.

    The 'restored' model re-fits the setup's model after `model.set_weights(<setup weights>)`, so
    every rerun starts from the same weights without touching Python's `random`. Observed on Keras 3
    (TF 2.21, this data: 3 identical input rows, batch 1, validation_split 0.1):

    - no dropout: restored + tf.random.set_seed is stable, with shuffle on or off, and shuffle on gives the
      very same fingerprints as shuffle off (fit's shuffle order follows TF's global seed; on this tiny data
      it changed nothing measurable, even with no reseed at all);
    - Dropout(0.5) in the MLP: restored + tf.random.set_seed drifts after training (before is identical,
      max |delta| before == 0), and so does restored + keras.utils.set_random_seed: the Dropout layer's seed
      generator draws its seed from Python's random when the layer is built and then advances its own state on
      every fit; no global reseed resets an existing layer's generator;
    - with a NEW model per rerun, keras.utils.set_random_seed makes dropout stable (the new layer's seed comes
      from the reseeded Python random) while tf.random.set_seed does not (initializers and dropout both draw
      from Python's random).
    """
    restored_tf = Recipe("restored", "tf", "keras3")
    plain = run_matrix(MatrixOptions(shuffle=False, dropout=False, **SMALL), parallelism=2, recipes=[restored_tf]).results[0]
    shuffled = run_matrix(MatrixOptions(shuffle=True, dropout=False, **SMALL), parallelism=2, recipes=[restored_tf]).results[0]
    assert plain.verdict == "stable" and shuffled.verdict == "stable"
    assert fingerprints(shuffled) == fingerprints(plain)

    wanted = [restored_tf, Recipe("restored", "full", "keras3")]
    wanted += [Recipe("factory", "tf", "keras3"), Recipe("factory", "full", "keras3")]
    dropout = run_matrix(MatrixOptions(shuffle=False, dropout=True, **SMALL), parallelism=2, recipes=wanted)
    for reseed in ("tf", "full"):
        result = result_of(dropout, "restored", reseed, "keras3")
        assert result.verdict == "drift", reseed
        assert result.max_delta_before == 0.0 and result.max_delta_after > 0.0, reseed
        assert result.records[0].before_sha256 == result.records[1].before_sha256
    assert result_of(dropout, "factory", "full", "keras3").verdict == "stable"
    assert result_of(dropout, "factory", "tf", "keras3").verdict == "drift"
    assert result_of(dropout, "factory", "tf", "keras3").max_delta_before > 0.0
    # Dropout really is in the network: the same recipe gives other weights than without it.
    assert fingerprints(result_of(dropout, "restored", "tf", "keras3"))[0] != fingerprints(plain)[0]


@pytest.mark.kernel
def test_random_seed_alone_repeats_the_initial_weights_and_with_tf_seed_everything():
    """The seed switches on the bundled TensorFlow kernel, judged by records.repeats on the live records: Keras draws an
    unseeded initializer's seed from Python's `random`, so random.seed alone repeats the initial weights, and random.seed +
    tf.random.set_seed (the article's fix plus one line) repeats everything.

    Observed here (TF 2.21, Keras 3.15.1, CPU): with random.seed alone the trained weights repeat too, bit for bit the same
    as with both. The setup cell sets tf.random.set_seed once at the top (as the article does), and fit's shuffle takes its
    seed from that global seed without advancing between fits (checked outside the lab: three fits in one process give one
    trained fingerprint with the global seed set once, three without it). The issue's "trained weights drift with random
    alone" holds on JAX, whose shuffle draws from NumPy's global generator; that is the backend tests' to check."""
    options = MatrixOptions(shuffle=True, models=("factory",), reseeds=("python", "python-tf"), **SMALL)  # the article's fit
    matrix = run_matrix(options, parallelism=2)
    python, python_tf = (result_of(matrix, "factory", reseed, "keras3") for reseed in ("python", "python-tf"))
    assert {r.backend for result in matrix.results for r in result.records} == {"tensorflow"}
    assert python.repeats.initial is True
    assert python_tf.repeats == Repeats(True, True) and python_tf.verdict == "stable"
    assert python.records[0].before_sha256 == python_tf.records[0].before_sha256  # random.seed alone decides the initial weights
    assert python.repeats.trained is (fingerprints(python) == fingerprints(python_tf))


@pytest.mark.kernel
def test_on_a_jax_kernel_random_seed_alone_repeats_only_the_initial_weights(require):
    """The same grid on Keras 3 + JAX (MatrixOptions.backend writes JAX's cells): random.seed alone repeats the initial
    weights while the trained ones drift (JAX's shuffle draws from NumPy's global generator, which nothing reseeds), and
    random.seed + np.random.seed repeats both. Judged by records.repeats on the live records."""
    from repro_core.kernels.kernel import available_kernels

    missing = "kernelspec 'keras-jax' is not installed (python -m timeline --provision-only --backend jax)"
    require("REQUIRE_JAX", "keras-jax" in available_kernels(), missing)
    options = MatrixOptions(shuffle=True, models=("factory",), reseeds=("python", "python-numpy"), backend="jax", **SMALL)
    matrix = run_matrix(options, parallelism=2, kernel_name="keras-jax")
    python, python_numpy = (result_of(matrix, "factory", reseed, "keras3") for reseed in ("python", "python-numpy"))
    assert {r.backend for result in matrix.results for r in result.records} == {"jax"}
    assert python.repeats == Repeats(True, False) and python.verdict == "drift"
    assert python_numpy.repeats == Repeats(True, True) and python_numpy.verdict == "stable"
    assert python.records[0].before_sha256 == python_numpy.records[0].before_sha256
