"""What looking for plugins costs `archspec check` when none is installed (the common case).

    python benchmarks/plugin_startup.py [--repeat 30]

Whole processes, `archspec check specs/mnist_cnn.yaml`, interleaved so machine noise hits both
alike (minimum and median of --repeat runs each):
  - with ARCHSPEC_DISABLE_PLUGINS=1: no look at all, archspec as it was before plugins
  - as users run it: the quick scan of sys.path (ops/plugins.py, _may_have_plugins)
In-process, each way to find the entry points, in a fresh interpreter (no warm caches):
  - the quick scan: one read of each installed package's entry_points.txt
  - importlib.metadata.entry_points(group=...), which the scan spares a run with no plugin
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable
ARCHSPEC = [str(Path(PY).with_name("archspec")), "check", "specs/mnist_cnn.yaml"]
ENV = {k: v for k, v in os.environ.items()
       if k not in ("PYTHONDONTWRITEBYTECODE", "ARCHSPEC_DISABLE_PLUGINS")}

SCAN = ("import time; t = time.perf_counter(); from archspec.ops.plugins import "
        "_may_have_plugins as f; t = time.perf_counter(); found = f(); "
        "print((time.perf_counter() - t) * 1e3, found)")
METADATA = ("import importlib.metadata as m, time; t = time.perf_counter(); "
            "found = list(m.entry_points(group='archspec.layers')); "
            "print((time.perf_counter() - t) * 1e3, found)")


def wall(cmd: list[str], env: dict) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=ROOT, env=env,
                   check=True)
    return time.perf_counter() - start


def in_process_ms(code: str, repeat: int) -> list[float]:
    return [float(subprocess.run([PY, "-c", code], capture_output=True, text=True, cwd=ROOT,
                                 env=ENV, check=True).stdout.split()[0]) for _ in range(repeat)]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=30)
    args = parser.parse_args()
    print(f"machine: {platform.platform()}, {os.cpu_count()} cores, "
          f"Python {platform.python_version()}")
    ways = {"plugins disabled (no look)": {**ENV, "ARCHSPEC_DISABLE_PLUGINS": "1"},
            "as users run it (quick scan)": ENV}
    for env in ways.values():
        wall(ARCHSPEC, env)  # warm-up: bytecode, page cache
    times: dict[str, list[float]] = {label: [] for label in ways}
    for _ in range(args.repeat):
        for label, env in ways.items():
            times[label].append(wall(ARCHSPEC, env))
    print(f"\narchspec check specs/mnist_cnn.yaml, {args.repeat} runs each, interleaved")
    for label, values in times.items():
        print(f"  {label:32} min {min(values) * 1e3:6.1f} ms   "
              f"median {statistics.median(values) * 1e3:6.1f} ms")
    print("\nfinding the entry points, fresh interpreter, ms (min / median)")
    for label, code in (("quick scan", SCAN), ("importlib.metadata.entry_points", METADATA)):
        values = in_process_ms(code, max(5, args.repeat // 3))
        print(f"  {label:32} {min(values):6.2f} / {statistics.median(values):6.2f}")


if __name__ == "__main__":
    main()
