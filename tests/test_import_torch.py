"""`archspec import` from PyTorch (torch.fx): hand-written modules become the layers written
out by hand below, their specs count what the modules hold, and compiled with the imported
weights they compute what the modules compute. What archspec cannot express is one error that
names every offending node, with its module and source line. (torchvision's models:
tests/test_torchvision.py, in the environment .ci/torchvision.sh builds.)"""

from __future__ import annotations

import inspect

import numpy as np
import pytest

torch = pytest.importorskip("torch")
nn = torch.nn
F = torch.nn.functional

import archspec  # noqa: E402
from archspec.importing.flat import UnsupportedModel  # noqa: E402
from archspec.importing.fx import load_callable, read_torch  # noqa: E402
from archspec.weights import torch_to_keras_array  # noqa: E402


def flat_spec(flat) -> dict:
    """The flat spec document, written here independently of archspec.importing.fold."""
    layers, previous = [], "input"
    for layer in flat.layers:
        body = {**layer.args, "name": layer.name}
        if layer.inputs != [previous]:
            body["inputs"] = layer.inputs
        layers.append({layer.type: body})
        previous = layer.name
    assert flat.output == previous  # the model's output is its last layer
    return {"name": flat.name, "input": {"shape": list(flat.input_shape),
                                         "layout": "channels_first"}, "layers": layers}


def rows(flat) -> list[tuple]:
    return [(layer.name, layer.type, layer.args, layer.inputs) for layer in flat.layers]


def randomized(module: nn.Module) -> nn.Module:
    """Eval mode, and BatchNorm statistics and affine weights away from their initial values,
    so that a mix-up of them shows."""
    generator = torch.Generator().manual_seed(0)
    with torch.no_grad():
        for m in module.modules():
            if isinstance(m, nn.BatchNorm2d):
                m.running_mean.uniform_(-0.5, 0.5, generator=generator)
                m.running_var.uniform_(0.5, 1.5, generator=generator)
                m.weight.uniform_(0.5, 1.5, generator=generator)
                m.bias.uniform_(-0.5, 0.5, generator=generator)
            elif isinstance(m, (nn.PReLU, nn.LayerNorm)):
                m.weight.uniform_(0.1, 0.9, generator=generator)
    return module.eval()


def load_imported(model, spec, flat, renames=None) -> None:
    graph = archspec.analyze(spec)
    renames = renames or {}
    exchange = {}
    for layer in flat.layers:
        if layer.weights:
            name = renames.get(layer.name, layer.name)
            exchange[name] = {key: torch_to_keras_array(key, value, graph[name], graph)
                              for key, value in layer.weights.items()}
    archspec.set_weights(model, graph, exchange)


def assert_close(got, expected) -> None:
    got, expected = np.asarray(got), np.asarray(expected)
    np.testing.assert_allclose(got, expected, rtol=0,
                               atol=1e-5 * max(1.0, float(np.abs(expected).max())))


def assert_reproduces(module, input_shape, keras: bool = False) -> None:
    """Counts equal the module's; compiled with the imported weights, the spec computes the
    module's outputs (torch, and Keras when asked)."""
    flat = read_torch(module, input_shape, weights=True)
    spec = flat_spec(flat)
    totals = archspec.check(spec).totals
    assert totals["trainable_params"] == sum(p.numel() for p in module.parameters())
    assert totals["non_trainable_params"] == sum(
        b.numel() for b in module.buffers() if b.is_floating_point())
    x = torch.randn((2, *input_shape), generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        expected = module(x).numpy()
        ours = archspec.compile(spec).eval()
        load_imported(ours, spec, flat)
        assert_close(ours(x).numpy(), expected)
    if keras:
        ours_keras = archspec.compile(spec, backend="keras")
        load_imported(ours_keras, spec, flat)
        channels_last = x.permute(0, *range(2, x.dim()), 1).numpy()
        assert_close(ours_keras(channels_last, training=False), expected)


# --- a LeNet -------------------------------------------------------------------------------------

class LeNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 6, 5, padding=2)
        self.pool1 = nn.AvgPool2d(2)
        self.conv2 = nn.Conv2d(6, 16, 5)
        self.pool2 = nn.MaxPool2d(2, 2)
        self.fc1 = nn.Linear(16 * 5 * 5, 120)
        self.fc2 = nn.Linear(120, 84)
        self.fc3 = nn.Linear(84, 10)

    def forward(self, x):
        x = self.pool1(torch.tanh(self.conv1(x)))
        x = self.pool2(F.relu(self.conv2(x)))
        x = x.view(-1, 16 * 5 * 5)
        x = F.relu(self.fc1(x))
        x = F.relu(self.fc2(x))
        return F.softmax(self.fc3(x), dim=1)


def test_import_lenet_reads_each_layer_with_its_arguments():
    flat = read_torch(LeNet(), (1, 28, 28))
    assert (flat.input_shape, flat.channels_first, flat.framework) == ((1, 28, 28), True, "torch")
    assert rows(flat) == [
        ("conv1", "Conv2D", {"filters": 6, "kernel_size": 5, "padding": 2}, ["input"]),
        ("tanh", "Tanh", {}, ["conv1"]),
        ("pool1", "AveragePooling2D", {"pool_size": 2}, ["tanh"]),
        ("conv2", "Conv2D", {"filters": 16, "kernel_size": 5}, ["pool1"]),
        ("relu", "ReLU", {}, ["conv2"]),
        ("pool2", "MaxPooling2D", {"pool_size": 2}, ["relu"]),
        ("view", "Flatten", {}, ["pool2"]),  # x.view(-1, 400) keeps the batch: a Flatten
        ("fc1", "Dense", {"units": 120}, ["view"]),
        ("relu_1", "ReLU", {}, ["fc1"]),
        ("fc2", "Dense", {"units": 84}, ["relu_1"]),
        ("relu_2", "ReLU", {}, ["fc2"]),
        ("fc3", "Dense", {"units": 10}, ["relu_2"]),
        ("softmax", "Softmax", {}, ["fc3"]),
    ]
    assert flat.output == "softmax"
    assert all(layer.scope == () and layer.weights is None for layer in flat.layers)


def test_import_lenet_counts_weights_and_outputs():
    # LeNet-5's 61,706 parameters: 156 + 2,416 + 48,120 + 10,164 + 850
    module = LeNet().eval()
    assert sum(p.numel() for p in module.parameters()) == 61706
    assert_reproduces(module, (1, 28, 28), keras=True)  # Flatten then Dense: rows permuted


def test_import_weights_are_torchs_tensors_by_archspec_name():
    module = LeNet()
    flat = read_torch(module, (1, 28, 28), weights=True)
    by_name = {layer.name: layer.weights for layer in flat.layers}
    assert set(by_name["conv1"]) == {"kernel", "bias"}
    np.testing.assert_array_equal(by_name["conv1"]["kernel"], module.conv1.weight.detach())
    np.testing.assert_array_equal(by_name["fc3"]["bias"], module.fc3.bias.detach())
    assert by_name["relu"] == {}


# --- a residual block used three times -----------------------------------------------------------

class Residual(nn.Module):
    def __init__(self, channels):
        super().__init__()
        self.conv1 = nn.Conv2d(channels, channels, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(channels)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv2d(channels, channels, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(channels)

    def forward(self, x):
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        out += x
        return self.relu(out)


class SmallResNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, 16, 3, stride=2, padding=1, bias=False),
                                  nn.BatchNorm2d(16, eps=1e-3, momentum=0.01), nn.ReLU())
        self.blocks = nn.Sequential(Residual(16), Residual(16), Residual(16))
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(16, 10)

    def forward(self, x):
        x = self.blocks(self.stem(x))
        return self.fc(torch.flatten(self.pool(x), 1))


def test_import_residual_blocks_keep_their_scope_and_wiring():
    flat = read_torch(SmallResNet(), (3, 32, 32))
    layers = {layer.name: layer for layer in flat.layers}
    # torch's momentum 0.01 is Keras' default 0.99, and eps 1e-3 Keras' default: both left out
    assert rows(flat)[:3] == [
        ("stem_0", "Conv2D", {"filters": 16, "kernel_size": 3, "strides": 2, "padding": 1,
                              "use_bias": False}, ["input"]),
        ("stem_1", "BatchNormalization", {}, ["stem_0"]),
        ("stem_2", "ReLU", {}, ["stem_1"])]
    assert layers["blocks_0_bn1"].args == {"momentum": 0.9, "epsilon": 1e-5}
    # the block's ReLU module is called twice: two layers; `out += x` is an Add read by the
    # second, named after the block that computes it
    assert [(n, layers[n].type, layers[n].inputs) for n in
            ("blocks_1_relu", "blocks_1_add", "blocks_1_relu_1")] == [
        ("blocks_1_relu", "ReLU", ["blocks_1_bn1"]),
        ("blocks_1_add", "Add", ["blocks_1_bn2", "blocks_0_relu_1"]),
        ("blocks_1_relu_1", "ReLU", ["blocks_1_add"])]
    for name in ("blocks_2_conv1", "blocks_2_add"):
        assert layers[name].scope == (("blocks", "Sequential"), ("2", "Residual"))
    assert layers["stem_0"].scope == (("stem", "Sequential"),)
    # AdaptiveAvgPool2d(1) and the flatten after it are one global pooling
    assert rows(flat)[-2:] == [("pool", "GlobalAveragePooling2D", {}, ["blocks_2_relu_1"]),
                               ("fc", "Dense", {"units": 10}, ["pool"])]
    assert len(flat.layers) == 3 + 3 * 7 + 2  # conv1 bn1 relu conv2 bn2 add relu_1


def test_import_residual_network_reproduces_torch_and_keras():
    assert_reproduces(randomized(SmallResNet()), (3, 32, 32), keras=True)


def test_import_folds_the_repeated_block_and_still_reproduces_the_model():
    fold = pytest.importorskip("archspec.importing.fold", reason="the fold is not here yet")
    module = randomized(SmallResNet())
    flat = read_torch(module, (3, 32, 32), weights=True)
    folded = fold.fold(flat)
    assert folded.folded, folded.notes
    assert archspec.check(folded.document).totals["trainable_params"] == sum(
        p.numel() for p in module.parameters())
    ours = archspec.compile(folded.document).eval()
    load_imported(ours, folded.document, flat, folded.renames)
    x = torch.randn(2, 3, 32, 32)
    with torch.no_grad():
        assert_close(ours(x).numpy(), module(x).numpy())


# --- branches joined by torch.cat ----------------------------------------------------------------

class Branches(nn.Module):
    def __init__(self):
        super().__init__()
        self.b1 = nn.Conv2d(8, 4, 1)
        self.b2 = nn.Sequential(nn.Conv2d(8, 4, 1), nn.ReLU(), nn.Conv2d(4, 6, 3, padding=1))
        self.b3 = nn.Sequential(nn.MaxPool2d(3, 1, 1, ceil_mode=True), nn.Conv2d(8, 2, 1))

    def forward(self, x):
        return torch.cat([F.relu(self.b1(x)), self.b2(x), self.b3(x)], 1)


class CatNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = nn.Conv2d(3, 8, 3)
        self.mixed = Branches()
        self.head = nn.Sequential(nn.AdaptiveAvgPool2d((1, 1)), nn.Flatten(), nn.Dropout(0.2),
                                  nn.Linear(12, 5))

    def forward(self, x):
        return self.head(self.mixed(self.stem(x)))


def test_import_concatenated_branches():
    flat = read_torch(CatNet(), (3, 15, 15))
    assert rows(flat) == [
        ("stem", "Conv2D", {"filters": 8, "kernel_size": 3}, ["input"]),
        ("mixed_b1", "Conv2D", {"filters": 4, "kernel_size": 1}, ["stem"]),
        ("mixed_relu", "ReLU", {}, ["mixed_b1"]),
        ("mixed_b2_0", "Conv2D", {"filters": 4, "kernel_size": 1}, ["stem"]),
        ("mixed_b2_1", "ReLU", {}, ["mixed_b2_0"]),
        ("mixed_b2_2", "Conv2D", {"filters": 6, "kernel_size": 3, "padding": 1}, ["mixed_b2_1"]),
        ("mixed_b3_0", "MaxPooling2D", {"pool_size": 3, "strides": 1, "padding": 1,
                                        "rounding": "ceil"}, ["stem"]),
        ("mixed_b3_1", "Conv2D", {"filters": 2, "kernel_size": 1}, ["mixed_b3_0"]),
        # the channels of (N, C, H, W): axis 1 of the channels-first spec
        ("mixed_cat", "Concatenate", {"axis": 1}, ["mixed_relu", "mixed_b2_2", "mixed_b3_1"]),
        ("head_0", "GlobalAveragePooling2D", {}, ["mixed_cat"]),
        ("head_2", "Dropout", {"rate": 0.2}, ["head_0"]),
        ("head_3", "Dense", {"units": 5}, ["head_2"]),
    ]
    assert {layer.name: layer.scope for layer in flat.layers}["mixed_b2_1"] == (
        ("mixed", "Branches"), ("b2", "Sequential"))
    assert_reproduces(CatNet().eval(), (3, 15, 15), keras=True)


# --- the rest of the vocabulary, checked by what it computes ------------------------------------

class Vocabulary(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3, padding="same")
        self.prelu = nn.PReLU(8)
        self.dw = nn.Conv2d(8, 16, 3, stride=2, padding=1, groups=8)  # depth multiplier 2
        self.grouped = nn.Conv2d(16, 16, 3, padding=2, dilation=2, groups=4)
        self.bn = nn.BatchNorm2d(16)
        self.avg = nn.AvgPool2d(3, 2, 1, ceil_mode=True)  # counts padded cells, as torch does
        self.act = nn.Sequential(nn.ReLU6(), nn.Hardswish(), nn.ELU(0.5), nn.LeakyReLU(0.2))
        self.skip = nn.Identity()
        self.ln = nn.LayerNorm(400)
        self.fc = nn.Linear(400, 10)

    def forward(self, x):
        x = F.leaky_relu(self.conv(x), 0.2)
        x = F.hardswish(self.dw(self.prelu(x)))
        x = self.bn(self.grouped(x))
        x = x * torch.sigmoid(x.mean((2, 3), keepdim=True))  # a squeeze-excitation gate
        x = self.avg(F.elu(x, alpha=0.5))
        x = F.gelu(x, approximate="tanh") * 0.5 + 1.0
        x = F.hardsigmoid(x) + F.silu(x)
        x = self.act(torch.tanh(F.relu6(x - 0.25)))
        x = x.reshape(x.size(0), 16, 25).contiguous().reshape(-1, 16, 5, 5)
        x = self.ln(self.skip(x.view(x.size(0), -1)))
        return self.fc(x).softmax(-1)


def test_import_the_rest_of_the_vocabulary():
    flat = read_torch(Vocabulary(), (3, 16, 16))
    types = {layer.name: (layer.type, layer.args) for layer in flat.layers}
    assert types["conv"] == ("Conv2D", {"filters": 8, "kernel_size": 3, "padding": "same"})
    assert types["prelu"] == ("PReLU", {"shared_axes": [2, 3]})
    assert types["dw"] == ("DepthwiseConv2D", {"kernel_size": 3, "strides": 2, "padding": 1,
                                               "depth_multiplier": 2})
    assert types["grouped"] == ("Conv2D", {"filters": 16, "kernel_size": 3, "padding": 2,
                                           "dilation_rate": 2, "groups": 4})
    assert types["mean"] == ("GlobalAveragePooling2D", {"keepdims": True})
    assert types["mul"] == ("Multiply", {})
    assert types["avg"] == ("AveragePooling2D", {"pool_size": 3, "strides": 2, "padding": 1,
                                                 "rounding": "ceil", "count_include_pad": True})
    assert types["gelu"] == ("GELU", {"approximate": True})
    assert types["mul_1"] == ("Rescaling", {"scale": 0.5})
    assert types["add"] == ("Rescaling", {"scale": 1.0, "offset": 1.0})
    assert types["sub"] == ("Rescaling", {"scale": 1.0, "offset": -0.25})
    assert types["relu6"] == ("ReLU", {"max_value": 6.0})
    assert types["act_2"] == ("ELU", {"alpha": 0.5})
    assert types["act_3"] == ("LeakyReLU", {"negative_slope": 0.2})
    assert types["reshape"] == ("Reshape", {"target_shape": [16, 25]})
    assert types["reshape_1"] == ("Reshape", {"target_shape": [16, 5, 5]})
    assert types["view"] == ("Flatten", {})
    assert types["ln"] == ("LayerNormalization", {"epsilon": 1e-5})
    assert types["softmax"] == ("Softmax", {})
    # identities are no layers: their readers read what they read
    assert "skip" not in types and "contiguous" not in types
    assert {layer.name: layer.inputs for layer in flat.layers}["ln"] == ["view"]


def test_import_the_rest_of_the_vocabulary_reproduces_torch_and_keras():
    assert_reproduces(randomized(Vocabulary()), (3, 16, 16), keras=True)


# --- what cannot be expressed --------------------------------------------------------------------

class Odd(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3)
        self.up = nn.ConvTranspose2d(4, 4, 2, stride=2, padding=1)
        self.fc = nn.Linear(4, 4)

    def forward(self, x):
        x = self.up(self.conv(x))
        y = x[:, :2]
        z = x - torch.sigmoid(x)
        x = torch.cat([y, y], 1) + z.mean((2, 3), keepdim=True)
        x = torch.flatten(x.mean((2, 3), keepdim=True), 1)
        return self.fc(self.fc(x))


def _line_of(code: str) -> int:
    lines, start = inspect.getsourcelines(Odd.forward)
    return start + next(i for i, line in enumerate(lines) if code in line)


def test_import_names_every_node_it_cannot_express_and_where():
    with pytest.raises(UnsupportedModel) as info:
        read_torch(Odd(), (3, 12, 12))
    problems = info.value.errors
    # one diagnostic per offending node: what reads them is not blamed
    assert len(problems) == 4, str(info.value)
    expected = [
        ("x = self.up(self.conv(x))", "call_module torch.nn.ConvTranspose2d 'up'",
         "no layer for this module type"),
        ("y = x[:, :2]", "call_function operator.getitem", "indexing or slicing"),
        ("z = x - torch.sigmoid(x)", "call_function operator.sub", "subtracting two tensors"),
        ("return self.fc(self.fc(x))", "call_module torch.nn.Linear 'fc'",
         "called a second time"),
    ]
    for problem, (code, what, why) in zip(problems, expected):
        assert problem.location.file == __file__
        assert problem.location.line == _line_of(code)
        assert problem.message.startswith(what), problem.message
        assert why in problem.message and code in problem.message
        assert "at the top level of Odd" in problem.message
    assert "node 'fc_1'" in problems[3].message
    assert str(info.value).count("error:") == 4


def test_import_error_names_the_module_path_inside_submodules():
    class Inner(nn.Module):
        def forward(self, x):
            return torch.roll(x, 1, 2)

    class Outer(nn.Module):
        def __init__(self):
            super().__init__()
            self.body = nn.Sequential(nn.Conv2d(3, 3, 1), Inner())

        def forward(self, x):
            return self.body(x)

    with pytest.raises(UnsupportedModel) as info:
        read_torch(Outer(), (3, 8, 8))
    (problem,) = info.value.errors
    assert problem.message.startswith("call_function torch.roll (node 'roll', in 'body.1' "
                                      "(Inner))"), problem.message
    assert problem.location.file == __file__


def test_import_of_untraceable_control_flow_says_where():
    class Branchy(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv2d(3, 3, 1)

        def forward(self, x):
            if x.sum() > 0:
                return self.conv(x)
            return x

    with pytest.raises(UnsupportedModel) as info:
        read_torch(Branchy(), (3, 8, 8))
    (problem,) = info.value.errors
    lines, start = inspect.getsourcelines(Branchy.forward)
    assert (problem.location.file, problem.location.line) == (
        __file__, start + next(i for i, line in enumerate(lines) if "if x.sum()" in line))
    assert "torch.fx cannot trace Branchy" in problem.message and problem.hint


def test_import_refuses_a_wrong_input_shape_clearly():
    with pytest.raises(ValueError, match=r"running LeNet on an input of shape \[3, 3, 28, 28\]"):
        read_torch(LeNet(), (3, 28, 28))
    with pytest.raises(ValueError, match="positive integers"):
        read_torch(LeNet(), (1, 0, 28))


def test_import_leaves_the_model_as_it_was():
    module = SmallResNet().train()
    before = {k: v.clone() for k, v in module.state_dict().items()}
    read_torch(module, (3, 32, 32))
    assert module.training and all(m.training for m in module.modules())
    after = module.state_dict()
    assert all(torch.equal(before[k], after[k]) for k in before)  # BN statistics untouched


# --- module:callable -----------------------------------------------------------------------------

def test_load_callable_builds_the_module(tmp_path, monkeypatch):
    (tmp_path / "my_models_for_import.py").write_text(
        "import torch\n\ndef build():\n    return torch.nn.Linear(2, 3)\n\n"
        "model = torch.nn.Linear(4, 5)\n")
    monkeypatch.chdir(tmp_path)
    assert load_callable("my_models_for_import:build").out_features == 3
    assert load_callable("my_models_for_import:model").out_features == 5  # a module as it is
    assert isinstance(load_callable("torch.nn:Identity"), nn.Identity)


@pytest.mark.parametrize("reference, message", [
    ("torch.nn.Identity", "not of the form module:callable"),
    ("torch:nn:Identity", "not of the form module:callable"),
    ("no_such_package_here:build", "no module named 'no_such_package_here'"),
    ("torch.nn:NoSuchThing", "module 'torch.nn' has no attribute 'NoSuchThing'"),
    ("math:pi", "'math:pi' is neither an nn.Module nor callable"),
    ("os:getcwd", "'os:getcwd' returned a str, not an nn.Module"),
])
def test_load_callable_errors(reference, message):
    with pytest.raises(ValueError, match=message):
        load_callable(reference)


BROKEN_SOURCES = [
    ("badmod:conv", "3,2,2", "Kernel size can't be greater than actual input size"),
    ("badmod:conv", "3,100000,100000", "takes at most 16,777,216"),  # refused before any work
    ("badmod:boom", "3,8,8", "badmod:boom() raised RuntimeError: kaput"),
    ("syntaxbad:f", "3,8,8", "importing 'syntaxbad' raised SyntaxError"),
]


@pytest.mark.parametrize("source, shape, message", BROKEN_SOURCES)
def test_the_import_command_reports_user_code_failures_without_a_traceback(
        tmp_path, monkeypatch, capfd, source, shape, message):
    from click.testing import CliRunner

    from archspec.cli import main
    (tmp_path / "badmod.py").write_text(
        "from torch import nn\ndef conv():\n    return nn.Sequential(nn.Conv2d(3, 4, 3))\n"
        "def boom():\n    raise RuntimeError('kaput')\n")
    (tmp_path / "syntaxbad.py").write_text("x = (\n")
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["import", source, "--input", shape,
                                       "-o", str(tmp_path / "out.yaml")])
    printed = result.output + "".join(capfd.readouterr())
    assert result.exit_code == 1, printed
    assert message in printed and "Traceback" not in printed
    assert not (tmp_path / "out.yaml").exists()


def test_a_weights_file_that_cannot_be_written_leaves_no_spec_behind(tmp_path, monkeypatch):
    from click.testing import CliRunner

    from archspec.cli import main
    (tmp_path / "good.py").write_text(
        "from torch import nn\ndef conv():\n    return nn.Sequential(nn.Conv2d(3, 4, 3))\n")
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["import", "good:conv", "--input", "3,8,8", "-o",
                                       str(tmp_path / "out.yaml"), "--weights",
                                       str(tmp_path / "no" / "dir" / "w.pt")])
    assert result.exit_code == 1 and "cannot write" in result.output
    assert not (tmp_path / "out.yaml").exists()
