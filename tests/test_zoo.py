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


@pytest.mark.parametrize("name, fvcore", [("resnet18", 1_819_065_856),
                                          ("densenet", 2_865_546_752)])
def test_fvcore_totals_add_batchnorm_and_global_pooling(spec_dir, name, fvcore):
    """fvcore (reference-figures.md) counts 2 per BatchNorm output element and 1 per element
    entering adaptive average pooling on top of convolutions and linear layers."""
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
