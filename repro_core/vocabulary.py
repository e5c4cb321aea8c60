"""The lab's one vocabulary: Keras engines, recipes (model x reseed x engine) and the story's scenarios (named recipes).
Every layer takes these names from here, so a screen and a report can never spell an engine or a scenario differently."""

from __future__ import annotations

from dataclasses import dataclass

from repro_core.validation import choice

DEFAULT_SEED = 1234  # the article's tf.random.set_seed value
DEFAULT_KERNEL = "lab-python"  # the interpreter running the lab, as a kernelspec (see kernels.kernel)
HASH_SEED_MAX = 4294967295  # PYTHONHASHSEED's range


@dataclass(frozen=True)
class Engine:
    """A Keras a kernel can run. `selectable`: a visitor can ask for it of a TensorFlow >= 2.16 kernel (keras2 is what
    TensorFlow < 2.16 brings: runs on such a kernel name it, since the engine shown is the one the kernel reports)."""

    name: str
    label: str
    description: str
    selectable: bool = True


ENGINES = {e.name: e for e in (
    Engine("keras2", "Keras 2", "Keras 2, bundled with TensorFlow before 2.16", selectable=False),
    Engine("keras3", "Keras 3", "Keras 3 (TensorFlow's default since 2.16)"),
    Engine("tf_keras", "tf_keras", "tf_keras (Keras 2, TF_USE_LEGACY_KERAS=1)"),
)}
SELECTABLE_ENGINES = tuple(name for name, engine in ENGINES.items() if engine.selectable)
# TensorFlow 2.16 made Keras 3 its `tf.keras` and moved Keras 2 to the separate `tf_keras` package
# (https://github.com/tensorflow/tensorflow/releases/tag/v2.16.1). Before that, TensorFlow ships Keras 2 only.
KERAS3_FROM = (2, 16)


def engines_offered(tensorflow: tuple[int, int]) -> tuple[str, ...]:
    """The engines a TensorFlow release offers, as its kernel reports them."""
    return ("keras3", "tf_keras") if tensorflow >= KERAS3_FROM else ("keras2",)


def reported_engine(keras_package: str, keras_version: str) -> str:
    """The engine a kernel runs, from what it reports: which package `tf.keras` is, and its version."""
    if keras_package == "tf_keras":
        return "tf_keras"
    return "keras3" if int(keras_version.split(".")[0]) >= 3 else "keras2"


def requested_engine(engine: str) -> str:
    """The setting that gives `engine`: TF_USE_LEGACY_KERAS=1 only for tf_keras; keras2 is old TensorFlow's default."""
    return "tf_keras" if engine == "tf_keras" else "keras3"


def engine_label(name: str) -> str:
    return ENGINES[name].label if name in ENGINES else name


def keras_release(engine: str, version: str) -> str:
    """"Keras 3.15.1", "tf_keras 2.21.0": the Keras that ran, by its package and version (not "Keras 3 3.15.1")."""
    return f"{'tf_keras' if engine == 'tf_keras' else 'Keras'} {version or 'version unknown'}"


@dataclass(frozen=True)
class Kind:
    """One value of a recipe axis: its name, the code a learner recognises it by, and what it does."""

    name: str
    code: str
    description: str


MODELS = {k.name: k for k in (
    Kind("global", "global model", "one model built in the setup cell, re-fitted every rerun"),
    Kind("factory", "factory", "a new model from the factory every rerun"),
    Kind("restored", "restored weights", "the global model, its weights reset with set_weights() to the setup's initial weights every rerun"),
)}


@dataclass(frozen=True)
class Backend:
    """A Keras 3 backend (KERAS_BACKEND's value). `seed_call`: the backend's own global seed, "" where it has none (JAX:
    its random numbers come from explicit keys)."""

    name: str
    label: str
    seed_call: str


BACKENDS = {b.name: b for b in (
    Backend("tensorflow", "TensorFlow", "tf.random.set_seed"),
    Backend("jax", "JAX", ""),
    Backend("torch", "PyTorch", "torch.manual_seed"),
)}  # fmt: skip
DEFAULT_BACKEND = "tensorflow"


def backend_label(name: str) -> str:
    return BACKENDS[name].label if name in BACKENDS else name


def backend_release(backend: str, version: str) -> str:
    """"TensorFlow 2.21.0", "JAX 0.10.2": what trained, named alike on every screen (version "" reads "version unknown")."""
    return f"{backend_label(backend)} {version or 'version unknown'}"


def check_backend(name: object) -> str:
    return choice("backend", name, BACKENDS)


# The generators a cell can reseed one by one: which one controls what is what the lab measures, per backend.
GENERATORS = {k.name: k for k in (
    Kind("python", "random.seed", "Python's random module"),
    Kind("numpy", "np.random.seed", "NumPy's global generator"),
    Kind("backend", "the backend's seed", "the backend's global seed (tf.random.set_seed, torch.manual_seed; JAX has none)"),
)}  # fmt: skip


@dataclass(frozen=True)
class Reseed:
    """What a recipe's cell reseeds before building: a set of GENERATORS, or all of them at once through
    `keras.utils.set_random_seed` (`everything`)."""

    name: str
    generators: tuple[str, ...]
    everything: bool = False

    def code(self, backend: str = DEFAULT_BACKEND) -> str:
        """In code words: "random.seed + tf.random.set_seed", "keras.utils.set_random_seed", "no reseed"."""
        if self.everything:
            return "keras.utils.set_random_seed"
        if not self.generators:
            return "no reseed"
        return " + ".join(seed_code(generator, backend) for generator in self.generators)

    @property
    def description(self) -> str:
        if self.everything:
            return "keras.utils.set_random_seed(seed): Python, NumPy and the backend together"
        if not self.generators:
            return "no reseeding in the cell"
        return "reseed " + ", ".join(GENERATORS[g].description for g in self.generators)


def seed_code(generator: str, backend: str = DEFAULT_BACKEND) -> str:
    """A generator's seed call on a backend ("no backend seed on JAX" where there is none)."""
    if generator != "backend":
        return GENERATORS[generator].code
    found = BACKENDS[check_backend(backend)]
    return found.seed_call or f"no backend seed on {found.label}"


# The article's tf.random.set_seed keeps its id "tf": on every backend it is that backend's own seed.
RESEEDS = {r.name: r for r in (
    Reseed("none", ()),
    Reseed("python", ("python",)),
    Reseed("numpy", ("numpy",)),
    Reseed("tf", ("backend",)),
    Reseed("python-numpy", ("python", "numpy")),
    Reseed("python-tf", ("python", "backend")),
    Reseed("numpy-tf", ("numpy", "backend")),
    Reseed("python-numpy-tf", ("python", "numpy", "backend")),
    Reseed("full", ("python", "numpy", "backend"), everything=True),
)}  # fmt: skip
# What the matrix runs unless asked for more: the article's line, that line plus random.seed, and Keras's own (the other
# switches are a click away; three keep the default grid at twelve recipes, as before the switches).
DEFAULT_RESEEDS = ("tf", "python-tf", "full")


@dataclass(frozen=True)
class Recipe:
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
    def title(self) -> str:
        """In words, for headings and chart titles: "factory + tf.random.set_seed"."""
        return self.title_on(DEFAULT_BACKEND)

    def title_on(self, backend: str) -> str:
        """The title with the backend's own seed call ("factory + torch.manual_seed")."""
        return f"{MODELS[self.model].code} + {RESEEDS[self.reseed].code(backend)}"

    @property
    def name(self) -> str:
        return f"{self.label} on {self.engine}"


@dataclass(frozen=True)
class Scenario:
    """A named recipe (engine left to the settings). `restart_every_rerun`: each rerun in a new kernel ("restart and run all");
    `restart_then_once`: N reruns in one kernel, then a restart and one more."""

    name: str
    title: str  # how screens name it
    model: str
    reseed: str
    description: str
    restart_every_rerun: bool = False
    restart_then_once: bool = False

    @property
    def spans_kernel_starts(self) -> bool:
        """Are its rows compared across kernel starts (one verdict for all), rather than each kernel start on its own?"""
        return self.restart_every_rerun or self.restart_then_once

    def recipe(self, engine: str) -> Recipe:
        return Recipe(self.model, self.reseed, engine)

    def title_on(self, backend: str) -> str:
        """The title with the backend's own seed call where the article wrote tf.random.set_seed."""
        return self.title if backend == DEFAULT_BACKEND else self.title.replace("tf.random.set_seed", seed_code("backend", backend))


def switch_scenario_name(reseed: str) -> str:
    """The factory scenario that reseeds `reseed`'s generators: factory-<reseed>-seed (factory-tf-seed is the article's fix)."""
    return f"factory-{choice('reseed', reseed, RESEEDS)}-seed"


_NAMED_SCENARIOS = (
    Scenario("global-model", "Global model + tf.random.set_seed", "global", "tf",
             "One model built in the setup cell; each rerun reseeds TensorFlow, compiles and fits it."),
    Scenario("factory-tf-seed", "Factory + tf.random.set_seed (the article's fix)", "factory", "tf",
             "The article's fix: each rerun calls tf.random.set_seed, builds a new model, compiles, fits."),
    Scenario("factory-full-seed", "Factory + keras.utils.set_random_seed", "factory", "full",
             "Each rerun calls keras.utils.set_random_seed (Python, NumPy, TF), builds, compiles, fits."),
    Scenario("factory-python-tf-seed", "Factory + random.seed + tf.random.set_seed (the fix plus one line)", "factory", "python-tf",
             "The article's fix plus random.seed: each rerun reseeds Python's random and TensorFlow, builds, compiles, fits."),
    Scenario("fresh-kernel", "A new kernel per rerun", "factory", "tf",
             "Each rerun in a newly started kernel: setup cell, then the article's fix.", restart_every_rerun=True),
    Scenario("restart", "Restart the kernel", "factory", "tf",
             "The article's fix re-run N times in one kernel, then once more after restarting the kernel.", restart_then_once=True),
)  # fmt: skip
# One factory scenario per reseed (the seed switches): the named ones above, and one for each other set of generators.
_SWITCHES = tuple(
    Scenario(switch_scenario_name(name), f"Factory + {reseed.code()}", "factory", name,
             f"Each rerun does {reseed.description}, then builds a new model, compiles and fits it.")
    for name, reseed in RESEEDS.items()
    if switch_scenario_name(name) not in {s.name for s in _NAMED_SCENARIOS}
)  # fmt: skip
SCENARIOS = {s.name: s for s in _NAMED_SCENARIOS + _SWITCHES}
SWITCH_SCENARIOS = tuple(switch_scenario_name(name) for name in RESEEDS)
# What `python -m repro_core story` runs by default (and the timeline measures), and the Home page's "Run the whole story".
STORY_SCENARIOS = ("global-model", "factory-tf-seed", "factory-full-seed", "fresh-kernel")
WHOLE_STORY = ("global-model", "factory-tf-seed", "factory-full-seed", "restart")
# What a recorded backend report holds: the story, then every seed switch it does not already run.
BACKEND_REPORT_SCENARIOS = STORY_SCENARIOS + tuple(name for name in SWITCH_SCENARIOS if name not in STORY_SCENARIOS)

def check_scenario(name: object) -> Scenario:
    return SCENARIOS[choice("scenario", name, SCENARIOS)]
