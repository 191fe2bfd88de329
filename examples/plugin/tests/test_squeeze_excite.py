"""The plugin, installed: archspec finds SqueezeExcite through the entry point, its counts are
the ones worked out by hand, the torch and Keras models archspec generates compute what a
numpy squeeze-and-excitation computes with the same weights, and `archspec check` of a spec
using it works — and, with the plugin out of reach, names the missing package."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import archspec
from archspec import plugins

SPEC = Path(__file__).resolve().parent.parent / "specs" / "se_cnn.yaml"
ARCHSPEC = [sys.executable, "-c", "from archspec._entry import main; main()"]


def _se_spec(shape, ratio, layout="channels_last"):
    return {"name": "se", "input": {"shape": list(shape), "layout": layout},
            "layers": [{"SqueezeExcite": {"ratio": ratio, "name": "se"}}]}


def numpy_se(x, weights):
    """Squeeze-and-excitation by hand, channels last: the channel means over every position,
    Dense + ReLU, Dense + sigmoid, the input scaled per channel."""
    w = weights["se"]
    means = x.mean(axis=tuple(range(1, x.ndim - 1)))
    hidden = np.maximum(means @ w["squeeze_kernel"] + w["squeeze_bias"], 0.0)
    gates = 1.0 / (1.0 + np.exp(-(hidden @ w["excite_kernel"] + w["excite_bias"])))
    return x * gates.reshape((x.shape[0],) + (1,) * (x.ndim - 2) + (x.shape[-1],))


def _random_weights(channels, units, seed=0):
    rng = np.random.default_rng(seed)
    draw = lambda *shape: rng.normal(0.0, 0.5, shape).astype(np.float32)  # noqa: E731
    return {"se": {"squeeze_kernel": draw(channels, units), "squeeze_bias": draw(units),
                   "excite_kernel": draw(units, channels), "excite_bias": draw(channels)}}


def test_the_entry_point_brings_the_type():
    state = plugins.installed()
    (plugin,) = [p for p in state["plugins"] if p["package"] == "archspec-squeeze-excite"]
    assert plugin["entry_point"] == "squeeze_excite = archspec_squeeze_excite"
    assert plugin["types"]["SqueezeExcite"]["backends"] == ["keras", "torch"]
    assert not state["refused"] and not state["failed"]


def test_the_completeness_checks_pass():
    # The checks tests/test_completeness.py runs on archspec's own types: case rows against
    # the shape rule and counts, weight slots against the counts, kind, both backends' source.
    assert plugins.problems("SqueezeExcite") == []


def test_counts_by_hand():
    graph = archspec.analyze(SPEC)
    se = {n.name: n.meta for n in graph.live() if n.type == "SqueezeExcite"}
    # C = 32, ratio 8 → 4 units: 32*4 + 4 + 4*32 + 32 = 292 parameters, 2*32*4 = 256 MACs
    assert (se["squeeze_excite_1"]["trainable"], se["squeeze_excite_1"]["macs"]) == (292, 256)
    # C = 64, ratio 16 → 4 units: 64*4 + 4 + 4*64 + 64 = 580, MACs 512
    assert (se["squeeze_excite_2"]["trainable"], se["squeeze_excite_2"]["macs"]) == (580, 512)
    # C = 128, ratio 16 → 8 units: 128*8 + 8 + 8*128 + 128 = 2,184, MACs 2,048
    assert (se["se3"]["trainable"], se["se3"]["macs"]) == (2184, 2048)
    assert se["se3"]["shape"] == (8, 8, 128)
    # convs 896 + 18,496 + 73,856, the SE layers, Dense 128*10 + 10
    assert sum(n.meta["trainable"] for n in graph.live()) == \
        896 + 18496 + 73856 + 292 + 580 + 2184 + 1290


@pytest.mark.parametrize("ratio, units", [(8, 2), (16, 1)])
def test_shape_errors_name_the_layer(ratio, units):
    with pytest.raises(archspec.SpecError) as error:
        archspec.analyze(_se_spec((4, 4, 12), ratio))
    message = str(error.value)
    assert "ratio" in message and "12 channels" in message
    with pytest.raises(archspec.SpecError, match="feature map or a sequence"):
        archspec.analyze({"name": "flat", "input": [12], "layers": [{"SqueezeExcite": 4}]})


@pytest.mark.parametrize("shape, ratio, layout", [
    ((6, 5, 16), 4, "channels_last"),
    ((16, 6, 5), 4, "channels_first"),   # the torch model takes it as it is
    ((10, 6), 2, "channels_last"),
    ((2, 3, 4, 2), 1, "channels_last"),
])
def test_torch_computes_squeeze_excite(shape, ratio, layout):
    torch = pytest.importorskip("torch")
    graph = archspec.analyze(_se_spec(shape, ratio, layout))
    channels = graph["se"].meta["shape"][-1]
    weights = _random_weights(channels, channels // ratio)
    model = archspec.compile(_se_spec(shape, ratio, layout), "torch").eval()
    archspec.set_weights(model, graph, weights)
    x = np.random.default_rng(1).normal(size=(3,) + graph.input_shape).astype(np.float32)
    torch_x = np.moveaxis(x, -1, 1)  # (N, C, *spatial), whatever the spec's layout
    with torch.no_grad():
        out = model(torch.from_numpy(np.ascontiguousarray(torch_x))).numpy()
    np.testing.assert_allclose(np.moveaxis(out, 1, -1), numpy_se(x, weights), rtol=1e-5,
                               atol=1e-6)
    assert archspec.get_weights(model, graph)["se"]["squeeze_kernel"].shape == \
        (channels, channels // ratio)


@pytest.mark.parametrize("shape, ratio", [((6, 5, 16), 4), ((10, 6), 2), ((2, 3, 4, 2), 1)])
def test_keras_computes_squeeze_excite(shape, ratio):
    pytest.importorskip("keras")
    graph = archspec.analyze(_se_spec(shape, ratio))
    weights = _random_weights(shape[-1], shape[-1] // ratio)
    model = archspec.compile(_se_spec(shape, ratio), "keras")
    archspec.set_weights(model, graph, weights)
    x = np.random.default_rng(2).normal(size=(3,) + tuple(shape)).astype(np.float32)
    out = np.asarray(model(x))
    np.testing.assert_allclose(out, numpy_se(x, weights), rtol=1e-5, atol=1e-6)


def test_weights_transfer_between_the_frameworks():
    torch = pytest.importorskip("torch")
    pytest.importorskip("keras")
    spec = _se_spec((6, 5, 16), 4)
    keras_model, torch_model = archspec.compile(spec, "keras"), archspec.compile(spec, "torch")
    archspec.transfer_weights(keras_model, torch_model, spec)
    x = np.random.default_rng(3).normal(size=(2, 6, 5, 16)).astype(np.float32)
    with torch.no_grad():
        out = torch_model(torch.from_numpy(np.ascontiguousarray(np.moveaxis(x, -1, 1))))
    np.testing.assert_allclose(np.moveaxis(out.numpy(), 1, -1), np.asarray(keras_model(x)),
                               rtol=1e-5, atol=1e-6)


def _check(*args, **env):
    return subprocess.run(ARCHSPEC + ["check", *args], capture_output=True, text=True,
                          env={**os.environ, **env})


def test_archspec_check_of_a_spec_using_it():
    result = _check(str(SPEC))
    assert result.returncode == 0, result.stderr
    assert "SqueezeExcite" in result.stdout and "Trainable params: 97,594" in result.stdout


def test_archspec_check_names_the_missing_plugin():
    result = _check(str(SPEC), ARCHSPEC_DISABLE_PLUGINS="1")
    assert result.returncode == 1
    assert "archspec-squeeze-excite" in result.stderr
    assert "unknown layer type 'SqueezeExcite'" in result.stderr
