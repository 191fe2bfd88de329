"""Speed of `archspec diff` (issue 14: resnet152 against itself and against resnet101 in
<= 0.5 s in process, after imports).

    python benchmarks/diff_speed.py [--repeat 5]

In process, median of --repeat runs after one warm-up:
  - diff alone: two analysed graphs → the diff (pairing, deltas, totals)
  - load + analyse + diff: both specs read from their files, as the command does
  - the structural pairing's worst cases: two generated N-layer specs whose layers all have
    counted names (conv2d_3), so that nothing pairs by name, differing at one end (the common
    tail pairs at once) or at both (difflib aligns every layer)
Whole process: `archspec diff specs/resnet152.yaml specs/resnet101.yaml` (wall time).
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
sys.path.insert(0, str(ROOT))
SPECS = ROOT / "specs"


def median_seconds(function, repeat: int) -> float:
    function()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def generated(n: int, first: int, last: int) -> str:
    """n layers with automatic names; only the first and last convolutions' widths vary."""
    lines = ["name: long", "input: {shape: [32, 32, 16]}", "layers:",
             f"  - Conv2D: {{filters: {first}, kernel_size: 1}}"]
    kinds = ["  - Conv2D: {filters: 16, kernel_size: 3, padding: same}",
             "  - BatchNormalization", "  - ReLU"]
    lines += [kinds[i % 3] for i in range(n - 2)]
    lines.append(f"  - Conv2D: {{filters: {last}, kernel_size: 1}}")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    import archspec
    from archspec.diff import diff_graphs

    print(f"machine: {platform.platform()}, {os.cpu_count()} cores, "
          f"Python {platform.python_version()}")
    r152, r101 = SPECS / "resnet152.yaml", SPECS / "resnet101.yaml"
    g152, g152b, g101 = archspec.analyze(r152), archspec.analyze(r152), archspec.analyze(r101)
    rows = [
        ("diff resnet152 vs itself (diff alone)", lambda: diff_graphs(g152, g152b)),
        ("diff resnet152 vs resnet101 (diff alone)", lambda: diff_graphs(g152, g101)),
        ("resnet152 vs itself, load + analyse + diff",
         lambda: diff_graphs(archspec.analyze(r152), archspec.analyze(r152))),
        ("resnet152 vs resnet101, load + analyse + diff",
         lambda: diff_graphs(archspec.analyze(r152), archspec.analyze(r101))),
    ]
    for n in (1_000, 5_000, 25_000):
        a = archspec.analyze(archspec.loads(generated(n, 8, 8)), max_layers=n)
        for where, b_spec in (("one end", generated(n, 4, 8)), ("both ends", generated(n, 4, 4))):
            b = archspec.analyze(archspec.loads(b_spec), max_layers=n)
            rows.append((f"{n:,} counted names, differ at {where} (diff alone)",
                         lambda a=a, b=b: diff_graphs(a, b)))
    print(f"\n{'in process':52} {'median s':>9}")
    for label, function in rows:
        print(f"{label:52} {median_seconds(function, args.repeat):9.3f}")
    print("target: <= 0.5 s for the resnet152 rows")
    command = [str(Path(sys.executable).with_name("archspec")), "diff", str(r152), str(r101)]
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}

    def process() -> None:
        subprocess.run(command, stdout=subprocess.DEVNULL, check=True, env=env)
    print(f"\n{'archspec diff resnet152 resnet101 (whole process)':52} "
          f"{median_seconds(process, args.repeat):9.3f}")


if __name__ == "__main__":
    main()
