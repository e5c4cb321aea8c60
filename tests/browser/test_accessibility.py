"""WCAG in a real browser: axe-core (npm, pinned in tests/browser/package.json, installed by scripts/test.sh with `npm ci`)
on every page of the lab, at a desktop's 1440×900 and a phone's 390×844, with rows where a page shows rows. No serious or
critical violation is allowed; each one found is reported with its rule, its help text and the CSS targets of its nodes.

axe measures colour contrast only of what is on screen, so each page is checked twice: at the viewport's height (what a
visitor sees first) and at the page's full height (every element on screen at once, the width unchanged).

The rows: Rerun drift and Factory + reseed load committed reports back through their own uploader (their rows, their
settings); Restart the kernel runs its cell, restarts, and runs it again (a real kernel, as a visitor would, so its
restart check is on the page); Compare gets two committed reports. One lab holds them, reopened by its ?lab= link for each
page and width; Home then shows its "Results so far" and its findings' own column."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from lab_browser import REPO_ROOT, browser_required, button, exception_texts, wait_for_app_run, wait_for_rows

from lab_ui.pages import PAGES

pytestmark = pytest.mark.browser

AXE_JS = Path(__file__).resolve().parent / "node_modules" / "axe-core" / "axe.min.js"
BLOCKING = ("serious", "critical")
VIEWPORTS = {"desktop": (1440, 900), "phone": (390, 844)}
REPORTS = REPO_ROOT / "repro_core" / "timeline_reports"
LOADED = {"drift": "tf-2.21-keras3.json", "factory": "keras-3.15-tensorflow.json"}  # each holds every scenario of its page
COMPARED = ("tf-2.21-keras3.json", "tf-2.21-tf_keras.json")
CLICK_TIMEOUT_S = 240.0  # kernel start + TensorFlow's import + one rerun, on a shared 2-core machine
# The Your model page's headings are that page's own work in another branch (issue 27): its h1 -> h3 jump is reported
# there; here only its serious and critical violations count.
HEADINGS_ELSEWHERE: set[str] = set()

RUN_AXE = """
async () => {
  const found = await axe.run(document, {resultTypes: ['violations']});
  return found.violations.map((v) => ({id: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.map((n) => ({target: n.target.join(' '), summary: n.failureSummary}))}));
}
"""
HEADINGS_JS = """
() => [...document.querySelectorAll('[data-testid="stMain"] h1, [data-testid="stMain"] h2, [data-testid="stMain"] h3,'
  + '[data-testid="stMain"] h4, [data-testid="stMain"] h5, [data-testid="stMain"] h6')]
  .map((h) => [Number(h.tagName[1]), h.textContent.trim()])
"""
MAIN_HEIGHT_JS = "() => document.querySelector('[data-testid=\"stMain\"]').scrollHeight"


@pytest.fixture(scope="module")
def axe_source() -> str:
    """axe-core's browser build, from the pinned npm package (skipped without it, unless REQUIRE_BROWSER=1)."""
    if not AXE_JS.is_file():
        reason = f"axe-core is not installed at {AXE_JS}: run `npm ci` in tests/browser (scripts/test.sh does)"
        if browser_required():
            pytest.fail(f"REQUIRE_BROWSER=1 but {reason}", pytrace=False)
        pytest.skip(reason)
    return AXE_JS.read_text(encoding="utf-8")


def url(app_url: str, name: str, lab: str = "") -> str:
    path = "" if name == "home" else PAGES[name].url_path
    return f"{app_url}/{path}" + (f"?lab={lab}" if lab else "")


def load_back(page, report: str) -> None:
    """The page's own "Load a downloaded report back" uploader, given a committed report."""
    page.get_by_text("Load a downloaded report back into this page").click()
    page.locator('[data-testid="stFileUploaderDropzoneInput"]').first.set_input_files(str(REPORTS / report))
    wait_for_app_run(page)
    page.get_by_text("row(s) loaded from").first.wait_for(timeout=30_000)


@pytest.fixture(scope="module")
def lab(browser, app_url) -> str:
    """The id of a lab with rows on every story page (see the module's docstring)."""
    context = browser.new_context(viewport={"width": 1440, "height": 900})
    context.set_default_timeout(60_000)
    page = context.new_page()
    try:
        page.goto(url(app_url, "drift"))
        wait_for_app_run(page)
        lab_id = page.evaluate("() => new URL(location.href).searchParams.get('lab')")
        assert lab_id, page.url
        load_back(page, LOADED["drift"])
        for name in ("factory", "restart"):
            page.goto(url(app_url, name, lab_id))
            wait_for_app_run(page)
            if name in LOADED:
                load_back(page, LOADED[name])
        results = page.locator(".st-key-restart_results")
        for click, rows in (("restart_run_cell", 1), ("restart_kernel", 1), ("restart_run_cell", 2)):
            button(page, click).click()
            page.wait_for_timeout(500)  # the click's script run has begun: the next click must not interrupt it
            wait_for_app_run(page, CLICK_TIMEOUT_S * 1000)
            wait_for_rows(page, results, rows, CLICK_TIMEOUT_S)
        page.locator(".st-key-restart_check [data-testid='stAlert']").wait_for()
        assert not exception_texts(page)
        return lab_id
    finally:
        context.close()


def violations(page, axe_source: str) -> list[dict]:
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.evaluate(axe_source)
    return [v for v in page.evaluate(RUN_AXE) if v["impact"] in BLOCKING]


def describe(found: list[dict]) -> str:
    lines = []
    for v in found:
        lines.append(f"{v['id']} ({v['impact']}): {v['help']}")
        lines += [f"    {node['target']}\n      {' '.join(node['summary'].split())}" for node in v["nodes"][:8]]
        if len(v["nodes"]) > 8:
            lines.append(f"    ... and {len(v['nodes']) - 8} more")
    return "\n".join(lines)


@pytest.mark.parametrize("viewport", list(VIEWPORTS))
@pytest.mark.parametrize("name", list(PAGES))
def test_no_serious_or_critical_axe_violation(browser, app_url, lab, axe_source, screenshot_dir, name, viewport):
    width, height = VIEWPORTS[viewport]
    context = browser.new_context(viewport={"width": width, "height": height})
    context.set_default_timeout(60_000)
    page = context.new_page()
    try:
        page.goto(url(app_url, name, lab))
        wait_for_app_run(page)
        if name == "compare":
            for key, report in zip(("compare_a", "compare_b"), COMPARED, strict=True):
                page.locator(f".st-key-{key} input[type=file]").set_input_files(str(REPORTS / report))
                wait_for_app_run(page)
            page.locator(".st-key-compare_kernels").wait_for()
        page.wait_for_timeout(1500)  # charts draw after the script run ends
        assert not exception_texts(page)
        if name in LOADED or name == "restart":  # the page is checked with its rows on it
            assert page.locator('[data-testid="stDataFrame"]').count() >= 1 and page.locator('[data-testid="stVegaLiteChart"]').count() >= 1
        seen = violations(page, axe_source)
        page.set_viewport_size({"width": width, "height": min(int(page.evaluate(MAIN_HEIGHT_JS)) + 100, 16_000)})
        page.wait_for_timeout(1000)
        page.screenshot(path=str(screenshot_dir / f"a11y-{name}-{width}.png"))
        seen += violations(page, axe_source)
        headings = page.evaluate(HEADINGS_JS)
    finally:
        context.close()
    unique = {(v["id"], json.dumps(v["nodes"], sort_keys=True)): v for v in seen}
    assert not unique, f"{name} at {width}×{height}: axe-core found\n{describe(list(unique.values()))}"
    if name not in HEADINGS_ELSEWHERE:
        levels = [level for level, _text in headings]
        assert levels and levels[0] == 1, headings  # the page's title is its h1
        jumps = [(a, b) for a, b in zip(headings, headings[1:], strict=False) if b[0] > a[0] + 1]
        assert not jumps, f"{name}: a heading skips a level: {jumps}"
