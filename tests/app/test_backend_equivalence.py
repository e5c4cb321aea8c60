"""A Keras 3 backend kernel (JAX) gives the same fingerprints through the page, the CLI and an exported notebook re-run in a
plain kernel of that venv: everything that sets the numbers, KERAS_BACKEND included, is in the cells."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from app_helpers import exceptions, lab_of, rows_of
from conftest import PAGES, RUN_TIMEOUT
from jupyter_client.manager import KernelManager
from nbclient import NotebookClient

from lab_ui import session
from repro_core.kernels.kernel import LabKernelSpecManager, available_kernels
from repro_core.records import RunRecord
from repro_core.results.exports import notebook_text, story_notebook_info
from repro_core.results.ipynb_export import checksum_lines

pytestmark = pytest.mark.kernel

JAX = "keras-jax"
ROOT = Path(__file__).resolve().parents[2]


def test_a_jax_kernel_repeats_its_page_rows_in_the_cli_and_in_its_exported_notebook(app, require):
    require("REQUIRE_JAX", JAX in available_kernels(), f"kernelspec {JAX!r} is not installed (python -m timeline --provision-only --backend jax)")
    at = app
    at.number_input(key="epochs").set_value(2).run()
    at.selectbox(key="kernel").set_value(JAX).run()
    assert not exceptions(at)
    assert at.session_state[session.LAB].settings.backend == "jax" and at.session_state[session.LAB].settings.engine == "keras3"
    at = at.switch_page(PAGES["factory"]).run()
    at.button(key="factory_run_many").click().run(timeout=3 * RUN_TIMEOUT)
    assert not exceptions(at)
    page = rows_of(at, "factory-tf-seed")
    params = lab_of(at).settings
    assert {(r.kernelspec, r.backend, r.tensorflow) for r in page} == {(JAX, "jax", "")} and len(page) == params.reruns

    # The CLI, with the page's settings, in a new kernel of the same kernelspec.
    done = subprocess.run([sys.executable, "-m", "repro_core", "story", "--kernel", JAX, "--scenario", page[0].scenario,
                           "--reruns", str(params.reruns), "--epochs", str(params.epochs), "--seed", str(params.seed),
                           "--format", "json"], cwd=ROOT, capture_output=True, text=True, timeout=600)  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    cli = [RunRecord(**row) for row in json.loads(done.stdout)]
    assert [r.fingerprints for r in cli] == [r.fingerprints for r in page]

    # The page's notebook, re-executed from its cells alone in a plain kernel of the JAX venv (no lab environment).
    starts = sorted({r.kernel_start for r in page})
    info = story_notebook_info("factory-tf-seed on JAX", params, JAX, session.versions_of(at.session_state, starts[-1]), "jax.ipynb")
    book = nbformat.reads(notebook_text(session.cells_of(at.session_state, starts), info), as_version=4)
    recorded = checksum_lines(book)
    assert 'os.environ["KERAS_BACKEND"] = "jax"' in book.cells[1].source
    NotebookClient(book, km=KernelManager(kernel_name=JAX, kernel_spec_manager=LabKernelSpecManager()), timeout=600).execute()
    assert checksum_lines(book) == recorded and len(recorded) == 2 * len(page)
