"""How long `archspec check` takes on specs that sit at archspec/limits.py's expansion limits:
the numbers behind MAX_LAYERS and EXPANSION_STEPS_PER_LAYER (target: under ~2 s and 300 MB on
a 2-core machine, whole process included).

    python benchmarks/limits_speed.py [--layers N] [--runs 3]

Each case runs the real CLI in a fresh process; reported are the best wall time, the CPU time
of that run (less sensitive to other load on the machine) and the peak RSS.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HEAD = "name: t\ninput: {shape: [8]}\n"


def _fan_out(prefix: str, depth: int, leaf: str) -> str:
    """Blocks that each call the next twice: 2**depth calls of the last one."""
    lines = []
    for i in range(depth + 1):
        body = leaf if i == depth else f"{prefix}{i + 1}, {prefix}{i + 1}"
        lines.append(f"  {prefix}{i}:\n    layers: [{body}]\n")
    return "".join(lines)


def cases(layers: int) -> dict[str, str]:
    depth = max(1, layers.bit_length() - 1)  # 2**depth calls reach about `layers` layers
    nothing = "{repeat: {times: 0, layers: [ReLU]}}"
    return {
        "repeat of ReLUs at the limit": f"{HEAD}layers:\n  - repeat: {{times: {layers}, "
                                        f"layers: [ReLU]}}\n",
        "block fan-out to the limit": f"{HEAD}blocks:\n{_fan_out('b', depth, 'ReLU')}"
                                      f"layers: [b0]\n",
        "30-level fan-out making nothing": f"{HEAD}blocks:\n{_fan_out('e', 30, nothing)}"
                                           f"layers: [ReLU, e0]\n",
        "empty repeats (refused)": f"{HEAD}layers:\n  - repeat: {{times: 200000, layers: "
                                   f"[{{repeat: {{times: 200000, layers: []}}}}]}}\n",
        "one more layer (refused)": f"{HEAD}layers:\n  - repeat: {{times: {layers + 1}, "
                                    f"layers: [ReLU]}}\n",
        "10,000 bad references": HEAD + "layers:\n" + "".join(
            f"  - ReLU: {{name: r{i}, inputs: zz{i}}}\n" for i in range(10_000)),
    }


def measure(path: Path, args: list[str]) -> tuple[float, float, float]:
    """Wall seconds, CPU seconds and peak RSS (MiB) of one `archspec` process."""
    start = time.perf_counter()
    process = subprocess.Popen([sys.executable, "-m", "archspec.cli", *args, str(path)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, _, usage = os.wait4(process.pid, 0)  # this child's own usage, not all children's
    wall = time.perf_counter() - start
    process.returncode = 0  # reaped above
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024


def main() -> None:
    from archspec.limits import MAX_LAYERS
    parser = argparse.ArgumentParser()
    parser.add_argument("--layers", type=int, default=MAX_LAYERS)
    parser.add_argument("--runs", type=int, default=3)
    options = parser.parse_args()
    extra = [] if options.layers == MAX_LAYERS else ["--max-layers", str(options.layers)]
    print(f"load average {os.getloadavg()[0]:.1f}; {options.layers:,} layers allowed")
    with tempfile.TemporaryDirectory() as tmp:
        for name, text in cases(options.layers).items():
            path = Path(tmp) / "spec.yaml"
            path.write_text(text)
            for mode in (["check"], ["check", "--json"]):
                runs = [measure(path, mode + extra) for _ in range(options.runs)]
                wall, cpu, _ = min(runs)
                rss = max(r[2] for r in runs)
                print(f"{name:32} {' '.join(mode):14} wall {wall:5.2f} s  cpu {cpu:5.2f} s  "
                      f"peak {rss:5.0f} MiB")


if __name__ == "__main__":
    main()
