"""`python -m repro_core`: the story, an audit, a comparison or a notebook check from the command line.
Results go to stdout, progress to stderr; bad values (a Refusal) exit 2 with one line and no traceback, a kernel's failure
exits 1 with one line; anything else is a bug and keeps its traceback."""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TypeVar

from repro_core.experiments.audit import Audit, run_audit
from repro_core.experiments.diagnose import RUNS_MAX as DIAGNOSE_RUNS_MAX
from repro_core.experiments.diagnose import DiagnoseOptions, Diagnosis, ScriptRaised, diagnose
from repro_core.experiments.machines import MACHINE_SCENARIO, check_machines, run_on_machines
from repro_core.experiments.story import ScenarioResult, run_story
from repro_core.judgement import judge
from repro_core.kernels.kernel import KernelError, check_kernel_name
from repro_core.kernels.kernelspecs import backend_for, engine_for, kernelspec_info
from repro_core.machine import ISA_CAPS, MACHINE_PRESETS, ONEDNN_CHOICES, THREADS_MAX, MachineSettings, parse_machine_label
from repro_core.recipes.model_spec import JSON_MAX_BYTES, ModelSpec
from repro_core.recipes.scripts import ScriptProblem, read_script
from repro_core.recipes.settings import EPOCHS_MAX, NETWORKS, RERUNS_MAX, SEED_MAX, StoryParams, network_params
from repro_core.records import RunRecord, format_sum
from repro_core.results.exports import (
    audit_notebook_info,
    causes_heading,
    compare,
    comparison_frame,
    diagnose_json,
    diagnose_notebook_info,
    differs_frame,
    likely_causes,
    notebook_text,
    records_csv,
    report_text,
    story_notebook_info,
    what_differs,
)
from repro_core.results.ipynb_check import main as check_main
from repro_core.results.machines import report_of, write_reports
from repro_core.results.report import MAX_REPORT_BYTES, free_text, parse_report
from repro_core.validation import Refusal, choice, named_file, real_number
from repro_core.views import diagnose as diagnose_view
from repro_core.views import machines as machines_view
from repro_core.views.audit import COL_DELTA_AFTER, COL_DELTA_BEFORE, layer_table
from repro_core.views.story import COL_SECONDS, records_frame
from repro_core.vocabulary import (
    DEFAULT_KERNEL,
    DEFAULT_SEED,
    MODELS,
    RESEEDS,
    SCENARIOS,
    SELECTABLE_ENGINES,
    STORY_SCENARIOS,
    WHOLE_STORY,
    backend_release,
    check_scenario,
)

T = TypeVar("T")
DEFAULT_MACHINE_LABELS = ("default", "onednn-off", "threads-1")


class OneLineParser(argparse.ArgumentParser):
    """argparse, but a usage error is one line on stderr and exit status 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(2, f"error: {message} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(
        prog="python -m repro_core", description="Run the seed article's Keras notebook scenarios in real Jupyter kernels and report what happened."
    )
    commands = parser.add_subparsers(dest="command", required=True, parser_class=OneLineParser)
    story = commands.add_parser(
        "story",
        help="run the article's scenarios and print every rerun's checksums and each scenario's verdict",
        description="Run the article's scenarios, each re-run N times, and print the records and verdicts. "
        "Scenarios: " + "; ".join(f"{name}: {s.description}" for name, s in SCENARIOS.items()),
    )
    story.add_argument("--reruns", type=int, default=3, help=f"how many times each scenario's cell is re-run (1-{RERUNS_MAX}, default 3)")
    story.add_argument(
        "--seed", type=int, default=DEFAULT_SEED, help=f"the TF/Keras seed the cells set (0-{SEED_MAX}, default {DEFAULT_SEED}, the article's)"
    )
    story.add_argument("--epochs", type=int, default=None,
                       help=f"training epochs per rerun (1-{EPOCHS_MAX}; default the network's: 10 as in the article, 2 for wide)")  # fmt: skip
    story.add_argument("--network", default="article",
                       help="what the setup cell builds: " + "; ".join(f"{name}: {n.description}" for name, n in NETWORKS.items()))  # fmt: skip
    add_machine_arguments(story)
    story.add_argument("--engine", default="keras3",
                       help="which Keras TensorFlow uses in the kernel: keras3 (default) or tf_keras (sets TF_USE_LEGACY_KERAS=1); "
                       "kernels with TensorFlow < 2.16 use their bundled Keras whatever this says")  # fmt: skip
    story.add_argument("--kernel", default=DEFAULT_KERNEL, help=f"Jupyter kernelspec to run in (default {DEFAULT_KERNEL}: this Python interpreter)")
    story.add_argument("--scenario", action="append", dest="scenarios", metavar="NAME",
                       help=f"a scenario to run; repeat for several (default: {', '.join(STORY_SCENARIOS)}; also: restart)")  # fmt: skip
    story.add_argument("--whole-story", action="store_true", help=f"run what the app's Home page runs: {', '.join(WHOLE_STORY)}")
    story.add_argument("--format", choices=["table", "json", "csv"], default="table", help="output format for the records (default table)")
    story.add_argument("--report", metavar="FILE", help="also write a schema-versioned JSON report (for `compare` or the app's Compare page)")
    story.add_argument("--notebook", metavar="FILE",
                       help="also write the cells that ran, with their output, as a notebook (the same file a page's Notebook download "
                       "gives; check it with `check-notebook FILE`). With several scenarios, one file per scenario: run.ipynb becomes "
                       "run-global-model.ipynb, run-factory-tf-seed.ipynb, ...")  # fmt: skip
    compare = commands.add_parser(
        "compare",
        help="compare two JSON reports (two machines, two TensorFlow versions) fingerprint by fingerprint",
        description="Pair the records of two reports by scenario and rerun and say where their SHA-256 fingerprints agree. "
        "Only reruns both reports hold are compared. Exit status 0 when there is at least one and all agree, "
        "1 when any differ or none is in both, 2 for an unreadable report.",
    )
    compare.add_argument("first", help="a report written by `story --report` or downloaded from the app")
    compare.add_argument("second", help="the report to compare it with")
    audit = commands.add_parser(
        "audit",
        help="audit your own model (a JSON spec): re-run one seeding recipe N times and show which layers' weights moved",
        description="Build the model described by a JSON spec (see examples/model.json), re-run one recipe cell N times "
        "in a fresh kernel and print every rerun's checksums, the verdict and each layer's largest difference from rerun 1. "
        "Reseeds: " + "; ".join(f"{name}: {kind.description}" for name, kind in RESEEDS.items()),
    )
    audit.add_argument("--spec", required=True, metavar="FILE", help="the model spec, a JSON file of at most 100 kB")
    audit.add_argument("--reseed", default="full", help=f"how the cell reseeds: {', '.join(RESEEDS)} (default full)")
    audit.add_argument("--model", default="factory", help=f"how the model is made: {', '.join(MODELS)} (default factory)")
    audit.add_argument("--seed", type=int, default=DEFAULT_SEED, help=f"the seed the reseed line uses (default {DEFAULT_SEED})")
    audit.add_argument("--reruns", type=int, default=2, help=f"how many times the recipe cell is re-run (1-{RERUNS_MAX}, default 2)")
    audit.add_argument("--kernel", default=DEFAULT_KERNEL, help=f"Jupyter kernelspec to run in (default {DEFAULT_KERNEL})")
    audit.add_argument("--format", choices=["table", "json"], default="table", help="output format (default table)")
    add_machine_arguments(audit)
    audit.add_argument("--notebook", metavar="FILE", help="also write the cells that ran, with their output, as a notebook")
    diag = commands.add_parser(
        "diagnose",
        help="run your training script N times with a recorder on Model.fit and say where the runs first part, why, and what fixes it",
        description="Run SCRIPT (.py, or an .ipynb whose code cells run as one) N times, each in a fresh kernel, with the lab's "
        "recorder cell wrapping Model.fit: each fit's initial weights, the data handed to it, every layer's weights after each step "
        "and the final weights. Exit status 0 when every run repeats bit for bit, 1 when they differ, 2 for bad input (no such "
        "file, a syntax error, no fit called, the script's own exception, a hang past --timeout), 3 when the lab could not run it. "
        "It runs the script's code: use it on scripts you trust.",
    )
    diag.add_argument("script", metavar="SCRIPT", help="a .py file or an .ipynb notebook")
    diag.add_argument("--runs", type=int, default=2, help=f"how many runs to compare (2-{DIAGNOSE_RUNS_MAX}, default 2)")
    diag.add_argument("--kernel", default=DEFAULT_KERNEL, help=f"Jupyter kernelspec to run in (default {DEFAULT_KERNEL}); keras-jax for JAX")
    diag.add_argument("--engine", default="keras3", help="keras3 (default) or tf_keras, on TensorFlow kernels")
    diag.add_argument("--same-kernel", action="store_true", help="re-run the script in ONE kernel (a notebook's 're-run the cell')")
    diag.add_argument("--fix", action="store_true", help="the doctor: re-run with the lab's seed switches to find the smallest set that repeats")
    diag.add_argument("--seed", type=int, default=DEFAULT_SEED, help=f"the seed the doctor's lines use (default {DEFAULT_SEED})")
    diag.add_argument("--timeout", type=float, default=300.0, help="seconds allowed per run of the script (default 300)")
    diag.add_argument("--format", choices=["table", "json"], default="table", help="output format (default table)")
    diag.add_argument("--report", metavar="FILE", help="also write the JSON report to FILE")
    diag.add_argument("--notebook", metavar="FILE", help="also write run 1's cells (setup, recorder, your script) with their output as a notebook")
    machines = commands.add_parser(
        "machines",
        help="run one seeded cell under several machine settings (oneDNN, threads, ISA cap) and say which weights each changes",
        description="Run one scenario's cell (default factory-full-seed, which repeats within a kernel) once per machine setting, "
        "each in a kernel started for it, and print which settings change the initial and which the trained weights, against "
        "the machine's defaults. A setting is default, onednn-on, onednn-off, threads-N, isa-NAME or determinism, or several "
        "joined with + (onednn-on+isa-AVX2). With --reports DIR, one report per setting (what repro_core/machine_reports holds).",
    )
    machines.add_argument("--setting", action="append", dest="settings", metavar="LABEL",
                          help=f"a machine setting; repeat for several (default: {', '.join(DEFAULT_MACHINE_LABELS)}; "
                          f"offered on the Another machine page: {', '.join(MACHINE_PRESETS)})")  # fmt: skip
    machines.add_argument("--network", default="wide", help=f"what the setup cell builds: {', '.join(NETWORKS)} (default wide)")
    machines.add_argument("--kernel", default=DEFAULT_KERNEL, help=f"Jupyter kernelspec to run in (default {DEFAULT_KERNEL})")
    machines.add_argument("--engine", default="keras3", help="keras3 (default) or tf_keras, on TensorFlow >= 2.16 kernels")
    machines.add_argument("--seed", type=int, default=DEFAULT_SEED, help=f"the seed the cells set (default {DEFAULT_SEED})")
    machines.add_argument("--reruns", type=int, default=2, help=f"reruns per setting (1-{RERUNS_MAX}, default 2)")
    machines.add_argument("--epochs", type=int, default=None, help="training epochs per rerun (default the network's)")
    machines.add_argument("--scenario", default=MACHINE_SCENARIO, help=f"the scenario whose cell runs (default {MACHINE_SCENARIO})")
    machines.add_argument("--reports", metavar="DIR", help="also write one JSON report per setting into DIR")
    check = commands.add_parser(
        "check-notebook",
        help="re-execute a downloaded notebook in a plain Jupyter kernel and compare every checksum line with the recorded one",
        description="Re-run a notebook the lab exported (page download or --notebook) with nbclient in an ordinary Jupyter "
        "kernelspec (default: the one the notebook names, python3), starting a new kernel wherever the lab did, and print each "
        "'summary of trainable variables ... sha256 ...' line as recorded and as repeated. Exit status 0 when every line "
        "repeats, 1 when any differs, 2 for an unreadable file. It runs the notebook's code: use it on notebooks you trust.",
    )
    check.add_argument("path", metavar="FILE", help="the .ipynb file")
    check.add_argument("--kernel", metavar="NAME", help="the Jupyter kernelspec to run in (default: the notebook's, python3)")
    check.add_argument("--timeout", type=float, default=600.0, help="seconds allowed per cell (default 600)")
    return parser


def add_machine_arguments(parser: argparse.ArgumentParser) -> None:
    """--onednn, --threads, --isa: machine switches written into the setup cell (and the kernel started with the first and
    last, which TensorFlow reads when it is imported)."""
    parser.add_argument("--onednn", default="default", metavar="on|off",
                        help=f"oneDNN's custom operations ({', '.join(ONEDNN_CHOICES)}): sets TF_ENABLE_ONEDNN_OPTS before TensorFlow is "
                        "imported; default leaves TensorFlow's choice (on only for CPUs with AVX512_VNNI, AVX512_BF16, AVX_VNNI or AMX)")  # fmt: skip
    parser.add_argument("--threads", type=int, default=0, metavar="N",
                        help=f"threads the backend computes with (1-{THREADS_MAX}; 0, the default, leaves the library's: one per core): "
                        "TensorFlow's intra-op threads, torch.set_num_threads, XLA's CPU threads")  # fmt: skip
    parser.add_argument("--op-determinism", action="store_true",
                        help="turn op determinism on in the setup cell (tf.config.experimental.enable_op_determinism; "
                        "torch.use_deterministic_algorithms on PyTorch): runs repeat on one machine, not across threads or ISAs")  # fmt: skip
    parser.add_argument("--isa", default="default", metavar="NAME",
                        help=f"cap oneDNN's instruction set (ONEDNN_MAX_CPU_ISA): {', '.join(ISA_CAPS)}; only while oneDNN is on")  # fmt: skip


def machine_of(args: argparse.Namespace) -> MachineSettings:
    return MachineSettings(onednn=args.onednn, threads=args.threads, isa=args.isa, op_determinism=args.op_determinism)


def notebook_paths(path: str, scenarios: Sequence[str]) -> dict[str, str]:
    """Where `story --notebook path` writes each scenario's notebook: `path` itself for one scenario, else path-<scenario>.ipynb."""
    if len(scenarios) == 1:
        return {scenarios[0]: path}
    target = Path(path)
    stem, suffix = (target.stem, target.suffix) if target.suffix else (target.name, ".ipynb")
    return {name: str(target.with_name(f"{stem}-{name}{suffix}")) for name in scenarios}


def _head(path: str, size: int) -> bytes:
    """At most `size` bytes of a file: a huge one is refused by its parser without being read whole."""
    with named_file(path), open(path, "rb") as handle:
        return handle.read(size)


def error_exit(message: object, status: int) -> int:
    print(f"error: {message}", file=sys.stderr)
    return status


def _check_notebook(args: argparse.Namespace) -> int:
    try:
        return check_main(args.path, args.kernel, real_number("timeout", args.timeout, 1, 86_400))
    except Refusal as exc:
        return error_exit(exc, 2)
    except Exception as exc:  # nbclient: a cell raised, a kernel died or timed out
        last = next((line for line in reversed(str(exc).splitlines()) if line.strip()), "")
        return error_exit(f"the notebook did not run to the end: {type(exc).__name__}: {last.strip()}", 1)


def progress_printer() -> Callable[[str], None]:
    started = time.monotonic()
    return lambda text: print(f"[{time.monotonic() - started:6.1f}s] {text}", file=sys.stderr, flush=True)


def _audit(args: argparse.Namespace, progress: Callable[[str], None]) -> int:
    """`audit`: validate the spec and options before any kernel starts (exit 2 with one line when bad)."""
    try:
        spec = ModelSpec.from_json(_head(args.spec, JSON_MAX_BYTES + 1))
        audit = Audit(spec, reseed=args.reseed, model=args.model, reruns=args.reruns, seed=args.seed, machine=machine_of(args))
        check_kernel_name(args.kernel)
        if (backend := backend_for(kernelspec_info(args.kernel))) != "tensorflow":
            raise Refusal(f"the audit's cells run on TensorFlow kernels only; kernelspec {args.kernel} runs Keras on {backend}")
    except Refusal as exc:
        return error_exit(exc, 2)
    result, failed = _guarded(lambda: run_audit(audit, args.kernel, on_status=progress))
    if failed is not None:
        return failed
    if args.format == "json":
        json.dump(result.as_dict(), sys.stdout, indent=2)
        print()
    else:
        v = result.versions
        print(f"audit, recipe {audit.recipe.label}  [{_kernel_line(v)}, op determinism {'on' if v.op_determinism else 'off'}]")
        print(f"numerics: {v.machine.summary()}")
        _print_rows(result.records)
        _print_frame(layer_table(result.table))
        print(f"verdict: {result.verdict}")
    if args.notebook and result.cells and result.versions is not None:
        info = audit_notebook_info(result, Path(args.notebook).name)
        Path(args.notebook).write_text(notebook_text(result.cells, info), encoding="utf-8")
        print(f"notebook written to {args.notebook}", file=sys.stderr)
    return error_exit(result.error, 1) if result.error else 0


def _params(args: argparse.Namespace) -> tuple[StoryParams, list[str]]:
    """Validate everything before any kernel starts; a Refusal carries the one-line message."""
    check_kernel_name(args.kernel)
    backend = backend_for(kernelspec_info(args.kernel))  # the kernel's: a JAX kernel's cells import Keras on JAX
    machine = machine_of(args)
    params = network_params(args.network, seed=args.seed, reruns=args.reruns, epochs=args.epochs, engine=args.engine, backend=backend,
                            onednn=machine.onednn, threads=machine.threads, isa=machine.isa, op_determinism=machine.op_determinism)  # fmt: skip
    if args.whole_story and args.scenarios:
        raise Refusal("--whole-story runs a fixed list of scenarios; leave out --scenario")
    scenarios = list(WHOLE_STORY if args.whole_story else args.scenarios or STORY_SCENARIOS)
    for name in scenarios:
        check_scenario(name)
    check_kernel_name(args.kernel)
    return params, scenarios


def _kernel_line(v) -> str:
    return f"Python {v.python}, {backend_release(v.backend, v.backend_release)}, {v.engine} {v.keras}, kernel {v.kernelspec}"


def _print_frame(frame) -> None:
    """A page's table as text: the same columns, sums to the article's 13 decimals, seconds to 2."""
    formats = {COL_SECONDS: "{:.2f}".format, COL_DELTA_BEFORE: "{:.6g}".format, COL_DELTA_AFTER: "{:.6g}".format}
    print(frame.to_string(index=False, float_format=format_sum, formatters={k: f for k, f in formats.items() if k in frame}))


def _print_rows(records: Sequence[RunRecord]) -> None:
    _print_frame(records_frame(records, with_kernel=len({r.kernel_start for r in records}) > 1))


def _print_story(results: Sequence[ScenarioResult], fmt: str) -> None:
    records = [r for result in results for r in result.records]
    if fmt == "json":
        json.dump([r.as_dict() for r in records], sys.stdout, indent=2)
        print()
    elif fmt == "csv":
        sys.stdout.write(records_csv(records))  # the same writer as the page's "Table (CSV)" download
    else:
        for result in results:
            print(f"{result.scenario}  [{_kernel_line(result.versions)}]")
            print(f"numerics: {result.versions.machine.summary()}")
            _print_rows(result.records)
            found = judge(result.records)  # what the scenario's page headlines (the restart check for restart)
            repeated = f" · {found.repeats.words}" if found.repeats.words else ""
            print(f"verdict: {found.outcome.name} ({found.outcome.meaning}){repeated}\n")


def _compare(first: str, second: str) -> int:
    """The Compare page as text: what differs between the kernels, the reruns side by side, the page's headline."""
    try:
        reports = [parse_report(_head(path, MAX_REPORT_BYTES + 1)) for path in (first, second)]
    except Refusal as exc:
        return error_exit(exc, 2)
    comparison = compare(*reports)
    _print_frame(differs_frame(what_differs(*reports)))
    print()
    _print_frame(comparison_frame(comparison))
    print(comparison.headline())
    causes = likely_causes(*reports)
    print(causes_heading(comparison, causes))
    for cause in causes:
        print(f"  - {free_text(cause, 400)}")
    return 0 if comparison.outcome == "same" else 1


def _guarded(task: Callable[[], T]) -> tuple[T | None, int | None]:
    """Run the kernels' part of a command: (result, None), or (None, exit status) after a one-line message."""
    try:
        return task(), None
    except KernelError as exc:
        return None, error_exit(exc, 1)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return None, 130


def _diagnose(args: argparse.Namespace, progress: Callable[[str], None]) -> int:
    """`diagnose`: the script and options are checked before any kernel starts; the script's own failures exit 2."""
    try:
        script = read_script(args.script)
        check_kernel_name(args.kernel)
        choice("engine", args.engine, SELECTABLE_ENGINES)
        info = kernelspec_info(args.kernel)
        backend = backend_for(info)
        engine = engine_for(info, args.engine) if backend == "tensorflow" else "keras3"  # TF < 2.16 kernels have Keras 2 only
        options = DiagnoseOptions(runs=args.runs, kernel=args.kernel, engine=engine,
                                  backend=backend, same_kernel=args.same_kernel, doctor=args.fix, seed=args.seed, timeout=args.timeout)  # fmt: skip
    except Refusal as exc:
        return error_exit(exc, 2)
    try:
        found = diagnose(script, options, on_status=progress)
    except ScriptRaised as exc:
        print(exc.traceback, file=sys.stderr)
        return error_exit(exc, 2)
    except ScriptProblem as exc:
        return error_exit(exc, 2)
    except KernelError as exc:
        return error_exit(f"the lab could not run the script: {exc}", 3)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    text = diagnose_json(found)
    if args.format == "json":
        print(text)
    else:
        _print_diagnosis(found)
    if args.report:
        Path(args.report).write_text(text, encoding="utf-8")
        progress(f"report written to {args.report}")
    if args.notebook:
        Path(args.notebook).write_text(notebook_text(found.cells, diagnose_notebook_info(found, Path(args.notebook).name)), encoding="utf-8")
        progress(f"notebook written to {args.notebook}")
    return 0 if found.repeats else 1


def _print_diagnosis(found: Diagnosis) -> None:
    print(f"{found.script.name}  [{_kernel_line(found.versions)}]")
    print(diagnose_view.verdict_line(found))
    if found.cause:
        print(f"why: {found.cause}")
    if found.fix is not None:
        state = "verified: the runs repeat with it" if found.fix.verified else "not verified (run with --fix to check it)"
        verb = "replace" if found.fix.kind == "rewrite" else "insert before"
        print(f"fix: {verb} {found.script.where(found.fix.line)} ({found.fix.where}); {state}"
              + (f"; time x{found.fix.seconds_ratio:.2f}" if found.fix.seconds_ratio else "") + ":")  # fmt: skip
        print("    " + found.fix.text.rstrip("\n").replace("\n", "\n    "))
    if found.doctor is not None:
        print(f"doctor: {found.doctor.words}")
        for trial in found.doctor.trials:
            print(f"    tried {trial.fix.text.strip().splitlines()[-1]!r}: {'repeats' if trial.repeats else 'still differs at ' + str(trial.stage)}"
                  f" ({trial.seconds:.2f} s)")  # fmt: skip
    if found.difference is not None and found.difference.layers:
        print(f"how different, at point {found.difference.point} ({found.difference.note}):")
        print(diagnose_view.difference_frame(found.difference).to_string(index=False, float_format="{:.6g}".format))
    print(diagnose_view.runs_frame(found).to_string(index=False))
def _machines(args: argparse.Namespace, progress: Callable[[str], None]) -> int:
    """`machines`: every setting validated before any kernel starts; one table, the findings, and optionally one report each."""
    try:
        check_kernel_name(args.kernel)
        check_scenario(args.scenario)
        backend = backend_for(kernelspec_info(args.kernel))
        params = network_params(args.network, seed=args.seed, reruns=args.reruns, epochs=args.epochs, engine=args.engine, backend=backend)
        machines = check_machines([parse_machine_label(label) for label in args.settings or DEFAULT_MACHINE_LABELS], params)
    except Refusal as exc:
        return error_exit(exc, 2)
    runs, failed = _guarded(lambda: run_on_machines(params, machines, args.kernel, args.scenario, on_status=progress))
    if failed is not None:
        return failed
    rows = machines_view.live_rows(runs, params.network)
    _print_frame(machines_view.machine_frame(rows))
    for line in machines_view.findings(rows) + [f"measured on {line}" for line in machines_view.fingerprint_lines(rows)]:
        print(line)
    if args.reports:
        for path in write_reports([report_of(run, params, args.kernel) for run in runs], Path(args.reports)):
            progress(f"report written to {path}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command == "compare":
        return _compare(args.first, args.second)
    if args.command == "check-notebook":
        return _check_notebook(args)
    if args.command == "audit":
        return _audit(args, progress_printer())
    if args.command == "diagnose":
        return _diagnose(args, progress_printer())
    if args.command == "machines":
        return _machines(args, progress_printer())
    try:
        params, scenarios = _params(args)
    except Refusal as exc:
        return error_exit(exc, 2)
    progress = progress_printer()
    results, failed = _guarded(lambda: run_story(params, scenarios, args.kernel, on_status=progress))
    if failed is not None:
        return failed
    try:
        _print_story(results, args.format)
        sys.stdout.flush()
    except BrokenPipeError:  # e.g. piped into `head`
        return 0
    for result in results:
        progress(f"{result.scenario}: {judge(result.records).outcome.name}")
    if args.notebook:
        paths = notebook_paths(args.notebook, [result.scenario for result in results])
        for result in results:
            path = paths[result.scenario]
            info = story_notebook_info(f"{result.scenario}: {SCENARIOS[result.scenario].description}", params, args.kernel, result.versions,
                                       Path(path).name)  # fmt: skip
            Path(path).write_text(notebook_text(result.cells, info), encoding="utf-8")
            progress(f"notebook written to {path}")
    if args.report:
        records = [r for result in results for r in result.records]
        Path(args.report).write_text(report_text(records, params, args.kernel, results[0].versions), encoding="utf-8")
        progress(f"report written to {args.report}")
    return 0
