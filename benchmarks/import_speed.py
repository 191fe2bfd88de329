"""`archspec import` of keras.applications.ResNet50 against building the model twice.

    python benchmarks/import_speed.py [--rounds 7] [--model ResNet50] [--weights]

Issue 13's bar: importing keras.applications.ResNet50 takes no longer than building it twice.
The import builds the model once (untrained, as the command does), reads every layer, folds the
structure into blocks and repeats, checks the folded spec against the flat one with archspec's
analysis, and writes the YAML. Rounds alternate between the two, after one warm-up of each (the
first build pays for TensorFlow's start); medians are reported with the ratio
import / (2 x build), which must be at most 1. ``--weights`` also reads the weights (what
``--weights FILE`` adds before the file is written).
"""

from __future__ import annotations

import argparse
import gc
import os
import platform
import statistics
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # noqa: E402

from archspec.importing.pipeline import import_model  # noqa: E402


def timed(task) -> float:
    gc.collect()
    start = time.perf_counter()
    result = task()
    elapsed = time.perf_counter() - start
    del result
    keras.backend.clear_session()
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--model", default="ResNet50")
    parser.add_argument("--weights", action="store_true")
    args = parser.parse_args()
    source = f"keras.applications.{args.model}"
    tasks = {"build": lambda: getattr(keras.applications, args.model)(weights=None),
             "import": lambda: import_model(source, weights=args.weights)}
    for task in tasks.values():  # warm-up
        timed(task)
    times: dict[str, list[float]] = {name: [] for name in tasks}
    for i in range(args.rounds):
        for name in sorted(tasks, reverse=bool(i % 2)):
            times[name].append(timed(tasks[name]))
    build, imported = (statistics.median(times[n]) for n in ("build", "import"))
    lines = imported_lines(source)
    print(f"{platform.processor() or platform.machine()}, keras {keras.__version__}, "
          f"{args.rounds} rounds, medians")
    print(f"build {args.model}:        {build:.3f} s")
    print(f"import {source}: {imported:.3f} s ({lines} lines of spec"
          f"{', weights read' if args.weights else ''})")
    print(f"ratio import / (2 x build): {imported / (2 * build):.2f} (target <= 1)")


def imported_lines(source: str) -> int:
    return len(import_model(source).text.splitlines())


if __name__ == "__main__":
    main()
