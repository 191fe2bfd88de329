"""`archspec import`'s folding, without a framework: flat models (as the Keras and torch.fx
readers produce them) → specs with blocks, repeats and groups that analyse exactly as the flat
spec does; the flat spec where folding would change anything; the YAML it is written as."""

from __future__ import annotations

import yaml

import archspec
from archspec.importing import fold as fold_module
from archspec.importing.flat import FlatLayer, FlatModel
from archspec.importing.fold import flat_document, fold
from archspec.importing.fold_merge import optional_layers
from archspec.importing.fold_params import Params
from archspec.importing.spec_yaml import to_yaml

BN = {"epsilon": 1.001e-5}


def keras_resnet(stages=((64, 3, 1), (128, 2, 2))) -> FlatModel:
    """A small ResNet named as keras.applications names its layers (``conv2_block1_1_conv``),
    its blocks' layers in Keras' order, the projection shortcut in each stage's first."""
    layers = [FlatLayer("conv1_conv", "Conv2D", {"filters": 64, "kernel_size": 3}, ["input"])]
    previous = "conv1_conv"
    for s, (filters, blocks, stride) in enumerate(stages, start=2):
        for b in range(1, blocks + 1):
            p = f"conv{s}_block{b}"
            first = b == 1
            strides = {"strides": stride} if first and stride != 1 else {}
            main = [(f"{p}_1_conv", "Conv2D", {"filters": filters, "kernel_size": 1, **strides},
                     [previous]),
                    (f"{p}_1_bn", "BatchNormalization", BN, [f"{p}_1_conv"]),
                    (f"{p}_1_relu", "ReLU", {}, [f"{p}_1_bn"]),
                    (f"{p}_2_conv", "Conv2D", {"filters": filters, "kernel_size": 3,
                                               "padding": "same"}, [f"{p}_1_relu"])]
            shortcut = [(f"{p}_0_conv", "Conv2D", {"filters": 2 * filters, "kernel_size": 1,
                                                   **strides}, [previous]),
                        (f"{p}_0_bn", "BatchNormalization", BN, [f"{p}_0_conv"])] if first \
                else []
            tail = [(f"{p}_3_conv", "Conv2D", {"filters": 2 * filters, "kernel_size": 1},
                     [f"{p}_2_conv"]),
                    (f"{p}_add", "Add", {}, [f"{p}_0_bn" if first else previous,
                                             f"{p}_3_conv"]),
                    (f"{p}_out", "ReLU", {}, [f"{p}_add"])]
            layers += [FlatLayer(*entry) for entry in main + shortcut + tail]
            previous = f"{p}_out"
    layers += [FlatLayer("avg_pool", "GlobalAveragePooling2D", {}, [previous]),
               FlatLayer("predictions", "Dense", {"units": 10}, ["avg_pool"])]
    return FlatModel("tiny_resnet", (32, 32, 3), False, layers)


def rows(document) -> dict:
    graph = archspec.analyze(document)
    return {n.name: (n.type, tuple(n.meta["shape"]), n.meta["trainable"], n.meta["macs"])
            for n in graph.live()}


def test_a_keras_resnet_folds_into_one_block_and_a_repeat_per_stage():
    flat = keras_resnet()
    result = fold(flat)
    doc = result.document
    assert result.folded and list(doc["blocks"]) == ["conv_block"]
    block = doc["blocks"]["conv_block"]
    # the projection shortcut is the block's optional part, not a second block
    whens = [body["name"] for item in block["layers"] for body in item.values()
             if "when" in body]
    assert whens == ["_0_conv", "_0_bn"]
    assert block["params"] == ["filters", "strides", "with_0"]
    # a stage of three: its first block differs (the shortcut), the rest repeat; a stage of
    # two is a group of two calls, which reads better than a repeat of expressions
    (repeat,) = [item["repeat"] for item in doc["layers"] if "repeat" in item]
    assert repeat == {"times": 3, "name": "conv2_block", "start": 1, "layers": [{"conv_block": {
        "name": "", "filters": 64, "strides": 1, "with_0": "${i == 1}"}}]}
    (group,) = [item["group"] for item in doc["layers"] if "group" in item]
    assert group == {"name": "conv3", "layers": [
        {"conv_block": {"name": "block1", "filters": 128, "strides": 2, "with_0": True}},
        {"conv_block": {"name": "block2", "filters": 128, "strides": 1, "with_0": False}}]}
    # the expansion is an expression of the width, not a parameter of its own
    three = next(b for item in block["layers"] for b in item.values() if b["name"] == "_3_conv")
    assert three["filters"] == "${2 * filters}"
    # every layer keeps its name, "1_conv" (not an identifier) becoming "_1_conv"
    assert result.renames["conv3_block2_1_conv"] == "conv3_block2__1_conv"
    assert "conv3_block2_out" not in result.renames
    back = {new: old for old, new in result.renames.items()}
    folded = {back.get(k, k): v for k, v in rows(doc).items()}
    assert folded == rows(flat_document(flat))


def test_the_folded_resnet_counts_what_the_model_has():
    # by hand: conv1 3*3*3*64+64; per block 1x1, 3x3, 1x1 convolutions with biases, their
    # BatchNorms (4 per channel, 2 trainable), the first block's 1x1 projection
    def block(cin, f, first):
        convs = (cin * f + f) + (9 * f * f + f) + (f * 2 * f + 2 * f)
        projection = (cin * 2 * f + 2 * f) + 2 * 2 * f if first else 0
        return convs + 2 * f + projection, 2 * f + (2 * 2 * f if first else 0)
    parts = [block(64, 64, True), block(128, 64, False), block(128, 64, False),
             block(128, 128, True), block(256, 128, False)]
    trainable = 3 * 9 * 64 + 64 + sum(t for t, _ in parts) + 256 * 10 + 10
    report = archspec.check(fold(keras_resnet()).document)
    assert report.totals["trainable_params"] == trainable
    assert report.totals["non_trainable_params"] == sum(n for _, n in parts)


def test_a_model_without_repeats_stays_flat():
    flat = FlatModel("mlp", (8,), False, [
        FlatLayer("hidden", "Dense", {"units": 4, "activation": "relu"}, ["input"]),
        FlatLayer("out", "Dense", {"units": 2}, ["hidden"])])
    result = fold(flat)
    assert not result.folded and result.notes == ["nothing repeats: the spec is flat"]
    assert result.document["layers"] == [{"Dense": {"units": 4, "activation": "relu",
                                                    "name": "hidden"}},
                                         {"Dense": {"units": 2, "name": "out"}}]


def test_folding_that_would_change_the_model_falls_back_to_the_flat_spec(monkeypatch):
    original = fold_module.repeats

    def lossy(items):  # a folding bug: the last item of each container goes missing
        return original(items)[:-1]
    monkeypatch.setattr(fold_module, "repeats", lossy)
    flat = keras_resnet()
    result = fold(flat)
    assert not result.folded and "would change the model" in result.notes[0]
    assert result.document == flat_document(flat)


def test_torch_scopes_fold_into_module_classes_keeping_their_paths():
    """A torch model's module hierarchy (layer1.0.conv1 in a BasicBlock inside an
    nn.Sequential): one block per class, named after it; the names stay torch's paths."""
    layers = [FlatLayer("conv1", "Conv2D", {"filters": 8, "kernel_size": 3, "padding": 1},
                        ["input"])]
    previous = "conv1"
    for s, (blocks, filters) in enumerate([(3, 8), (3, 16)], start=1):
        for b in range(blocks):
            scope = ((f"layer{s}", "Sequential"), (str(b), "BasicBlock"))
            p = f"layer{s}_{b}"
            down = s > 1 and b == 0
            stride = {"strides": 2} if down else {}
            if down:
                layers += [FlatLayer(f"{p}_downsample_0", "Conv2D",
                                     {"filters": filters, "kernel_size": 1, **stride},
                                     [previous], scope + (("downsample", "Sequential"),)),
                           FlatLayer(f"{p}_downsample_1", "BatchNormalization", {},
                                     [f"{p}_downsample_0"], scope + (("downsample",
                                                                     "Sequential"),))]
            layers += [FlatLayer(f"{p}_conv1", "Conv2D", {"filters": filters, "kernel_size": 3,
                                                         "padding": 1, **stride},
                                 [previous], scope),
                       FlatLayer(f"{p}_relu", "ReLU", {}, [f"{p}_conv1"], scope),
                       FlatLayer(f"{p}_add", "Add", {},
                                 [f"{p}_relu", f"{p}_downsample_1" if down else previous],
                                 scope)]
            previous = f"{p}_add"
    flat = FlatModel("tiny", (3, 16, 16), True, layers, framework="torch")
    result = fold(flat)
    assert result.folded and result.renames == {}
    assert list(result.document["blocks"]) == ["basic_block"]
    repeats = [item["repeat"] for item in result.document["layers"] if "repeat" in item]
    assert [(r["name"], r["times"], r.get("start", 0)) for r in repeats] == \
        [("layer1_", 3, 0), ("layer2_", 3, 0)]
    assert result.document["input"] == {"shape": [3, 16, 16], "layout": "channels_first"}
    assert set(rows(result.document)) == {layer.name for layer in layers}


def test_dense_connections_read_the_block_input():
    """DenseNet's layer concatenates its input with its new features: the block says
    ``inputs: [input, ...]``, and identical instances need no parameters."""
    layers = [FlatLayer("stem", "Conv2D", {"filters": 8, "kernel_size": 3}, ["input"])]
    previous = "stem"
    for b in range(1, 5):
        p = f"block{b}"
        layers += [FlatLayer(f"{p}_bn", "BatchNormalization", {}, [previous]),
                   FlatLayer(f"{p}_conv", "Conv2D", {"filters": 4, "kernel_size": 3,
                                                     "padding": "same"}, [f"{p}_bn"]),
                   FlatLayer(f"{p}_concat", "Concatenate", {}, [previous, f"{p}_conv"])]
        previous = f"{p}_concat"
    result = fold(FlatModel("dense", (9, 9, 3), False, layers))
    (block,) = result.document["blocks"].values()
    assert "params" not in block
    assert block["layers"][-1] == {"Concatenate": {"name": "concat",
                                                   "inputs": ["input", "conv"]}}
    assert result.document["layers"][1] == {
        "repeat": {"times": 4, "name": "block", "start": 1, "layers": [{"block": {"name": ""}}]}}
    assert rows(result.document)["block4_concat"][1] == (7, 7, 24)


def test_repeats_no_name_marks_are_found_by_their_wiring():
    """Keras named these layers by type (conv2d_4, add_1): the residual units are still the
    runs between the points where one value alone flows on, with the ReLU after each sum;
    their layers are renamed as the calls name them."""
    layers = [FlatLayer("conv2d", "Conv2D", {"filters": 8, "kernel_size": 3}, ["input"])]
    previous, n = "conv2d", 1
    for unit in range(4):
        conv_a, conv_b = f"conv2d_{n}", f"conv2d_{n + 1}"
        layers += [FlatLayer(conv_a, "Conv2D", {"filters": 8, "kernel_size": 3,
                                                "padding": "same"}, [previous]),
                   FlatLayer(f"re_lu_{2 * unit}", "ReLU", {}, [conv_a]),
                   FlatLayer(conv_b, "Conv2D", {"filters": 8, "kernel_size": 3,
                                                "padding": "same"}, [f"re_lu_{2 * unit}"]),
                   FlatLayer(f"add_{unit}", "Add", {}, [previous, conv_b]),
                   FlatLayer(f"re_lu_{2 * unit + 1}", "ReLU", {}, [f"add_{unit}"])]
        previous, n = f"re_lu_{2 * unit + 1}", n + 2
    flat = FlatModel("auto", (12, 12, 3), False, layers)
    result = fold(flat)
    assert result.folded
    assert result.document["layers"][1] == {"repeat": {
        "times": 4, "name": "block", "start": 1, "layers": [{"block": {"name": ""}}]}}
    (block,) = result.document["blocks"].values()
    assert [next(iter(item.values()))["name"] for item in block["layers"]] == \
        ["conv2d", "re_lu", "conv2d_1", "add", "re_lu_1"]
    assert result.renames["conv2d_3"] == "block2_conv2d" and "conv2d" not in result.renames
    back = {new: old for old, new in result.renames.items()}
    assert {back.get(k, k): v for k, v in rows(result.document).items()} == \
        rows(flat_document(flat))


def test_optional_layers_stand_for_their_input():
    full = (("a", "Conv2D", ("input",)), ("short", "Conv2D", ("input",)),
            ("add", "Add", ("a", "short")))
    part = (("a", "Conv2D", ("input",)), ("add", "Add", ("a", "input")))
    assert optional_layers(full, part) == {"short"}
    # the add of the part reads something else: leaving "short" out cannot give it
    assert optional_layers(full, (("a", "Conv2D", ("input",)), ("add", "Add", ("a", "a")))) \
        is None
    # a left-out merge (MobileNetV2's residual Add) stands for the layer before it...
    merged = (("a", "Conv2D", ("input",)), ("m", "Add", ("a", "input")), ("b", "ReLU", ("m",)))
    assert optional_layers(merged, (("a", "Conv2D", ("input",)), ("b", "ReLU", ("a",)))) == {"m"}
    # ... and only the next layer may read it, without naming it
    named = merged + (("c", "Add", ("b", "m")),)
    assert optional_layers(named, (("a", "Conv2D", ("input",)), ("b", "ReLU", ("a",)),
                                   ("c", "Add", ("b", "a")))) is None


def test_parameters_that_scale_another_are_expressions():
    params = Params()
    written = [params.reference("filters", [64, 128, 256], local="expand"),
               params.reference("filters", [256, 512, 1024], local="project"),
               params.reference("filters", [16, 32, 64], local="squeeze"),
               params.reference("strides", [1, 2, 2], local="conv")]
    assert params.resolve(written) == ["${filters}", "${4 * filters}", "${filters // 4}",
                                       "${strides}"]
    written.append(params.reference("filters", [3, 5, 7], local="head"))
    # two parameters set filters: each is named after its layer
    assert params.resolve(written) == ["${expand_filters}", "${4 * expand_filters}",
                                       "${expand_filters // 4}", "${strides}",
                                       "${head_filters}"]
    assert params.params == [("expand_filters", [64, 128, 256]), ("strides", [1, 2, 2]),
                             ("head_filters", [3, 5, 7])]


def test_the_yaml_reads_back_as_the_document_and_reads_like_the_zoo():
    result = fold(keras_resnet())
    text = to_yaml(result.document, ["Imported from a test."])
    assert text.startswith("# Imported from a test.\narchspec: 1\n")
    assert yaml.safe_load(text) == result.document
    assert rows(archspec.loads(text)) == rows(result.document)
    lines = text.splitlines()
    assert "  - Conv2D: {filters: 64, kernel_size: 3, name: conv1_conv}" in lines
    assert '      - Conv2D: {filters: "${filters}", kernel_size: 3, padding: same, ' \
           'name: _2_conv}' in lines
    assert max(len(line) for line in lines) <= 110
