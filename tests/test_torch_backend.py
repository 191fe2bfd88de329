"""The PyTorch backend: generated source, shapes and counts against the analysis, the spec's
meaning where torch's defaults differ, and the torch features a model must work with."""

from __future__ import annotations

import ast
from pathlib import Path

import numpy as np
import pytest
import yaml
from hypothesis import HealthCheck, given, settings

torch = pytest.importorskip("torch")

from reference_ops import POOLS, pool_reference  # noqa: E402
from spec_helpers import imported_modules, one_layer_spec  # noqa: E402
from spec_strategies import specs  # noqa: E402
from torch_helpers import (  # noqa: E402
    assert_matches_analysis,
    compiled,
    layer_outputs,
    random_input,
)

import archspec  # noqa: E402
from archspec.backends.torch_backend import attribute_names  # noqa: E402
from archspec.backends.torch_codegen import EMITTERS  # noqa: E402
from archspec.errors import SpecError  # noqa: E402
from archspec.ops.base import layer_types  # noqa: E402

# densenet (426 layers) is left to tests/test_reference.py, whose verify checks the same
# shapes and counts layer by layer in both backends; compiling it here too cost 14 s. So is
# vit (86 M parameters) in tests/test_transfer.py, and test_transformer.py runs a small one;
# and efficientnet (250 layers, 4 s here) to test_reference.py's verify,
# mobilenet_v3 (186 layers) to test_reference.py's.
ZOO = sorted(p.stem for p in (Path(__file__).parent.parent / "specs").glob("*.yaml")
             if p.stem not in ("densenet", "vit", "efficientnet", "mobilenet_v3"))
CASES = yaml.safe_load((Path(__file__).parent / "layer_cases.yaml").read_text())


def test_every_layer_type_has_a_torch_mapping():
    assert set(EMITTERS) == set(layer_types())


@pytest.mark.parametrize("name", ZOO)
def test_zoo_compiles_to_the_analysed_model(spec_dir, name):
    graph, model = compiled(spec_dir / f"{name}.yaml")
    assert_matches_analysis(graph, model)


SINGLE = [c for c in CASES if "inputs" not in c]


@pytest.mark.parametrize("case", SINGLE, ids=[str(c["layer"])[:70] for c in SINGLE])
def test_layer_table_compiles(case):
    spec = one_layer_spec(case["layer"], case["input"])
    graph, model = compiled(spec)
    assert_matches_analysis(graph, model)


@settings(max_examples=200, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(specs())
def test_random_specs_compile_to_the_analysed_model(doc):
    graph, model = compiled(doc)
    assert_matches_analysis(graph, model)
    model.train()
    x = random_input(graph, 3).requires_grad_()
    model(x).sum().backward()  # in-place choices must leave autograd intact


def test_generated_source_is_deterministic_and_standalone(spec_dir, tmp_path):
    first = archspec.generate(spec_dir / "resnet50.yaml", backend="torch")
    assert first == archspec.generate(spec_dir / "resnet50.yaml", backend="torch")
    tree = ast.parse(first)
    assert imported_modules(first) <= {"torch", "math"}
    assert "archspec" not in {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)}
    assert "Input: (N, 3, 224, 224), channels first" in first
    assert "25,557,032 trainable, 53,120 non-trainable" in first
    assert "resnet50.yaml" in first and str(spec_dir) not in first
    assert max(len(line) for line in first.splitlines()) <= 99


def test_generated_file_runs_without_archspec(spec_dir, tmp_path):
    import subprocess
    import sys
    path = tmp_path / "lenet.py"
    path.write_text(archspec.generate(spec_dir / "lenet5.yaml", backend="torch"))
    code = ("import sys, torch; sys.modules['archspec'] = None; import lenet; "
            "m = lenet.Lenet5().eval(); print(tuple(m(torch.zeros(2, *m.input_shape)).shape))")
    result = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True,
                            text=True, check=True)
    assert result.stdout.strip() == "(2, 10)"


def test_in_memory_model_is_the_generated_source(spec_dir):
    import inspect
    model = archspec.compile(spec_dir / "mnist_cnn.yaml", backend="torch")
    assert inspect.getsource(type(model)) in archspec.generate(spec_dir / "mnist_cnn.yaml")


def test_channels_first_spec_and_channels_first_input(spec_dir):
    spec = archspec.load(spec_dir / "mnist_cnn.yaml")
    first = spec.model_copy(update={"input": spec.input.model_copy(update={
        "shape": (1, 28, 28), "layout": "channels_first"})})
    a, b = archspec.compile(spec), archspec.compile(first)
    assert a.input_shape == b.input_shape == (1, 28, 28)
    b.load_state_dict(a.state_dict())
    x = torch.randn(2, 1, 28, 28)
    # A channels-first spec flattens C, H, W; the channels-last one H, W, C — but its Flatten
    # feeds only a Dense, so it keeps torch's order and both are the same module.
    torch.testing.assert_close(a.eval()(x), b.eval()(x))


# --- the spec's meaning, where torch's defaults differ (framework-semantics.md) ---------------

def _module(model, graph, index=0):
    return model.get_submodule(attribute_names(graph)[graph.live()[index].name])


def test_same_padding_with_stride_is_asymmetric_like_keras():
    graph, model = compiled(one_layer_spec(
        {"Conv2D": {"filters": 2, "kernel_size": 3, "strides": 2, "padding": "same"}}, [6, 6, 1]))
    conv = _module(model, graph)
    x = torch.randn(1, 1, 6, 6)
    # TensorFlow: total = max((ceil(6/2)-1)*2 + 3 - 6, 0) = 1, all of it bottom/right.
    expected = torch.nn.functional.conv2d(torch.nn.functional.pad(x, (0, 1, 0, 1)),
                                          conv.weight, conv.bias, stride=2)
    torch.testing.assert_close(model(x), expected)
    assert "F.pad(x, (0, 1, 0, 1))" in archspec.generate(one_layer_spec(
        {"Conv2D": {"filters": 2, "kernel_size": 3, "strides": 2, "padding": "same"}}, [6, 6, 1]))


def test_symmetric_padding_costs_nothing_extra(spec_dir):
    source = archspec.generate(spec_dir / "resnet50.yaml")
    assert "F.pad" not in source and "PaddedPool" not in source




@pytest.mark.parametrize("type_name, args, shape", POOLS)
def test_pooling_follows_the_spec(type_name, args, shape):
    graph, model = compiled(one_layer_spec({type_name: args}, shape))
    node = graph.live()[0]
    resolved = node.meta["resolved"]
    x = torch.randn(2, shape[-1], *shape[:-1], dtype=torch.float64)
    expected = pool_reference(x.numpy(), resolved["pool"], resolved["strides"],
                               resolved["pads"], node.meta["shape"][:-1],
                               "max" if type_name.startswith("Max") else "avg",
                               args.get("count_include_pad", False))
    np.testing.assert_allclose(model.double()(x).numpy(), expected, rtol=1e-12)


def test_batchnorm_momentum_and_epsilon_are_converted():
    graph, model = compiled(one_layer_spec(
        {"BatchNormalization": {"momentum": 0.9, "epsilon": 0.002}}, [4, 4, 3]))
    bn = _module(model, graph)
    assert bn.momentum == pytest.approx(0.1) and bn.eps == 0.002
    model.train()
    x = torch.randn(8, 3, 4, 4)
    model(x)
    # Keras: moving = momentum * moving + (1 - momentum) * batch statistic
    torch.testing.assert_close(bn.running_mean, 0.1 * x.mean((0, 2, 3)))


def test_partial_affine_batchnorm_counts_and_applies():
    graph, model = compiled(one_layer_spec(
        {"BatchNormalization": {"center": True, "scale": False}}, [4, 4, 3]))
    assert sum(p.numel() for p in model.parameters()) == 3
    bn = _module(model, graph)
    with torch.no_grad():
        bn.bias.fill_(2.0)
    x = torch.randn(2, 3, 4, 4)
    torch.testing.assert_close(model.eval()(x), x / (1 + 1e-3) ** 0.5 + 2.0)


def test_activation_arguments_are_kept():
    graph, model = compiled(one_layer_spec({"LeakyReLU": {"negative_slope": 0.01}}, [4]))
    torch.testing.assert_close(model(torch.tensor([[-100.0, 1.0, -1.0, 0.0]])),
                               torch.tensor([[-1.0, 1.0, -0.01, 0.0]]))
    graph, model = compiled(one_layer_spec(
        {"ReLU": {"max_value": 1.5, "negative_slope": 0.5, "threshold": 1.0}}, [3]))
    torch.testing.assert_close(model(torch.tensor([[0.0, 1.2, 9.0]])),
                               torch.tensor([[-0.5, 1.2, 1.5]]))


@pytest.mark.parametrize("axis, dim", [(-1, 1), (1, 2), (2, 3)])
def test_softmax_axis_counts_in_the_spec_layout(axis, dim):
    graph, model = compiled(one_layer_spec({"Softmax": {"axis": axis}}, [3, 4, 5]))
    y = model(torch.randn(2, 5, 3, 4))
    torch.testing.assert_close(y.sum(dim), torch.ones_like(y.sum(dim)))


def test_flatten_feeding_a_non_dense_layer_keeps_the_spec_order():
    spec = {"archspec": 1, "name": "f", "input": {"shape": [2, 2, 3]},
            "layers": ["Flatten", {"Reshape": {"target_shape": [4, 3]}}]}
    model = archspec.compile(spec)
    x = torch.arange(12.0).reshape(1, 3, 2, 2)  # torch layout of an (H, W, C) = (2, 2, 3) map
    spec_order = x.permute(0, 2, 3, 1).reshape(1, 12)  # H, W, C
    # Reshape to (4, 3) in channels-last means (length 4, channels 3); torch returns (N, 3, 4).
    torch.testing.assert_close(model(x), spec_order.reshape(1, 4, 3).permute(0, 2, 1))


def test_keras_initializers_and_fans():
    spec = one_layer_spec({"DepthwiseConv2D": {"kernel_size": 3, "depth_multiplier": 4,
                                               "depthwise_initializer": "he_uniform",
                                               "bias_initializer": "ones"}}, [8, 8, 64])
    graph, model = compiled(spec)
    conv = _module(model, graph)
    limit = (6 / (3 * 3 * 64)) ** 0.5  # Keras' fan_in for a depthwise kernel: kh*kw*channels
    assert conv.weight.abs().max() <= limit
    assert conv.weight.abs().max() > 0.95 * limit
    assert torch.all(conv.bias == 1)
    graph, model = compiled(one_layer_spec({"Dense": {"units": 500,
                                                      "kernel_initializer": "glorot_normal"}},
                                           [500]))
    weight = _module(model, graph).weight
    std = (2 / 1000) ** 0.5
    assert weight.abs().max() <= 2 * std / 0.87962566103423978 + 1e-6
    assert weight.std().item() == pytest.approx(std, rel=0.02)
    assert torch.all(_module(model, graph).bias == 0)


def test_regularization_loss_and_constraints():
    spec = one_layer_spec({"Dense": {"units": 3, "kernel_regularizer": {"l1": 0.5, "l2": 0.25},
                                     "kernel_constraint": {"max_norm": 0.1}}}, [4])
    graph, model = compiled(spec)
    weight = _module(model, graph).weight
    expected = 0.5 * weight.abs().sum() + 0.25 * weight.square().sum()
    torch.testing.assert_close(model.regularization_loss(), expected)
    model.apply_constraints()
    # Keras' axis 0 of a Dense kernel (in, out) is torch's dim 1: each unit's incoming weights
    assert weight.norm(dim=1).max() <= 0.1 + 1e-6
    # a model without penalties or constraints has no such methods (nothing to call)
    plain = archspec.compile(one_layer_spec({"Dense": {"units": 3}}, [4]))
    assert not hasattr(plain, "regularization_loss") and not hasattr(plain, "apply_constraints")


def test_odd_transposed_crop_is_trimmed():
    spec = one_layer_spec({"Conv2DTranspose": {"filters": 2, "kernel_size": 4, "strides": 3,
                                               "padding": "same"}}, [3, 3, 1])
    graph, model = compiled(spec)
    conv = _module(model, graph)
    x = torch.randn(1, 1, 3, 3)
    full = torch.nn.functional.conv_transpose2d(x, conv.weight, conv.bias, stride=3)
    before, after = graph.live()[0].meta["resolved"]["crops"][0]
    assert (before, after) == (0, 1)
    torch.testing.assert_close(model(x), full[:, :, before:full.shape[2] - after,
                                              before:full.shape[3] - after])


# --- torch features -----------------------------------------------------------------------------

def test_state_dict_round_trip(spec_dir, tmp_path):
    graph, a = compiled(spec_dir / "resnet_course.yaml")
    torch.save(a.state_dict(), tmp_path / "w.pt")
    b = archspec.compile(spec_dir / "resnet_course.yaml")
    b.load_state_dict(torch.load(tmp_path / "w.pt"))
    x = torch.randn(2, *a.input_shape)
    torch.testing.assert_close(a.eval()(x), b.eval()(x), rtol=0, atol=0)
    # state_dict keys follow the spec's structure and names: residual_block1.conv2d_1.weight
    paths = attribute_names(graph)
    weighted = {paths[n.name] for n in graph.live() if n.meta["trainable"]}
    assert {key.rsplit(".", 1)[0] for key in a.state_dict()} == weighted
    assert "residual_block1.conv2d_1.weight" in a.state_dict()


def test_channels_last_memory_format(spec_dir):
    model = archspec.compile(spec_dir / "inception_course.yaml").eval()
    x = torch.randn(2, *model.input_shape)
    expected = model(x)
    fast = model.to(memory_format=torch.channels_last)
    torch.testing.assert_close(fast(x.to(memory_format=torch.channels_last)), expected,
                               rtol=1e-4, atol=1e-5)


def test_torch_export(spec_dir):
    model = archspec.compile(spec_dir / "resnet_course.yaml").eval()
    x = torch.randn(2, *model.input_shape)
    exported = torch.export.export(model, (x,))
    torch.testing.assert_close(exported.module()(x), model(x))


def test_torch_compile(spec_dir):
    import shutil
    if not (shutil.which("cc") or shutil.which("gcc") or shutil.which("clang")):
        pytest.skip("torch.compile's CPU backend needs a C compiler, and this machine has none")
    model = archspec.compile(spec_dir / "mnist_cnn.yaml").eval()
    x = torch.randn(4, *model.input_shape)
    torch.testing.assert_close(torch.compile(model)(x), model(x), rtol=1e-4, atol=1e-5)


def test_distributed_data_parallel_with_gloo(spec_dir, tmp_path):
    import subprocess
    import sys
    script = Path(__file__).parent / "ddp_worker.py"
    result = subprocess.run([sys.executable, str(script), str(spec_dir / "mnist_cnn.yaml"),
                             str(tmp_path)], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.strip().endswith("ddp ok")


def test_hostile_names_cannot_inject_code():
    doc = {"archspec": 1, "name": "evil-name.v1",
           "description": 'x"""\nimport os; os.system("echo pwned")\n"""',
           "reference": "\\'; import os",
           "input": {"shape": [4]},
           "layers": [{"Dense": {"units": 2, "name": "forward"}},
                      {"Dense": {"units": 2, "name": "self"}},
                      {"Dense": {"units": 2, "name": "__init__"}},
                      {"Dense": {"units": 2, "name": "x"}},
                      {"Dense": {"units": 2, "name": "torch"}}]}
    source = archspec.generate(doc, backend="torch")
    tree = ast.parse(source)
    assert not [n for n in ast.walk(tree) if isinstance(n, ast.Import)
                and any(a.name == "os" for a in n.names)]
    assert "os.system" not in [ast.unparse(n) for n in ast.walk(tree) if isinstance(n, ast.Call)]
    model = archspec.compile(doc)
    assert model(torch.zeros(1, 4)).shape == (1, 2)
    assert {"forward_.weight", "self_.weight", "m__init__.weight", "x_.weight",
            "torch_.weight"} <= set(model.state_dict())
    for bad in ["a b", "import os", "a;b", "1x", "class"]:
        doc["layers"][0]["Dense"]["name"] = bad
        with pytest.raises(SpecError):
            archspec.generate(doc, backend="torch")


def test_forward_hooks_see_every_layer(spec_dir):
    graph, model = compiled(spec_dir / "inception_course.yaml")
    outputs = layer_outputs(graph, model.eval())
    assert set(outputs) - {"__output__"} == {n.name for n in graph.live()}


def test_a_layer_without_a_mapping_fails_with_one_clear_error(monkeypatch):
    import archspec.backends.torch_codegen as codegen
    from archspec.errors import UnsupportedError
    monkeypatch.delitem(codegen.EMITTERS, "GELU")
    spec = yaml.safe_dump({"archspec": 1, "name": "g", "input": {"shape": [4]},
                           "layers": [{"Dense": {"units": 3}}, {"GELU": {"name": "act"}},
                                      {"Dense": {"units": 2}}]})
    with pytest.raises(UnsupportedError) as info:
        archspec.generate(archspec.loads(spec), backend="torch")
    (diagnostic,) = info.value.diagnostics
    assert "GELU 'act' is not supported by the torch backend" in diagnostic.message
    assert "GELU" in spec.splitlines()[diagnostic.location.line - 1]  # where it is written


@pytest.mark.parametrize("features", [True, False])
def test_module_list_stage_computes_what_its_spec_says(features):
    """A stage whose items each read the stage's extra input compiles to a loop over an
    nn.ModuleList; checked against the computation written by hand from the state_dict."""
    from test_codegen_structure import CONTEXT_SPEC
    F = torch.nn.functional
    model = archspec.compile(archspec.loads(CONTEXT_SPEC, params={"features": features}),
                             backend="torch").eval()
    assert isinstance(model.stages, torch.nn.ModuleList) and len(model.stages) == 3
    w = model.state_dict()
    x = torch.randn(2, 4, 8, 8)
    stem = F.conv2d(x, w["stem.weight"], w["stem.bias"], padding=1)
    h = F.conv2d(stem, w["features.weight"], w["features.bias"]) if features else stem
    for i in range(3):
        conv = F.conv2d(h, w[f"stages.{i}.conv.weight"], w[f"stages.{i}.conv.bias"], padding=1)
        h = torch.relu(conv) + stem
    with torch.no_grad():
        torch.testing.assert_close(model(x), h.mean((2, 3)), rtol=1e-5, atol=1e-6)
