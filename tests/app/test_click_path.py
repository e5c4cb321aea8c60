"""The one click path without a kernel: a kernel that will not start, or a refused input, ends any click with exactly one
plain message; a bug is never passed off as either."""

from __future__ import annotations

import pytest
from app_helpers import exceptions, messages
from conftest import PAGES

from lab_ui import clicks, session
from repro_core.experiments import audit, matrix
from repro_core.kernels.kernel import KernelStartError
from repro_core.validation import Refusal


def refuse(*_args, **_kwargs):
    raise KernelStartError("no room on this machine")


@pytest.mark.parametrize(
    "page, button, target",
    [(PAGES["drift"], "drift_run_cell", (session, "click")), (PAGES["drift"], "drift_run_many", (session, "click")),
     (PAGES["home"], "run_story", (session, "click")), ("lab_pages/restart.py", "restart_kernel", (session, "click")),
     ("lab_pages/matrix.py", "matrix_run", (matrix, "run_matrix")), ("lab_pages/your_model.py", "model_run", (audit, "run_audit"))],
)  # fmt: skip
def test_a_kernel_that_will_not_start_gives_one_message(app, monkeypatch, page, button, target):
    monkeypatch.setattr(*target, refuse)
    at = app.switch_page(page).run()
    at.button(key=button).click().run()
    assert not exceptions(at)
    assert messages(at, ("error",)) == ["The kernel could not start: no room on this machine"]
    assert not any("in the queue" in i.value for i in at.info)


def test_the_matrix_and_the_audit_lease_through_the_sessions_pool(app, monkeypatch):
    """Both hand the core the server's pool, this session's owner name and the queue notice; their results are kept."""
    seen = []

    def fake_audit(job, kernel_name, on_record, on_status, *, pool, owner, on_wait):
        seen.append((pool, owner))
        on_wait(1)
        on_status("running the setup cell")
        return audit.AuditResult(job, error="stopped here")

    def fake_matrix(options, parallelism, on_result, kernel_name, *, pool, owner, on_wait):
        seen.append((pool, owner))
        on_wait(2)
        return None  # as if the click failed: nothing is stored

    monkeypatch.setattr(audit, "run_audit", fake_audit)
    monkeypatch.setattr(matrix, "run_matrix", fake_matrix)
    at = app.switch_page("lab_pages/your_model.py").run()
    at.button(key="model_run").click().run()
    assert not exceptions(at) and session.kept(at.session_state, "model_result").error == "stopped here"
    assert [e.value for e in at.error] == ["stopped here"]
    at = at.switch_page("lab_pages/matrix.py").run()
    at.button(key="matrix_run").click().run()
    assert not exceptions(at) and not at.error and session.kept(at.session_state, "matrix_result") is None
    owner = at.session_state[session.LAB].id
    assert seen == [(session.pool(), f"{owner}/audit"), (session.pool(), f"{owner}/matrix")]
    assert not any("in the queue" in i.value for i in at.info)  # the notice is cleared once the click ends


# A click on each kind of path: the story pages' kept kernel (session.click) and the matrix's own leases (run_matrix).
CLICKS = [(PAGES["drift"], "drift_run_cell", (session, "click")), ("lab_pages/matrix.py", "matrix_run", (matrix, "run_matrix"))]


def raising(exc: Exception):
    def handler(*_args, **_kwargs):
        raise exc

    return handler


@pytest.mark.parametrize("page, button, target", CLICKS)
def test_a_refusal_from_a_handler_shows_its_message_and_the_session_goes_on(app, monkeypatch, page, button, target):
    monkeypatch.setattr(*target, raising(Refusal("seed must be between 0 and 99, got 1000")))
    at = app.switch_page(page).run()
    at.button(key=button).click().run()
    assert not exceptions(at)
    assert messages(at, ("error",)) == ["seed must be between 0 and 99, got 1000"]  # its message, no type name
    monkeypatch.setattr(*target, refuse)
    at.button(key=button).click().run()  # the next click takes the same path, and says what happened to it
    assert not exceptions(at)
    assert messages(at, ("error",)) == ["The kernel could not start: no room on this machine"]


@pytest.mark.parametrize("page, button, target", CLICKS)
def test_a_bug_in_a_handler_is_not_shown_as_a_refusal(app, monkeypatch, click_bugs, page, button, target):
    """A ValueError that is not a Refusal (or any other exception) is a bug: shown with its traceback here, logged, and
    counted by the click_bugs fixture, which fails any test where one happens."""
    monkeypatch.setattr(*target, raising(ValueError("int() got 'x' (a bug, not the visitor's)")))
    at = app.switch_page(page).run()
    at.button(key=button).click().run()
    assert [e.value for e in at.exception] == ["int() got 'x' (a bug, not the visitor's)"]
    assert at.exception[0].stack_trace and not messages(at, ("error",))
    assert [type(r.exc_info[1]) for r in click_bugs] == [ValueError]
    click_bugs.clear()


def test_a_hosted_visitor_sees_a_bug_as_a_generic_message_without_details(app, monkeypatch, hosting_env, click_bugs):
    hosting_env(REPRO_HOSTED="1")
    monkeypatch.setattr(matrix, "run_matrix", raising(KeyError("/srv/lab/secret.json")))
    at = app.switch_page("lab_pages/matrix.py").run()
    at.button(key="matrix_run").click().run()
    assert not exceptions(at)
    assert messages(at, ("error",)) == [clicks.BUG_MESSAGE] and clicks.BUG_MESSAGE.startswith("Something went wrong on our side")
    assert "secret" not in str(at._tree) and "KeyError" not in str(at._tree)
    assert [type(r.exc_info[1]) for r in click_bugs] == [KeyError]
    click_bugs.clear()
