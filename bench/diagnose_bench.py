"""diagnose's costs, measured side by side in one run (the machine is shared and noisy: compare the ratios).

1. `python -m repro_core diagnose SCRIPT` (2 runs, each in a fresh kernel) against running `python SCRIPT` twice, one
   after the other: what a user would otherwise do by hand. Target: ratio <= 1.5.
2. The recorder against a plain fit, in one Python process: the same fit on a fresh model, alternately with Model.fit
   wrapped by the recorder cell and without. Target: ratio <= 1.2.

    python bench/diagnose_bench.py [--rounds 3] [--script examples/digits_cnn.py]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from repro_core.recipes.cells import RECORDER_IN_KERNEL  # noqa: E402

# Runs in a subprocess (this process never imports TensorFlow): fresh model, fit, timed; with and without the recorder.
FIT_TIMING = """
import json, sys, time
import numpy as np
from sklearn.datasets import load_digits
from tensorflow import keras

digits = load_digits()
x = (digits.images / 16.0).astype("float32")[..., np.newaxis]
y = digits.target


def one_fit():
    model = keras.Sequential([keras.Input(shape=(8, 8, 1)), keras.layers.Conv2D(8, 3, activation="relu"), keras.layers.MaxPooling2D(2),
                              keras.layers.Flatten(), keras.layers.Dropout(0.25), keras.layers.Dense(10, activation="softmax")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    started = time.perf_counter()
    model.fit(x, y, epochs=3, batch_size=64, validation_split=0.1, verbose=0)
    return time.perf_counter() - started


one_fit()  # warm-up: the first fit traces the graph
plain_fit = keras.Model.fit
exec(RECORDER, globals())
recorded_fit = keras.Model.fit
times = {"plain": [], "recorded": []}
for _ in range(ROUNDS):
    for name, fit in (("plain", plain_fit), ("recorded", recorded_fit)):
        keras.Model.fit = fit
        times[name].append(one_fit())
print(json.dumps(times))
"""


def timed(command: list[str]) -> float:
    started = time.perf_counter()
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
    if done.returncode not in (0, 1):  # diagnose exits 1 when the runs differ: that is a result, not a failure
        raise SystemExit(f"{' '.join(command)} failed:\n{done.stderr[-2000:]}")
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--script", default="examples/digits_cnn.py")
    args = parser.parse_args()
    python = sys.executable

    plain, diagnosed = [], []
    for round_number in range(1, args.rounds + 1):  # alternate, so drift in the machine's load hits both alike
        plain.append(timed([python, args.script]) + timed([python, args.script]))
        diagnosed.append(timed([python, "-m", "repro_core", "diagnose", args.script, "--runs", "2", "--format", "json"]))
        print(f"round {round_number}: two plain runs {plain[-1]:.1f} s, diagnose --runs 2 {diagnosed[-1]:.1f} s", flush=True)
    ratio = statistics.median(diagnosed) / statistics.median(plain)
    print(f"diagnose (2 runs) / two `python SCRIPT` runs: median {statistics.median(diagnosed):.1f} s / {statistics.median(plain):.1f} s "
          f"= {ratio:.2f} (target <= 1.5)")  # fmt: skip

    source = FIT_TIMING.replace("RECORDER", repr(RECORDER_IN_KERNEL)).replace("ROUNDS", str(max(3, args.rounds)))
    done = subprocess.run([python, "-c", source], cwd=ROOT, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(done.stderr[-2000:])
    times = __import__("json").loads(done.stdout.strip().splitlines()[-1])
    fit_ratio = statistics.median(times["recorded"]) / statistics.median(times["plain"])
    print(f"fit with the recorder / plain fit (digits CNN, 3 epochs, 78 steps): median {statistics.median(times['recorded']):.2f} s / "
          f"{statistics.median(times['plain']):.2f} s = {fit_ratio:.2f} (target <= 1.2)")  # fmt: skip


if __name__ == "__main__":
    main()
