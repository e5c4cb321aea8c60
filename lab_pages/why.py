"""Why: TensorFlow's seeds, Keras's seed sources, and what changed since the post."""

import streamlit as st

from lab_ui import pages, session
from repro_core.results.timeline import load_timeline
from repro_core.validation import Refusal
from repro_core.views import backends
from repro_core.views.timeline import summary_sentence
from repro_core.vocabulary import backend_release, keras_release

st.title("Why re-running a cell changes the weights")

st.header("TensorFlow: a global seed and op seeds")
st.markdown(
    """
Every random op in TensorFlow works from two numbers: a **global seed** (`tf.random.set_seed`) and an
**op seed**. When you set only the global seed, TensorFlow derives the op seed from a counter that grows with
each random op the program creates. Calling `tf.random.set_seed` again resets that counter, which is why
the post's fix worked on TensorFlow 2.9: building the model right after reseeding replays the same op seeds.
Details in the [tf.random.set_seed reference](https://www.tensorflow.org/api_docs/python/tf/random/set_seed).

Reseeding does nothing to weights that already exist. The global model on the *Rerun drift* page keeps
training the same variables, so each run starts from the previous run's result.
"""
)

st.header("Keras: where an initializer gets its seed")
st.markdown(
    """
From Keras 2.10 on ([keras commit 69b41cf](https://github.com/keras-team/keras/commit/69b41cf), "Update keras
initializer to be fully stateless"), initializers are stateless. An initializer created without a seed picks one
from **Python's `random` module** at the moment the layer is built (in Keras 3, `make_default_seed()` in
[keras/src/random/seed_generator.py](https://github.com/keras-team/keras/blob/master/keras/src/random/seed_generator.py)),
and the weights are drawn with stateless ops that ignore TensorFlow's global seed. Dropout layers pick their seeds the same way.
So with a current Keras, `tf.random.set_seed` alone no longer resets initial weights: each new model advances
Python's `random`, and the next model gets different seeds.

[`keras.utils.set_random_seed`](https://keras.io/api/utils/python_utils/#setrandomseed-function) seeds Python's
`random`, NumPy and TensorFlow in one call, which is what the *Factory + reseed* page's second recipe uses.
Restarting the kernel works too, because the setup cell seeds Python's `random` again from scratch.
Reports: [tensorflow/tensorflow#57763](https://github.com/tensorflow/tensorflow/issues/57763),
[keras-team/keras#18244](https://github.com/keras-team/keras/issues/18244),
[keras-team/keras#22620](https://github.com/keras-team/keras/issues/22620).
"""
)

st.header("Timeline")
st.markdown(
    """
Besides Keras 2.10's stateless initializers, TensorFlow 2.16 made Keras 3 its `tf.keras`, keeping Keras 2 as the
separate `tf_keras` package ([TensorFlow 2.16 release notes](https://github.com/tensorflow/tensorflow/releases/tag/v2.16.1)).
What each release does with the post's recipes is not asserted here but measured on the *Across versions* page:
"""
)
try:
    st.markdown(summary_sentence(load_timeline()))
except (OSError, Refusal) as exc:
    st.warning(f"The timeline's reports cannot be read: {exc}")
pages.link("versions", "Across versions: every release since the post's, measured, and a live run")
st.markdown(
    """
The sidebar's engine switch starts the kernel with or without `TF_USE_LEGACY_KERAS=1`. It changes what
`from tensorflow import keras` gives you; a bare `import keras` is still Keras 3, and the two cannot be mixed in one model.
See [Keras: TensorFlow + Keras 2 backwards compatibility](https://keras.io/getting_started/#tensorflow--keras-2-backwards-compatibility)
and the [tf_keras repository](https://github.com/keras-team/tf-keras).
"""
)

st.header("Two generators, two halves of a rerun, and Keras 3's other backends")
st.markdown(
    """
A rerun has two halves that can repeat or not on their own: the **initial** weights (the initializers' seeds, drawn from
Python's `random` when the layer is built) and the **trained** weights (they also depend on the order `fit` shuffles the
samples in, which comes from another generator). Keras 3 also runs on JAX and PyTorch
([Keras 3 backends](https://keras.io/getting_started/#configuring-your-backend)); JAX has no global seed at all, its
random numbers come from explicit keys ([JAX's PRNG design](https://docs.jax.dev/en/latest/random-numbers.html)).
The *Recipe matrix* reseeds one set of generators at a time and says apart which half repeated; the same seed switches,
recorded on each backend, are on *Across versions and backends*. What they show, from the committed reports:
"""
)
try:
    switches = backends.controls_sentences(load_timeline(backends=True))
    st.markdown("\n".join(f"- {line}" for line in switches) if switches else "No backend report has seed switches yet.")
except (OSError, Refusal) as exc:
    st.warning(f"The backend reports cannot be read: {exc}")
st.markdown("Open Keras issues on the same questions: [keras-team/keras#18426](https://github.com/keras-team/keras/issues/18426) (JAX's "
            "random keys), [#20577](https://github.com/keras-team/keras/issues/20577) (`set_random_seed` on JAX), "
            "[#19322](https://github.com/keras-team/keras/issues/19322) (NumPy's new generators are not covered).")  # fmt: skip
pages.link("matrix", "Recipe matrix: reseed one generator at a time and see which half repeats")

st.header("Other sources of run-to-run differences")
st.markdown(
    """
- `fit(shuffle=True)`, the default, shuffles batches with a TensorFlow random op, so it follows the global seed.
- [`tf.config.experimental.enable_op_determinism()`](https://www.tensorflow.org/api_docs/python/tf/config/experimental/enable_op_determinism)
  makes ops choose deterministic kernels (mainly a GPU concern) and insists that random ops be seeded; it costs speed.
- On GPUs, some kernels add floating-point numbers in a nondeterministic order; NVIDIA's
  [framework-reproducibility](https://github.com/NVIDIA/framework-reproducibility) notes cover it.
- Two visitors training in one process would share TensorFlow's and Python's global random state; the lab gives
  each browser session its own kernel for that reason.
"""
)

runner = session.last_runner(st.session_state)
if runner is not None and runner.versions is not None:
    v = runner.versions
    st.caption(f"The kernel your last click used reports {backend_release(v.backend, v.backend_release)}, "
               f"{keras_release(v.engine, v.keras)}, Python {v.python}.")

pages.next_page("versions")
