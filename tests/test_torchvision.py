"""The zoo's torchvision reproductions: torchvision's weights load into both backends and give
torchvision's outputs, and `verify --reference torchvision.models.<name>` compares layer by
layer. torchvision's wheels need torch 2.14.1 while constraints.txt pins 2.13.0, so these run in
the environment .ci/torchvision.sh builds (.venv-tv), where a skip fails; tests/conftest.py
leaves this file out where torchvision is not installed."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

import archspec
from archspec.cli import main
from archspec.verification import ATOL

pytestmark = pytest.mark.reference

MAXPOOL = "  - MaxPooling2D: {pool_size: 3, strides: 2, padding: 1, name: maxpool}"


@pytest.fixture(scope="module")
def torchvision():
    # Imported before Keras: torchvision loads triton, which crashes after TensorFlow.
    return pytest.importorskip("torchvision", reason="torchvision is not installed here; "
                               ".ci/torchvision.sh builds the environment for these tests")


@pytest.fixture(scope="module")
def torch(torchvision):
    import torch
    return torch


def randomized_reference(torchvision, torch, name):
    kwargs = {"aux_logits": False, "init_weights": True} if name == "googlenet" else {}
    reference = getattr(torchvision.models, name)(weights=None, **kwargs).eval()
    generator = torch.Generator().manual_seed(0)
    with torch.no_grad():
        for module in reference.modules():
            if isinstance(module, torch.nn.BatchNorm2d):
                module.running_mean.uniform_(-0.5, 0.5, generator=generator)
                module.running_var.uniform_(0.5, 1.5, generator=generator)
    return reference, generator


# A family file's model: the spec and the parameters that select it.
FAMILIES = {"densenet121": ("densenet", {"depth": 121}),
            "mobilenet_v3_large": ("mobilenet_v3", {"size": "large"}),
            "mobilenet_v3_small": ("mobilenet_v3", {"size": "small"}),
            "efficientnet_b0": ("efficientnet", {"size": 0})}


def spec_of(spec_dir: Path, name: str) -> tuple[Path, dict | None]:
    file, params = FAMILIES.get(name, (name, None))
    return spec_dir / f"{file}.yaml", params


@pytest.mark.parametrize("name", ["resnet18", "resnet50", "vgg19", "googlenet", "mobilenet_v2",
                                  "densenet121"])
def test_torchvision_weights_load_into_both_backends(spec_dir, torchvision, torch, name):
    reference, generator = randomized_reference(torchvision, torch, name)
    spec, params = spec_of(spec_dir, name)
    graph = archspec.analyze(spec, params)
    ours = archspec.compile(spec, params=params).eval()
    archspec.load_reference_weights(ours, reference, graph)
    x = torch.randn(2, 3, 224, 224, generator=generator)
    with torch.no_grad():
        expected = reference(x)
        torch.testing.assert_close(ours(x), expected, rtol=0, atol=0)
    ours_keras = archspec.compile(spec, backend="keras", params=params)
    archspec.load_reference_weights(ours_keras, reference, graph)
    got = np.asarray(ours_keras(x.permute(0, 2, 3, 1).numpy(), training=False))
    expected = expected.numpy()
    np.testing.assert_allclose(got, expected, atol=ATOL * max(1.0, np.abs(expected).max()))


# Every reproduction's names and grouping are torchvision's: its state_dict loads as it is.
STRICT = ["resnet18", "resnet34", "resnet50", "resnet101", "resnet152", "vgg16", "vgg19",
          "googlenet", "mobilenet_v2", "densenet121", "mobilenet_v3_large",
          "mobilenet_v3_small", "efficientnet_b0"]


@pytest.mark.parametrize("name", STRICT)
def test_torchvision_state_dict_loads_strictly(spec_dir, torchvision, torch, name):
    reference, generator = randomized_reference(torchvision, torch, name)
    spec, params = spec_of(spec_dir, name)
    # vgg16 is the course's, ending in softmax: its logits are torchvision's output
    ours = archspec.compile(spec, logits=name == "vgg16", params=params).eval()
    ours.load_state_dict(reference.state_dict(), strict=True)  # no key mapping at all
    # and verify's pairing finds every layer under its own path: no pairing by position
    from archspec.backends.torch_backend import attribute_names
    from archspec.reference import reference_pairs
    graph = archspec.analyze(spec, params)
    paths = attribute_names(graph)
    pairs = reference_pairs(reference, graph)
    assert pairs and all(theirs == paths[node.name] for node, theirs, _ in pairs)
    x = torch.randn(1, 3, 224, 224, generator=generator)
    with torch.no_grad():
        torch.testing.assert_close(ours(x), reference(x), rtol=0, atol=0)


@pytest.mark.parametrize("depth", [121, 161, 169, 201])
def test_densenet_family_counts_are_torchvision_s(spec_dir, torchvision, torch, depth):
    """Parameters and float buffers; for densenet121 also the MACs of convolutions and linear
    layers, counted by torch's FlopCounterMode (2 FLOPs per multiply-add) on torchvision's
    model (tests/test_zoo.py works out the other depths' by hand)."""
    from torch.utils.flop_counter import FlopCounterMode
    reference = getattr(torchvision.models, f"densenet{depth}")(weights=None).eval()
    report = archspec.check(spec_dir / "densenet.yaml", params={"depth": depth})
    assert report.totals["trainable_params"] == sum(p.numel() for p in reference.parameters())
    assert report.totals["non_trainable_params"] == sum(
        b.numel() for b in reference.buffers() if b.is_floating_point())
    if depth == 121:
        with FlopCounterMode(display=False) as counter, torch.no_grad():
            reference(torch.zeros(1, 3, 224, 224))
        assert 2 * report.totals["macs"] == counter.get_total_flops()


def verify_resnet18(spec: Path):
    return CliRunner().invoke(main, ["verify", str(spec), "--set", "depth=18", "--batch", "1",
                                     "--reference", "torchvision.models.resnet18"])


def paired_line(backend: str, output: str) -> str:
    return next(line for line in output.splitlines() if f"{backend}: " in line)


def test_resnet18_agrees_with_torchvision_layer_by_layer(spec_dir, torchvision):
    result = verify_resnet18(spec_dir / "resnet.yaml")
    assert result.exit_code == 0, result.output
    assert "torchvision.models.resnet18(weights=None, num_classes=1000)" in result.output
    for backend in ("torch", "keras"):  # 20 convolutions, 20 BatchNorms, 1 Linear
        assert "all 41 paired layers agree with the reference" in paired_line(
            backend, result.output)


def test_a_wrong_resnet18_parts_from_torchvision_at_the_first_layer_after_it(
        spec_dir, torchvision, tmp_path):
    text = (spec_dir / "resnet.yaml").read_text()
    assert MAXPOOL in text
    variant = tmp_path / "resnet.yaml"
    variant.write_text(text.replace(MAXPOOL, MAXPOOL.replace("MaxPooling2D", "AveragePooling2D")))
    result = verify_resnet18(variant)
    assert result.exit_code == 1, result.output
    for backend in ("torch", "keras"):
        line = paired_line(backend, result.output)
        assert "FAIL" in line and "parts from the reference at layer 'layer1_0_conv1' " \
               "(reference 'layer1.0.conv1')" in line, line


def test_a_torchvision_reference_after_keras_is_refused_not_a_crash(torchvision):
    # In a fresh process (this one imported triton first): Keras, then torchvision by name.
    script = ("import keras, sys\n"
              "from archspec.reference import UnknownReference, resolve_reference\n"
              "try:\n"
              "    resolve_reference('torchvision.models.resnet18')\n"
              "except UnknownReference as exc:\n"
              "    print(exc)\n")
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                            timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "import torchvision (or triton) before keras" in result.stdout


# vit.yaml: torchvision's names, so its state_dict loads with no key mapping; the spec's
# torch model keeps sequences channels-first, (N, features, length), where torchvision's are
# (N, length, features), so matrix products run in another order: equal to float rounding.
VITS = [("vit_b_16", {}), ("vit_b_32", {"patch": 32})]


@pytest.mark.parametrize("name, params", VITS, ids=[name for name, _ in VITS])
def test_torchvision_vit_state_dict_loads_strictly(spec_dir, torchvision, torch, name, params):
    import gc
    reference = getattr(torchvision.models, name)(weights=None).eval()
    generator = torch.Generator().manual_seed(0)
    with torch.no_grad():  # torchvision's head starts at zero: random values everywhere
        for key, tensor in reference.named_parameters():
            scale = 1.0 if ".ln" in key and key.endswith("weight") else 0.0
            tensor.copy_(scale + 0.05 * torch.randn(tensor.shape, generator=generator))
    graph = archspec.analyze(spec_dir / "vit.yaml", params)
    totals = (sum(p.numel() for p in reference.parameters()),
              sum(b.numel() for b in reference.buffers()))
    assert totals == (sum(n.meta["trainable"] for n in graph.live()),
                      sum(n.meta["non_trainable"] for n in graph.live()))
    ours = archspec.compile(spec_dir / "vit.yaml", params=params).eval()
    ours.load_state_dict(reference.state_dict(), strict=True)  # no key mapping at all
    x = torch.randn(1, 3, 224, 224, generator=generator)
    with torch.no_grad():
        expected = reference(x)
        del reference
        gc.collect()
        got = ours(x)
    scale = float(expected.abs().max())
    assert scale > 1.0  # a head of zeros would compare nothing
    torch.testing.assert_close(got, expected, rtol=1e-5, atol=1e-5 * scale)


def test_vit_macs_are_torchs_own_count_of_its_products(spec_dir, torchvision, torch):
    """torch's FlopCounterMode, with attention on its math kernel (whose two batched products
    it counts; the fused CPU kernel it skips, as fvcore does), counts 2 per multiply-add of
    vit_b_16's convolution, linear layers and attention: exactly the spec's MACs. In training
    mode nn.MultiheadAttention takes its composite path (eval mode runs one fused operator);
    with dropout 0 the computation is the same."""
    from torch.nn.attention import SDPBackend, sdpa_kernel
    from torch.utils.flop_counter import FlopCounterMode
    reference = torchvision.models.vit_b_16(weights=None).train()
    with torch.no_grad(), sdpa_kernel(SDPBackend.MATH), FlopCounterMode(display=False) as count:
        reference(torch.zeros(1, 3, 224, 224))
    by_operator = {str(op): flops for op, flops in count.get_flop_counts()["Global"].items()}
    assert by_operator["aten.bmm"] == 2 * 12 * 2 * 12 * 197 * 197 * 64  # Q.K^T and A.V
    assert count.get_total_flops() == 2 * archspec.check(spec_dir / "vit.yaml").totals["macs"]


def test_torchvision_convnext_tiny_state_dict_loads_strictly(spec_dir, torchvision, torch):
    """convnext.yaml: torchvision's names (features.1.0.block.0, features.1.0.layer_scale as a
    bare (C, 1, 1) parameter), so its state_dict loads with no key mapping; the same weights
    give its outputs in the Keras model too. Every parameter is randomized: untrained, the
    layer scales (1e-6) would hide each block's branch and the LayerNorms would be identities.
    The spec's torch model runs LayerNorm and Linear on channels moved last and back rather
    than on a permuted copy, so products run in another order: equal to float rounding. And
    torch's FlopCounterMode counts 2 per multiply-add of the convolutions and linear layers:
    exactly the spec's MACs."""
    import gc
    from torch.utils.flop_counter import FlopCounterMode
    reference = torchvision.models.convnext_tiny(weights=None).eval()
    with FlopCounterMode(display=False) as counter, torch.no_grad():
        reference(torch.zeros(1, 3, 224, 224))
    generator = torch.Generator().manual_seed(0)
    with torch.no_grad():
        for key, tensor in reference.named_parameters():
            scale = 1.0 if key.endswith("layer_scale") or ("weight" in key and tensor.dim() == 1) \
                else 0.0
            tensor.copy_(scale + 0.05 * torch.randn(tensor.shape, generator=generator))
    spec = spec_dir / "convnext.yaml"
    report = archspec.check(spec)
    assert (report.totals["trainable_params"], report.totals["non_trainable_params"]) == (
        sum(p.numel() for p in reference.parameters()), sum(b.numel() for b in reference.buffers()))
    assert 2 * report.totals["macs"] == counter.get_total_flops()
    ours = archspec.compile(spec).eval()
    ours.load_state_dict(reference.state_dict(), strict=True)  # no key mapping at all
    x = torch.randn(2, 3, 224, 224, generator=generator)
    with torch.no_grad():
        expected = reference(x)
        got = ours(x)
    scale = float(expected.abs().max())
    assert scale > 1.0
    torch.testing.assert_close(got, expected, rtol=1e-5, atol=1e-5 * scale)
    del ours
    gc.collect()
    ours_keras = archspec.compile(spec, backend="keras")
    archspec.load_reference_weights(ours_keras, reference, archspec.analyze(spec))
    got = np.asarray(ours_keras(x.permute(0, 2, 3, 1).numpy(), training=False))
    np.testing.assert_allclose(got, expected.numpy(), atol=ATOL * scale)


# mobilenet_v3.yaml: both sizes in one file; width is torchvision's width_mult.
MOBILENETS_V3 = [("large", 1.0), ("small", 1.0), ("large", 0.75), ("small", 0.5)]


@pytest.mark.parametrize("size, width", MOBILENETS_V3)
def test_torchvision_mobilenet_v3_counts_weights_and_outputs(spec_dir, torchvision, torch, size,
                                                             width):
    """Parameters and float buffers; torch's FlopCounterMode count of the convolutions (the
    squeeze-excitations' 1x1 ones included) and linear layers, 2 FLOPs per multiply-add; the
    state_dict loads with strict=True into the torch model, which gives torchvision's outputs
    bit for bit, and into the Keras model. BatchNorm gets random statistics and affine
    parameters, and the linear layers a wider init than torchvision's std 0.01, under which
    the logits stay near 0 and a tolerance would hide a difference."""
    from torch.utils.flop_counter import FlopCounterMode
    reference = getattr(torchvision.models, f"mobilenet_v3_{size}")(
        weights=None, width_mult=width).eval()
    with FlopCounterMode(display=False) as counter, torch.no_grad():
        reference(torch.zeros(1, 3, 224, 224))
    generator = torch.Generator().manual_seed(0)
    with torch.no_grad():
        for module in reference.modules():
            if isinstance(module, torch.nn.BatchNorm2d):
                for tensor, low in ((module.running_mean, -0.5), (module.running_var, 0.5),
                                    (module.weight, 0.5), (module.bias, -0.5)):
                    tensor.uniform_(low, low + 1, generator=generator)
            elif isinstance(module, torch.nn.Linear):
                module.weight.normal_(0, module.in_features ** -0.5, generator=generator)
                module.bias.uniform_(-0.5, 0.5, generator=generator)
    spec, params = spec_dir / "mobilenet_v3.yaml", {"size": size, "width": width}
    report = archspec.check(spec, params=params)
    assert (report.totals["trainable_params"], report.totals["non_trainable_params"]) == (
        sum(p.numel() for p in reference.parameters()),
        sum(b.numel() for b in reference.buffers() if b.is_floating_point()))
    assert 2 * report.totals["macs"] == counter.get_total_flops()
    x, expected, scale = _loads_strictly_and_computes_the_same(spec, params, reference, generator)
    ours_keras = archspec.compile(spec, backend="keras", params=params)
    archspec.load_reference_weights(ours_keras, reference, archspec.analyze(spec, params))
    got = np.asarray(ours_keras(x.permute(0, 2, 3, 1).numpy(), training=False))
    np.testing.assert_allclose(got, expected.numpy(), atol=ATOL * scale)


@pytest.mark.parametrize("size", range(8))
def test_efficientnet_family_counts_are_torchvision_s(spec_dir, torchvision, torch, size):
    """Every size: parameters, float buffers, each BatchNorm's eps and momentum (B5-B7 differ
    from B0-B4) and each block's stochastic depth probability, torchvision's modules against
    the spec's layers of the same path. No forward pass."""
    reference = getattr(torchvision.models, f"efficientnet_b{size}")(weights=None)
    spec, params = spec_dir / "efficientnet.yaml", {"size": size}
    report = archspec.check(spec, params=params)
    assert (report.totals["trainable_params"], report.totals["non_trainable_params"]) == (
        sum(p.numel() for p in reference.parameters()),
        sum(b.numel() for b in reference.buffers() if b.is_floating_point()))
    layers = {node.name: node.layer for node in archspec.analyze(spec, params).live()}
    norms = depths = 0
    for path, module in reference.named_modules():
        ours = layers.get(path.replace(".", "_"))
        if isinstance(module, torch.nn.BatchNorm2d):
            assert (ours.epsilon, 1 - ours.momentum) == pytest.approx(
                (module.eps, module.momentum), rel=1e-12), path
            norms += 1
        elif type(module).__name__ == "StochasticDepth" and ours is not None:
            assert ours.rate == module.p, path  # blocks without a residual never apply it
            depths += 1
    assert norms == sum(1 for layer in layers.values() if layer.type == "BatchNormalization")
    assert depths == sum(1 for layer in layers.values() if layer.type == "StochasticDepth") > 0


@pytest.mark.parametrize("size", [0, 5])
def test_torchvision_efficientnet_weights_and_outputs(spec_dir, torchvision, torch, size):
    """B0 and B5 (BatchNorm eps 1e-3) at 224x224: torch's FlopCounterMode counts 2 per
    multiply-add of the convolutions (the squeeze-excitations' included) and the linear layer,
    exactly the spec's MACs; the state_dict loads with strict=True into the torch model, which
    gives torchvision's outputs bit for bit, and into the Keras model. BatchNorm gets random
    statistics and affine parameters, the squeeze-excitations random biases and the head a
    wider init than torchvision's, under which every logit stays near 0."""
    from torch.utils.flop_counter import FlopCounterMode
    reference = getattr(torchvision.models, f"efficientnet_b{size}")(weights=None).eval()
    spec, params = spec_dir / "efficientnet.yaml", {"size": size, "image": 224}
    if size == 0:
        with FlopCounterMode(display=False) as counter, torch.no_grad():
            reference(torch.zeros(1, 3, 224, 224))
        assert 2 * archspec.check(spec, params=params).totals["macs"] == \
            counter.get_total_flops()
    generator = torch.Generator().manual_seed(0)
    with torch.no_grad():
        for module in reference.modules():
            if isinstance(module, torch.nn.BatchNorm2d):
                for tensor, low in ((module.running_mean, -0.5), (module.running_var, 0.5),
                                    (module.weight, 0.5), (module.bias, -0.5)):
                    tensor.uniform_(low, low + 1, generator=generator)
            elif isinstance(module, (torch.nn.Conv2d, torch.nn.Linear)) and \
                    module.bias is not None:
                module.bias.uniform_(-0.5, 0.5, generator=generator)
                if isinstance(module, torch.nn.Linear):
                    module.weight.normal_(0, module.in_features ** -0.5, generator=generator)
    x, expected, scale = _loads_strictly_and_computes_the_same(spec, params, reference, generator)
    ours_keras = archspec.compile(spec, backend="keras", params=params)
    archspec.load_reference_weights(ours_keras, reference, archspec.analyze(spec, params))
    got = np.asarray(ours_keras(x.permute(0, 2, 3, 1).numpy(), training=False))
    np.testing.assert_allclose(got, expected.numpy(), atol=ATOL * scale)


def test_convnext_agrees_with_torchvision_layer_by_layer(spec_dir, torchvision):
    """`verify --reference` pairs torchvision's bare layer_scale parameters (compared at the
    next layer: they have no module) and reads the outputs of the LayerNorm and Linear
    modules between its Permutes, which are channels-last already, and of the head's
    LayerNorm2d on a (C, 1, 1) map. At 64x64: every layer, a twelfth of the work."""
    result = CliRunner().invoke(main, ["verify", str(spec_dir / "convnext.yaml"), "--set",
                                       "image=64", "--batch", "1", "--reference",
                                       "torchvision.models.convnext_tiny"])
    assert result.exit_code == 0, result.output
    for backend in ("torch", "keras"):  # 100 pairs less 18 layer scales
        assert "all 82 paired layers agree with the reference" in paired_line(
            backend, result.output)


def _loads_strictly_and_computes_the_same(spec, params, reference, generator):
    """The compiled spec takes the reference's state_dict with no key mapping and gives
    bit-identical outputs, large enough (> 1) that the tolerance elsewhere means something:
    (input, reference output, its largest magnitude)."""
    import torch  # the module: the `torch` fixture shadows it at module level
    ours = archspec.compile(spec, params=params).eval()
    ours.load_state_dict(reference.state_dict(), strict=True)
    x = torch.randn(2, 3, 224, 224, generator=generator)
    with torch.no_grad():
        expected = reference(x)
        torch.testing.assert_close(ours(x), expected, rtol=0, atol=0)
    scale = float(expected.abs().max())
    assert scale > 1.0
    return x, expected, scale


# --- `archspec import` of torchvision's models (archspec.importing.fx) --------------------------

IMPORTED = {"resnet18": {}, "vgg16": {}, "mobilenet_v2": {},
            "googlenet": {"aux_logits": False, "init_weights": False},
            # as pretrained weights set it: the input renormalized channel by channel, which
            # the import reads as one per-channel Rescaling
            "googlenet_transform_input": {"aux_logits": False, "init_weights": False,
                                          "transform_input": True},
            "efficientnet_b0": {}}


@pytest.mark.parametrize("name", list(IMPORTED))
def test_import_torchvision_model_counts_and_outputs_in_both_backends(torchvision, torch, name):
    """The imported (and folded) spec counts torchvision's parameters and buffers, and with
    the imported weights computes torchvision's outputs in torch and in Keras."""
    from archspec.importing.fold import fold
    from archspec.importing.fx import read_torch
    from archspec.weights import torch_to_keras_array
    reference = getattr(torchvision.models, name.split("_transform")[0])(
        weights=None, **IMPORTED[name]).eval()
    generator = torch.Generator().manual_seed(0)
    with torch.no_grad():
        for module in reference.modules():
            if isinstance(module, torch.nn.BatchNorm2d):
                module.running_mean.uniform_(-0.5, 0.5, generator=generator)
                module.running_var.uniform_(0.5, 1.5, generator=generator)
    flat = read_torch(reference, (3, 224, 224), weights=True)
    folded = fold(flat)
    spec = folded.document
    report = archspec.check(spec)
    assert report.totals["trainable_params"] == sum(p.numel() for p in reference.parameters())
    assert report.totals["non_trainable_params"] == sum(
        b.numel() for b in reference.buffers() if b.is_floating_point())
    graph = archspec.analyze(spec)
    exchange = {}
    for layer in flat.layers:
        if layer.weights:
            node = graph[folded.renames.get(layer.name, layer.name)]
            exchange[node.name] = {key: torch_to_keras_array(key, value, node, graph)
                                   for key, value in layer.weights.items()}
    x = torch.randn(2, 3, 224, 224, generator=generator)
    ours = archspec.compile(spec).eval()
    archspec.set_weights(ours, graph, exchange)
    with torch.no_grad():
        expected = reference(x)
        got = ours(x)
    expected = expected.numpy()
    tolerance = ATOL * max(1.0, np.abs(expected).max())
    np.testing.assert_allclose(got.numpy(), expected, rtol=0, atol=tolerance)
    ours_keras = archspec.compile(spec, backend="keras")
    archspec.set_weights(ours_keras, graph, exchange)
    got = np.asarray(ours_keras(x.permute(0, 2, 3, 1).numpy(), training=False))
    np.testing.assert_allclose(got, expected, rtol=0, atol=tolerance)


def test_import_of_shufflenet_names_each_op_archspec_lacks_and_its_source_line(torchvision):
    """ShuffleNetV2's channel shuffle (view, transpose) and its split (chunk) have no layer:
    one error lists every such node with torchvision's file, line and code, and the module
    it sits in."""
    from archspec.importing.flat import UnsupportedModel
    from archspec.importing.fx import read_torch
    reference = torchvision.models.shufflenet_v2_x0_5(weights=None)
    with pytest.raises(UnsupportedModel) as info:
        read_torch(reference, (3, 224, 224))
    problems = info.value.errors
    source = Path(torchvision.models.shufflenetv2.__file__).read_text().splitlines()
    for problem in problems:
        assert problem.location.file == torchvision.models.shufflenetv2.__file__
        assert source[problem.location.line - 1].strip() in problem.message
    transposes = [p for p in problems if p.message.startswith("call_function torch.transpose")]
    chunks = [p for p in problems if p.message.startswith("call_method Tensor.chunk")]
    # one channel shuffle per InvertedResidual (4 + 8 + 4 of them); the 13 that are not the
    # first of their stage split their input first. Nothing else: the parts chunk returns
    # are not blamed again, nor what reads them
    assert len(transposes) == 16 and len(chunks) == 13 and len(problems) == 29
    assert "in 'stage2.0' (InvertedResidual), in channel_shuffle()" in transposes[0].message
    assert "x1, x2 = x.chunk(2, dim=1)" in chunks[0].message
