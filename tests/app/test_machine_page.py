"""The Another machine page: renders without a kernel (recorded rows, the portability notes), refuses an empty choice
plainly, and a run puts live rows beside the recorded ones with what each setting changed."""

from __future__ import annotations

import pytest
from app_helpers import elements, exceptions, find_block
from conftest import RUN_TIMEOUT, open_page

from lab_ui import session
from repro_core.machine import MachineSettings
from repro_core.results.machines import load_machine_reports
from repro_core.views.machines import COL_INITIAL, COL_SETTING, COL_TRAINED, findings, recorded_rows

PAGE = "lab_pages/machine.py"


def test_the_page_renders_recorded_rows_and_what_makes_numbers_portable_without_a_kernel():
    at = open_page(PAGE)
    assert not exceptions(at)
    assert [t.value for t in at.title] == ["Another machine"]
    assert at.button(key="machine_run") is not None and at.pills(key="machine_settings") is not None
    assert any("Op determinism alone does not." in m.value for m in at.markdown)
    recorded = recorded_rows(load_machine_reports())
    block = find_block(at.main, "machine_recorded")
    if recorded:
        tables = [t.value for t in elements(block, "dataframe")]
        assert len(tables) == 1 and len(tables[0]) == len(recorded)
        said = [m.value for m in elements(block, "markdown")]
        assert all(f"- {line}" in said for line in findings(recorded))
    assert not at.session_state[session.LAB].lanes  # loading the page never starts a kernel


def test_an_empty_choice_is_refused_plainly():
    at = open_page(PAGE)
    at.pills(key="machine_settings").set_value([]).run()
    at.button(key="machine_run").click().run()
    assert not exceptions(at)
    assert [e.value for e in at.error] == ["Choose at least one machine setting."]
    assert "machine_live" not in at.session_state


@pytest.mark.kernel
def test_a_run_puts_live_rows_beside_the_recorded_ones(app):
    at = open_page(PAGE, app)
    at.number_input(key="machine_reruns").set_value(1)
    at.pills(key="machine_settings").set_value(["default", "threads-1"]).run()
    at.button(key="machine_run").click().run(timeout=RUN_TIMEOUT)
    assert not exceptions(at) and not at.error
    params, runs = at.session_state["machine_live"]
    assert params.network == "wide" and [run.machine for run in runs] == [MachineSettings(), MachineSettings(threads=1)]
    assert [run.result.versions.machine.intra_op_threads for run in runs] == [0, 1]  # what ran, as each kernel reports it
    table = [t.value for t in elements(find_block(at.main, "machine_live"), "dataframe")][0]
    assert table[COL_SETTING].tolist() == ["the machine's defaults", "1 thread"]
    assert table[COL_INITIAL].tolist() == ["reference", "same"]
    same_trained = runs[0].result.records[0].after_sha256 == runs[1].result.records[0].after_sha256
    assert table[COL_TRAINED].tolist() == ["reference", "same" if same_trained else "different"]
