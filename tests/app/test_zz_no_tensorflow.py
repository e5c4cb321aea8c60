"""Runs last in tests/app: after every page test, this process has still not imported TensorFlow or Keras."""

from __future__ import annotations

import sys


def test_no_tensorflow_in_this_process():
    loaded = [name for name in ("tensorflow", "keras", "tf_keras") if name in sys.modules]
    assert not loaded, f"the app imported {loaded} into the Streamlit process"
