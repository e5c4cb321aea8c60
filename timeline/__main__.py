"""`python -m timeline`: the four scenarios on every TensorFlow release, and with `--backend` the backend reports on Keras 3
over JAX or PyTorch; `--provision-only` installs and registers the kernels; `--table` / `--readme` only read the reports."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from repro_core.cli import OneLineParser, error_exit, progress_printer
from repro_core.results.timeline import load_timeline
from repro_core.validation import Refusal, named_file
from timeline.readme import TABLES_FILE, backend_tables_markdown, replace_readme_backend_tables, replace_readme_table, verdict_table_markdown
from timeline.run import DEFAULT_REPORTS, TimelineOptions, check_backends, check_releases, run_timeline
from timeline.venvs import BACKEND_PYTHON, DEFAULT_VENVS, RELEASE_PYTHON, default_python, known_backends, known_releases


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(
        prog="python -m timeline",
        description="For each TensorFlow release with a pin file in timeline/requirements/: provision its venv (reused when its pins "
        "are unchanged), register it as the kernelspec timeline-tf<release>, run the four scenarios (seed 1234, 3 reruns, 10 epochs) "
        "on every engine the release offers, and write repro_core/timeline_reports/tf-<release>-<engine>.json. With --backend, the same "
        "for Keras 3 on JAX or PyTorch (Python 3.11, no TensorFlow; kernelspec keras-<backend>, report keras-<X.Y>-<backend>.json); "
        "--backend alone runs no TensorFlow release. Progress goes to stderr. --table / --readme only read the committed reports "
        "(--readme writes their tables into docs/timeline.md).",
    )
    parser.add_argument("--release", action="append", dest="releases", metavar="2.X", help="only this release; repeatable (default: all)")
    parser.add_argument("--backend", action="append", dest="backends", metavar="NAME",
                        help=f"Keras 3 on this backend too ({', '.join(known_backends())}); repeatable")  # fmt: skip
    parser.add_argument("--provision-only", action="store_true", help="install (or reuse) the venvs and register their kernelspecs; run nothing")
    parser.add_argument("--venvs", metavar="DIR", default=str(DEFAULT_VENVS), help="where the per-release venvs live (default timeline/.venvs)")
    parser.add_argument("--reports", metavar="DIR", default=str(DEFAULT_REPORTS),
                        help="where the reports are written (default repro_core/timeline_reports)")  # fmt: skip
    parser.add_argument("--python", metavar="PATH", default="",
                        help=f"base interpreter for new release venvs (default: pyenv's newest {RELEASE_PYTHON})")  # fmt: skip
    parser.add_argument("--backend-python", metavar="PATH", default="",
                        help=f"base interpreter for new backend venvs (default: pyenv's newest {BACKEND_PYTHON})")  # fmt: skip
    parser.add_argument("--skip-install", action="store_true", help="use the existing venvs as they are (no pip)")
    parser.add_argument("--table", action="store_true", help="print the verdict table and the backend tables (Markdown) of the reports; run nothing")
    parser.add_argument("--readme", metavar="FILE", nargs="?", const=str(TABLES_FILE),
                        help="rewrite the tables between their markers in FILE (default docs/timeline.md); run nothing")  # fmt: skip
    return parser


def main(argv: list[str] | None = None) -> int:
    args, say = build_parser().parse_args(argv), progress_printer()
    if args.table or args.readme:
        return _table(args)
    try:
        releases = check_releases(args.releases or [], known_releases())
        backends = check_backends(args.backends or [])
    except Refusal as exc:
        return error_exit(exc, 2)
    runs_releases = bool(releases) or not backends
    python = (args.python or default_python(RELEASE_PYTHON)) if runs_releases else ""
    if runs_releases and not python and not args.skip_install:
        return error_exit(f"no Python {RELEASE_PYTHON} found (pyenv); pass --python PATH", 2)
    backend_python = (args.backend_python or default_python(BACKEND_PYTHON)) if backends else ""
    if backends and not backend_python and not args.skip_install:
        return error_exit(f"no Python {BACKEND_PYTHON} found (pyenv); pass --backend-python PATH", 2)
    options = TimelineOptions(releases=releases, venvs=Path(args.venvs).resolve(), reports=Path(args.reports).resolve(),
                              python=python, skip_install=args.skip_install, backends=backends, backend_python=backend_python,
                              provision_only=args.provision_only)  # fmt: skip
    started = time.monotonic()
    count = len(releases) or (0 if backends else len(known_releases()))
    say(f"timeline: {count} release(s) (base Python {python or '-'}), {len(backends)} backend(s) (base Python {backend_python or '-'}), "
        f"venvs in {options.venvs}{', provision only' if args.provision_only else ''}")
    try:
        outcomes = run_timeline(options, say)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    failed = [o for o in outcomes if o.error]
    what = "venv(s) provisioned" if args.provision_only else "report(s)"
    say(f"timeline: {len(outcomes)} {what} in {time.monotonic() - started:.0f} s, {len(failed)} with an error")
    for outcome in failed:
        say(f"  {outcome.name} {outcome.engine}: {outcome.error.splitlines()[0][:300]}".replace("  ", " ", 1).rstrip())
    return 1 if failed else 0


def _table(args: argparse.Namespace) -> int:
    try:
        entries = load_timeline(Path(args.reports), backends=True)
        table, backends = verdict_table_markdown(entries), backend_tables_markdown(entries)
        if not args.readme:
            print(f"{table}\n\n{backends}")
            return 0
        path = Path(args.readme)
        with named_file(path):
            text = replace_readme_backend_tables(replace_readme_table(path.read_text(encoding="utf-8"), table), backends)
            path.write_text(text, encoding="utf-8")
    except Refusal as exc:
        return error_exit(exc, 2)
    print(f"table of {len(entries)} report(s) written to {path}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
