"""Recipe matrix: the default grid (models x DEFAULT_RESEEDS x engines, 12 recipes) on one kernel vs several parallel kernels, in one run.

Run by hand (not in CI):  python bench/matrix_bench.py [--reruns 2] [--epochs 3] [--parallelism N] [--reseeds all|none,tf,...]
Prints both wall times and parallel/sequential (target <= 0.65 on 2 cores), and per recipe its verdict and whether the
initial and the trained weights repeated.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from repro_core.experiments.matrix import MatrixOptions, run_matrix  # noqa: E402
from repro_core.vocabulary import DEFAULT_RESEEDS, RESEEDS  # noqa: E402


def timed(options: MatrixOptions, parallelism: int) -> tuple[float, list[str]]:
    started = time.monotonic()
    result = run_matrix(options, parallelism=parallelism)
    return time.monotonic() - started, [f"{r.recipe.name}: {r.verdict} ({r.repeats.words})" for r in result.results]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reruns", type=int, default=2)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--parallelism", type=int, default=2)
    parser.add_argument("--reseeds", default=",".join(DEFAULT_RESEEDS), help="comma-separated seed switches, or 'all'")
    args = parser.parse_args()
    reseeds = tuple(RESEEDS) if args.reseeds == "all" else tuple(args.reseeds.split(","))
    options = MatrixOptions(reruns=args.reruns, epochs=args.epochs, reseeds=reseeds)
    print(f"{len(options.recipes())} recipes, reruns {options.reruns}, epochs {options.epochs}", flush=True)
    sequential, verdicts_seq = timed(options, 1)
    print(f"sequential (parallelism 1): {sequential:.1f} s", flush=True)
    parallel, verdicts_par = timed(options, args.parallelism)
    print(f"parallel (parallelism {args.parallelism}): {parallel:.1f} s", flush=True)
    print(f"ratio parallel/sequential: {parallel / sequential:.2f} (target <= 0.65)")
    print("same verdicts both ways:", verdicts_seq == verdicts_par)
    for line in verdicts_par:
        print("  " + line)


if __name__ == "__main__":
    main()
