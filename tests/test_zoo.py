"""The zoo against its oracles: the course's numbers and ../shared/design/reference-figures.md
(torchvision, keras.applications, fvcore's conv+linear MACs)."""

import math
import re

import pytest

import archspec

# name: (trainable, non_trainable, output, conv+linear MACs or None)
EXPECTED = {
    "mnist_cnn": (225_034, 0, [10], None),
    "mnist_ann": (407_050, 0, [10], None),
    "lenet5": (61_706, 0, [10], None),
    "alexnet": (62_378_344, 0, [1000], None),
    "vgg16": (138_357_544, 0, [1000], 15_470_264_320),
    "resnet_course": (812_648, 1_536, [1000], None),
    "inception_course": (1_016_280, 0, [1000], None),
    "vgg19": (143_667_240, 0, [1000], None),
    "resnet18": (11_689_512, 9_600, [1000], 1_814_073_344),
    "resnet34": (21_797_672, 17_024, [1000], None),
    "resnet50": (25_557_032, 53_120, [1000], 4_089_184_256),
    "resnet101": (44_549_160, 105_344, [1000], None),
    "resnet152": (60_192_808, 151_424, [1000], None),
    "googlenet": (6_624_904, 14_560, [1000], 1_498_376_192),
    "mobilenet_v2": (3_504_872, 34_112, [1000], 300_774_272),
    # densenet121; its conv+linear MACs are fvcore's total less BatchNorm and pooling (below)
    "densenet": (7_978_856, 83_648, [1000], 2_834_161_664),
    # vit_b_16; its MACs differ from fvcore's by design (test_vit_macs_against_fvcore)
    "vit": (86_567_656, 0, [1000], None),
    # efficientnet_b0; its MACs are torch's FlopCounterMode count (tests/test_torchvision.py)
    # and fvcore's less BatchNorm and pooling (test_fvcore_totals_add_batchnorm_and_global_pooling)
    "efficientnet": (5_288_548, 42_016, [1000], 385_814_752),
    # mobilenet_v3_large; its MACs are torch's FlopCounterMode count (tests/test_torchvision.py)
    # and fvcore's less BatchNorm and pooling (test_mobilenet_v3_fvcore_totals)
    "mobilenet_v3": (5_483_032, 24_400, [1000], 216_589_760),
    # convnext_tiny; its conv+linear MACs are fvcore's total less LayerNorm and pooling (below)
    "convnext": (28_589_128, 0, [1000], 4_455_531_264),
}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_zoo_matches_reference(spec_dir, name):
    trainable, non_trainable, output, macs = EXPECTED[name]
    report = archspec.check(spec_dir / f"{name}.yaml")
    assert report.name == name
    assert report.totals["trainable_params"] == trainable
    assert report.totals["non_trainable_params"] == non_trainable
    assert report.output_shape == output
    if macs is not None:
        assert report.totals["macs"] == macs
    assert not report.warnings


def test_every_zoo_file_is_checked(spec_dir):
    files = {p.stem for p in spec_dir.glob("*.yaml")} - {"resnet"}
    assert files == set(EXPECTED)


def test_zoo_files_state_expected_totals_in_a_comment(spec_dir):
    for name, (trainable, *_rest) in EXPECTED.items():
        text = (spec_dir / f"{name}.yaml").read_text()
        assert text.startswith("#")
        if "extends" not in text:
            assert f"{trainable:,}" in text, name


def test_course_layer_progression(spec_dir):
    report = archspec.check(spec_dir / "mnist_cnn.yaml")
    shapes = [tuple(r.output_shape) for r in report.layers]
    assert shapes == [(26, 26, 32), (13, 13, 32), (11, 11, 64), (5, 5, 64), (1600,), (128,), (10,)]


def test_course_flatten_example():
    spec = archspec.Spec(name="cnn_flatten", input=[28, 28, 1], layers=[
        archspec.Conv2D(32, 3, activation="relu"), archspec.Flatten(),
        archspec.Dense(128, activation="relu"), archspec.Dense(10, activation="softmax")])
    report = archspec.check(spec)
    assert report.layers[1].output_shape == [21_632]
    assert report.totals["trainable_params"] == 2_770_634


def test_inception_course_last_concat(spec_dir):
    report = archspec.check(spec_dir / "inception_course.yaml")
    concats = [r for r in report.layers if r.type == "Concatenate"]
    assert concats[-1].output_shape == [56, 56, 480]


@pytest.mark.parametrize("depth,trainable", [(18, 11_689_512), (101, 44_549_160)])
def test_resnet_family_parameter(spec_dir, depth, trainable):
    report = archspec.check(spec_dir / "resnet.yaml", params={"depth": depth})
    assert report.totals["trainable_params"] == trainable


# torchvision 0.29 (weights=None): parameters, float buffers, and the MACs of its convolutions
# and linear layer as torch.utils.flop_counter counts them (tests/test_torchvision.py rechecks
# all three against torchvision itself).
DENSENETS = {161: (28_681_000, 219_936, 7_727_907_072), 169: (14_149_480, 158_400, 3_359_843_328),
             201: (20_013_928, 229_056, 4_291_365_888)}


@pytest.mark.parametrize("depth", sorted(DENSENETS))
def test_densenet_family_parameter(spec_dir, depth):
    report = archspec.check(spec_dir / "densenet.yaml", params={"depth": depth})
    trainable, non_trainable, macs = DENSENETS[depth]
    assert report.totals["trainable_params"] == trainable
    assert report.totals["non_trainable_params"] == non_trainable
    assert report.totals["macs"] == macs


def torchvision_densenet_macs(growth: int, blocks: list[int], init: int) -> int:
    """Conv + linear MACs of torchvision's DenseNet at 224x224, following its __init__ loop."""
    macs = 112 * 112 * init * 3 * 7 * 7  # conv0
    size, channels = 56, init  # after pool0
    for i, layers in enumerate(blocks):
        for _ in range(layers):  # 1x1 to 4k channels, then 3x3 to k
            macs += size * size * 4 * growth * (channels + 9 * growth)
            channels += growth
        if i < len(blocks) - 1:  # the transition's 1x1 runs before its pooling
            macs += size * size * channels * (channels // 2)
            channels, size = channels // 2, size // 2
    return macs + channels * 1000


@pytest.mark.parametrize("depth, growth, blocks", [
    (121, 32, [6, 12, 24, 16]), (161, 48, [6, 12, 36, 24]), (169, 32, [6, 12, 32, 32]),
    (201, 32, [6, 12, 48, 32])])
def test_densenet_macs_by_hand(spec_dir, depth, growth, blocks):
    report = archspec.check(spec_dir / "densenet.yaml", params={"depth": depth})
    assert report.totals["macs"] == torchvision_densenet_macs(growth, blocks, 2 * growth)


# torchvision 0.29 (weights=None): parameters and float buffers of efficientnet_b0 ... b7
# (tests/test_torchvision.py rechecks every size against torchvision itself).
EFFICIENTNETS = {0: (5_288_548, 42_016), 1: (7_794_184, 62_048), 2: (9_109_994, 67_568),
                 3: (12_233_232, 87_296), 4: (19_341_616, 125_200), 5: (30_389_784, 172_736),
                 6: (43_040_704, 224_432), 7: (66_347_960, 310_720)}
# torchvision's efficientnet_b<size>: width_mult, depth_mult; Keras' default_size
EFFICIENTNET_SIZES = {0: (1.0, 1.0, 224), 1: (1.0, 1.1, 240), 2: (1.1, 1.2, 260),
                      3: (1.2, 1.4, 300), 4: (1.4, 1.8, 380), 5: (1.6, 2.2, 456),
                      6: (1.8, 2.6, 528), 7: (2.0, 3.1, 600)}


def torchvision_efficientnet(width: float, depth: float, image: int, classes: int = 1000):
    """torchvision's EfficientNet by hand, following its _efficientnet_conf and __init__:
    parameters, BatchNorm buffers, conv + linear MACs at image x image, and the stochastic
    depth probability of each block that has a residual."""
    def channels(c):  # torchvision's _make_divisible(c * width, 8)
        new = max(8, int(c * width + 4) // 8 * 8)
        return new + 8 if new < 0.9 * c * width else new
    stages = [(1, 3, 1, 32, 16, 1), (6, 3, 2, 16, 24, 2), (6, 5, 2, 24, 40, 2),
              (6, 3, 2, 40, 80, 3), (6, 5, 1, 80, 112, 3), (6, 5, 2, 112, 192, 4),
              (6, 3, 1, 192, 320, 1)]
    counts = {"params": 0, "buffers": 0, "macs": 0}

    def conv_bn(cin, cout, k, size, groups=1):  # bias-free convolution, BatchNorm
        counts["params"] += cout * cin // groups * k * k + 2 * cout
        counts["buffers"] += 2 * cout
        counts["macs"] += size * size * cout * cin // groups * k * k
    size = (image - 1) // 2 + 1  # 3x3, stride 2, padding 1
    conv_bn(3, channels(32), 3, size)
    blocks = [math.ceil(n * depth) for *_, n in stages]
    block, rates = 0, []
    for (t, k, stride, cin, cout, _), n in zip(stages, blocks):
        for j in range(n):
            inp, out, s = (channels(cin) if j == 0 else channels(cout)), channels(cout), \
                (stride if j == 0 else 1)
            expanded = inp * t  # a multiple of 8 already
            if t != 1:
                conv_bn(inp, expanded, 1, size)
            size = (size - 1) // s + 1  # k x k, padding k // 2
            conv_bn(expanded, expanded, k, size, groups=expanded)
            squeeze = max(1, inp // 4)  # fc1 and fc2, with biases, on 1 x 1
            counts["params"] += 2 * expanded * squeeze + squeeze + expanded
            counts["macs"] += 2 * expanded * squeeze
            conv_bn(expanded, out, 1, size)
            if s == 1 and inp == out:
                rates.append(0.2 * block / sum(blocks))
            block += 1
    conv_bn(channels(320), 4 * channels(320), 1, size)
    counts["params"] += 4 * channels(320) * classes + classes
    counts["macs"] += 4 * channels(320) * classes
    return counts["params"], counts["buffers"], counts["macs"], rates


@pytest.mark.parametrize("size", sorted(EFFICIENTNETS))
def test_efficientnet_family_parameter(spec_dir, size):
    """Each size's counts, its MACs at its own resolution, and stochastic depth's probability
    growing over the blocks as torchvision's 0.2 * block / blocks."""
    width, depth, image = EFFICIENTNET_SIZES[size]
    graph = archspec.analyze(spec_dir / "efficientnet.yaml", {"size": size})
    report = archspec.check(spec_dir / "efficientnet.yaml", params={"size": size})
    params, buffers, macs, rates = torchvision_efficientnet(width, depth, image)
    assert (report.totals["trainable_params"], report.totals["non_trainable_params"]) == \
        EFFICIENTNETS[size] == (params, buffers)
    assert report.input_shape == [image, image, 3] and report.totals["macs"] == macs
    assert [n.layer.rate for n in graph.live() if n.type == "StochasticDepth"] == rates
    assert not report.warnings


def test_keras_efficientnet_b0_variant(spec_dir):
    """keras.applications.EfficientNetB0: 5,288,548 / 42,023, count_params() 5,330,571
    (reference-figures.md): torchvision's weights and Rescaling(1/255) + Normalization (mean,
    variance, count) in front; "same" padding; Keras' BatchNorm defaults."""
    report = archspec.check(spec_dir / "efficientnet.yaml", params={"keras": True})
    assert (report.totals["trainable_params"], report.totals["non_trainable_params"]) == (
        5_288_548, 42_023)
    assert report.totals["total_params"] == 5_330_571
    assert [r.type for r in report.layers[:3]] == ["Rescaling", "Normalization", "Conv2D"]
    assert report.layers[1].non_trainable_params == 7
    for keras, padding, norm in [(True, "same", (1e-3, 0.99)), (False, 1, (1e-5, 0.9))]:
        layers = [n.layer for n in archspec.analyze(
            spec_dir / "efficientnet.yaml", {"keras": keras}).live()]
        assert {(x.epsilon, x.momentum) for x in layers
                if x.type == "BatchNormalization"} == {norm}
        strided = [x for x in layers if "Conv" in x.type and x.strides != (1, 1)]
        assert len(strided) == 5 and all(  # the stem's and four depthwise convolutions
            x.padding == (padding if padding == "same" else ((x.kernel_size[0] // 2,) * 2,) * 2)
            for x in strided), [(x.kernel_size, x.padding) for x in strided]


@pytest.mark.parametrize("size, args", [(0, ""), (5, "eps=0.001, momentum=0.01")])
def test_efficientnet_batchnorm_settings_are_torchvision_s(spec_dir, size, args):
    """torchvision's B0-B4 keep BatchNorm2d's defaults; B5-B7 use eps 1e-3, momentum 0.01."""
    source = archspec.generate(spec_dir / "efficientnet.yaml", backend="torch",
                               params={"size": size})
    norms = re.findall(r"nn\.BatchNorm2d\(([^)]*)\)", source)
    assert norms and {re.sub(r"^[^,]*(, )?", "", a) for a in norms} == {args}, set(norms)


@pytest.mark.parametrize("name, fvcore", [("resnet18", 1_819_065_856),
                                          ("densenet", 2_865_546_752),
                                          ("efficientnet", 401_659_392)])
def test_fvcore_totals_add_batchnorm_and_global_pooling(spec_dir, name, fvcore):
    """fvcore (reference-figures.md) counts 2 per BatchNorm output element and 1 per element
    entering adaptive average pooling on top of convolutions and linear layers (EfficientNet:
    the head's pooling and each squeeze-excitation's; its SiLU, sigmoid, gate product and
    residual sums count nothing)."""
    report = archspec.check(spec_dir / f"{name}.yaml")
    elements = {kind: 0 for kind in ("BatchNormalization", "GlobalAveragePooling2D")}
    for i, row in enumerate(report.layers):
        if row.type in elements:
            shape = report.layers[i - 1].output_shape if row.type != "BatchNormalization" \
                else row.output_shape
            elements[row.type] += math.prod(shape)
    assert report.totals["macs"] + 2 * elements["BatchNormalization"] + \
        elements["GlobalAveragePooling2D"] == fvcore


def test_keras_densenet121_variant(spec_dir):
    """keras.applications.DenseNet121: count_params() (trainable + BN statistics) is
    8,062,504; its BatchNorm differs only in epsilon and momentum."""
    report = archspec.check(spec_dir / "densenet.yaml",
                            params={"epsilon": 1.001e-5, "momentum": 0.99})
    assert report.totals["total_params"] == 8_062_504
    norms = [r for r in report.layers if r.type == "BatchNormalization"]
    assert len(norms) == 1 + 58 * 2 + 3 + 1  # stem, two per dense layer, transitions, norm5


def test_densenet_batchnorm_settings_are_each_framework_s_defaults(spec_dir):
    """torchvision's DenseNet keeps BatchNorm2d's defaults; keras.applications' sets only
    epsilon=1.001e-5 (momentum stays Keras' 0.99). Each setting generates exactly that."""
    torch_source = archspec.generate(spec_dir / "densenet.yaml", backend="torch")
    norms = re.findall(r"nn\.BatchNorm2d\(([^)]*)\)", torch_source)
    assert norms and all(re.fullmatch(r"\w+", args) for args in norms), set(norms)
    keras_source = archspec.generate(spec_dir / "densenet.yaml", backend="keras",
                                     params={"epsilon": 1.001e-5, "momentum": 0.99})
    norms = re.findall(r"BatchNormalization\(([^)]*)\)", keras_source)
    assert norms and all(args.startswith("epsilon=1.001e-05, name=") for args in norms)


def vit_parameters(hidden: int, depth: int, mlp: int, patch: int, classes: int = 1000) -> int:
    """torchvision's VisionTransformer at 224x224, by hand: patch convolution, class token,
    position table, per block 2 LayerNorms + attention (4 projections) + MLP, final LayerNorm,
    head."""
    tokens = (224 // patch) ** 2 + 1
    block = 2 * 2 * hidden + 4 * (hidden * hidden + hidden) + 2 * hidden * mlp + mlp + hidden
    return (3 * patch * patch * hidden + hidden) + hidden + tokens * hidden + depth * block \
        + 2 * hidden + hidden * classes + classes


# torchvision's documented sizes; tests/test_torchvision.py checks b_16 and b_32 against
# torchvision itself.
VITS = {("b", 16): 86_567_656, ("b", 32): 88_224_232, ("l", 16): 304_326_632,
        ("l", 32): 306_535_400}


@pytest.mark.parametrize("size, patch", sorted(VITS))
def test_vit_family_parameter(spec_dir, size, patch):
    report = archspec.check(spec_dir / "vit.yaml", params={"size": size, "patch": patch})
    hidden, depth, mlp = {"b": (768, 12, 3072), "l": (1024, 24, 4096)}[size]
    assert report.totals["trainable_params"] == VITS[size, patch] == \
        vit_parameters(hidden, depth, mlp, patch)
    assert report.totals["non_trainable_params"] == 0 and not report.warnings


def test_vit_macs_against_fvcore(spec_dir):
    """fvcore counts vit_b_16 at 16,867,412,736 (reference-figures.md): its convolution and
    linear layers, plus 5 per element of each LayerNorm; not the attention products (torch
    runs them in scaled_dot_product_attention, which fvcore has no handler for and skips), nor
    softmax or GELU. archspec counts the products, and no LayerNorm, as no BatchNorm."""
    report = archspec.check(spec_dir / "vit.yaml")
    rows = report.layers
    products = sum(2 * 12 * 197 * 197 * 64 for r in rows if r.type == "MultiHeadAttention")
    norms = sum(5 * math.prod(r.output_shape) for r in rows if r.type == "LayerNormalization")
    assert products == 12 * 59_610_624 and norms == 25 * 756_480
    assert report.totals["macs"] - products + norms == 16_867_412_736


def test_mobilenet_v3_small(spec_dir):
    """torchvision's mobilenet_v3_small (reference-figures.md; tests/test_torchvision.py
    rechecks both sizes, and two widths, against torchvision itself)."""
    report = archspec.check(spec_dir / "mobilenet_v3.yaml", params={"size": "small"})
    assert (report.totals["trainable_params"], report.totals["non_trainable_params"]) == \
        (2_542_856, 12_112)
    assert report.output_shape == [1000] and not report.warnings


@pytest.mark.parametrize("size, fvcore, gates", [("large", 226_033_824, 8),
                                                 ("small", 59_649_536, 9)])
def test_mobilenet_v3_fvcore_totals(spec_dir, size, fvcore, gates):
    """fvcore's rule as for densenet: 2 per BatchNorm output element and 1 per element entering
    adaptive average pooling — the head's and each squeeze-excitation's — on top of
    convolutions and linear layers; HardSwish, HardSigmoid, the gate's product and the residual
    sums count nothing."""
    report = archspec.check(spec_dir / "mobilenet_v3.yaml", params={"size": size})
    shapes = {row.name: row.output_shape for row in report.layers}
    norms = sum(math.prod(r.output_shape) for r in report.layers
                if r.type == "BatchNormalization")
    pools = [r for r in report.layers if r.type == "GlobalAveragePooling2D"]
    assert len(pools) == gates + 1
    pooled = sum(math.prod(shapes[r.inputs[0]]) for r in pools)
    assert report.totals["macs"] + 2 * norms + pooled == fvcore


@pytest.mark.parametrize("size, total", [("large", 5_507_432), ("small", 2_554_968)])
def test_keras_mobilenet_v3_variant(spec_dir, size, total):
    """keras.applications.MobileNetV3Large/Small: count_params() (trainable + BN statistics)
    equals torchvision's; the variant adds weightless Rescaling and turns the linear head into
    1x1 convolutions of the same weights."""
    params = {"size": size, "preprocessing": True, "padding": "same", "momentum": 0.999,
              "head": "conv"}
    report = archspec.check(spec_dir / "mobilenet_v3.yaml", params=params)
    assert report.totals["total_params"] == total and report.output_shape == [1000]
    assert report.layers[0].type == "Rescaling"
    assert [r.type for r in report.layers[-5:]] == ["Conv2D", "HardSwish", "Dropout", "Conv2D",
                                                    "Flatten"]


def test_keras_resnet50_variant(spec_dir):
    """keras.applications.ResNet50: biased convs, stride on the first 1x1; Keras'
    count_params() (trainable + BN statistics) is 25,636,712."""
    report = archspec.check(spec_dir / "resnet.yaml",
                            params={"bias": True, "stride_in_1x1": True, "epsilon": 1.001e-5})
    assert report.totals["total_params"] == 25_636_712


def test_mobilenet_width_multiplier(spec_dir):
    narrow = archspec.check(spec_dir / "mobilenet_v2.yaml", params={"width": 0.5})
    assert narrow.totals["trainable_params"] < 3_504_872
    convs = [r for r in narrow.layers if r.type == "Conv2D"]
    assert convs[0].output_shape[-1] == 16  # make_divisible(32 * 0.5, 8)
    assert all(r.output_shape[-1] % 8 == 0 for r in convs)
    assert convs[-1].output_shape[-1] == 1280  # the last layer never narrows


def test_receptive_field_of_vgg16(spec_dir):
    """Well-known figures: conv5_3 sees 196x196 pixels with stride 16; pool5 212 with 32."""
    report = archspec.check(spec_dir / "vgg16.yaml")
    last_conv = [r for r in report.layers if r.type == "Conv2D"][-1]
    last_pool = [r for r in report.layers if r.type == "MaxPooling2D"][-1]
    assert (last_conv.receptive_field, last_conv.effective_stride) == ([196, 196], [16, 16])
    assert (last_pool.receptive_field, last_pool.effective_stride) == ([212, 212], [32, 32])
    assert report.layers[-1].receptive_field is None  # after Flatten: the whole input


def test_spec_line_targets(spec_dir):
    def lines(name):
        return sum(1 for line in (spec_dir / name).read_text().splitlines()
                   if line.strip() and not line.lstrip().startswith("#"))
    assert lines("vgg16.yaml") <= 25
    assert lines("googlenet.yaml") <= 60
    assert lines("resnet.yaml") + lines("resnet50.yaml") <= 60
    assert lines("densenet.yaml") <= 60


# torchvision's documented sizes (weights=None: parameters; no buffers);
# tests/test_torchvision.py checks tiny against torchvision itself.
CONVNEXTS = {"tiny": 28_589_128, "small": 50_223_688, "base": 88_591_464, "large": 197_767_336}


def torchvision_convnext(depths: list[int], dims: list[int], classes: int = 1000
                         ) -> tuple[int, int, int]:
    """torchvision's ConvNeXt at 224x224 by hand: parameters, conv + linear MACs, and the
    elements its LayerNorms normalize. Stem 4x4/4 + LayerNorm; per block a 7x7 depthwise
    convolution, LayerNorm, d -> 4d -> d linear layers, a layer scale of d; LayerNorm + 2x2/2
    convolution between stages; LayerNorm + Linear head."""
    params = 3 * 16 * dims[0] + dims[0] + 2 * dims[0]
    macs, norms, size = 56 * 56 * 48 * dims[0], 56 * 56 * dims[0], 56
    for stage, (depth, d) in enumerate(zip(depths, dims)):
        if stage:
            prev = dims[stage - 1]
            params += 2 * prev + 4 * prev * d + d
            norms += size * size * prev
            size //= 2
            macs += size * size * 4 * prev * d
        params += depth * (49 * d + d + 2 * d + 2 * 4 * d * d + 4 * d + d + d)
        macs += depth * size * size * (49 * d + 8 * d * d)
        norms += depth * size * size * d
    params += 2 * dims[-1] + dims[-1] * classes + classes
    return params, macs + dims[-1] * classes, norms + dims[-1]


@pytest.mark.parametrize("size", sorted(CONVNEXTS))
def test_convnext_family_parameter(spec_dir, size):
    report = archspec.check(spec_dir / "convnext.yaml", params={"size": size})
    depths = [3, 3, 9, 3] if size == "tiny" else [3, 3, 27, 3]
    dims = {"tiny": [96, 192, 384, 768], "small": [96, 192, 384, 768],
            "base": [128, 256, 512, 1024], "large": [192, 384, 768, 1536]}[size]
    params, macs, _ = torchvision_convnext(depths, dims)
    assert report.totals["trainable_params"] == CONVNEXTS[size] == params
    assert report.totals["non_trainable_params"] == 0 and not report.warnings
    assert report.totals["macs"] == macs


def test_convnext_macs_against_fvcore(spec_dir):
    """fvcore counts convnext_tiny at 4,470,437,376 (reference-figures.md): its convolutions
    and linear layers, plus 5 per element of each LayerNorm (torchvision's LayerNorm2d runs
    F.layer_norm) and 1 per element into the adaptive average pooling; the layer scale's
    product, the residual sums and GELU count nothing in either."""
    report = archspec.check(spec_dir / "convnext.yaml")
    rows = report.layers
    norms = sum(math.prod(r.output_shape) for r in rows if r.type == "LayerNormalization")
    pooled = sum(math.prod(rows[i - 1].output_shape) for i, r in enumerate(rows)
                 if r.type == "GlobalAveragePooling2D")
    assert norms == torchvision_convnext([3, 3, 9, 3], [96, 192, 384, 768])[2] == 2_973_696
    assert pooled == 7 * 7 * 768
    assert report.totals["macs"] + 5 * norms + pooled == 4_470_437_376


def test_convnext_keras_preprocessing_holds_no_weights(spec_dir):
    """keras.applications' ConvNeXtTiny: 28,589,128 / 0 with its input Normalization, whose
    statistics are given, not adapted: no weights. --set preprocessing=true adds the same
    (x - 255 mean) / (255 std) as a Rescaling, and nothing to the counts."""
    report = archspec.check(spec_dir / "convnext.yaml", params={"preprocessing": True})
    assert (report.totals["trainable_params"], report.totals["non_trainable_params"]) == (
        28_589_128, 0)
    assert [r.type for r in report.layers[:2]] == ["Rescaling", "Conv2D"]
    layer = archspec.analyze(spec_dir / "convnext.yaml", {"preprocessing": True})[
        report.layers[0].name].layer
    mean, std = [0.485, 0.456, 0.406], [0.229, 0.224, 0.225]  # Keras' PreStem
    for pixel in (0.0, 17.0, 255.0):
        assert [pixel * a + b for a, b in zip(layer.scale, layer.offset)] == pytest.approx(
            [(pixel - 255 * m) / math.sqrt((255 * s) ** 2) for m, s in zip(mean, std)],
            rel=1e-12, abs=1e-12)
