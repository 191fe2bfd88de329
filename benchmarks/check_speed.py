"""Speed and memory of `archspec check` against the alternatives, measured in one run.

    python benchmarks/check_speed.py [--repeat 5]

Whole processes (wall time and peak RSS, median of --repeat runs):
  - archspec check specs/resnet152.yaml (table and --json)
  - the floor for any pydantic CLI: python -c "import pydantic, yaml"
  - keras.applications.ResNet152(weights=None) + summary()   (if keras is installed)
  - torchvision resnet152 + torchinfo.summary                  (if both are installed)
In-process: ResNet-50 checks per second (an architecture sweep), and a generated N-layer spec
for N = 1,000 / 5,000 / 10,000 (cost should grow linearly). Results go in docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable
# The installed console script, as users run it (``python -m archspec.cli`` adds ~70 ms).
ARCHSPEC = [str(Path(PY).with_name("archspec"))]

KERAS = ("import os; os.environ['TF_CPP_MIN_LOG_LEVEL']='3'\n"
         "import keras; m = keras.applications.ResNet152(weights=None); m.summary(print_fn=lambda *a, **k: None)")
TORCH = ("import torchvision, torchinfo; m = torchvision.models.resnet152(weights=None); "
         "torchinfo.summary(m, (1, 3, 224, 224), verbose=0)")


# As users run an installed package: with compiled bytecode. Some machines (this project's
# among them) set PYTHONDONTWRITEBYTECODE=1, which would recompile archspec's modules on every
# run (~20 ms); the first, unmeasured run of each command writes the bytecode.
ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def measure(cmd: list[str], repeat: int) -> tuple[float, float] | None:
    """Median wall seconds and peak RSS (MiB) of a whole process, after one warm-up run.
    Output goes to a pipe-less sink, as in scripts and CI (a terminal adds rich styling)."""
    walls, peaks = [], []
    subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=ROOT, env=ENV)
    for _ in range(repeat):
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                cwd=ROOT, env=ENV)
        _, status, usage = os.wait4(proc.pid, 0)
        walls.append(time.perf_counter() - start)
        if os.waitstatus_to_exitcode(status) != 0:
            return None
        peaks.append(usage.ru_maxrss / 1024)
    return statistics.median(walls), statistics.median(peaks)


def generated_spec(n: int) -> str:
    lines = ["name: long", "input: {shape: [32, 32, 16]}", "layers:"]
    kinds = ["  - Conv2D: {filters: 16, kernel_size: 3, padding: same}",
             "  - BatchNormalization", "  - ReLU"]
    lines += [kinds[i % 3] for i in range(n)]
    return "\n".join(lines) + "\n"


def in_process() -> dict[str, float]:
    sys.path.insert(0, str(ROOT))
    import archspec
    from archspec.spec.load import load

    results = {}
    spec = load(ROOT / "specs" / "resnet50.yaml")
    archspec.check(spec)
    count, start = 0, time.perf_counter()
    while time.perf_counter() - start < 3:
        archspec.check(spec)
        count += 1
    results["resnet50 checks/s (same spec)"] = count / (time.perf_counter() - start)
    # A sweep: every check a different depth/width, so the caches see new layers too.
    family = load(ROOT / "specs" / "resnet.yaml")
    start = time.perf_counter()
    sweep = [(d, c) for d in (18, 34, 50, 101, 152) for c in range(10, 210, 10)]
    for depth, classes in sweep:
        archspec.check(family, params={"depth": depth, "classes": classes})
    results["resnet sweep checks/s (100 variants, 18-152)"] = len(sweep) / (time.perf_counter() - start)
    for n in (1_000, 5_000, 10_000):
        text = generated_spec(n)
        start = time.perf_counter()
        archspec.check(archspec.loads(text))
        results[f"{n:,}-layer spec, load+check s"] = time.perf_counter() - start
    return results


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    print(f"machine: {platform.platform()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    rows = [("archspec check resnet152 (table)", ARCHSPEC + ["check", "specs/resnet152.yaml"]),
            ("archspec check resnet152 --json", ARCHSPEC + ["check", "--json", "specs/resnet152.yaml"]),
            ("python -c 'import pydantic, yaml' (floor)", [PY, "-c", "import pydantic, yaml"])]
    if importlib.util.find_spec("keras"):
        rows.append(("keras.applications.ResNet152 + summary()", [PY, "-c", KERAS]))
    if importlib.util.find_spec("torchvision") and importlib.util.find_spec("torchinfo"):
        rows.append(("torchvision resnet152 + torchinfo.summary", [PY, "-c", TORCH]))
    results = {}
    print(f"\n{'command':48} {'wall s':>8} {'peak MiB':>9} {'x archspec':>11}")
    for label, cmd in rows:
        got = measure(cmd, args.repeat if "keras" not in label and "torch" not in label else 3)
        results[label] = got
        if got is None:
            print(f"{label:48} {'failed':>8}")
            continue
        base = results[rows[0][0]]
        print(f"{label:48} {got[0]:8.3f} {got[1]:9.1f} {got[0] / base[0]:10.1f}x")
    print("\ntargets: wall <= 0.15 s, peak <= 60 MiB")
    print()
    for label, value in in_process().items():
        print(f"{label:48} {value:10.3f}")
    print("targets: >= 500 ResNet-50 checks/s; 10,000 layers <= 1 s, linear growth")


if __name__ == "__main__":
    main()
