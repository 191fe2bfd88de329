"""One spec, two frameworks, same numbers: weight exchange, `archspec verify`, `convert`,
reference weights, and the training-parity example."""

from __future__ import annotations

import gc
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import yaml
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings

torch = pytest.importorskip("torch")
keras = pytest.importorskip("keras")

from keras_helpers import examples, to_numpy  # noqa: E402
from spec_strategies import specs  # noqa: E402

import archspec  # noqa: E402
from archspec.cli import main  # noqa: E402
from archspec.verification import ATOL, RTOL, verify  # noqa: E402
from archspec.reference import reference_exchange, reference_pairs  # noqa: E402
from archspec.weights import keras_weights, set_keras_weights, set_weights  # noqa: E402

ROOT = Path(__file__).parent.parent
# densenet (426 layers), convnext, mobilenet_v3 and efficientnet are verified in
# tests/test_reference.py, with keras.applications' DenseNet121, ConvNeXtTiny, MobileNetV3Large
# and EfficientNetB0 as the references: one run checks what the zoo test below does, and more.
VERIFIED_WITH_REFERENCE = {"densenet", "convnext", "mobilenet_v3", "efficientnet"}
# resnet.yaml at its defaults is resnet50.yaml, which is here
ZOO = sorted(p.stem for p in (ROOT / "specs").glob("*.yaml")
             if p.stem not in VERIFIED_WITH_REFERENCE | {"resnet"})


def assert_verified(graph):
    report = verify(graph)
    failed = [(c.name, c.type, c.problems) for c in report.layers if not c.passed]
    assert not failed, failed
    assert report.output_diff is not None and report.backends == ["torch", "keras"]
    for check in report.layers:  # the bound the report applies, restated
        assert check.max_diff <= ATOL + RTOL * max(1.0, check.scale)
    return report


# VGG's classifier is 120 M of its 140 M weights only because 224x224 inputs leave a 7x7x512
# map to flatten; at 32x32 every layer is still there and checked, at a third of the memory
# (the full-size models are checked against keras.applications below and torchvision).
SMALLER_INPUT = {"vgg16": [32, 32, 3], "vgg19": [32, 32, 3]}


@pytest.mark.parametrize("name", ZOO)
def test_zoo_agrees_layer_by_layer_after_transfer(spec_dir, name, released):
    spec = spec_dir / f"{name}.yaml"
    if name in SMALLER_INPUT:
        spec = yaml.safe_load(spec.read_text())
        spec["input"]["shape"] = SMALLER_INPUT[name]
    assert_verified(archspec.analyze(spec))


@settings(max_examples=examples(100), deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(specs())
def test_random_specs_agree_and_round_trip_bit_for_bit(doc):
    graph = archspec.analyze(doc)
    assert_verified(graph)
    first = archspec.compile(graph_spec(doc), backend="keras")
    weights = keras_weights(first, graph)
    for arrays in weights.values():  # distinct values everywhere, so any mix-up shows
        for key, array in arrays.items():
            arrays[key] = np.random.default_rng(7).uniform(0.5, 1.5, array.shape).astype(
                array.dtype)
    set_keras_weights(first, graph, weights)
    middle = archspec.compile(graph_spec(doc), backend="torch")
    last = archspec.compile(graph_spec(doc), backend="keras")
    archspec.transfer_weights(first, middle, graph)
    archspec.transfer_weights(middle, last, graph)
    back = keras_weights(last, graph)
    assert weights.keys() == back.keys()
    for name, arrays in weights.items():
        for key, array in arrays.items():
            assert np.array_equal(array, back[name][key]), (name, key)


def graph_spec(doc):
    return archspec.loads(yaml.safe_dump(doc))


def test_torch_to_keras_gives_the_same_outputs(spec_dir):
    spec = spec_dir / "mnist_cnn.yaml"  # a Flatten feeding a Dense: rows are permuted
    source, target = archspec.compile(spec), archspec.compile(spec, backend="keras")
    archspec.transfer_weights(source, target, spec)
    x = np.random.default_rng(0).random((3, 28, 28, 1), dtype=np.float32)
    expected = source.eval()(torch.from_numpy(x).permute(0, 3, 1, 2)).detach().numpy()
    np.testing.assert_allclose(to_numpy(target(x)), expected, atol=1e-6)


def test_transfer_refuses_a_model_of_another_spec(spec_dir):
    source = archspec.compile(spec_dir / "lenet5.yaml", backend="keras")
    target = archspec.compile(spec_dir / "mnist_cnn.yaml")
    with pytest.raises((ValueError, KeyError)):
        archspec.transfer_weights(source, target, spec_dir / "mnist_cnn.yaml")


# PReLU: (spec layout, the spec's shared_axes, the same sharing in Keras' channels-last counting,
# the torch module it compiles to). Input: 5 x 6 spatial, 4 channels.
PRELU_CASES = [
    ("channels_last", [1, 2], [1, 2], "PReLU"),  # one slope per channel: torch's nn.PReLU
    ("channels_first", [2, 3], [1, 2], "PReLU"),
    ("channels_last", [1, 2, 3], [1, 2, 3], "PReLU"),  # one slope in all
    ("channels_last", None, None, "KerasPReLU"),  # one slope per element
    ("channels_last", [2], [2], "KerasPReLU"),
    ("channels_first", [1], [3], "KerasPReLU"),  # shared over channels only
]


@pytest.mark.parametrize("layout, shared, keras_shared, module", PRELU_CASES)
def test_prelu_agrees_across_backends_and_with_keras_own_layer(layout, shared, keras_shared,
                                                              module):
    from spec_helpers import one_layer_spec
    shape = (5, 6, 4)  # canonical
    spec_shape = shape if layout == "channels_last" else (4, 5, 6)
    args = {"alpha_initializer": "he_uniform"} | ({"shared_axes": shared} if shared else {})
    spec = one_layer_spec({"PReLU": dict(args, name="act")}, spec_shape, layout)
    graph = archspec.analyze(spec)
    alpha_shape = tuple(1 if keras_shared and i + 1 in keras_shared else n
                        for i, n in enumerate(shape))
    assert graph["act"].meta["trainable"] == int(np.prod(alpha_shape))
    source, target = archspec.compile(spec, backend="keras"), archspec.compile(spec)
    assert type(target.act).__name__ == module
    rng = np.random.default_rng(3)
    alpha = rng.uniform(-0.5, 0.5, alpha_shape).astype(np.float32)
    set_keras_weights(source, graph, {"act": {"alpha": alpha}})
    archspec.transfer_weights(source, target, graph)
    x = rng.standard_normal((3,) + shape).astype(np.float32)
    ours = target.eval()(torch.from_numpy(x).permute(0, 3, 1, 2)).detach().permute(0, 2, 3, 1)
    oracle = keras.layers.PReLU(shared_axes=keras_shared)
    oracle.build((None,) + shape)
    oracle.set_weights([alpha])
    expected = to_numpy(oracle(x))
    np.testing.assert_allclose(ours.numpy(), expected, rtol=0, atol=1e-6)
    np.testing.assert_allclose(to_numpy(source(x)), expected, rtol=0, atol=1e-6)
    back = archspec.get_weights(target, graph)["act"]["alpha"]
    assert back.shape == alpha_shape and np.array_equal(back, alpha)


def test_prelu_in_a_network_verifies():
    spec = archspec.Spec(name="prelu_net", input=[8, 8, 3], layers=[
        archspec.Conv2D(4, 3), archspec.PReLU(shared_axes=[1, 2]), archspec.Conv2D(4, 3),
        archspec.PReLU(), archspec.Flatten(), archspec.Dense(5), archspec.PReLU()])
    assert_verified(archspec.analyze(spec))


def test_a_layer_with_parameters_and_no_slots_is_refused(spec_dir, monkeypatch):
    graph = archspec.analyze(spec_dir / "mnist_cnn.yaml")
    model = archspec.compile(spec_dir / "mnist_cnn.yaml")
    monkeypatch.setattr(type(graph.live()[0].layer), "slots", ())
    with pytest.raises(ValueError, match="declares no weight slots"):
        archspec.get_weights(model, graph)


# --- the CLI ---------------------------------------------------------------------------------

def test_verify_command_passes_and_fails(spec_dir, monkeypatch):
    runner = CliRunner()
    result = runner.invoke(main, ["verify", str(spec_dir / "mnist_cnn.yaml")])
    assert result.exit_code == 0, result.output
    assert "all 7 layers agree" in result.output and "pass" in result.output
    # Break the one subtle rule (Flatten row order) and verify must notice.
    import archspec.verification as verify_module
    import archspec.weights as weights_module
    monkeypatch.setattr(weights_module, "flatten_permutation", lambda graph, node: None)
    monkeypatch.setattr(verify_module, "flatten_permutation", lambda graph, node: None)
    result = runner.invoke(main, ["verify", str(spec_dir / "mnist_cnn.yaml")])
    assert result.exit_code == 1
    assert "FAIL" in result.output and "layers differ" in result.output


def test_convert_command_round_trip(spec_dir, tmp_path):
    spec = spec_dir / "resnet_course.yaml"
    graph = archspec.analyze(spec)
    model = archspec.compile(spec, backend="keras")
    weights = keras_weights(model, graph)
    for arrays in weights.values():
        for key, array in arrays.items():
            arrays[key] = np.random.default_rng(1).uniform(0.5, 1.5, array.shape).astype(
                array.dtype)
    set_keras_weights(model, graph, weights)
    model.save_weights(tmp_path / "a.weights.h5")
    runner = CliRunner()
    for args in (["--from", "keras", str(tmp_path / "a.weights.h5"), "--to", "torch",
                  str(tmp_path / "b.pt")],
                 ["--from", "torch", str(tmp_path / "b.pt"), "--to", "keras",
                  str(tmp_path / "c.weights.h5")]):
        result = runner.invoke(main, ["convert", str(spec), *args])
        assert result.exit_code == 0, result.output
    again = archspec.compile(spec, backend="keras")
    again.load_weights(tmp_path / "c.weights.h5")
    back = keras_weights(again, graph)
    assert all(np.array_equal(weights[n][k], back[n][k]) for n in weights for k in weights[n])
    result = runner.invoke(main, ["convert", str(spec), "--from", "keras",
                                  str(tmp_path / "missing.weights.h5"), "--to", "torch",
                                  str(tmp_path / "x.pt")])
    assert result.exit_code == 1 and "cannot convert" in result.output


# --- reference weights --------------------------------------------------------------------

def _perturb_batchnorm(model):
    rng = np.random.default_rng(5)
    for layer in model.layers:
        if type(layer).__name__ == "BatchNormalization":
            for w in layer.weights:
                low = 0.5 if w.name in ("gamma", "moving_variance") else -0.5
                w.assign(rng.uniform(low, low + 1, w.shape).astype("float32"))


@pytest.mark.reference
@pytest.mark.parametrize("spec, application, params, extra", [
    # The course's VGG-16 ends in softmax, as Keras' does: both are compared before it. VGG-19
    # differs only in depth; torchvision's is its reference (tests/test_torchvision.py).
    ("vgg16", "VGG16", None, {"classifier_activation": None}),
    ("resnet", "ResNet50", {"depth": 50, "bias": True, "stride_in_1x1": True,
                            "epsilon": 1.001e-5}, {"classifier_activation": None}),
    ("mobilenet_v2", "MobileNetV2", {"padding": "same", "epsilon": 0.001, "momentum": 0.999},
     {"classifier_activation": None}),
    # Rescaling in front, "same" padding, momentum 0.999, a head of 1x1 convolutions (Large:
    # tests/test_reference.py)
    ("mobilenet_v3", "MobileNetV3Small", {"size": "small", "preprocessing": True,
     "padding": "same", "momentum": 0.999, "head": "conv"}, {"classifier_activation": None}),
])
def test_keras_applications_weights_load_into_both_backends(spec_dir, spec, application, params,
                                                            extra, released):
    # One model at a time besides the weights: VGG's are 550 MB each, and four alive at once
    # made this the suite's peak (6.4 GB).
    reference = getattr(keras.applications, application)(weights=None, **extra)
    _perturb_batchnorm(reference)
    logits = spec == "vgg16"
    graph = archspec.analyze(spec_dir / f"{spec}.yaml", params, logits=logits)
    ours_keras = archspec.compile(spec_dir / f"{spec}.yaml", backend="keras", params=params,
                                  logits=logits)
    exchange = reference_exchange(reference_pairs(reference, graph, ours_keras), graph)
    x = np.random.default_rng(0).random((2, 224, 224, 3), dtype=np.float32)
    if any(type(layer).__name__ == "Rescaling" for layer in reference.layers):
        x *= 255  # it takes pixels: values in [0, 1) would all come out near one value
    expected = to_numpy(reference(x, training=False))
    del reference
    gc.collect()
    scale = max(1.0, float(np.abs(expected).max()))
    set_weights(ours_keras, graph, exchange)
    np.testing.assert_allclose(to_numpy(ours_keras(x, training=False)), expected,
                               atol=ATOL * scale)
    del ours_keras
    keras.backend.clear_session()
    gc.collect()
    ours_torch = archspec.compile(spec_dir / f"{spec}.yaml", backend="torch", params=params,
                                  logits=logits)
    set_weights(ours_torch, graph, exchange)
    got = ours_torch.eval()(torch.from_numpy(x).permute(0, 3, 1, 2)).detach().numpy()
    np.testing.assert_allclose(got, expected, atol=ATOL * scale)


# torchvision's: tests/test_torchvision.py, run in .ci/torchvision.sh's environment.


# --- the training-parity example -----------------------------------------------------------

def test_digits_parity_example_runs_short():
    pytest.importorskip("sklearn")
    result = subprocess.run([sys.executable, str(ROOT / "examples" / "digits_parity.py"),
                             "--quick"], capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    rows = [line for line in result.stdout.splitlines() if "mnist_" in line]
    assert len(rows) == 2
    for row in rows:
        cells = [c.strip() for c in row.strip("│ ").split("│")]
        name, params, keras_acc, torch_acc, drift = cells
        assert float(keras_acc) == pytest.approx(float(torch_acc), abs=0.02)
        assert float(drift) < 1e-4
    assert "407,050" in rows[0] and "225,034" in rows[1]


def test_verify_with_one_backend_compares_what_it_can(spec_dir, monkeypatch):
    import archspec.verification as verify_module
    monkeypatch.setattr(verify_module, "installed", lambda backend: backend == "torch")
    report = verify(archspec.analyze(spec_dir / "lenet5.yaml"))
    assert report.backends == ["torch"] and report.passed
    assert report.output_diff is None
    assert "keras not installed" in report.notes[0]
    assert all(c.torch_shape == c.shape for c in report.layers)


def test_verify_without_any_backend_is_a_usage_error(spec_dir, monkeypatch):
    import archspec.verification as verify_module
    monkeypatch.setattr(verify_module, "installed", lambda backend: False)
    result = CliRunner().invoke(main, ["verify", str(spec_dir / "lenet5.yaml")])
    assert result.exit_code == 2 and "verify needs a backend" in result.output
