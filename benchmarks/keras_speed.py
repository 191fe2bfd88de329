"""Compiled Keras models against keras.applications, measured alternately in one run.

    python benchmarks/keras_speed.py [--rounds 7] [--batch 8]

For VGG16 and ResNet50 (the ResNet family spec with Keras' parameters: biased convolutions,
stride on the first 1x1, epsilon 1.001e-5): inference throughput (``predict_on_batch``, images/s)
of the archspec-compiled model and of keras.applications' with the same weights, rounds
alternating, median reported with the ratio ours/theirs (target ≥ 0.97); and the time to build
each model (archspec: spec → model, including analysis and code generation).
"""

from __future__ import annotations

import argparse
import gc
import os
import platform
import statistics
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # noqa: E402
import numpy as np  # noqa: E402

import archspec  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
MODELS = {
    "vgg16": ("vgg16.yaml", None, "VGG16", {}),
    "resnet50": ("resnet.yaml", {"depth": 50, "bias": True, "stride_in_1x1": True,
                                 "epsilon": 1.001e-5}, "ResNet50",
                 {"classifier_activation": None}),
}


def throughput(model, x, iterations: int) -> float:
    start = time.perf_counter()
    for _ in range(iterations):
        model.predict_on_batch(x)
    return iterations * len(x) / (time.perf_counter() - start)


def compare(name: str, args) -> dict:
    spec_file, params, application, extra = MODELS[name]
    spec = ROOT / "specs" / spec_file
    builders = {"archspec": lambda: archspec.compile(spec, backend="keras", params=params),
                "keras.applications": lambda: getattr(keras.applications, application)(
                    weights=None, **extra)}
    builds = {name: [] for name in builders}
    for i in range(args.rounds):
        for name in sorted(builders, reverse=bool(i % 2)):  # alternate who goes first
            gc.collect()
            start = time.perf_counter()
            model = builders[name]()
            builds[name].append(time.perf_counter() - start)
            del model
    gc.collect()
    ours, reference = builders["archspec"](), builders["keras.applications"]()
    archspec.load_reference_weights(ours, reference, archspec.analyze(spec, params))
    x = np.random.default_rng(0).random((args.batch, 224, 224, 3), dtype=np.float32)
    for model in (ours, reference):
        for _ in range(2):
            model.predict_on_batch(x)
    rounds = {"archspec": [], "keras.applications": []}
    for _ in range(args.rounds):
        rounds["archspec"].append(throughput(ours, x, args.iterations))
        rounds["keras.applications"].append(throughput(reference, x, args.iterations))
    result = {k: statistics.median(v) for k, v in rounds.items()}
    build = {k: statistics.median(v) for k, v in builds.items()}
    return {"model": name, **result, "ratio": result["archspec"] / result["keras.applications"],
            "build": build}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--iterations", type=int, default=3)
    args = parser.parse_args()
    import tensorflow as tf
    print(f"# {platform.platform()}, {os.cpu_count()} cores, keras {keras.__version__}, "
          f"tensorflow {tf.__version__}; batch {args.batch}, median of {args.rounds} "
          f"alternating rounds")
    print("| model | archspec img/s | keras.applications img/s | ratio | build archspec s | "
          "build keras.applications s |")
    print("|---|---|---|---|---|---|")
    for name in MODELS:
        r = compare(name, args)
        print(f"| {name} | {r['archspec']:.1f} | {r['keras.applications']:.1f} | "
              f"{r['ratio']:.3f} | {r['build']['archspec']:.2f} | "
              f"{r['build']['keras.applications']:.2f} |", flush=True)


if __name__ == "__main__":
    main()
