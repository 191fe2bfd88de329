"""Runs a zoo of specs on the Keras backend named by KERAS_BACKEND, in its own process (Keras
picks its backend once, at import); run by test_keras_backends_agree, once per backend.

Usage: keras_backend_worker.py CASES.json OUT_DIR. For each case it writes OUT_DIR/<name>.npy
(the model's output on the case's input) and, in OUT_DIR/results.json, the backend, a hash of
the generated source and what ``verify`` (Keras against torch after a weight transfer) found.
"""

import hashlib
import json
import os
import sys
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402


def _deterministic_weights(model, graph) -> None:
    """The same weights on every backend: drawn by numpy, in the graph's order."""
    from archspec.weights import keras_weights, set_keras_weights
    rng = np.random.default_rng(0)
    weights = keras_weights(model, graph)
    for name in sorted(weights):
        for key in sorted(weights[name]):
            low = 0.5 if key in ("gamma", "moving_variance", "variance") else -1.0
            array = weights[name][key]  # Normalization's count is an integer
            weights[name][key] = rng.uniform(low, 1.5, array.shape).astype(array.dtype)
    set_keras_weights(model, graph, weights)


def run_case(case: dict, out: Path) -> dict:
    import archspec
    from archspec.verification import sample_input, verify
    from archspec.weights import keras_to_numpy
    graph = archspec.analyze(case["spec"])
    source = archspec.generate(case["spec"], backend="keras")
    model = archspec.compile(case["spec"], backend="keras")
    if case.get("random_weights"):
        _deterministic_weights(model, graph)
    if case.get("x") is not None:
        x = np.asarray(case["x"], dtype=np.float32)
    else:
        x = sample_input(graph, 2, np.random.default_rng(1))  # indices for an Embedding
    np.save(out / f"{case['name']}.npy", keras_to_numpy(model(x, training=False)))
    report = verify(graph)
    return {"source_sha256": hashlib.sha256(source.encode()).hexdigest(),
            "verify_passed": report.passed, "output_diff": report.output_diff,
            "problems": [(c.name, c.problems) for c in report.layers if not c.passed]}


def main(cases_file: str, out_dir: str) -> None:
    import keras
    out = Path(out_dir)
    cases = json.loads(Path(cases_file).read_text())
    results = {"backend": keras.backend.backend(),
               "cases": {case["name"]: run_case(case, out) for case in cases}}
    (out / "results.json").write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main(*sys.argv[1:])
