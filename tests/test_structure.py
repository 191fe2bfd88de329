"""The IR keeps the spec's structure: every node knows the block calls, named repeat
iterations and named groups it was expanded in, and names follow positions in that structure
rather than counts over the whole spec."""

import archspec
from archspec import Dense, Spec, group, repeat


def frames(node):
    return [(f.kind, f.name, f.block) for f in node.scope]


def test_a_resnet_layer_knows_its_stage_iteration_and_block():
    graph = archspec.analyze("specs/resnet50.yaml")
    node = graph["layer2_0_conv2"]
    assert frames(node) == [("iteration", "layer2", None), ("iteration", "0", None),
                            ("call", "", "bottleneck")]
    assert node.local == "conv2"
    call = node.scope[-1]
    assert dict(call.params) == {"width": 128, "stride": 2, "project": True}
    assert [f.index for f in node.scope[:2]] == [2, 0]
    assert not graph["conv1"].scope and graph["conv1"].local == "conv1"


def test_unnamed_layers_are_numbered_per_container():
    graph = archspec.analyze("specs/resnet50.yaml")
    relus = [n.name for n in graph.layers if n.type == "ReLU" and n.name.startswith("layer4_2")]
    # before: global counters (layer4_2_re_lu_31); now the second ReLU of the block is _2
    assert relus == ["layer4_2_re_lu_1", "layer4_2_re_lu_2", "layer4_2_out"]
    course = archspec.analyze("specs/resnet_course.yaml")
    assert [n.local for n in course.layers if n.name.startswith("residual_block3")][:4] == [
        "conv2d_1", "batch_normalization_1", "re_lu_1", "conv2d_2"]


def test_unnamed_items_of_a_named_group_are_numbered_through_repeats_and_blocks():
    vgg = archspec.analyze("specs/vgg16.yaml")
    features = [n.name for n in vgg.layers if n.name.startswith("features")]
    assert features == [f"features_{i}" for i in range(31)]  # torchvision's features.0..30
    assert vgg["features_28"].type == "Conv2D" and vgg["features_30"].type == "MaxPooling2D"
    mobilenet = archspec.analyze("specs/mobilenet_v2.yaml")
    # features.2 is an inverted residual; its conv group numbers a nested block call's layers
    assert mobilenet["features_2_conv_1_0"].type == "DepthwiseConv2D"
    assert [f.name for f in mobilenet["features_2_conv_1_0"].scope] == ["features", "2",
                                                                         "conv", "1"]


def test_a_named_group_is_a_container_numbered_by_position():
    spec = Spec(name="t", input={"shape": [8]}, params={"wide": False}, layers=[
        Dense(4, name="stem"),
        group([Dense(4), {"Dense": {"units": 9, "when": "${wide}"}}, "ReLU", Dense(2)],
              name="head")])
    graph = archspec.analyze(spec)
    head = [n for n in graph.layers if n.scope]
    assert [(n.name, n.local) for n in head] == [("head_0", "0"), ("head_1", "1"),
                                                 ("head_2", "2")]
    assert {frames(n)[0] for n in head} == {("group", "head", None)}
    assert [n.type for n in head] == ["Dense", "ReLU", "Dense"]  # the skipped one took no place


def test_an_unnamed_repeat_adds_no_container_and_a_named_one_adds_one_per_iteration():
    spec = Spec(name="t", input={"shape": [8]}, layers=[
        repeat(2, [Dense(4)]),
        repeat(2, [Dense(4, name="fc")], name="block"),
        repeat(2, [Dense(4)], name="")])
    graph = archspec.analyze(spec)
    assert [(n.name, frames(n)) for n in graph.layers] == [
        ("dense_1", []), ("dense_2", []),
        ("block0_fc", [("iteration", "block0", None)]),
        ("block1_fc", [("iteration", "block1", None)]),
        ("0_dense_1", [("iteration", "0", None)]),
        ("1_dense_1", [("iteration", "1", None)])]


def test_a_named_group_can_be_named_as_an_input():
    spec = Spec(name="t", input={"shape": [8]}, layers=[
        group([Dense(4), Dense(3)], name="branch"),
        {"Dense": {"units": 3, "inputs": "input"}},
        {"Add": {"inputs": ["branch", "dense_1"]}}])
    graph = archspec.analyze(spec)
    assert graph["add_1"].inputs == ["branch_1", "dense_1"]
