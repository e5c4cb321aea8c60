"""The Compare page in AppTest: two uploaded reports side by side; bad files give st.error, never an exception."""

from __future__ import annotations

import json

from app_helpers import alerts, elements, exceptions, find_block
from conftest import APP
from streamlit.testing.v1 import AppTest

from repro_core.machine import Fingerprint
from repro_core.records import KernelVersions, RunRecord
from repro_core.results.report import MAX_REPORT_BYTES, build_report, report_json

COMPARE = "lab_pages/compare.py"
VERSIONS = KernelVersions(python="3.11.7", tensorflow="2.21.0", keras="3.15.1", engine="keras3", kernelspec="lab-python")


def record(rerun: int, before: str, after: str, engine: str = "keras3") -> RunRecord:
    return RunRecord(scenario="factory-full-seed", rerun=rerun, before_sum=1.5, after_sum=2.5, before_sha256=before * 64,
                     after_sha256=after * 64, seconds=1.0, python="3.11.7", tensorflow="2.21.0", keras="3.15.1",
                     engine=engine, kernelspec="lab-python")  # fmt: skip


def report_bytes(records) -> bytes:
    return report_json(build_report(records, {"seed": 1234, "reruns": len(records)}, VERSIONS)).encode()


def upload(at, key: str, name: str, data: bytes):
    at.file_uploader(key=key).set_value((name, data, "application/json"))
    return at


def open_compare():
    at = AppTest.from_file(APP, default_timeout=60).run()
    return at.switch_page(COMPARE).run()


def test_two_reports_are_compared_side_by_side():
    at = open_compare()
    assert not exceptions(at)
    assert [u.label for u in at.get("file_uploader")] == ["Report A", "Report B"]
    upload(at, "compare_a", "a.json", report_bytes([record(1, "a", "b"), record(2, "a", "b")]))
    upload(at, "compare_b", "b.json", report_bytes([record(1, "a", "b"), record(2, "a", "c")])).run()
    assert not exceptions(at)
    result = find_block(at.main, "compare_result")
    shown = alerts(result)
    assert len(shown) == 1 and shown[0].startswith("**1 of 2 rerun(s) in both reports differ")
    frame = elements(result, "dataframe")[0].value
    assert frame[["rerun", "before same?", "after same?"]].values.tolist() == [[1, "yes", "yes"], [2, "yes", "no"]]
    for key, expected in (("compare_a_summary", "stable"), ("compare_b_summary", "drift")):
        text = " ".join(m.value for m in elements(find_block(at.main, key), "text"))  # plain text, never Markdown
        assert "TensorFlow 2.21.0" in text and f"Factory + keras.utils.set_random_seed: {expected}" in text  # titles, not ids


def test_bad_files_show_an_error_and_nothing_crashes():
    at = open_compare()
    good = report_bytes([record(1, "a", "b")])
    cases = {
        "garbage.json": (b"{not json", "not valid JSON"),
        "other.json": (json.dumps({"schema": "something-else"}).encode(), "not a Keras Reproducibility Lab report"),
        "future.json": (json.dumps({"schema": "keras-reproducibility-lab/report", "schema_version": 99}).encode(), "unsupported report version"),
        "huge.json": (b" " * (MAX_REPORT_BYTES + 10), "at most"),
    }
    upload(at, "compare_b", "good.json", good)
    for name, (data, fragment) in cases.items():
        upload(at, "compare_a", name, data).run()
        assert not exceptions(at), name
        errors = [e.value for e in at.error]
        assert len(errors) == 1 and name in errors[0] and fragment in errors[0], errors
        assert alerts(find_block(at.main, "compare_result")) == ["Upload two reports to compare them."]


LINK, IMAGE, HTML = "[x](https://example.invalid/a)", "![](https://example.invalid/p.png)", "<b>bold</b><img src=https://example.invalid/i.png>"
CRAFTED = f"{LINK} {IMAGE} {HTML}"


def crafted_report(**kernel) -> bytes:
    """A valid report whose free-text fields (platform, CPU, error, an unknown setting) hold Markdown and HTML."""
    document = json.loads(report_bytes([record(1, "a", "b")]))
    document["machine"] = {"platform": CRAFTED, "cpu": CRAFTED}
    document["kernel"]["platform"] = CRAFTED
    document["kernel"].update(kernel)
    document["error"] = CRAFTED
    document["settings"]["note"] = CRAFTED
    return json.dumps(document).encode()


def rendered_markdown(at) -> list[str]:
    """Every string the page passed to a Markdown-rendering element (markdown, captions, alerts, titles)."""
    kinds = ("markdown", "caption", "title", "subheader", "header", "error", "warning", "info", "success")
    return [child.value for kind in kinds for child in elements(at.main, kind)]


def test_report_text_is_shown_as_text_and_what_differs():
    at = open_compare()
    upload(at, "compare_a", "a.json", crafted_report())
    other = {"engine": "tf_keras", "keras": "2.21.0", "numpy": "2.4.6", "python": "3.11.8"}
    upload(at, "compare_b", "b.json", crafted_report(**other)).run()
    assert not exceptions(at)
    texts = [t.value for t in elements(find_block(at.main, "compare_a_summary"), "text")]
    assert any(CRAFTED in text for text in texts), texts  # shown, literally
    assert not [m for m in rendered_markdown(at) if "example.invalid" in m]  # never through Markdown
    differs = elements(find_block(at.main, "compare_kernels"), "dataframe")[0].value
    table = {row["field"]: (row["report A"], row["report B"], row["same?"]) for _, row in differs.iterrows()}
    assert table["engine"] == ("keras3", "tf_keras", "no") and table["Keras"] == ("3.15.1", "2.21.0", "no")
    assert table["TensorFlow"] == ("2.21.0", "2.21.0", "yes") and table["Python"] == ("3.11.7", "3.11.8", "no")
    assert table["platform"] == (CRAFTED, CRAFTED, "yes")
    caption = elements(find_block(at.main, "compare_kernels"), "caption")[0].value
    assert caption == "The reports' kernels differ in: engine, Keras, NumPy, Python."


def test_shaped_fields_refuse_markup_with_a_clear_message():
    at = open_compare()
    name = f"{LINK}{HTML}.json"  # the file name is the visitor's text too
    for field, value in (("kernelspec", CRAFTED), ("tensorflow", LINK), ("engine", HTML)):
        upload(at, "compare_a", name, crafted_report(**{field: value})).run()
        assert not exceptions(at)
        errors = [e.value for e in at.error]
        assert len(errors) == 1 and f"kernel.{field} must be" in errors[0], errors
        # Markdown and HTML from the upload appear only inside a code span, where Markdown shows them literally.
        assert errors[0].startswith(f"`{name}` cannot be read: `") and errors[0].endswith("`"), errors[0]
        assert value not in errors[0].replace(f"`{name}`", "")


def test_the_likely_causes_name_the_machine_trait_first_as_text():
    """Two reports whose kernels ran with 1 and 2 intra-op threads: the page names the threads before the packages."""
    at = open_compare()
    for key, threads, after, python in (("compare_a", 1, "b", "3.11.7"), ("compare_b", 2, "c", "3.11.8")):
        machine = Fingerprint(cpu="AMD EPYC", cpu_features="avx2", cpus=2, onednn="off", intra_op_threads=threads)
        versions = KernelVersions(python=python, tensorflow="2.21.0", keras="3.15.1", engine="keras3", kernelspec="lab-python", machine=machine)
        data = report_json(build_report([record(1, "a", after)], {"seed": 1234, "threads": threads}, versions)).encode()
        upload(at, key, f"{key}.json", data)
    at.run()
    assert not exceptions(at)
    block = find_block(at.main, "compare_causes")
    assert [m.value for m in elements(block, "markdown")] == ["**Likely causes, settings and machine traits first, then packages:**"]
    assert [t.value for t in elements(block, "text")] == ["• intra-op threads 1 in A, 2 in B", "• Python 3.11.7 in A, 3.11.8 in B"]
    summary = " ".join(m.value for m in elements(find_block(at.main, "compare_a_summary"), "text"))
    assert "Numerics: AMD EPYC [avx2] · 2 cores · oneDNN off · ISA cap none · 1 thread(s)" in summary
