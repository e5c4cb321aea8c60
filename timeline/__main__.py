"""`python -m timeline`: the four scenarios on every TensorFlow release; `--table` / `--readme` only read the reports."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from repro_core.cli import OneLineParser, error_exit, progress_printer
from repro_core.results.timeline import load_timeline
from timeline.readme import replace_readme_table, verdict_table_markdown
from timeline.run import DEFAULT_REPORTS, TimelineOptions, check_releases, run_timeline
from timeline.venvs import DEFAULT_VENVS, default_python, known_releases


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(
        prog="python -m timeline",
        description="For each TensorFlow release with a pin file in timeline/requirements/: provision its venv (reused when its pins "
        "are unchanged), register it as the kernelspec timeline-tf<release>, run the four scenarios (seed 1234, 3 reruns, 10 epochs) "
        "on every engine the release offers, and write repro_core/timeline_reports/tf-<release>-<engine>.json. Progress goes to "
        "stderr. --table / --readme only read the committed reports.",
    )
    parser.add_argument("--release", action="append", dest="releases", metavar="2.X", help="only this release; repeatable (default: all)")
    parser.add_argument("--venvs", metavar="DIR", default=str(DEFAULT_VENVS), help="where the per-release venvs live (default timeline/.venvs)")
    parser.add_argument("--reports", metavar="DIR", default=str(DEFAULT_REPORTS),
                        help="where the reports are written (default repro_core/timeline_reports)")  # fmt: skip
    parser.add_argument("--python", metavar="PATH", default="", help="base interpreter for new venvs (default: pyenv's newest 3.10)")
    parser.add_argument("--skip-install", action="store_true", help="use the existing venvs as they are (no pip)")
    parser.add_argument("--table", action="store_true", help="print the verdict table (Markdown) of the reports; run nothing")
    parser.add_argument("--readme", metavar="FILE", help="rewrite the verdict table between the timeline markers in FILE, run nothing")
    return parser


def main(argv: list[str] | None = None) -> int:
    args, say = build_parser().parse_args(argv), progress_printer()
    if args.table or args.readme:
        return _table(args)
    try:
        releases = check_releases(args.releases or [], known_releases())
    except ValueError as exc:
        return error_exit(exc, 2)
    python = args.python or default_python()
    if not python and not args.skip_install:
        return error_exit("no Python 3.10 found (pyenv); pass --python PATH", 2)
    options = TimelineOptions(releases=releases, venvs=Path(args.venvs).resolve(), reports=Path(args.reports).resolve(),
                              python=python, skip_install=args.skip_install)  # fmt: skip
    started = time.monotonic()
    say(f"timeline: {len(releases) or len(known_releases())} release(s), venvs in {options.venvs}, base Python {python or '-'}")
    try:
        outcomes = run_timeline(options, say)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    failed = [o for o in outcomes if o.error]
    say(f"timeline: {len(outcomes)} report(s) in {time.monotonic() - started:.0f} s, {len(failed)} with an error")
    for outcome in failed:
        say(f"  tf-{outcome.release} {outcome.engine}: {outcome.error.splitlines()[0][:300]}")
    return 1 if failed else 0


def _table(args: argparse.Namespace) -> int:
    try:
        entries = load_timeline(Path(args.reports))
        table = verdict_table_markdown(entries)
        if not args.readme:
            print(table)
            return 0
        path = Path(args.readme)
        path.write_text(replace_readme_table(path.read_text(encoding="utf-8"), table), encoding="utf-8")
    except (OSError, ValueError) as exc:
        return error_exit(exc, 2)
    print(f"table of {len(entries)} report(s) written to {path}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
