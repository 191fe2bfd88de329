"""The utility layers of modern CNNs (HardSigmoid, HardSwish, Rescaling, Normalization,
LayerScale, Permute, StochasticDepth) and broadcasting Add/Multiply: the compiled torch and
Keras models against numpy written here and against the frameworks' own layers, with weights
moved between them."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")
keras = pytest.importorskip("keras")

from keras_helpers import to_numpy  # noqa: E402
from spec_helpers import one_layer_spec  # noqa: E402

import archspec  # noqa: E402
from archspec.verification import verify  # noqa: E402
from archspec.weights import keras_weights, set_keras_weights  # noqa: E402

RNG = np.random.default_rng(12)


def _spec_layout(x: np.ndarray, channels_first: bool) -> np.ndarray:
    """A channels-last batch (the Keras model's) in the spec's layout."""
    return np.moveaxis(x, -1, 1) if channels_first and x.ndim > 2 else x


def _outputs(source, target, x_spec: np.ndarray, channels_first: bool):
    """The Keras and the torch model's outputs for a batch in the spec's layout, both in the
    spec's layout (the Keras model is channels-last, the torch model channels-first)."""
    spatial = x_spec.ndim > 2
    x_keras = np.moveaxis(x_spec, 1, -1) if channels_first and spatial else x_spec
    x_torch = np.moveaxis(x_spec, -1, 1) if spatial and not channels_first else x_spec
    got_keras = _spec_layout(to_numpy(source(x_keras, training=False)), channels_first)
    out = target.eval()(torch.from_numpy(np.ascontiguousarray(x_torch))).detach().numpy()
    got_torch = np.moveaxis(out, 1, -1) if out.ndim > 2 and not channels_first else out
    return got_keras, got_torch


def _run_both(spec, x_spec: np.ndarray, channels_first: bool):
    """Compile ``spec`` in both frameworks, move the Keras weights to torch, and run both."""
    graph = archspec.analyze(spec)
    source, target = archspec.compile(spec, backend="keras"), archspec.compile(spec)
    archspec.transfer_weights(source, target, graph)
    return (graph, source, target, *_outputs(source, target, x_spec, channels_first))


def assert_verified(graph):
    report = verify(graph)
    failed = [(c.name, c.type, c.problems) for c in report.layers if not c.passed]
    assert not failed, failed


# --- HardSigmoid, HardSwish ----------------------------------------------------------------

BREAKPOINTS = np.array([-4.0, -3.0, -3.0001, -2.9999, -1.0, 0.0, 1.0, 2.9999, 3.0, 3.0001,
                        5.0], np.float32)


@pytest.mark.parametrize("keras_name, torch_module, formula", [
    ("hard_sigmoid", "Hardsigmoid", lambda x: np.clip(x / 6 + 0.5, 0, 1)),
    ("hard_swish", "Hardswish", lambda x: x * np.clip(x + 3, 0, 6) / 6),
    ("hard_silu", "Hardswish", lambda x: x * np.clip(x + 3, 0, 6) / 6),
])
def test_keras_3_hard_activations_are_torchs(keras_name, torch_module, formula):
    x = np.concatenate([BREAKPOINTS, RNG.uniform(-6, 6, 989).astype(np.float32)])
    ours = to_numpy(keras.layers.Activation(keras_name)(x))
    theirs = getattr(torch.nn, torch_module)()(torch.from_numpy(x)).numpy()
    np.testing.assert_allclose(ours, theirs, rtol=0, atol=1e-6)
    np.testing.assert_allclose(ours, formula(x.astype(np.float64)), rtol=0, atol=1e-6)


def test_keras_2_hard_sigmoid_was_another_function():
    # Keras 2: clip(0.2 x + 0.5, 0, 1); Keras 3 (and archspec): clip(x / 6 + 0.5, 0, 1).
    x = np.float32(1.0)
    assert float(to_numpy(keras.activations.hard_sigmoid(x))) == pytest.approx(0.5 + 1 / 6)
    assert 0.2 * x + 0.5 == pytest.approx(0.7)


@pytest.mark.parametrize("layer, formula", [
    ("HardSigmoid", lambda x: np.clip(x / 6 + 0.5, 0, 1)),
    ("HardSwish", lambda x: x * np.clip(x + 3, 0, 6) / 6),
])
@pytest.mark.parametrize("layout", ["channels_last", "channels_first"])
def test_hard_activations_compile_to_keras_3s_meaning(layer, formula, layout):
    spec = one_layer_spec(layer, [4, 5, 3], layout)
    x = np.concatenate([np.resize(BREAKPOINTS, 60), RNG.uniform(-5, 5, 60)]).astype(
        np.float32).reshape(2, 4, 5, 3)
    _, _, _, got_keras, got_torch = _run_both(spec, x, layout == "channels_first")
    np.testing.assert_allclose(got_keras, formula(x), rtol=0, atol=1e-6)
    np.testing.assert_allclose(got_torch, formula(x), rtol=0, atol=1e-6)


# --- Rescaling, Normalization ----------------------------------------------------------------

@pytest.mark.parametrize("layout", ["channels_last", "channels_first"])
def test_rescaling_per_channel_in_both_layouts(layout):
    cf = layout == "channels_first"
    scale, offset = [0.5, -2.0, 3.0], [0.25, 0.0, -1.0]
    spec = one_layer_spec({"Rescaling": {"scale": scale, "offset": offset}},
                          [3, 4, 5] if cf else [4, 5, 3], layout)
    x = RNG.standard_normal((2, 3, 4, 5) if cf else (2, 4, 5, 3)).astype(np.float32)
    shape = (1, 3, 1, 1) if cf else (1, 1, 1, 3)
    expected = x * np.reshape(scale, shape) + np.reshape(offset, shape)
    _, _, _, got_keras, got_torch = _run_both(spec, x, cf)
    np.testing.assert_allclose(got_keras, expected, rtol=0, atol=1e-6)
    np.testing.assert_allclose(got_torch, expected, rtol=0, atol=1e-6)


def test_rescaling_by_a_number():
    spec = one_layer_spec({"Rescaling": {"scale": 1 / 255, "offset": -1.0}}, [6])
    x = RNG.uniform(0, 255, (3, 6)).astype(np.float32)
    _, _, _, got_keras, got_torch = _run_both(spec, x, False)
    np.testing.assert_allclose(got_keras, x / 255 - 1, rtol=0, atol=1e-6)
    np.testing.assert_allclose(got_torch, x / 255 - 1, rtol=0, atol=1e-6)


def _normalized(x, mean, variance, axis):
    """Keras' formula, written out: (x - mean) / max(sqrt(variance), 1e-7) along ``axis``."""
    shape = [1] * x.ndim
    shape[axis] = -1
    mean = np.broadcast_to(np.asarray(mean, np.float64), (x.shape[axis],)).reshape(shape)
    variance = np.broadcast_to(np.asarray(variance, np.float64), (x.shape[axis],))
    return (x - mean) / np.maximum(np.sqrt(variance), 1e-7).reshape(shape)


# (spec layout, spec input shape, axis in the spec, numpy axis of a spec-layout batch, mean,
# variance); a variance of 0 divides by Keras' epsilon, 1e-7.
NORMALIZATION_CASES = [
    ("channels_last", [4, 5, 3], -1, 3, [0.485, 0.456, 0.406], [0.052441, 0.050176, 0.0]),
    ("channels_first", [3, 4, 5], 1, 1, [0.485, 0.456, 0.406], [0.052441, 0.050176, 0.050625]),
    ("channels_first", [3, 4, 5], -1, 3, 0.5, 4.0),  # the width axis, one number for all
    ("channels_last", [4, 5, 3], 1, 1, [1.0, -1.0, 0.0, 2.0], [1.0, 4.0, 0.25, 9.0]),  # rows
    ("channels_last", [6], -1, 1, [0.0, 1, 2, 3, 4, 5], [1.0, 2, 3, 4, 5, 6]),
]


@pytest.mark.parametrize("layout, shape, axis, np_axis, mean, variance", NORMALIZATION_CASES)
def test_normalization_is_keras_formula_in_both(layout, shape, axis, np_axis, mean, variance):
    cf = layout == "channels_first"
    spec = one_layer_spec({"Normalization": {"axis": axis, "mean": mean, "variance": variance,
                                             "name": "norm"}}, shape, layout)
    x = RNG.standard_normal((2, *shape)).astype(np.float32)
    graph, source, _, got_keras, got_torch = _run_both(spec, x, cf)
    size = x.shape[np_axis]
    assert graph["norm"].meta["non_trainable"] == 2 * size + 1
    expected = _normalized(x.astype(np.float64), mean, variance, np_axis)
    scale = max(1.0, np.abs(expected).max())
    np.testing.assert_allclose(got_keras, expected, rtol=0, atol=2e-6 * scale)
    np.testing.assert_allclose(got_torch, expected, rtol=0, atol=2e-6 * scale)
    # Keras' own layer, given the statistics as constants, means the same (on the Keras
    # model's channels-last batch, where a channels-first spec's axis 1 is the last).
    x_keras, keras_axis = x, np_axis
    if cf and x.ndim > 2:
        x_keras, keras_axis = np.moveaxis(x, 1, -1), x.ndim - 1 if np_axis == 1 else np_axis - 1
    native = keras.layers.Normalization(axis=keras_axis, mean=mean, variance=variance)
    np.testing.assert_allclose(to_numpy(native(x_keras)), to_numpy(source(x_keras)),
                               rtol=1e-6, atol=1e-6)


def test_normalization_statistics_are_keras_adapt_weights_and_move_to_torch():
    spec = one_layer_spec({"Normalization": {"mean": [0.0, 0.0, 0.0], "variance": [1.0] * 3,
                                             "name": "norm"}}, [5, 5, 3])
    graph = archspec.analyze(spec)
    ours, target = archspec.compile(spec, backend="keras"), archspec.compile(spec)
    # keras.applications' EfficientNet input: Normalization(axis=-1), its statistics set later.
    native = keras.layers.Normalization(axis=-1)
    native.build((None, 5, 5, 3))
    assert [(w.name, tuple(w.shape), w.trainable) for w in native.weights] == \
        [(w.name, tuple(w.shape), w.trainable) for w in ours.get_layer("norm").weights]
    assert sum(int(np.prod(w.shape)) for w in native.weights) == 7
    mean, variance = np.float32([0.5, -1.0, 2.0]), np.float32([4.0, 0.25, 1.0])
    native.set_weights([mean, variance, np.int64(9)])
    native.finalize_state()
    set_keras_weights(ours, graph, {"norm": {"mean": mean, "variance": variance,
                                             "count": np.asarray(9)}})
    archspec.transfer_weights(ours, target, graph)
    assert int(target.norm.count) == 9 and target.norm.count.dtype == torch.int64
    x = RNG.standard_normal((2, 5, 5, 3)).astype(np.float32)
    expected = to_numpy(native(x))
    np.testing.assert_allclose(to_numpy(ours(x)), expected, rtol=1e-6, atol=1e-6)
    got = target.eval()(torch.from_numpy(x).permute(0, 3, 1, 2)).permute(0, 2, 3, 1)
    np.testing.assert_allclose(got.detach().numpy(), expected, rtol=1e-6, atol=1e-6)
    back = archspec.get_weights(target, graph)["norm"]
    assert np.array_equal(back["mean"], mean) and np.array_equal(back["variance"], variance)
    assert {k: v.shape for k, v in back.items()} == {"mean": (3,), "variance": (3,),
                                                     "count": ()}


# --- LayerScale ----------------------------------------------------------------------------

@pytest.mark.parametrize("layout", ["channels_last", "channels_first"])
def test_layer_scale_scales_channels_and_moves_between_frameworks(layout):
    cf = layout == "channels_first"
    spec = one_layer_spec({"LayerScale": {"init_values": 1e-6, "name": "ls"}},
                          [4, 5, 6] if cf else [5, 6, 4], layout)
    graph = archspec.analyze(spec)
    source, target = archspec.compile(spec, backend="keras"), archspec.compile(spec)
    assert isinstance(target.ls, torch.nn.Parameter)  # as torchvision's CNBlock holds it
    assert tuple(target.ls.shape) == (4, 1, 1) and torch.all(target.ls == np.float32(1e-6))
    assert np.all(to_numpy(source.get_layer("ls").weights[0]) == np.float32(1e-6))
    gamma = RNG.uniform(0.5, 1.5, 4).astype(np.float32)
    set_keras_weights(source, graph, {"ls": {"gamma": gamma}})
    archspec.transfer_weights(source, target, graph)
    x = RNG.standard_normal((2, 4, 5, 6) if cf else (2, 5, 6, 4)).astype(np.float32)
    got_keras, got_torch = _outputs(source, target, x, cf)
    expected = x * gamma.reshape((1, 4, 1, 1) if cf else (1, 1, 1, 4))
    np.testing.assert_allclose(got_keras, expected, rtol=0, atol=1e-6)
    np.testing.assert_allclose(got_torch, expected, rtol=0, atol=1e-6)
    # keras.applications' own ConvNeXt LayerScale, with the same gamma, agrees.
    from keras.src.applications.convnext import LayerScale
    theirs = LayerScale(1e-6, 4)
    theirs.build((None, 5, 6, 4))
    theirs.set_weights([gamma])
    x_keras = np.moveaxis(x, 1, -1) if cf else x
    np.testing.assert_array_equal(to_numpy(theirs(x_keras)), to_numpy(source(x_keras)))


CONVNEXT_LIKE = """
name: convnext_like
input: {shape: [4, 6, 6], layout: channels_first}
blocks:
  cnblock:
    layers:
      - group: {name: block, layers: [DepthwiseConv2D: {kernel_size: 3, padding: same},
                                      Conv2D: {filters: 4, kernel_size: 1}]}
      - LayerScale: {name: layer_scale}
      - StochasticDepth: {rate: 0.1, name: stochastic_depth}
      - Add: {inputs: [input, stochastic_depth]}
layers:
  - group: {name: features, layers: [repeat: {times: 2, name: "", layers: [cnblock: {name: ""}]}]}
"""


def test_layer_scale_in_torchvisions_structure_loads_its_state_dict_as_it_is():
    # torchvision's ConvNeXt: CNBlock holds layer_scale (C, 1, 1) itself, next to its block,
    # and computes input + stochastic_depth(layer_scale * block(input)).
    class CNBlock(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.block = torch.nn.Sequential(torch.nn.Conv2d(4, 4, 3, padding=1, groups=4),
                                             torch.nn.Conv2d(4, 4, 1))
            self.layer_scale = torch.nn.Parameter(torch.rand(4, 1, 1) + 0.5)

        def forward(self, x):
            return x + self.layer_scale * self.block(x)  # stochastic depth: eval, identity

    reference = torch.nn.Sequential()
    reference.features = torch.nn.Sequential(CNBlock(), CNBlock())
    ours = archspec.compile(archspec.loads(CONVNEXT_LIKE)).eval()
    ours.load_state_dict(reference.state_dict(), strict=True)
    x = torch.randn(2, 4, 6, 6)
    torch.testing.assert_close(ours(x), reference.eval()(x), rtol=0, atol=1e-6)
    # and on to Keras, where gamma is (C,)
    graph = archspec.analyze(archspec.loads(CONVNEXT_LIKE))
    keras_model = archspec.compile(archspec.loads(CONVNEXT_LIKE), backend="keras")
    archspec.transfer_weights(ours, keras_model, graph)
    gamma = keras_weights(keras_model, graph)["features_0_layer_scale"]["gamma"]
    assert np.array_equal(gamma, reference.features[0].layer_scale.detach().numpy().ravel())
    got = to_numpy(keras_model(x.permute(0, 2, 3, 1).numpy()))
    np.testing.assert_allclose(got, reference(x).permute(0, 2, 3, 1).detach().numpy(),
                               rtol=0, atol=1e-5)
    assert_verified(graph)


def test_keras_applications_layers_load_as_references():
    # keras.applications' EfficientNet input Normalization (statistics set after building)
    # and ConvNeXt LayerScale (its gamma unnamed, "variable"), in a small Keras model.
    from keras.src.applications.convnext import LayerScale

    from archspec.reference import load_reference_weights
    inputs = keras.Input((5, 5, 3))
    norm = keras.layers.Normalization(axis=-1, name="norm")
    x = norm(inputs)
    x = keras.layers.Conv2D(3, 1, name="conv")(x)
    x = LayerScale(1e-6, 3, name="ls")(x)
    reference = keras.Model(inputs, x)
    norm.set_weights([np.float32([0.5, -1.0, 2.0]), np.float32([4.0, 0.25, 1.0]), np.int64(3)])
    norm.finalize_state()
    reference.get_layer("ls").set_weights([np.float32([0.5, 1.5, -2.0])])
    spec = archspec.loads("""
name: ref
input: {shape: [5, 5, 3]}
layers:
  - Normalization: {mean: 0.0, variance: 1.0, name: norm}
  - Conv2D: {filters: 3, kernel_size: 1, name: conv}
  - LayerScale: {name: ls}
""")
    graph = archspec.analyze(spec)
    x = RNG.standard_normal((2, 5, 5, 3)).astype(np.float32)
    expected = to_numpy(reference(x))
    for backend in ("keras", "torch"):
        model = archspec.compile(spec, backend=backend)
        load_reference_weights(model, reference, graph)
        got = to_numpy(model(x)) if backend == "keras" else model.eval()(
            torch.from_numpy(x).permute(0, 3, 1, 2)).permute(0, 2, 3, 1).detach().numpy()
        np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-5)


# --- Permute -------------------------------------------------------------------------------

# (spec layout, spec input shape, dims): the oracle is numpy's transpose in the spec's layout.
PERMUTE_CASES = [
    ("channels_last", [4, 5, 3], [2, 1, 3]),
    ("channels_last", [4, 5, 3], [3, 1, 2]),  # to channels first
    ("channels_first", [3, 4, 5], [2, 3, 1]),  # to channels last, as torchvision's ConvNeXt
    ("channels_first", [3, 4, 5], [1, 3, 2]),
    ("channels_first", [2, 3, 4, 5], [4, 2, 1, 3]),
    ("channels_last", [7, 3], [2, 1]),
    ("channels_first", [3, 7], [2, 1]),
]


@pytest.mark.parametrize("layout, shape, dims", PERMUTE_CASES)
def test_permute_is_numpy_transpose_in_the_specs_layout(layout, shape, dims):
    cf = layout == "channels_first"
    spec = one_layer_spec({"Permute": {"dims": dims, "name": "p"}}, shape, layout)
    x = RNG.standard_normal((2, *shape)).astype(np.float32)
    graph, _, _, got_keras, got_torch = _run_both(spec, x, cf)
    expected = np.transpose(x, (0, *dims))
    assert list(graph.to_spec_layout(graph["p"].meta["shape"])) == list(expected.shape[1:])
    np.testing.assert_array_equal(got_keras, expected)
    np.testing.assert_array_equal(got_torch, expected)


@pytest.mark.parametrize("layout", ["channels_last", "channels_first"])
def test_layers_after_a_permute_read_the_specs_layout(layout):
    # A conv after the swap of the spatial axes and a Dense on the permuted channels agree
    # between the two models, weights moved by verify.
    cf = layout == "channels_first"
    spec = archspec.Spec(name="permuted", input=archspec.InputSpec(
                             shape=[3, 6, 5] if cf else [6, 5, 3], layout=layout),
                         layers=[archspec.Permute([1, 3, 2] if cf else [2, 1, 3]),
                                 archspec.Conv2D(4, 3), archspec.Permute([2, 3, 1]),
                                 archspec.BatchNormalization(), archspec.Flatten(),
                                 archspec.Dense(5)])
    assert_verified(archspec.analyze(spec))


# --- StochasticDepth ------------------------------------------------------------------------

@pytest.mark.parametrize("layout", ["channels_last", "channels_first"])
def test_stochastic_depth_is_the_identity_at_inference(layout):
    cf = layout == "channels_first"
    spec = one_layer_spec({"StochasticDepth": {"rate": 0.5}}, [3, 4, 5], layout)
    x = RNG.standard_normal((4, 3, 4, 5)).astype(np.float32)
    _, _, _, got_keras, got_torch = _run_both(spec, x, cf)
    np.testing.assert_array_equal(got_keras, x)
    np.testing.assert_array_equal(got_torch, x)


def _drop_statistics(out: np.ndarray, rate: float) -> None:
    """Each sample is all zeros or all 1 / (1 - rate) (inputs of ones); the share dropped is
    the rate, within 4 standard deviations of a binomial count."""
    flat = out.reshape(len(out), -1)
    dropped = np.all(flat == 0, axis=1)
    kept = np.all(np.isclose(flat, 1 / (1 - rate), rtol=1e-6), axis=1)
    assert np.all(dropped | kept), "a sample was dropped in part"
    n = len(out)
    assert abs(dropped.sum() - rate * n) <= 4 * np.sqrt(n * rate * (1 - rate)), dropped.sum()


@pytest.mark.parametrize("rate", [0.2, 0.5])
def test_stochastic_depth_drops_whole_samples_while_training(rate):
    spec = one_layer_spec({"StochasticDepth": {"rate": rate}}, [3, 4, 2])
    x = np.ones((4000, 3, 4, 2), np.float32)
    keras_model, torch_model = archspec.compile(spec, backend="keras"), archspec.compile(spec)
    _drop_statistics(to_numpy(keras_model(x, training=True)), rate)
    torch.manual_seed(0)
    _drop_statistics(torch_model.train()(torch.from_numpy(x).permute(0, 3, 1, 2)).numpy(), rate)
    flat = archspec.compile(one_layer_spec({"StochasticDepth": {"rate": rate}}, [6]))
    _drop_statistics(flat.train()(torch.ones(4000, 6)).numpy(), rate)


# --- broadcasting Add and Multiply --------------------------------------------------------------

@pytest.mark.parametrize("layout", ["channels_last", "channels_first"])
@pytest.mark.parametrize("merge", ["Multiply", "Add"])
def test_a_gate_of_size_one_broadcasts_in_both_layouts(layout, merge):
    cf = layout == "channels_first"
    spec = archspec.loads(f"""
name: gate
input: {{shape: {[4, 5, 6] if cf else [5, 6, 4]}, layout: {layout}}}
layers:
  - Conv2D: {{filters: 4, kernel_size: 1, name: main}}
  - GlobalAveragePooling2D: {{keepdims: true, name: pooled}}
  - Conv2D: {{filters: 4, kernel_size: 1, activation: sigmoid, name: gate}}
  - {merge}: {{inputs: [gate, main], name: merged}}
""")
    graph = archspec.analyze(spec)
    assert graph["merged"].meta["shape"] == (5, 6, 4) and graph["merged"].meta["macs"] == 0
    source, target = archspec.compile(spec, backend="keras"), archspec.compile(spec)
    archspec.transfer_weights(source, target, graph)
    weights = keras_weights(source, graph)
    x = RNG.standard_normal((2, 4, 5, 6) if cf else (2, 5, 6, 4)).astype(np.float32)
    x_last = np.moveaxis(x, 1, -1) if cf else x
    main = x_last @ weights["main"]["kernel"][0, 0] + weights["main"]["bias"]
    pooled = main.mean(axis=(1, 2), keepdims=True)
    gate = 1 / (1 + np.exp(-(pooled @ weights["gate"]["kernel"][0, 0] + weights["gate"]["bias"])))
    expected = _spec_layout(gate * main if merge == "Multiply" else gate + main, cf)
    got_keras, got_torch = _outputs(source, target, x, cf)
    np.testing.assert_allclose(got_keras, expected, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(got_torch, expected, rtol=1e-5, atol=1e-5)
    assert_verified(graph)


def test_a_broadcast_add_sums_into_its_full_sized_operand_in_place():
    # The main branch (fresh, read by nothing else) holds the sum; a (1, 1, C) operand cannot,
    # nor can a partial sum of gates when a full-sized operand follows.
    spec = archspec.loads("""
name: se_add
input: {shape: [5, 6, 4]}
layers:
  - Conv2D: {filters: 4, kernel_size: 1, name: main}
  - GlobalAveragePooling2D: {keepdims: true, name: pooled, inputs: input}
  - Conv2D: {filters: 4, kernel_size: 1, name: gate}
  - Add: {inputs: [gate, main], name: gated}
  - Conv2D: {filters: 4, kernel_size: 1, name: other, inputs: input}
  - Add: {inputs: [gate, gate, other], name: total}
  - Add: {inputs: [gated, total]}
""")
    assert "self.gated = Add(inplace=True)" in archspec.generate(spec)
    assert_verified(archspec.analyze(spec))
    model = archspec.compile(spec).train()
    x = torch.randn(2, 4, 5, 6, requires_grad=True)
    model(x).sum().backward()  # in place only where autograd allows it
