"""The `timeline` subcommand's options and entry point (kept out of cli.py, which only wires it in)."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from repro_core.experiments.release_venvs import default_python
from repro_core.experiments.timeline import DEFAULT_VENVS, Say, TimelineOptions, check_releases, run_timeline
from repro_core.results.timeline import REPORTS_DIR, REQUIREMENTS_DIR, known_releases


def add_timeline_parser(commands) -> None:
    timeline = commands.add_parser(
        "timeline",
        help="run the four scenarios on every TensorFlow release 2.9 ... (one venv and kernel each) and write one report per release and engine",
        description="For each TensorFlow release with a pin file in timeline/requirements/: provision its venv (reused when its pins "
        "are unchanged), register it as the kernelspec timeline-tf<release>, run the four scenarios (seed 1234, 3 reruns, 10 epochs) "
        "on every engine the release offers, and write timeline/reports/tf-<release>-<engine>.json. Progress goes to stderr. "
        "--table / --readme only read the committed reports.",
    )
    timeline.add_argument("--release", action="append", dest="releases", metavar="2.X", help="only this release; repeatable (default: all)")
    timeline.add_argument("--venvs", metavar="DIR", default=str(DEFAULT_VENVS), help="where the per-release venvs live (default timeline/.venvs)")
    timeline.add_argument("--reports", metavar="DIR", default=str(REPORTS_DIR), help="where the reports are written (default timeline/reports)")
    timeline.add_argument("--python", metavar="PATH", default="", help="base interpreter for new venvs (default: pyenv's newest 3.10)")
    timeline.add_argument("--skip-install", action="store_true", help="use the existing venvs as they are (no pip)")
    timeline.add_argument("--table", action="store_true", help="print the verdict table (Markdown) of the reports; run nothing")
    timeline.add_argument("--readme", metavar="FILE", help="rewrite the verdict table between the timeline markers in FILE, run nothing")


def run_timeline_command(args: argparse.Namespace, say: Say) -> int:
    if args.table or args.readme:
        return _table(args)
    try:
        releases = check_releases(args.releases or [], known_releases(REQUIREMENTS_DIR))
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    python = args.python or default_python()
    if not python and not args.skip_install:
        print("error: no Python 3.10 found (pyenv); pass --python PATH", file=sys.stderr)
        return 2
    options = TimelineOptions(releases=releases, venvs=Path(args.venvs).resolve(), reports=Path(args.reports).resolve(),
                              python=python, skip_install=args.skip_install)  # fmt: skip
    started = time.monotonic()
    say(f"timeline: {len(releases) or len(known_releases(REQUIREMENTS_DIR))} release(s), venvs in {options.venvs}, base Python {python or '-'}")
    try:
        outcomes = run_timeline(options, python, say)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    failed = [o for o in outcomes if o.error]
    say(f"timeline: {len(outcomes)} report(s) in {time.monotonic() - started:.0f} s, {len(failed)} with an error")
    for outcome in failed:
        say(f"  tf-{outcome.release} {outcome.engine}: {outcome.error.splitlines()[0][:300]}")
    return 1 if failed else 0


def _table(args: argparse.Namespace) -> int:
    from repro_core.results.timeline import load_timeline
    from repro_core.views.timeline import replace_readme_table, verdict_table_markdown

    try:
        entries = load_timeline(Path(args.reports))
    except (OSError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    table = verdict_table_markdown(entries)
    if not args.readme:
        print(table)
        return 0
    path = Path(args.readme)
    try:
        path.write_text(replace_readme_table(path.read_text(encoding="utf-8"), table), encoding="utf-8")
    except (OSError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"table of {len(entries)} report(s) written to {path}", file=sys.stderr)
    return 0
