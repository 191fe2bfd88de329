"""One spec means the same on every Keras 3 backend: a zoo of specs runs in one process per
backend (TensorFlow, torch, JAX); the outputs agree with each other and with values worked out
by hand, ``verify`` (Keras against PyTorch after a weight transfer) passes on each, and the
generated source is the same whichever backend generated it."""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("keras")
pytest.importorskip("torch")  # verify compares with the torch model

# Three backend processes side by side take a minute on two cores: CI runs them in its Keras
# backends step (.ci/keras_backends.sh sets ARCHSPEC_CROSS_BACKEND=1), beside the runs of the
# Keras tests on the torch and JAX backends, rather than in the main suite.
pytestmark = pytest.mark.skipif(os.environ.get("ARCHSPEC_CROSS_BACKEND") != "1",
                                reason="the cross-backend comparison runs in "
                                       ".ci/keras_backends.sh (ARCHSPEC_CROSS_BACKEND=1)")

import archspec  # noqa: E402

ROOT = Path(__file__).parent.parent
WORKER = Path(__file__).with_name("keras_backend_worker.py")
BACKENDS = {"tensorflow": "tensorflow", "torch": "torch", "jax": "jax"}  # backend → module


def _spec(name, shape, layers, layout="channels_last"):
    return {"archspec": 1, "name": name, "input": {"shape": shape, "layout": layout},
            "layers": layers}


def _column(values):
    return [[[float(v)] for v in values]]  # one sample, a 1-D map of one channel


# name, spec, input, expected output: worked out by hand from the spec's meaning.
HAND = [
    # Padding (0, 1) splits unevenly; the padded cell does not count: (1 + 2) / 2. Keras' torch
    # backend gives 1.6667 natively (it pads by repeating the 2).
    ("avg_same_uneven", _spec("a", [1, 2, 1], [{"AveragePooling2D": {
        "pool_size": 3, "padding": "same"}}]), [[[[1.0], [2.0]]]], [[[[1.5]]]]),
    # Padding (1, 2): windows [p 1 2 3], [1 2 3 4], [2 3 4 p], [3 4 p p].
    ("avg_same_1d", _spec("b", [4, 1], [{"AveragePooling1D": {
        "pool_size": 4, "strides": 1, "padding": "same"}}]),
     _column([1, 2, 3, 4]), _column([2.0, 2.5, 3.0, 3.5])),
    # Padding (1, 1), even: [p 1 2], [1 2 4], [2 4 p].
    ("avg_same_even", _spec("c", [3, 1], [{"AveragePooling1D": {
        "pool_size": 3, "strides": 1, "padding": "same"}}]),
     _column([1, 2, 4]), _column([1.5, 7 / 3, 3.0])),
    # Padding (0, 1): windows [-1 -2 -3], [-3 -4 p]; a padded cell never wins, even over -4.
    ("max_same_negative", _spec("d", [4, 1], [{"MaxPooling1D": {
        "pool_size": 3, "strides": 2, "padding": "same"}}]),
     _column([-1, -2, -3, -4]), _column([-1.0, -3.0])),
    # Kernel [1 1], stride 2, padding (0, 1) after the input: [1+2, 3+4, 5+0].
    ("conv_same_strided", _spec("e", [5, 1], [{"Conv1D": {
        "filters": 1, "kernel_size": 2, "strides": 2, "padding": "same", "use_bias": False,
        "kernel_initializer": "ones"}}]), _column([1, 2, 3, 4, 5]), _column([3.0, 7.0, 5.0])),
    # Kernel [1 _ 1] (dilation 2): each input cell lands on itself and two cells on.
    # TensorFlow's CPU kernels refuse a dilated Conv1DTranspose; the helper layer does it.
    ("transpose_dilated", _spec("f", [3, 1], [{"Conv1DTranspose": {
        "filters": 1, "kernel_size": 2, "dilation_rate": 2, "use_bias": False,
        "kernel_initializer": "ones"}}]), _column([1, 2, 3]), _column([1.0, 2.0, 4.0, 2.0, 3.0])),
]

# Random weights and inputs: every native "same" and every helper, where backends could differ.
RANDOM = [
    ("mixed_2d", _spec("mixed", [12, 11, 3], [
        {"Conv2D": {"filters": 4, "kernel_size": 4, "strides": 2, "padding": "same"}},
        "BatchNormalization", "ReLU",
        {"DepthwiseConv2D": {"kernel_size": 3, "strides": 2, "padding": "same"}},
        {"UpSampling2D": {"size": 2, "interpolation": "bilinear"}},
        {"AveragePooling2D": {"pool_size": 3, "strides": 2, "padding": "same"}},
        {"Conv2DTranspose": {"filters": 3, "kernel_size": 3, "strides": 2, "padding": "same"}},
        {"MaxPooling2D": {"pool_size": 3, "strides": 2, "rounding": "ceil"}},
        {"GELU": {"approximate": False}}, "Flatten",
        {"Dense": {"units": 5, "activation": "softmax"}}])),
    ("pools_1d", _spec("pools", [10, 2], [
        {"AveragePooling1D": {"pool_size": 3, "strides": 2, "rounding": "ceil"}},
        {"SeparableConv1D": {"filters": 3, "kernel_size": 3, "strides": 2, "padding": "same"}},
        {"MaxPooling1D": {"pool_size": 2, "strides": 1, "padding": "same"}},
        {"AveragePooling1D": {"pool_size": 2, "padding": 1, "count_include_pad": True}},
        "GlobalAveragePooling1D"])),
    ("volumes_3d", _spec("volumes", [6, 7, 8, 2], [
        {"Conv3D": {"filters": 4, "kernel_size": 3, "strides": 2, "padding": "same"}},
        {"Conv3D": {"filters": 4, "kernel_size": 2, "groups": 2, "dilation_rate": 2,
                    "padding": "same", "activation": "relu"}},
        {"AveragePooling3D": {"pool_size": 3, "strides": 1, "padding": "same"}},  # native
        {"AveragePooling3D": {"pool_size": 2, "strides": 1, "padding": "same"}},  # helper
        {"MaxPooling3D": {"pool_size": 2, "strides": 1, "padding": "same"}},
        {"AveragePooling3D": {"pool_size": [1, 3, 3], "strides": 2, "rounding": "ceil"}},
        "BatchNormalization", "GlobalMaxPooling3D", {"Dense": {"units": 3}}])),
    # attention (torch's own layer and the per-projection helper), layer normalization over
    # a map's channels and over positions, the ViT pieces, and an embedding's lookup
    ("transformer", _spec("transformer", [8, 8, 3], [
        {"Conv2D": {"filters": 8, "kernel_size": 4, "strides": 4}}, {"Reshape": [4, 8]},
        "ClassToken", "PositionEmbedding", {"LayerNormalization": {"epsilon": 1e-6}},
        {"MultiHeadAttention": {"num_heads": 2, "key_dim": 4}},
        {"LayerNormalization": {"axis": 1, "center": False}},
        {"MultiHeadAttention": {"num_heads": 3, "key_dim": 2, "value_dim": 3, "output_shape": 5}},
        {"Take": {"index": 0}}, {"Dense": {"units": 3}}])),
    ("embedding", _spec("embedding", [6], [
        {"Embedding": {"input_dim": 7, "output_dim": 4}},
        {"MultiHeadAttention": {"num_heads": 1, "key_dim": 4, "dropout": 0.1}},
        {"Take": {"index": -1}}])),
    ("transposes", _spec("transposes", [5, 6, 2], [
        {"Conv2DTranspose": {"filters": 3, "kernel_size": 3, "strides": 2, "padding": "same",
                             "output_padding": 1}},
        {"Conv2DTranspose": {"filters": 2, "kernel_size": [3, 2], "dilation_rate": 2,
                             "padding": "same", "output_padding": 1, "activation": "tanh"}}])),
    ("channels_first", _spec("cf", [3, 5, 4], [
        {"Conv2D": {"filters": 2, "kernel_size": 2, "strides": 2, "padding": "same"}},
        "Flatten", {"Dense": {"units": 3}}], layout="channels_first")),
    ("lenet5", str(ROOT / "specs" / "lenet5.yaml")),
    # the utility layers and a squeeze-excitation gate that broadcasts, channels first
    ("utility", _spec("utility", [3, 6, 5], [
        {"Rescaling": {"scale": [0.5, 2.0, -1.0], "offset": 0.25}},
        {"Normalization": {"axis": 1, "mean": [0.1, -0.2, 0.3], "variance": [1.0, 4.0, 0.25]}},
        {"Conv2D": {"filters": 4, "kernel_size": 3, "padding": "same", "name": "main"}},
        {"GlobalAveragePooling2D": {"keepdims": True}},
        {"Conv2D": {"filters": 4, "kernel_size": 1}},
        {"HardSigmoid": {"name": "gate"}}, {"Multiply": {"inputs": ["main", "gate"]}},
        {"LayerScale": {"init_values": 0.5}}, {"Permute": [1, 3, 2]}, "HardSwish",
        {"StochasticDepth": 0.2}, {"Normalization": {"mean": 0.5, "variance": 2.0}}],
        layout="channels_first")),
]


def _cases() -> list[dict]:
    hand = [{"name": n, "spec": s, "x": x} for n, s, x, _ in HAND]
    return hand + [{"name": n, "spec": s, "random_weights": True} for n, s in RANDOM]


def _installed(backend: str) -> bool:
    return importlib.util.find_spec(BACKENDS[backend]) is not None


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> dict[str, tuple[dict, Path]]:
    """backend → (results.json, the folder of its outputs); the processes run side by side."""
    base = tmp_path_factory.mktemp("backends")
    (base / "cases.json").write_text(json.dumps(_cases()))
    started = {}
    for backend in filter(_installed, BACKENDS):
        out = base / backend
        out.mkdir()
        env = {**os.environ, "KERAS_BACKEND": backend, "TF_CPP_MIN_LOG_LEVEL": "3"}
        started[backend] = (out, subprocess.Popen(
            [sys.executable, str(WORKER), str(base / "cases.json"), str(out)], cwd=ROOT,
            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
    results = {}
    for backend, (out, process) in started.items():
        _, stderr = process.communicate(timeout=600)
        assert process.returncode == 0, f"{backend}: {stderr[-3000:]}"
        results[backend] = (json.loads((out / "results.json").read_text()), out)
    return results


def _run(runs, backend):
    if backend not in runs:
        pytest.skip(f"Keras' {backend} backend is not installed")
    return runs[backend]


def _output(runs, backend, name) -> np.ndarray:
    return np.load(_run(runs, backend)[1] / f"{name}.npy")


@pytest.mark.parametrize("backend", BACKENDS)
def test_each_backend_runs_the_zoo_and_agrees_with_torch(runs, backend):
    results, _ = _run(runs, backend)
    assert results["backend"] == backend
    failed = {name: r["problems"] for name, r in results["cases"].items()
              if not r["verify_passed"]}
    assert not failed, failed
    assert set(results["cases"]) == {c["name"] for c in _cases()}


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("name, expected", [(n, e) for n, _, _, e in HAND],
                         ids=[n for n, *_ in HAND])
def test_hand_computed_outputs(runs, backend, name, expected):
    np.testing.assert_allclose(_output(runs, backend, name), np.asarray(expected, np.float32),
                               rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("name", [c["name"] for c in _cases()])
def test_backends_give_the_same_outputs(runs, name):
    if len(runs) < 2:
        pytest.skip("only one Keras backend is installed")
    outputs = {backend: _output(runs, backend, name) for backend in runs}
    first = next(iter(outputs.values()))
    scale = max(1.0, float(np.abs(first).max()))
    for backend, out in outputs.items():
        assert out.shape == first.shape, backend
        np.testing.assert_allclose(out, first, rtol=0, atol=1e-5 * scale, err_msg=backend)


def test_generated_source_does_not_depend_on_the_backend(runs):
    for case in _cases():
        here = archspec.generate(case["spec"], backend="keras")
        digest = hashlib.sha256(here.encode()).hexdigest()
        for backend, (results, _) in runs.items():
            assert results["cases"][case["name"]]["source_sha256"] == digest, \
                (case["name"], backend)
