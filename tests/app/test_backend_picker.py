"""Picking a JAX kernel in the sidebar (no kernel starts): the settings take its backend, the sidebar says what changes
in the cells, the cells shown are JAX's, and the TensorFlow-only audit says so instead of failing in the kernel."""

from __future__ import annotations

from app_helpers import elements, exceptions, find_block
from conftest import APP, PAGES
from streamlit.testing.v1 import AppTest

from lab_ui import session
from repro_core.kernels.kernel import available_kernels

JAX = "keras-jax"


def test_a_jax_kernel_in_the_picker_makes_the_cells_and_pages_jaxs(require):
    require("REQUIRE_JAX", JAX in available_kernels(), f"kernelspec {JAX!r} is not installed (python -m timeline --provision-only --backend jax)")
    at = AppTest.from_file(APP, default_timeout=60).run()
    assert any(label.startswith("Keras 3.15.1 · JAX 0.10.2 · Python 3.11") for label in at.selectbox(key="kernel").options)
    at.selectbox(key="kernel").set_value(JAX).run()
    assert not exceptions(at)
    params = at.session_state[session.LAB].settings
    assert (params.backend, params.engine) == ("jax", "keras3")
    note = [c.value for c in elements(find_block(at.sidebar, "backend_note"), "caption")]
    assert note and "KERAS_BACKEND" in note[0] and "JAX has no global seed" in note[0]
    assert find_block(at.sidebar, "engine_only") is not None  # one engine on JAX: named, not a choice

    at = at.switch_page(PAGES["factory"]).run()
    assert not exceptions(at)
    shown = "\n".join(code.value for code in at.code)
    assert "# No backend seed: JAX has no global generator" in shown  # the cells the JAX kernel would run

    at = at.switch_page("lab_pages/your_model.py").run()
    assert not exceptions(at)
    assert any("TensorFlow kernels only" in info.value for info in at.info)
    assert at.button(key="model_run").disabled
