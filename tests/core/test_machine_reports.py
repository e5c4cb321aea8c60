"""The committed machine reports (repro_core/machine_reports/, `python -m repro_core machines --reports`): each names its
kernel, network and setting, carries the kernel's fingerprint as it took effect, and together they say what issue 28
measured on the recording machine (no kernel here)."""

from __future__ import annotations

from repro_core.machine import MachineSettings
from repro_core.records import format_sum
from repro_core.results.machines import load_machine_reports, machine_settings_of, report_filename

REPORTS = {report_filename(report): report for report in load_machine_reports()}


def after(name: str) -> str:
    return REPORTS[name].records[0].after_sha256


def test_every_report_is_named_after_what_it_holds_and_took_effect_as_asked():
    assert len(REPORTS) >= 20
    for name, report in REPORTS.items():
        asked = machine_settings_of(report)
        assert name.endswith(f"-{asked.label()}.json")
        machine = report.machine
        assert machine["cpu"] and "onednn" in machine, name  # a fingerprint, not just a CPU's name
        if asked.onednn != "default":
            assert machine["onednn"] == asked.onednn, name
        if asked.isa != "default":
            assert machine["isa_cap"] == asked.isa, name
        if asked.threads and name.startswith("tf-"):
            assert machine["intra_op_threads"] == str(asked.threads), name
        if asked.threads and name.startswith("torch-"):
            assert machine["torch_threads"] == str(asked.threads), name
        if asked.threads and name.startswith("jax-"):
            assert f"intra_op_parallelism_threads={asked.threads}" in machine["xla_flags"], name
        assert machine["op_determinism"] == ("on" if asked.op_determinism else "off"), name
        assert report.verdicts() == {"factory-full-seed": "stable"}, name  # each setting repeats within itself
    assert len({(r.machine["cpu"], r.machine["cpu_features"], r.machine["cpus"]) for r in REPORTS.values()}) == 1  # one machine


def test_tf29s_digits_are_the_articles_with_onednn_on_and_others_off():
    on, off = REPORTS["tf-2.9-article-onednn-on.json"], REPORTS["tf-2.9-article-onednn-off.json"]
    assert format_sum(on.records[0].after_sum) == "-1.2190857985988" and format_sum(off.records[0].after_sum) == "-1.2190857976675"
    assert on.records[0].before_sha256 == off.records[0].before_sha256  # the same initial weights either way
    default = REPORTS["tf-2.9-article-default.json"]
    assert after("tf-2.9-article-default.json") == after(f"tf-2.9-article-onednn-{default.machine['onednn']}.json")


def test_on_tensorflow_threads_and_instruction_sets_change_the_wide_networks_trained_weights_op_determinism_or_not():
    initial = {report.records[0].before_sha256 for name, report in REPORTS.items() if name.startswith("tf-2.21-wide-")}
    assert len(initial) == 1  # no machine switch changes the initial weights
    assert after("tf-2.21-wide-threads-1.json") != after("tf-2.21-wide-threads-2.json")
    assert after("tf-2.21-wide-threads-1+determinism.json") != after("tf-2.21-wide-threads-2+determinism.json")  # not portable
    assert after("tf-2.21-wide-onednn-on.json") != after("tf-2.21-wide-onednn-off.json")
    assert after("tf-2.21-wide-onednn-on+isa-SSE41.json") != after("tf-2.21-wide-onednn-on.json")
    assert after("tf-2.21-article-onednn-on.json") != after("tf-2.21-article-default.json")  # the SHA-256 tells,
    sums = [REPORTS[f"tf-2.21-article-{name}.json"].records[0].after_sum for name in ("onednn-on", "default")]
    assert sums[0] == sums[1]  # the sum does not


def test_on_jax_and_pytorch_the_thread_count_changed_nothing_here():
    for prefix in ("jax-0.10-wide-", "torch-2.13-wide-"):
        found = {name: after(name) for name in REPORTS if name.startswith(prefix)}
        assert len(found) >= 3 and len(set(found.values())) == 1, found
    assert machine_settings_of(REPORTS["torch-2.13-wide-threads-1+determinism.json"]) == MachineSettings(threads=1, op_determinism=True)
