"""The backends' part of Across versions and backends: every sentence and cell comes from the rows (no kernel)."""

from __future__ import annotations

from dataclasses import replace

import pandas as pd

from repro_core.records import RunRecord
from repro_core.results.report import build_report
from repro_core.results.timeline import TimelineEntry
from repro_core.views import backends
from repro_core.vocabulary import BACKEND_REPORT_SCENARIOS, RESEEDS, SCENARIOS


def rows(scenario: str, backend: str, initial: bool, trained: bool, base: float) -> list[RunRecord]:
    """Three reruns whose initial / trained fingerprints repeat or not as asked (each backend its own digits)."""
    found, mark = [], "ab" if backend == "jax" else "cd"
    for k in (1, 2, 3):
        before = mark[0] * 64 if initial else f"{k:x}" * 64
        after = mark[1] * 64 if trained else f"{k + 5:x}" * 64
        found.append(RunRecord(scenario, k, base + (0 if initial else k), base / 2, before, after, 0.5, "3.11.7", "", "3.15.1", "keras3",
                               f"keras-{backend}", backend=backend, backend_version="1.0.0"))  # fmt: skip
    return found


def shuffled_by(generator: str):
    """A backend whose initializers draw from `random` and whose shuffle draws from `generator`."""
    def outcome(scenario: str) -> tuple[bool, bool]:
        reseed = RESEEDS[SCENARIOS[scenario].reseed]
        if scenario in ("global-model",):
            return False, False
        if scenario == "fresh-kernel" or reseed.everything:
            return True, True
        initial = "python" in reseed.generators
        return initial, initial and generator in reseed.generators

    return outcome


def entry(backend: str, generator: str, base: float) -> TimelineEntry:
    decide = shuffled_by(generator)
    records = [r for name in BACKEND_REPORT_SCENARIOS for r in rows(name, backend, *decide(name), base)]
    report = build_report(records, {"backend": backend}, None)
    return TimelineEntry(release="", engine="keras3", report=report, backend=backend, keras_release="3.15")


def test_which_seed_controls_what_is_read_off_each_backends_rows():
    entries = [entry("jax", "numpy", 1.0), entry("torch", "backend", 2.0)]
    lines = backends.controls_sentences(entries)
    assert lines == [
        "**Keras 3.15 · JAX**: the initial weights repeat with `random.seed`; the trained weights with `random.seed + np.random.seed`.",
        "**Keras 3.15 · PyTorch**: the initial weights repeat with `random.seed`; the trained weights with `random.seed + torch.manual_seed`.",
    ]
    frame = backends.switches_frame(entries)
    python_only = frame[frame[backends.COL_RESEED] == "random.seed"]
    assert list(python_only[backends.COL_INITIAL]) == ["repeat", "repeat"] and list(python_only[backends.COL_TRAINED]) == ["differ", "differ"]


def test_the_agreement_sentence_follows_the_rows():
    jax, torch = entry("jax", "numpy", 1.0), entry("torch", "backend", 2.0)
    said = backends.agreement_sentence([jax, torch])
    assert "On the story's 4 scenarios the verdicts agree across JAX, PyTorch." in said
    assert "2 split them" in said and "random.seed + np.random.seed: JAX stable, PyTorch drift" in said
    assert "The numbers differ" in said and "1.0000000000000 on JAX, 2.0000000000000 on PyTorch" in said
    # The same weights on both: the sentence says so instead.
    same = replace(torch, report=build_report([replace(r, backend="torch") for r in jax.report.records], {}, None))
    assert "they also give the same weights (1.0000000000000 on JAX, 1.0000000000000 on PyTorch)" in backends.agreement_sentence([jax, same])
    # A story scenario that drifts on one backend only is named.
    broken = [replace(r, after_sha256=f"{r.rerun:x}" * 64) if r.scenario == "factory-full-seed" else r for r in torch.report.records]
    said = backends.agreement_sentence([jax, replace(torch, report=build_report(broken, {}, None))])
    assert "the verdicts differ across JAX, PyTorch for Factory + keras.utils.set_random_seed." in said  # its title, not its id
    assert backends.agreement_sentence([jax]).startswith("Fewer than two backends")


def test_the_chart_says_initial_and_trained_apart_in_the_palette():
    from tests.app.app_helpers import check_chart

    entries = [entry("jax", "numpy", 1.0), entry("torch", "backend", 2.0)]
    spec = backends.switches_chart(entries).to_dict()
    data = [pd.DataFrame(rows) for rows in spec["datasets"].values()]
    check_chart(spec, data)
    cells = set(zip(data[0]["verdict"], data[0]["initial_line"], data[0]["trained_line"], strict=True))
    assert ("drift", "initial ✓", "trained ≠") in cells and ("stable", "initial ✓", "trained ✓") in cells
    assert backends.backends_measured(entries) == "Backend reports: JAX, PyTorch; no report for TensorFlow."
