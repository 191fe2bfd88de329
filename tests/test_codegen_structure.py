"""Generated torch code keeps the spec's structure: a class per block, nn.Sequential for
numbered chains, optional members for `when`, and a flat model only where the structure does
not split into units. Framework-free: these read the generated source."""

import ast

import pytest

import archspec

ZOO = ["alexnet", "googlenet", "inception_course", "lenet5", "mnist_ann", "mnist_cnn",
       "mobilenet_v2", "resnet", "resnet18", "resnet152", "resnet_course", "vgg16", "vgg19",
       "densenet", "mobilenet_v3"]


def torch_source(spec) -> str:
    return archspec.generate(spec, backend="torch")


def test_resnet152_reads_like_torchvision(spec_dir):
    source = torch_source(spec_dir / "resnet152.yaml")
    assert len(source.splitlines()) <= 250  # was 1,288 lines, flat
    assert source.count("class Bottleneck(nn.Module)") == 1
    assert "self.layer3 = nn.Sequential(" in source
    assert "Bottleneck(1024, width=256, stride=1, project=False)," in source
    # the projection shortcut is optional, as torchvision's downsample=None
    assert "if project else None" in source
    assert "downsample = self.downsample(inputs) if self.downsample is not None else inputs" \
        in source
    # init by module type, not a literal call per layer; no methods the model does not use
    assert "init_like_keras_(module)" in source and "keras_init_(self." not in source
    assert "regularization_loss" not in source and "apply_constraints" not in source
    assert source.count("MACs per sample") == 1  # the docstring once
    assert "nn.AdaptiveAvgPool2d(1)" in source and "torch.flatten(self.avgpool(x), 1)" in source


@pytest.mark.parametrize("name", ZOO)
def test_generated_torch_imports_only_torch_and_math_and_is_deterministic(spec_dir, name):
    source = torch_source(spec_dir / f"{name}.yaml")
    assert source == torch_source(spec_dir / f"{name}.yaml")
    modules = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            modules.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            modules.add(node.module)
    assert modules <= {"torch", "torch.nn", "math"}, modules


def test_helpers_take_keyword_arguments():
    spec = archspec.Spec(name="t", input={"shape": [9, 9, 2]}, layers=[
        {"MaxPooling2D": {"pool_size": 3, "strides": 2, "padding": [[0, 1], [0, 1]]}}])
    source = torch_source(spec)
    assert "PaddedPool(kind='max', kernel_size=(3, 3), stride=(2, 2)" in source


BLOCK_SPEC = """
name: t
input: {shape: [8, 8, 4]}
blocks:
  unit:
    params: [filters, {project: false}]
    layers:
      - group: {name: shortcut, when: "${project}", layers: [Conv2D: {filters: "${filters}", kernel_size: 1}]}
      - Conv2D: {filters: "${filters}", kernel_size: 3, padding: same, inputs: input, name: conv}
      - Add: {inputs: [shortcut, conv]}
layers:
  - unit: {filters: 8, project: true}
  - unit: {filters: 8}
  - unit: {filters: 16, project: true}
"""


def test_block_instances_share_one_class_with_parameters_and_optional_members():
    source = torch_source(archspec.loads(BLOCK_SPEC))
    assert source.count("class Unit(nn.Module)") == 1
    assert "def __init__(self, in_channels, filters, project):" in source
    assert "self.conv = nn.Conv2d(in_channels, filters, 3, padding=1)" in source
    assert "self.unit1 = Unit(4, filters=8, project=True)" in source
    assert "self.unit2 = Unit(8, filters=8, project=False)" in source


def test_instances_that_differ_in_structure_become_variants():
    text = BLOCK_SPEC.replace("inputs: input, name: conv}",
                              "inputs: input, name: conv, activation: \"${'relu' if project "
                              "else 'tanh'}\"}")
    source = torch_source(archspec.loads(text))
    # a ReLU and a tanh forward cannot share one class: two, each used where it is right
    assert "class Unit(nn.Module)" in source and "class Unit2(nn.Module)" in source
    assert "F.relu(self.conv(inputs), inplace=True)" in source
    assert "torch.tanh(self.conv(x))" in source or "torch.tanh(self.conv(inputs))" in source


def test_a_layer_read_from_inside_a_block_falls_back_to_a_flat_model():
    text = BLOCK_SPEC + "  - Add: {inputs: [unit1_conv, unit2]}\n"
    graph = archspec.analyze(archspec.loads(text))
    source = torch_source(archspec.loads(text))
    assert "class Unit" not in source and "self.unit1_conv = " in source
    assert graph["unit1_conv"].scope  # the IR keeps the structure; only the layout is flat


CONTEXT_SPEC = """
name: film
input: {shape: [8, 8, 4]}
layers:
  - Conv2D: {filters: 8, kernel_size: 3, padding: same, name: stem}
  - Conv2D: {filters: 8, kernel_size: 1, name: features, when: "${features}"}
  - group: {name: stages, layers: [
      {repeat: {times: 3, layers: [
        {group: {layers: [
          {Conv2D: {filters: 8, kernel_size: 3, padding: same, name: conv}},
          {ReLU: {name: act}},
          {Add: {inputs: [act, stem], name: add}}]}}]}}]}
  - GlobalAveragePooling2D
params: {features: true}
"""


@pytest.mark.parametrize("features", [True, False])
def test_numbered_items_that_read_an_extra_input_become_a_module_list(features):
    # without `features` the stage starts from stem, which each item also reads as its extra
    spec = archspec.loads(CONTEXT_SPEC, params={"features": features})
    source = torch_source(spec)
    assert source.count("class Stage(nn.Module)") == 1
    assert "def forward(self, inputs0, inputs1):" in source
    assert "self.stages = nn.ModuleList([Stage(), Stage(), Stage()])" in source
    start = "x = self.features(stem)" if features else "x = stem"
    assert f"        {start}\n        for stage in self.stages:\n            x = stage(x, stem)\n" \
        in source
    ast.parse(source)
