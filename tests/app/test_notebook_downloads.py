"""The pages' Notebook downloads, read from the download buttons themselves, re-executed in a plain python3 kernel.

Keras 3 and tf_keras; global-model (Rerun drift page) and factory-full-seed (Factory page). The kernelspec is
installed into a temporary JUPYTER_PATH from this interpreter, not through the lab's kernel manager, and the
re-run happens without TF_USE_LEGACY_KERAS in the environment: the tf_keras notebook selects its engine in a cell.
"""

from __future__ import annotations

import os

import nbformat
import pytest
from app_helpers import exceptions
from conftest import PAGES, RERUNS, RUN_TIMEOUT
from streamlit.runtime.memory_media_file_storage import MemoryMediaFileStorage

from lab_ui import session
from repro_core.results.exports import notebook_text, story_notebook_info
from tests.notebook_checks import assert_repeats, install_plain_python3, plain_jupyter_path, recorded_lines

pytestmark = pytest.mark.kernel


@pytest.fixture
def media(monkeypatch) -> dict[str, bytes]:
    """Every file a run puts behind a download button, by file id (AppTest's media storage lives only during a run)."""
    stored: dict[str, bytes] = {}
    original = MemoryMediaFileStorage.load_and_get_id

    def keep(self, path_or_data, mimetype, kind, filename=None):
        file_id = original(self, path_or_data, mimetype, kind, filename)
        stored[file_id] = path_or_data if isinstance(path_or_data, bytes) else path_or_data.encode()
        return file_id

    monkeypatch.setattr(MemoryMediaFileStorage, "load_and_get_id", keep)
    return stored


@pytest.fixture(scope="module")
def plain_kernel(tmp_path_factory):
    return install_plain_python3(tmp_path_factory.mktemp("plain-jupyter"))


def download(at, media: dict[str, bytes], key: str) -> str:
    """The data behind the keyed download button, as the browser would receive it."""
    buttons = [b for b in at.get("download_button") if b.proto.id.endswith(key) or getattr(b, "key", None) == key]
    assert len(buttons) == 1, [b.proto.id for b in at.get("download_button")]
    file_id = buttons[0].proto.url.rsplit("/", 1)[-1].split(".")[0]
    return media[file_id].decode("utf-8")


# Each page once per engine would double the kernels started; the CLI test (tests/core/test_notebook_rerun.py)
# re-runs all four engine x scenario exports, built by the same function as these downloads.
CASES = [("keras3", "drift", "drift_run_many", "drift_ipynb", session.DRIFT),
         ("tf_keras", "factory", "factory_full_run_cell", "factory_full_ipynb", session.FACTORY_FULL)]  # fmt: skip


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

    rows = at.session_state[session.RESULTS][slot]
    assert [r.rerun for r in rows.records] == list(range(1, RERUNS + 1)) and {r.engine for r in rows.records} == {engine}
    lines = recorded_lines(text)
    assert [line.rsplit(" ", 1)[1] for line in lines] == [p for r in rows.records for p in (r.before_sha256[:12], r.after_sha256[:12])]
    book = nbformat.reads(text, as_version=4)
    setup = next(cell.source for cell in book.cells if cell.cell_type == "code")
    assert ('os.environ["TF_USE_LEGACY_KERAS"] = "1"' in setup) == (engine == "tf_keras")
    assert f"python -m repro_core check-notebook keras-lab-{slot}.ipynb" in book.cells[0].source  # the file name the page offers
    # `story --notebook` builds with the same function: same cells, same outputs (the opening cell's date may differ).
    info = story_notebook_info("x", rows.params, rows.kernel_name, rows.versions, f"keras-lab-{slot}.ipynb")
    again = nbformat.reads(notebook_text(rows.cells, info), as_version=4)
    assert [(c.source, c.outputs) for c in again.cells[1:]] == [(c.source, c.outputs) for c in book.cells[1:]]

    with plain_jupyter_path(plain_kernel):
        assert_repeats(text, expected_lines=2 * RERUNS)
    assert os.environ.get("TF_USE_LEGACY_KERAS") is None
