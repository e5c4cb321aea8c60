"""`python -m repro_core story`: output formats, progress on stderr, one-line errors."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from repro_core import cli as repro_cli
from repro_core.validation import Refusal
from timeline import __main__ as timeline_cli

ROOT = Path(__file__).resolve().parents[2]


def cli(*args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "repro_core", *args], cwd=ROOT, capture_output=True, text=True, timeout=timeout)


@pytest.mark.parametrize(
    "args, fragment",
    [
        (["--reruns", "0"], "reruns"),
        (["--seed", "-1"], "seed"),
        (["--kernel", "no-such-kernel"], "unknown kernelspec"),
        (["--engine", "jax"], "engine must be one of keras2, keras3, tf_keras"),
        (["--scenario", "nope"], "scenario must be one of"),
        (["--reruns", "many"], "invalid int"),
    ],
)
def test_bad_values_exit_nonzero_with_one_line(args, fragment):
    done = cli("story", *args, timeout=60)
    assert done.returncode == 2
    assert done.stdout == ""
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and fragment in lines[0] and "Traceback" not in done.stderr


def test_a_file_that_cannot_be_read_is_a_refusal_and_a_bug_is_not(tmp_path, capsys, monkeypatch):
    """In process: a path the user named that does not exist is refused in one line (exit 2); an error that is not a
    Refusal (a bug in the lab) keeps its traceback instead of passing for one."""
    missing = str(tmp_path / "missing.json")
    assert repro_cli.main(["compare", missing, missing]) == 2
    assert capsys.readouterr().err == f"error: {missing}: No such file or directory\n"
    assert timeline_cli.main(["--readme", str(tmp_path / "README.md")]) == 2
    assert capsys.readouterr().err.startswith(f"error: {tmp_path / 'README.md'}: No such file")
    (tmp_path / "a.json").write_text("{}")

    def parser_raising(exc: Exception):
        def parse(_data, **_kwargs):
            raise exc

        return parse

    monkeypatch.setattr(repro_cli, "parse_report", parser_raising(ValueError("a bug, not the user's file")))
    with pytest.raises(ValueError, match="a bug") as bug:
        repro_cli.main(["compare", str(tmp_path / "a.json"), str(tmp_path / "a.json")])
    assert not isinstance(bug.value, Refusal)
    monkeypatch.setattr(repro_cli, "parse_report", parser_raising(Refusal("not a report")))
    assert repro_cli.main(["compare", str(tmp_path / "a.json"), str(tmp_path / "a.json")]) == 2
    assert capsys.readouterr().err == "error: not a report\n"


def test_help_explains_every_option():
    done = cli("story", "--help", timeout=60)
    assert done.returncode == 0
    for option in ("--reruns", "--seed", "--epochs", "--engine", "--kernel", "--scenario", "--format"):
        assert option in done.stdout


@pytest.mark.kernel
def test_json_records_and_verdict(engine_reports):
    _, done = engine_reports["keras3"]  # story --scenario factory-full-seed --reruns 2 --epochs 2 --format json (and --report)
    assert done.returncode == 0, done.stderr
    records = json.loads(done.stdout)
    assert [r["rerun"] for r in records] == [1, 2]
    assert set(records[0]) == {
        "scenario", "rerun", "before_sum", "after_sum", "before_sha256", "after_sha256", "seconds",
        "python", "tensorflow", "keras", "engine", "kernelspec", "kernel_start", "backend", "backend_version", "seed", "epochs", "machine",
    }
    assert (records[0]["seed"], records[0]["epochs"]) == (1234, 2)  # every row carries the settings it was made with
    assert (records[0]["backend"], records[0]["backend_version"]) == ("tensorflow", records[0]["tensorflow"])
    assert "onednn=" in records[0]["machine"] and "intra=0" in records[0]["machine"]  # the kernel's traits (issue 28)
    assert records[0]["before_sha256"] == records[1]["before_sha256"]
    assert "factory-full-seed: stable" in done.stderr
    assert "rerun 2" in done.stderr  # progress went to stderr


@pytest.mark.kernel
def test_reports_compare_keras3_against_tf_keras(engine_reports, tmp_path):
    """Same cells, two engines: compare must find where their fingerprints part, and nothing between a report and itself."""
    paths = {}
    for engine, (path, done) in engine_reports.items():  # story --scenario factory-full-seed --reruns 2 --epochs 2 --engine E --report
        assert done.returncode == 0, done.stderr
        paths[engine] = path
    different = cli("compare", str(paths["keras3"]), str(paths["tf_keras"]), timeout=60)
    assert different.returncode == 1
    assert "2 of 2 rerun(s) in both reports differ" in different.stdout and "tf_keras" in different.stdout
    same = cli("compare", str(paths["keras3"]), str(paths["keras3"]), timeout=60)
    assert same.returncode == 0 and "All 2 rerun(s) in both reports are identical" in same.stdout
    broken = tmp_path / "broken.json"
    broken.write_text("{not json")
    bad = cli("compare", str(paths["keras3"]), str(broken), timeout=60)
    assert bad.returncode == 2 and bad.stderr.count("\n") == 1 and "Traceback" not in bad.stderr
