"""The zoo against its oracles: the course's numbers and ../shared/design/reference-figures.md
(torchvision, keras.applications, fvcore's conv+linear MACs)."""

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
