"""Compiled PyTorch models against torchvision's own, measured alternately in one run.

    python benchmarks/torch_speed.py [--rounds 7] [--batch 8] [--device cpu|cuda]

For resnet50 and vgg16: forward throughput (images/s, inference mode) of the archspec-compiled
module and of torchvision's model of the same architecture, with the same weights (loaded from
torchvision into ours). Rounds alternate ours/theirs so drift in machine load hits both; the
median round is reported with the ratio ours/theirs (≥ 0.97 is the target). ``--device cuda``
runs bf16 with channels_last and torch.compile, at --batch 256 by default.

Also: spec → in-memory module for ResNet-50 (after torch is imported), against building
torchvision's resnet50. Needs torchvision (here: torch 2.14.1 + torchvision 0.29.1).
"""

from __future__ import annotations

import argparse
import platform
import statistics
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parent.parent


def throughput(model, x, iterations: int, sync) -> float:
    start = time.perf_counter()
    for _ in range(iterations):
        model(x)
    sync()
    return iterations * x.shape[0] / (time.perf_counter() - start)


def compare(name: str, args) -> dict:
    import torchvision

    import archspec
    reference = getattr(torchvision.models, name)(weights=None).eval()
    graph = archspec.analyze(ROOT / "specs" / f"{name}.yaml")
    ours = archspec.compile(ROOT / "specs" / f"{name}.yaml").eval()
    archspec.load_reference_weights(ours, reference, graph)
    x = torch.randn(args.batch, 3, 224, 224)
    sync = (lambda: None)
    if args.device == "cuda":
        sync = torch.cuda.synchronize
        x = x.cuda().to(torch.bfloat16).to(memory_format=torch.channels_last)
        reference = torch.compile(reference.cuda().to(torch.bfloat16)
                                  .to(memory_format=torch.channels_last))
        ours = torch.compile(ours.cuda().to(torch.bfloat16).to(memory_format=torch.channels_last))
    with torch.inference_mode():
        for model in (ours, reference):  # warm-up (and compilation)
            for _ in range(3):
                model(x)
        sync()
        rounds = {"archspec": [], "torchvision": []}
        for _ in range(args.rounds):
            rounds["archspec"].append(throughput(ours, x, args.iterations, sync))
            rounds["torchvision"].append(throughput(reference, x, args.iterations, sync))
    ours_ips = statistics.median(rounds["archspec"])
    theirs_ips = statistics.median(rounds["torchvision"])
    return {"model": name, "archspec": ours_ips, "torchvision": theirs_ips,
            "ratio": ours_ips / theirs_ips}


def build_time(args) -> dict:
    import torchvision

    import archspec
    spec = ROOT / "specs" / "resnet50.yaml"
    times = {"archspec": [], "torchvision": []}
    for _ in range(args.rounds):
        start = time.perf_counter()
        archspec.compile(archspec.load(spec))
        times["archspec"].append(time.perf_counter() - start)
        start = time.perf_counter()
        torchvision.models.resnet50(weights=None)
        times["torchvision"].append(time.perf_counter() - start)
    return {k: statistics.median(v) for k, v in times.items()}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--batch", type=int, default=None)
    parser.add_argument("--iterations", type=int, default=3)
    parser.add_argument("--device", choices=["cpu", "cuda"], default="cpu")
    parser.add_argument("--models", nargs="*", default=["resnet50", "vgg16"])
    args = parser.parse_args()
    args.batch = args.batch or (256 if args.device == "cuda" else 8)
    print(f"# {platform.platform()}, {platform.processor() or platform.machine()}, "
          f"{torch.get_num_threads()} threads, torch {torch.__version__}, device {args.device}"
          + (f" ({torch.cuda.get_device_name()})" if args.device == "cuda" else ""))
    print(f"# batch {args.batch}, {args.iterations} iterations per round, median of "
          f"{args.rounds} alternating rounds")
    print("| model | archspec img/s | torchvision img/s | ratio |")
    print("|---|---|---|---|")
    for name in args.models:
        r = compare(name, args)
        print(f"| {r['model']} | {r['archspec']:.1f} | {r['torchvision']:.1f} | "
              f"{r['ratio']:.3f} |", flush=True)
    b = build_time(args)
    print(f"\nResNet-50 build (torch imported): archspec spec → module {b['archspec']:.3f} s, "
          f"torchvision resnet50() {b['torchvision']:.3f} s")


if __name__ == "__main__":
    main()
