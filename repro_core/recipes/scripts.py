"""A user's training script as data: read from a .py or an .ipynb, checked (size, syntax) before any kernel starts, and
read (never run) here to name the lines that matter: where the imports end, where the model is built, which generators
are left unseeded. The lab inserts or rewrites lines of it only as text; the script runs in kernels."""

from __future__ import annotations

import ast
import hashlib
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

from repro_core.validation import Refusal

SCRIPT_MAX_BYTES = 1024 * 1024  # a script or notebook larger than this is refused before it is parsed (1 MB, as uploaders count it)
SOURCE_KINDS = ("file", "example", "typed", "uploaded", "spec")  # where a script came from (hosted demos refuse typed and uploaded)


class ScriptProblem(Refusal):
    """The script cannot be diagnosed as given (bad input: exit status 2). The message is one plain sentence or more."""


class ScriptSyntaxError(ScriptProblem):
    """The script does not parse; `line` is 1-based in the script as run (a notebook's cells joined)."""

    def __init__(self, message: str, line: int | None) -> None:
        super().__init__(message)
        self.line = line


@dataclass(frozen=True)
class Script:
    """The source that runs as one cell, its name, and where it came from (SOURCE_KINDS). `cells`: for a notebook, the
    first line of each of its code cells in `source` (1-based), so a line can be named as "cell 3, line 2"."""

    source: str
    name: str = "script.py"
    kind: str = "file"
    cells: tuple[int, ...] = ()

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.source.encode()).hexdigest()

    def where(self, line: int) -> str:
        """"line 12", or "cell 3, line 2" in a notebook (`line` counts in the joined cells)."""
        if not self.cells:
            return f"line {line}"
        index = max((i for i, first in enumerate(self.cells) if first <= line), default=0)
        return f"cell {index + 1}, line {line - self.cells[index] + 1}"

    def line_text(self, line: int) -> str:
        lines = self.source.splitlines()
        return lines[line - 1].strip() if 1 <= line <= len(lines) else ""


_MAGIC = re.compile(r"^\s*[%!]")


def notebook_source(text: str) -> tuple[str, tuple[int, ...]]:
    """The code cells of a notebook, joined in order as one script; IPython magics and shell lines (%, !) become comments."""
    try:
        notebook = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ScriptProblem(f"the notebook is not valid JSON ({exc.msg} at line {exc.lineno})") from None
    cells = notebook.get("cells") if isinstance(notebook, dict) else None
    if not isinstance(cells, list):
        raise ScriptProblem("the notebook has no list of cells")
    lines: list[str] = []
    starts: list[int] = []
    for cell in cells:
        if not isinstance(cell, dict) or cell.get("cell_type") != "code":
            continue
        source = cell.get("source", "")
        source = "".join(source) if isinstance(source, list) else source
        if not isinstance(source, str):
            raise ScriptProblem("a code cell's source is not text")
        starts.append(len(lines) + 1)
        for line in source.splitlines() or [""]:
            lines.append(f"# (IPython, left out by the lab) {line.strip()}" if _MAGIC.match(line) else line)
    return "\n".join(lines) + "\n", tuple(starts)


def load_script(data: bytes | str, name: str, kind: str = "file") -> Script:
    """A script from a file's bytes (.py, or .ipynb whose code cells are joined), checked: size, UTF-8, syntax."""
    raw = data.encode() if isinstance(data, str) else data
    if len(raw) > SCRIPT_MAX_BYTES:
        raise ScriptProblem(f"the script is {len(raw):,} bytes; the limit is {SCRIPT_MAX_BYTES:,}")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise ScriptProblem("the script is not UTF-8 text") from None
    if kind not in SOURCE_KINDS:
        raise ScriptProblem(f"unknown script kind {kind!r}")
    if name.lower().endswith(".ipynb"):
        source, cells = notebook_source(text)
    elif name.lower().endswith(".py") or kind in ("typed", "spec"):
        source, cells = text, ()
    else:
        raise ScriptProblem("a script must be a .py file or an .ipynb notebook")
    check_syntax(source)
    if not source.strip():
        raise ScriptProblem("the script is empty")
    return Script(source, Path(name).name or "script.py", kind, cells)


def read_script(path: str | Path) -> Script:
    """A script from disk (the command line): missing files and directories are ScriptProblems too."""
    target = Path(path)
    if not target.is_file():
        raise ScriptProblem(f"no such file: {target}")
    with target.open("rb") as handle:
        data = handle.read(SCRIPT_MAX_BYTES + 1)
    return load_script(data, target.name, "file")


def check_syntax(source: str) -> ast.Module:
    try:
        return ast.parse(source)
    except SyntaxError as exc:
        where = f"line {exc.lineno}" if exc.lineno else "somewhere"
        text = (exc.text or "").strip()
        raise ScriptSyntaxError(f"syntax error at {where}: {exc.msg}" + (f": {text}" if text else ""), exc.lineno) from None
    except ValueError as exc:  # e.g. a NUL byte in the source
        raise ScriptSyntaxError(f"the script cannot be parsed: {exc}", None) from None


# -- reading the script ------------------------------------------------------------------------------------------
def _dotted(node: ast.AST) -> str:
    """"np.random.default_rng" for an attribute chain or name; "" for anything else."""
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        parts.append(node.id)
        return ".".join(reversed(parts))
    return ""


# Calls that make a generator from the operating system's entropy when given no seed: no seed switch reaches them.
UNSEEDED_WHEN_BARE = {"default_rng": "a NumPy Generator", "RandomState": "a NumPy RandomState", "SeedSequence": "a NumPy SeedSequence",
                      "Random": "a Python random.Random", "PCG64": "a NumPy bit generator", "Philox": "a NumPy bit generator"}  # fmt: skip
ALWAYS_FRESH = {"urandom": "os.urandom", "randbits": "secrets.randbits", "token_bytes": "secrets.token_bytes", "time_ns": "time.time_ns"}
SEEDING_CALLS = ("random.seed", "np.random.seed", "numpy.random.seed", "set_seed", "set_random_seed", "manual_seed")
MODEL_CALLS = ("Sequential", "Model", "Input", "MLP")
SHUFFLE_CALLS = ("shuffle", "permutation")


@dataclass(frozen=True)
class Unseeded:
    """A line that makes a generator nobody can seed from outside (it reads the OS's entropy)."""

    line: int
    what: str  # "a NumPy Generator"
    call: str  # "np.random.default_rng"
    text: str  # the line as written

    def seeded_text(self, seed: int) -> str | None:
        """The line with the seed given, where that is a plain rewrite (`default_rng()` -> `default_rng(1234)`)."""
        bare = re.compile(re.escape(self.call.split(".")[-1]) + r"\(\s*\)")
        if not bare.search(self.text):
            return None
        return bare.sub(f"{self.call.split('.')[-1]}({int(seed)})", self.text, count=1)


@dataclass(frozen=True)
class ScriptReading:
    """What the lab reads from a script without running it."""

    prelude_end: int  # the last line of the leading imports and environment settings (0: none)
    model_line: int | None  # the first line that builds a model
    shuffle_line: int | None  # the first line that shuffles or permutes data
    seeding: tuple[int, ...] = ()  # lines that call a seed function
    unseeded: tuple[Unseeded, ...] = ()
    dropout: tuple[int, ...] = ()  # lines that make a Dropout layer
    fit_lines: tuple[int, ...] = field(default_factory=tuple)


def _is_prelude(node: ast.stmt) -> bool:
    """Imports, a docstring, and os.environ settings: what a script does before its own work starts."""
    if isinstance(node, (ast.Import, ast.ImportFrom)):
        return True
    if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant):
        return True
    targets = node.targets if isinstance(node, ast.Assign) else [node.target] if isinstance(node, (ast.AugAssign, ast.AnnAssign)) else []
    if any(isinstance(t, ast.Subscript) and _dotted(t.value).endswith("environ") for t in targets):
        return True
    return isinstance(node, ast.Expr) and isinstance(node.value, ast.Call) and ".environ." in f".{_dotted(node.value.func)}."


def read(script: Script) -> ScriptReading:
    tree = check_syntax(script.source)
    prelude_end = 0
    for node in tree.body:
        if not _is_prelude(node):
            break
        prelude_end = node.end_lineno or node.lineno
    model_line = shuffle_line = None
    seeding, unseeded, dropout, fits = [], [], [], []
    lines = script.source.splitlines()
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        name = _dotted(node.func)
        last = node.func.attr if isinstance(node.func, ast.Attribute) else name.split(".")[-1]  # x.shuffle(...) on a call's result too
        if last in MODEL_CALLS and (model_line is None or node.lineno < model_line):
            model_line = node.lineno
        if last in SHUFFLE_CALLS and (shuffle_line is None or node.lineno < shuffle_line):
            shuffle_line = node.lineno
        if last == "Dropout":
            dropout.append(node.lineno)
        if last == "fit":
            fits.append(node.lineno)
        if name.endswith(SEEDING_CALLS) and (node.args or node.keywords):
            seeding.append(node.lineno)
        bare = not node.args and not any(k.arg in ("seed", "x") for k in node.keywords)
        fresh = last in ALWAYS_FRESH or (last in UNSEEDED_WHEN_BARE and bare and (last != "Random" or name.startswith("random.")))
        if fresh:
            text = lines[node.lineno - 1].split("  #")[0].strip() if node.lineno <= len(lines) else ""
            unseeded.append(Unseeded(node.lineno, UNSEEDED_WHEN_BARE.get(last) or ALWAYS_FRESH[last], name, text))
    unique = {item.line: item for item in sorted(unseeded, key=lambda u: u.line)}
    return ScriptReading(prelude_end, model_line, shuffle_line, tuple(sorted(set(seeding))), tuple(unique.values()),
                         tuple(sorted(set(dropout))), tuple(sorted(set(fits))))  # fmt: skip


# -- changing the script as text ----------------------------------------------------------------------------------
def insert_lines(script: Script, before_line: int, text: str) -> Script:
    """The script with `text` (whole lines) inserted before 1-based `before_line`; notebook cell starts shift with it."""
    lines = script.source.splitlines(keepends=True)
    block = text if text.endswith("\n") else text + "\n"
    index = max(0, min(before_line - 1, len(lines)))
    added = block.count("\n")
    cells = tuple(start + added if start > before_line or (start == before_line and index > 0) else start for start in script.cells)
    return Script("".join(lines[:index]) + block + "".join(lines[index:]), script.name, script.kind, cells)


def replace_line(script: Script, line: int, new_text: str) -> Script:
    """The script with 1-based `line` replaced (its indentation kept)."""
    lines = script.source.splitlines(keepends=True)
    old = lines[line - 1]
    indent = old[: len(old) - len(old.lstrip())]
    lines[line - 1] = indent + new_text.strip() + "\n"
    return Script("".join(lines), script.name, script.kind, script.cells)


# -- the shipped examples ----------------------------------------------------------------------------------------------
EXAMPLES_DIR = Path(__file__).resolve().parents[2] / "examples"


@dataclass(frozen=True)
class Example:
    """A script shipped in examples/ (runs anywhere, hosted demos included: nobody typed it). `backend`: the Keras backend
    its kernel must run."""

    file: str
    title: str
    backend: str = "tensorflow"

    def load(self) -> Script:
        return load_script((EXAMPLES_DIR / self.file).read_bytes(), self.file, "example")


EXAMPLES = {e.file: e for e in (
    Example("digits_cnn.py", "A CNN on scikit-learn's digits, seeded as the article says (tf.random.set_seed)"),
    Example("digits_dropout.py", "Everything seeded, but Dropout's seed from an unseeded NumPy Generator"),
    Example("tfdata_shuffle.py", "random and NumPy seeded, the data shuffled by tf.data"),
    Example("jax_digits.py", "The digits CNN on JAX: random seeded, fit's shuffle from NumPy", backend="jax"),
)}  # fmt: skip
