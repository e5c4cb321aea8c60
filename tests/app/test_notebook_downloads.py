"""The pages' Notebook downloads, read from the download buttons themselves, re-executed in a plain python3 kernel.

Keras 3 and tf_keras; global-model (Rerun drift page) and factory-full-seed (Factory page). The kernelspec is
installed into a temporary JUPYTER_PATH from this interpreter, not through the lab's kernel manager, and the
re-run happens without TF_USE_LEGACY_KERAS in the environment: the tf_keras notebook selects its engine in a cell.
"""

from __future__ import annotations

import os

import nbformat
import pytest
from app_helpers import download, exceptions, lab_of, rows_of
from conftest import PAGES, RERUNS, RUN_TIMEOUT

from lab_ui import session
from lab_ui.downloads import judged_settings
from repro_core.judgement import judge
from repro_core.results.exports import notebook_text, story_notebook_info
from repro_core.vocabulary import DEFAULT_KERNEL
from tests.notebook_checks import assert_repeats, install_plain_python3, plain_jupyter_path, recorded_lines

pytestmark = pytest.mark.kernel


@pytest.fixture(scope="module")
def plain_kernel(tmp_path_factory):
    return install_plain_python3(tmp_path_factory.mktemp("plain-jupyter"))


# Each page once per engine would double the kernels started; the CLI test (tests/core/test_notebook_rerun.py)
# re-runs the other two engine x scenario exports (Keras 3 factory-full-seed, tf_keras global-model), built by the same
# function as these downloads.
CASES = [("keras3", "drift", "drift_run_many", "global-model_ipynb", "global-model"),
         ("tf_keras", "factory", "factory-full-seed_run_cell", "factory-full-seed_ipynb", "factory-full-seed")]  # fmt: skip


@pytest.mark.parametrize("engine, page, button, download_key, slot", CASES, ids=["keras3-global-model", "tf_keras-factory-full-seed"])
def test_page_notebook_repeats_in_a_plain_kernel(app, media, plain_kernel, monkeypatch, engine, page, button, download_key, slot):
    monkeypatch.delenv("TF_USE_LEGACY_KERAS", raising=False)
    at = app
    at.selectbox(key="engine").set_value(engine).run()
    at = at.switch_page(PAGES[page]).run()
    for _ in range(1 if button.endswith("run_many") else RERUNS):
        at.button(key=button).click().run(timeout=RUN_TIMEOUT)
    assert not exceptions(at)
    text = download(at, media, download_key)

    records = rows_of(at, slot)
    assert [r.rerun for r in records] == list(range(1, RERUNS + 1)) and {r.engine for r in records} == {engine}
    lines = recorded_lines(text)
    assert [line.rsplit(" ", 1)[1] for line in lines] == [p for r in records for p in (r.before_sha256[:12], r.after_sha256[:12])]
    book = nbformat.reads(text, as_version=4)
    setup = next(cell.source for cell in book.cells if cell.cell_type == "code")
    assert ('os.environ["TF_USE_LEGACY_KERAS"] = "1"' in setup) == (engine == "tf_keras")
    assert f"python -m repro_core check-notebook keras-lab-{slot}.ipynb" in book.cells[0].source  # the file name the page offers
    # `story --notebook` builds with the same function: same cells, same outputs (the opening cell's date may differ).
    found = judge(records)
    starts = found.newest.kernel_starts
    versions = session.versions_of(at.session_state, starts[-1])
    info = story_notebook_info("x", judged_settings(found, lab_of(at).settings), DEFAULT_KERNEL, versions, f"keras-lab-{slot}.ipynb")
    again = nbformat.reads(notebook_text(session.cells_of(at.session_state, starts), info), as_version=4)
    assert [(c.source, c.outputs) for c in again.cells[1:]] == [(c.source, c.outputs) for c in book.cells[1:]]

    with plain_jupyter_path(plain_kernel):
        assert_repeats(text, expected_lines=2 * RERUNS)
    assert os.environ.get("TF_USE_LEGACY_KERAS") is None
