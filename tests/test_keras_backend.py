"""The Keras backend: generated source, shapes and counts against the analysis, the spec's
meaning where Keras' defaults differ, keras.applications conformance, and the Keras features a
model must work with (fit, .keras save/load, MirroredStrategy, weights moving between Keras
backends). Runs on whichever backend KERAS_BACKEND names (.ci/keras_backends.sh runs it on torch
and JAX); test_keras_backends_agree compares the backends with each other."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import yaml
from hypothesis import HealthCheck, given, settings

keras = pytest.importorskip("keras")

from keras_helpers import (  # noqa: E402
    assert_matches_analysis,
    compiled,
    examples,
    to_numpy,
    weight_count,
)
from reference_ops import POOLS, pool_reference  # noqa: E402
from spec_helpers import imported_modules, one_layer_spec  # noqa: E402
from spec_strategies import specs  # noqa: E402

import archspec  # noqa: E402
from archspec.backends.keras_codegen import EMITTERS  # noqa: E402
from archspec.ops.base import layer_types  # noqa: E402

ROOT = Path(__file__).parent.parent
# densenet (426 layers) is left to tests/test_reference.py, whose verify checks the same
# shapes and counts layer by layer in both backends; compiling it here too cost 9 s. So is
# vit (86 M parameters) in tests/test_transfer.py, and test_transformer.py runs a small one;
# and efficientnet (250 layers, 4 s here) to test_reference.py's verify,
# mobilenet_v3 (186 layers) to test_reference.py's.
ZOO = sorted(p.stem for p in (ROOT / "specs").glob("*.yaml")
             if p.stem not in ("densenet", "vit", "efficientnet", "mobilenet_v3"))
CASES = yaml.safe_load((Path(__file__).parent / "layer_cases.yaml").read_text())
SINGLE = [c for c in CASES if "inputs" not in c]


def test_every_layer_type_has_a_keras_mapping():
    assert set(EMITTERS) == set(layer_types())


@pytest.mark.parametrize("name", ZOO)
def test_zoo_compiles_to_the_analysed_model(spec_dir, name):
    graph, model = compiled(spec_dir / f"{name}.yaml")
    assert_matches_analysis(graph, model)


@pytest.mark.parametrize("case", SINGLE, ids=[str(c["layer"])[:70] for c in SINGLE])
def test_layer_table_compiles(case):
    graph, model = compiled(one_layer_spec(case["layer"], case["input"]))
    assert_matches_analysis(graph, model)


# 100: tests/test_transfer.py's random specs verify Keras' shapes, counts and activations too
@settings(max_examples=examples(100), deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(specs())
def test_random_specs_compile_to_the_analysed_model(doc):
    graph, model = compiled(doc)
    assert_matches_analysis(graph, model)
    out = model(np.random.default_rng(0).random((2,) + graph.input_shape, dtype=np.float32))
    assert tuple(out.shape[1:]) == tuple(graph[graph.output].meta["shape"])


def test_generated_source_is_deterministic_and_imports_only_keras(spec_dir):
    source = archspec.generate(spec_dir / "googlenet.yaml", backend="keras")
    assert source == archspec.generate(spec_dir / "googlenet.yaml", backend="keras")
    assert imported_modules(source) == {"keras"}
    assert "def build_model():" in source
    assert "Input: (N, 224, 224, 3), channels last" in source
    assert "6,624,904 trainable, 14,560 non-trainable" in source
    assert max(len(line) for line in source.splitlines()) <= 99


def test_course_models_run_on_current_keras(spec_dir):
    # The course's own LeNet fails on Keras 3 (AveragePooling2D() needs pool_size, input_shape=
    # on layers is deprecated); the compiled spec must not.
    for name in ["lenet5", "mnist_cnn", "mnist_ann", "alexnet", "resnet_course",
                 "inception_course"]:
        source = archspec.generate(spec_dir / f"{name}.yaml", backend="keras")
        assert "input_shape=" not in source
        graph, model = compiled(spec_dir / f"{name}.yaml")
        out = model(np.zeros((1,) + graph.input_shape, dtype=np.float32))
        assert tuple(out.shape[1:]) == tuple(graph[graph.output].meta["shape"])


def test_generated_file_runs_without_archspec(spec_dir, tmp_path):
    """The file alone, in an interpreter where archspec cannot be imported. (The CLI's
    `compile --save` is the README's, run by tests/test_readme.py.)"""
    (tmp_path / "lenet.py").write_text(archspec.generate(spec_dir / "lenet5.yaml",
                                                         backend="keras"))
    code = ("import sys; sys.modules['archspec'] = None; import lenet, numpy as np; "
            "m = lenet.build_model(); print(tuple(m(np.zeros((2, 32, 32, 1), 'float32')).shape))")
    run = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True,
                         text=True, env={"TF_CPP_MIN_LOG_LEVEL": "3", "PATH": "/usr/bin",
                                         "KERAS_BACKEND": keras.backend.backend()})
    assert run.returncode == 0, run.stderr[-3000:]
    assert run.stdout.strip().endswith("(2, 10)")


# --- keras.applications conformance ------------------------------------------------------------

# VGG16 and VGG19 against keras.applications: tests/test_transfer.py loads its weights into both
# backends and compares outputs (its weight shapes and counts must match for that).

def test_resnet_family_reproduces_keras_resnet50(spec_dir):
    params = {"depth": 50, "bias": True, "stride_in_1x1": True, "epsilon": 1.001e-5}
    ours = archspec.compile(spec_dir / "resnet.yaml", backend="keras", params=params)
    reference = keras.applications.ResNet50(weights=None)
    assert ours.count_params() == reference.count_params() == 25_636_712

    def weighted(model):  # (type, weight shapes) of every layer with weights, in order
        return [(type(layer).__name__, [tuple(w.shape) for w in layer.weights])
                for layer in model.layers if layer.weights]
    assert weighted(ours) == weighted(reference)
    bn = [layer for layer in ours.layers if type(layer).__name__ == "BatchNormalization"]
    assert {layer.epsilon for layer in bn} == {1.001e-5}


# --- the spec's meaning where Keras' defaults differ -------------------------------------------

@pytest.mark.parametrize("type_name, args, shape", POOLS)
def test_pooling_follows_the_spec(type_name, args, shape):
    graph, model = compiled(one_layer_spec({type_name: args}, shape))
    node = graph.live()[0]
    resolved = node.meta["resolved"]
    x = np.random.default_rng(1).standard_normal((2,) + tuple(shape)).astype(np.float32)
    expected = np.moveaxis(pool_reference(np.moveaxis(x, -1, 1), resolved["pool"],
                                          resolved["strides"], resolved["pads"],
                                          node.meta["shape"][:-1],
                                          "max" if type_name.startswith("Max") else "avg",
                                          args.get("count_include_pad", False)), 1, -1)
    np.testing.assert_allclose(to_numpy(model(x)), expected, rtol=1e-5, atol=1e-6)


def test_ceil_rounding_becomes_same_when_it_is_the_same_thing(spec_dir):
    source = archspec.generate(spec_dir / "googlenet.yaml", backend="keras")
    assert "PaddedPooling" not in source  # GoogLeNet's ceil pools equal Keras' "same" here


@pytest.mark.parametrize("type_name, args, shape, native", [
    ("MaxPooling2D", {"pool_size": 3, "padding": "same"}, [1, 2, 1], True),
    ("AveragePooling2D", {"pool_size": 3, "padding": "same"}, [1, 2, 1], False),  # (0, 1)
    ("AveragePooling1D", {"pool_size": 3, "strides": 1, "padding": "same"}, [5, 1], True),
    ("AveragePooling1D", {"pool_size": 3, "strides": 2, "rounding": "ceil"}, [10, 1], False),
    ("AveragePooling2D", {"pool_size": 2}, [4, 4, 1], True),
])
def test_same_pooling_is_native_only_where_every_keras_backend_agrees(type_name, args, shape,
                                                                       native):
    # Keras' torch backend pads an uneven "same" split by repeating the edge values: an
    # average counts them (keras-team/keras#18452), so those averages use the helper layer.
    source = archspec.generate(one_layer_spec({type_name: args}, shape), backend="keras")
    assert (f"layers.{type_name}(" in source) == native
    assert ("PaddedPooling(" in source) != native


@pytest.mark.parametrize("args, native", [
    ({"strides": 2, "padding": "same", "output_padding": 1}, True),
    ({"dilation_rate": 2}, False),  # TensorFlow's CPU kernels refuse dilation here
    ({"dilation_rate": 3, "output_padding": 2}, False),  # Keras refuses output_padding >= 1
])
def test_transposed_convolution_is_native_where_keras_can_express_it(args, native):
    spec = one_layer_spec({"Conv2DTranspose": {"filters": 2, "kernel_size": 3, **args}},
                          [6, 5, 1])
    source = archspec.generate(spec, backend="keras")
    assert ("layers.Conv2DTranspose(" in source) == native
    assert ("CroppedConv2DTranspose(" in source) != native
    graph, model = compiled(spec)
    assert_matches_analysis(graph, model)
    # The helper keeps the native layer's weights and their names (weight exchange relies on it).
    assert [w.name for w in model.get_layer(graph.live()[0].name).weights] == ["kernel", "bias"]


def test_batchnorm_and_activation_arguments_are_kept():
    graph, model = compiled(one_layer_spec(
        {"BatchNormalization": {"momentum": 0.9, "epsilon": 2e-3, "center": False}}, [4, 4, 3]))
    bn = model.get_layer(graph.live()[0].name)
    assert (bn.momentum, bn.epsilon, bn.center, bn.scale) == (0.9, 2e-3, False, True)
    graph, model = compiled(one_layer_spec({"LeakyReLU": {"negative_slope": 0.01}}, [2]))
    np.testing.assert_allclose(to_numpy(model(np.array([[-1.0, 2.0]], "float32"))),
                               [[-0.01, 2.0]], rtol=1e-6)
    graph, model = compiled(one_layer_spec({"GELU": {"approximate": False}}, [1]))
    x = np.array([[-1.5]], "float32")
    from math import erf, sqrt
    np.testing.assert_allclose(to_numpy(model(x)), [[-1.5 * 0.5 * (1 + erf(-1.5 / sqrt(2)))]],
                               rtol=1e-5)


def test_channels_first_spec_keeps_its_element_order():
    # A channels-first spec flattens and reshapes in C, H, W order; the Keras model is
    # channels-last, so it permutes around them.
    spec = {"archspec": 1, "name": "f",
            "input": {"shape": [3, 2, 2], "layout": "channels_first"},
            "layers": ["Flatten", {"Reshape": {"target_shape": [3, 4]}}]}
    model = archspec.compile(spec, backend="keras")
    x_cf = np.arange(12, dtype=np.float32).reshape(1, 3, 2, 2)
    expected_cf = x_cf.reshape(1, 3, 4)  # the spec's meaning, in its own layout
    got = to_numpy(model(x_cf.transpose(0, 2, 3, 1)))  # Keras output is channels-last
    np.testing.assert_array_equal(got, expected_cf.transpose(0, 2, 1))


def test_regularizers_and_constraints_are_native():
    spec = one_layer_spec({"Dense": {"units": 3, "kernel_regularizer": {"l2": 0.25},
                                     "kernel_constraint": {"max_norm": 0.1, "axis": 0}}}, [4])
    graph, model = compiled(spec)
    dense = model.get_layer(graph.live()[0].name)
    model(np.zeros((1, 4), "float32"))
    kernel = to_numpy(dense.kernel)
    penalty = float(to_numpy(sum(model.losses)))
    np.testing.assert_allclose(penalty, 0.25 * np.square(kernel).sum(), rtol=1e-5)
    assert dense.kernel_constraint.max_value == 0.1


# --- Keras features ------------------------------------------------------------------------------

def test_fit_on_a_tiny_dataset(spec_dir):
    model = archspec.compile(spec_dir / "mnist_cnn.yaml", backend="keras")
    rng = np.random.default_rng(0)
    x = rng.random((64, 28, 28, 1), dtype=np.float32)
    y = rng.integers(0, 10, 64)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    history = model.fit(x, y, epochs=3, batch_size=16, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]


def test_keras_file_round_trip_with_helper_layers(tmp_path):
    spec = {"archspec": 1, "name": "helpers", "input": {"shape": [9, 9, 2]},
            "layers": [{"MaxPooling2D": {"pool_size": 3, "strides": 2,
                                         "padding": [[0, 1], [1, 0]]}},
                       {"AveragePooling2D": {"pool_size": 2, "rounding": "ceil",
                                             "strides": 2}},
                       {"GELU": {"approximate": True}},
                       {"Conv2D": {"filters": 3, "kernel_size": 2,
                                   "padding": 1}},
                       {"Conv2DTranspose": {"filters": 2, "kernel_size": 2,
                                            "dilation_rate": 2, "output_padding": 1}},
                       "Flatten", {"Dense": {"units": 4}}]}
    model = archspec.compile(spec, backend="keras")
    x = np.random.default_rng(2).random((3, 9, 9, 2), dtype=np.float32)
    path = tmp_path / "m.keras"
    model.save(path)
    loaded = keras.models.load_model(path)
    np.testing.assert_array_equal(to_numpy(loaded(x)), to_numpy(model(x)))


def test_weights_move_to_and_from_torch_on_this_backend():
    # On Keras' torch backend a Keras model is also a torch.nn.Module with a state_dict; it
    # must still be read and written as Keras.
    torch = pytest.importorskip("torch")
    from archspec.weights import framework_of
    spec = {"archspec": 1, "name": "kb", "input": {"shape": [4]},
            "layers": [{"Dense": {"units": 2, "name": "d"}}]}
    keras_model, torch_model = (archspec.compile(spec, backend=b) for b in ("keras", "torch"))
    assert (framework_of(keras_model), framework_of(torch_model)) == ("keras", "torch")
    archspec.transfer_weights(keras_model, torch_model, spec)
    x = np.random.default_rng(4).random((3, 4), dtype=np.float32)
    expected = to_numpy(keras_model(x))
    np.testing.assert_allclose(torch_model(torch.from_numpy(x)).detach().numpy(), expected,
                               rtol=1e-6, atol=1e-6)
    again = archspec.compile(spec, backend="keras")
    archspec.transfer_weights(torch_model, again, spec)
    np.testing.assert_array_equal(to_numpy(again(x)), expected)


def test_mirrored_strategy_over_two_cpu_devices(spec_dir):
    if keras.backend.backend() != "tensorflow":
        pytest.skip("tf.distribute.MirroredStrategy is TensorFlow's own")
    script = Path(__file__).parent / "mirrored_worker.py"
    result = subprocess.run([sys.executable, str(script), str(spec_dir / "mnist_cnn.yaml")],
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.strip().endswith("mirrored ok on 2 replicas")


@pytest.mark.parametrize("other", ["tensorflow", "torch", "jax"])
def test_weights_saved_on_this_backend_load_on_another(tmp_path, other):
    if other == keras.backend.backend():
        pytest.skip("the same backend")
    pytest.importorskip(other)
    spec = {"archspec": 1, "name": "portable", "input": {"shape": [8, 8, 3]},
            "layers": [{"Conv2D": {"filters": 4, "kernel_size": 3,
                                   "strides": 2, "padding": "same"}},
                       {"AveragePooling2D": {"pool_size": 3, "padding": 1,
                                             "count_include_pad": True}},
                       {"GELU": {"approximate": False}},
                       {"Conv2D": {"filters": 2, "kernel_size": 1,
                                   "padding": [[0, 1], [1, 0]]}},
                       "GlobalAveragePooling2D", {"Dense": {"units": 3}}]}
    source = archspec.generate(spec, backend="keras")
    (tmp_path / "portable.py").write_text(source)
    model = archspec.compile(spec, backend="keras")
    x = np.random.default_rng(3).random((2, 8, 8, 3), dtype=np.float32)
    np.save(tmp_path / "x.npy", x)
    np.save(tmp_path / "y.npy", to_numpy(model(x)))
    model.save_weights(tmp_path / "w.weights.h5")
    code = (f"import keras, numpy as np, portable; assert keras.backend.backend() == {other!r}; "
            "m = portable.build_model(); m.load_weights('w.weights.h5'); "
            "y = keras.ops.convert_to_numpy(m(np.load('x.npy'))); "
            "np.testing.assert_allclose(y, np.load('y.npy'), rtol=1e-5, atol=1e-6); print('ok')")
    run = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True,
                         text=True, env={"KERAS_BACKEND": other, "PATH": "/usr/bin",
                                         "TF_CPP_MIN_LOG_LEVEL": "3"})
    assert run.returncode == 0, run.stderr[-3000:]
    assert run.stdout.strip().endswith("ok")


def test_hostile_names_cannot_inject_code():
    doc = {"archspec": 1, "name": "evil'); import os; ('",
           "description": '"""\nimport os\n"""', "input": {"shape": [4]},
           "layers": [{"Dense": {"units": 2, "name": "inputs"}},
                      {"Dense": {"units": 2, "name": "keras"}},
                      {"Dense": {"units": 2, "name": "x"}},
                      {"Dense": {"units": 2, "name": "build_model"}}]}
    with pytest.raises(archspec.SpecError):  # spec names are restricted at validation
        archspec.generate(doc, backend="keras")
    doc["name"] = "evil-but.valid"
    source = archspec.generate(doc, backend="keras")
    assert imported_modules(source) == {"keras"}
    model = archspec.compile(doc, backend="keras")
    assert [layer.name for layer in model.layers[1:]] == ["inputs", "keras", "x", "build_model"]
    assert weight_count(model.trainable_weights) == 4 * 2 + 2 + 3 * (2 * 2 + 2)


def test_a_layer_without_a_mapping_fails_with_one_clear_error(monkeypatch):
    import archspec.backends.keras_codegen as codegen
    from archspec.errors import UnsupportedError
    monkeypatch.delitem(codegen.EMITTERS, "Softmax")
    spec = yaml.safe_dump({"archspec": 1, "name": "s", "input": {"shape": [4]},
                           "layers": [{"Dense": {"units": 3}}, {"Softmax": {"name": "probs"}}]})
    with pytest.raises(UnsupportedError) as info:
        archspec.generate(archspec.loads(spec), backend="keras")
    (diagnostic,) = info.value.diagnostics
    assert "Softmax 'probs' is not supported by the keras backend" in diagnostic.message
    runner_result = __import__("click.testing").testing.CliRunner().invoke(
        __import__("archspec.cli").cli.main, ["compile", "-", "--backend", "keras"], input=spec)
    assert runner_result.exit_code == 1
    assert "is not supported by the keras backend" in runner_result.output
