"""`story --notebook` / `audit --notebook` exports, re-executed in a plain `python3` kernel by `check-notebook`.

The kernelspec is installed into a temporary JUPYTER_PATH from this interpreter (as any Jupyter has it), and the
checker runs without TF_USE_LEGACY_KERAS in its environment: the tf_keras exports must select their engine in a cell.

Each engine exports the scenario its page download does not (tests/app/test_notebook_downloads.py re-runs the drift
page's Keras 3 notebook and the factory page's tf_keras one, built by the same function): the four engine x scenario
notebooks are each re-executed once across the two files.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from repro_core.results.ipynb_export import checksum_lines
from tests.notebook_checks import install_plain_python3

ROOT = Path(__file__).resolve().parents[2]
EXPORTED = {"keras3": "factory-full-seed", "tf_keras": "global-model"}  # engine -> scenario
RERUNS, EPOCHS = 2, 10


def plain_env(data_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("TF_USE_LEGACY_KERAS", "PYTHONHASHSEED")}
    env["JUPYTER_PATH"] = str(data_dir)
    return env


@pytest.fixture(scope="module")
def plain_kernel(tmp_path_factory) -> Path:
    return install_plain_python3(tmp_path_factory.mktemp("plain-jupyter"))


@pytest.fixture(scope="module")
def exports(tmp_path_factory) -> dict[str, tuple[Path, list[dict]]]:
    """Both engines at once (2 cores): `story --notebook <engine>.ipynb`, one scenario each (written to that very file)."""
    folder = tmp_path_factory.mktemp("exports")
    procs = {}
    for engine, scenario in EXPORTED.items():
        command = [sys.executable, "-m", "repro_core", "story", "--engine", engine, "--reruns", str(RERUNS), "--epochs", str(EPOCHS),
                   "--format", "json", "--notebook", str(folder / f"{engine}.ipynb"), "--scenario", scenario]  # fmt: skip
        procs[engine] = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    found = {}
    for engine, proc in procs.items():
        out, err = proc.communicate(timeout=600)
        assert proc.returncode == 0, err[-3000:]
        scenario = EXPORTED[engine]
        path = folder / f"{engine}.ipynb"
        assert path.exists(), err[-2000:]
        found[f"{engine}/{scenario}"] = (path, [r for r in json.loads(out) if r["scenario"] == scenario])
    return found


def check(path: Path, data_dir: Path, *extra: str) -> subprocess.Popen:
    command = [sys.executable, "-m", "repro_core", "check-notebook", str(path), *extra]
    return subprocess.Popen(command, cwd=ROOT, env=plain_env(data_dir), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


@pytest.mark.kernel
def test_cli_exports_repeat_every_checksum_line_in_a_plain_kernel(exports, plain_kernel):
    for key, (path, records) in exports.items():
        book = nbformat.read(path, as_version=4)
        assert book.metadata.kernelspec.name == "python3", key
        lines = checksum_lines(book)
        assert [line.rsplit(" ", 1)[1] for line in lines] == [p for r in records for p in (r["before_sha256"][:12], r["after_sha256"][:12])]
        engine = key.split("/")[0]
        setup = next(cell.source for cell in book.cells if cell.cell_type == "code")
        assert ('os.environ["TF_USE_LEGACY_KERAS"] = "1"' in setup) == (engine == "tf_keras")
        assert (f'"tf-keras=={records[0]["keras"]}"' in book.cells[0].source) == (engine == "tf_keras")
    running = {key: check(path, plain_kernel) for key, (path, _) in exports.items()}  # both at once: one per core
    for key, proc in running.items():
        out, err = proc.communicate(timeout=600)
        assert proc.returncode == 0, f"{key}\n{out}\n{err[-2000:]}"
        assert out.splitlines()[0] == "re-executed in kernelspec 'python3'"
        assert out.splitlines()[-1] == f"{2 * RERUNS} of {2 * RERUNS} checksum lines repeat exactly", out
        assert "DIFFERENT" not in out


@pytest.mark.kernel
def test_check_notebook_reports_a_changed_line(plain_kernel, tmp_path):
    """A recorded line the fresh run does not repeat: exit 1, that line marked DIFFERENT (a tiny notebook, no TensorFlow)."""
    book = nbformat.v4.new_notebook(metadata={"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}})
    printed = 'print("summary of trainable variables %s: 1.0000000000000  sha256 %s" % (label, tag))'
    for label, tag, recorded in (("before training", "aaaaaaaaaaaa", "aaaaaaaaaaaa"), ("after training", "bbbbbbbbbbbb", "cccccccccccc")):
        cell = nbformat.v4.new_code_cell(f"label, tag = {label!r}, {tag!r}\n{printed}")
        text = f"summary of trainable variables {label}: 1.0000000000000  sha256 {recorded}\n"
        cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text=text)]
        book.cells.append(cell)
    path = tmp_path / "tampered.ipynb"
    nbformat.write(book, path)
    proc = check(path, plain_kernel)
    out, _err = proc.communicate(timeout=120)
    assert proc.returncode == 1
    assert out.splitlines()[1:] == [
        "line 1: same",
        "  recorded  summary of trainable variables before training: 1.0000000000000  sha256 aaaaaaaaaaaa",
        "  repeated  summary of trainable variables before training: 1.0000000000000  sha256 aaaaaaaaaaaa",
        "line 2: DIFFERENT",
        "  recorded  summary of trainable variables after training: 1.0000000000000  sha256 cccccccccccc",
        "  repeated  summary of trainable variables after training: 1.0000000000000  sha256 bbbbbbbbbbbb",
        "1 of 2 checksum lines repeat exactly",
    ], out


@pytest.mark.kernel
def test_audit_notebook_repeats(plain_kernel, tmp_path):
    path = tmp_path / "audit.ipynb"
    done = subprocess.run([sys.executable, "-m", "repro_core", "audit", "--spec", "examples/model.json", "--reseed", "full",
                           "--reruns", "2", "--notebook", str(path)], cwd=ROOT, capture_output=True, text=True, timeout=600)  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    book = nbformat.read(path, as_version=4)
    assert "| recipe | `factory+full` |" in book.cells[0].source
    assert len(checksum_lines(book)) == 4
    out, err = check(path, plain_kernel).communicate(timeout=600)
    assert out.splitlines()[-1] == "4 of 4 checksum lines repeat exactly", out + err[-2000:]


def test_check_notebook_refuses_a_file_that_is_not_a_notebook(tmp_path, plain_kernel):
    bad = tmp_path / "bad.ipynb"
    bad.write_text("{not json", encoding="utf-8")
    proc = check(bad, plain_kernel)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 2 and out == "" and err.startswith("error:") and "not a readable notebook" in err


def test_check_notebook_names_a_missing_kernelspec(tmp_path, plain_kernel):
    book = nbformat.v4.new_notebook(metadata={"kernelspec": {"name": "lab-python", "display_name": "old export", "language": "python"}})
    path = tmp_path / "old.ipynb"
    nbformat.write(book, path)
    proc = check(path, plain_kernel)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 2 and out == "" and "kernelspec 'lab-python' is not installed here" in err and "--kernel NAME" in err
