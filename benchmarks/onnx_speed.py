"""ONNX export of a spec, against the way it is done without archspec: build the model in
torch, then torch.onnx.export it. Measured alternately in one run.

    python benchmarks/onnx_speed.py [--rounds 5] [--spec resnet152]

- ``archspec export`` end to end, as a user runs it (a fresh interpreter: imports, analysis,
  seeded weights, the graph, the file written);
- the same in process (analysis + to_onnx + serialisation), after imports;
- torch: archspec.compile (the module, initialised) + torch.onnx.export (TorchScript
  exporter, opset 17) to a file, after imports; skipped where torch cannot export.
Prints each median and the ratio torch / archspec. The target is ≤ 2 s end to end for
resnet152.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def end_to_end(spec: Path, out: Path) -> float:
    start = time.perf_counter()
    subprocess.run([str(Path(sys.executable).with_name("archspec")), "export", str(spec), "-o",
                    str(out)],
                   check=True, capture_output=True)
    return time.perf_counter() - start


def in_process(spec: Path, out: Path) -> float:
    import archspec
    from archspec.onnx_export import save_onnx
    start = time.perf_counter()
    save_onnx(archspec.analyze(spec), str(out))
    return time.perf_counter() - start


def through_torch(spec: Path, out: Path) -> float | None:
    import torch

    import archspec
    start = time.perf_counter()
    module = archspec.compile(spec).eval()
    shape = archspec.analyze(spec).input_shape
    x = torch.zeros((1, shape[-1]) + tuple(shape[:-1]))
    try:
        torch.onnx.export(module, (x,), str(out), opset_version=17, dynamo=False,
                          dynamic_axes={"input": {0: "N"}}, input_names=["input"])
    except Exception as exc:  # noqa: BLE001 - an exporter that cannot run is reported, not fatal
        print(f"  torch.onnx.export failed: {type(exc).__name__}: {exc}"[:200])
        return None
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--spec", default="resnet152")
    args = parser.parse_args()
    spec = ROOT / "specs" / f"{args.spec}.yaml"
    print(f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, "
          f"Python {platform.python_version()}; {args.spec}, {args.rounds} rounds")
    times: dict[str, list[float]] = {"cli": [], "in_process": [], "torch": []}
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "model.onnx"
        in_process(spec, out)  # imports and caches warm
        for _ in range(args.rounds):
            times["cli"].append(end_to_end(spec, out))
            times["in_process"].append(in_process(spec, out))
            took = through_torch(spec, out)
            if took is not None:
                times["torch"].append(took)
        size = out.stat().st_size
    medians = {k: statistics.median(v) for k, v in times.items() if v}
    print(f"  archspec export (CLI, end to end): {medians['cli']:.2f} s")
    print(f"  archspec in process:               {medians['in_process']:.2f} s")
    if "torch" in medians:
        print(f"  torch build + torch.onnx.export:   {medians['torch']:.2f} s "
              f"({medians['torch'] / medians['in_process']:.1f}x archspec in process)")
    print(f"  file: {size / 1e6:.0f} MB")


if __name__ == "__main__":
    main()
