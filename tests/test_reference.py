"""`archspec verify --reference`: the spec's models against the implementation it reproduces,
layer by layer; and the rule that a skipped reference test fails where references are
required (tests/reference_policy.py). torchvision references: tests/test_torchvision.py."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from click.testing import CliRunner

import archspec
from archspec.cli import main
from archspec.verification import verify

pytestmark = pytest.mark.reference

ROOT = Path(__file__).parent.parent
# keras.applications' ResNet50 is the zoo's ResNet family with these parameters.
RESNET50_KERAS = ["--set", "depth=50", "--set", "bias=true", "--set", "stride_in_1x1=true",
                  "--set", "epsilon=1.001e-5"]
MAXPOOL = "  - MaxPooling2D: {pool_size: 3, strides: 2, padding: 1, name: maxpool}"


@pytest.fixture
def backends():
    pytest.importorskip("torch")
    pytest.importorskip("keras")


def run_verify(*args: str):
    return CliRunner().invoke(main, ["verify", *args, "--batch", "1"])


def paired_line(backend: str, output: str) -> str:
    return next(line for line in output.splitlines() if f"{backend}: " in line)


def averaging_variant(tmp_path: Path, spec: Path, old: str) -> Path:
    """``spec`` with one max pooling (``old``, its line) averaging instead: the same weights,
    different activations from the first layer after it on."""
    text = spec.read_text()
    assert old in text
    variant = tmp_path / spec.name
    variant.write_text(text.replace(old, old.replace("MaxPooling2D", "AveragePooling2D"), 1))
    return variant


# --- keras.applications, by name -------------------------------------------------------------

def test_resnet50_agrees_with_keras_applications_layer_by_layer(spec_dir, backends):
    result = run_verify(str(spec_dir / "resnet.yaml"), *RESNET50_KERAS,
                        "--reference", "keras.applications.ResNet50")
    assert result.exit_code == 0, result.output
    assert "keras.applications.ResNet50(weights=None, input_shape=(224, 224, 3), classes=1000, " \
           "classifier_activation=None)" in result.output
    for backend in ("torch", "keras"):  # 53 convolutions, 53 BatchNorms, 1 Dense
        assert "all 107 paired layers agree with the reference" in paired_line(
            backend, result.output)


# Each run is also that spec's zoo verify (tests/test_transfer.py leaves these specs out):
# analysis, torch and Keras per layer, and both backends against the keras.applications model.
# - densenet: Keras' DenseNet121 is torchvision's with Keras' BatchNorm epsilon and momentum;
#   its ZeroPadding2D layers mean what the spec's paddings do. Paired: 120 convolutions, 121
#   BatchNorms, 1 Dense.
# - convnext: ConvNeXtTiny is torchvision's with its input normalization; its stem and
#   downsampling layers sit in nested Sequential models, which pairing and the probe look into.
#   At 32x32 (Keras' smallest ConvNeXt input) every layer and weight is there at a twentieth
#   of 224's work. Paired: stem 2, 18 blocks x 5, 3 downsamplings x 2, head 2.
# - efficientnet, keras=true: Rescaling(1/255) and Normalization in front, "same" padding
#   (Keras' ZeroPadding2D + "valid" before each strided convolution), BatchNorm eps 1e-3 /
#   momentum 0.99. The Normalization's statistics are random too (Keras computes with
#   constants taken from its variables, so verify has it take them again). At 64x64 every
#   strided layer still pads asymmetrically, as at 224. Paired: the Normalization; stem 2;
#   the first block 6 (no expansion), 15 more of 8; top 2; Dense. torchvision's definition
#   runs in both backends against torchvision in tests/test_torchvision.py.
# - mobilenet_v3: MobileNetV3Large is torchvision's with its input Rescaling, "same" padding,
#   momentum 0.999 and a head of 1x1 convolutions. Paired: stem 2; 15 blocks of depthwise and
#   projection 4, 14 expansions 2, 8 gates 2; last 2; head 2 (test_transfer.py's
#   keras.applications test runs the Small).
KERAS_APPLICATIONS = [
    ("densenet", ["epsilon=1.001e-5", "momentum=0.99"], "DenseNet121", 224, 426, 242),
    ("convnext", ["preprocessing=true", "image=32"], "ConvNeXtTiny", 32, 175, 100),
    ("efficientnet", ["keras=true", "image=64"], "EfficientNetB0", 64, 250, 132),
    ("mobilenet_v3", ["preprocessing=true", "padding=same", "momentum=0.999", "head=conv",
                      "image=64"], "MobileNetV3Large", 64, 188, 110),
]


@pytest.mark.parametrize("spec, sets, application, size, layers, paired", KERAS_APPLICATIONS)
def test_zoo_family_verifies_and_agrees_with_keras_applications_layer_by_layer(
        spec_dir, backends, spec, sets, application, size, layers, paired):
    options = [part for value in sets for part in ("--set", value)]
    result = run_verify(str(spec_dir / f"{spec}.yaml"), *options,
                        "--reference", f"keras.applications.{application}")
    assert result.exit_code == 0, result.output
    assert f"all {layers} layers agree" in result.output
    assert f"keras.applications.{application}(weights=None, input_shape=({size}, {size}, 3)" \
        in result.output
    for backend in ("torch", "keras"):
        assert f"all {paired} paired layers agree with the reference" in paired_line(
            backend, result.output)


def test_a_wrong_resnet50_parts_from_keras_applications_at_the_first_layer_after_it(
        spec_dir, backends, tmp_path):
    variant = averaging_variant(tmp_path, spec_dir / "resnet.yaml", MAXPOOL)
    result = run_verify(str(variant), *RESNET50_KERAS,
                        "--reference", "keras.applications.ResNet50")
    assert result.exit_code == 1, result.output
    for backend in ("torch", "keras"):
        line = paired_line(backend, result.output)
        assert "FAIL" in line and "parts from the reference at layer 'layer1_0_downsample_0' " \
               "(reference 'conv2_block1_0_conv')" in line, line
        diff, tolerance = map(float, re.search(r"max \|diff\| (\S+) > tolerance (\S+)",
                                               line).groups())
        assert diff > tolerance


# --- references given as models (the Python API) --------------------------------------------

@pytest.mark.parametrize("framework", ["keras", "torch"])
def test_the_first_paired_layer_after_a_difference_is_reported(spec_dir, backends, tmp_path,
                                                               framework):
    spec = spec_dir / "mnist_cnn.yaml"
    same = verify(archspec.analyze(spec), batch=2,
                  reference=archspec.compile(spec, backend=framework))
    assert same.passed and same.reference.passed
    assert [len(checks) for checks in same.reference.backends.values()] == [4, 4]
    wrong = averaging_variant(tmp_path, spec, "  - MaxPooling2D: {pool_size: 2}")
    report = verify(archspec.analyze(spec), batch=2,
                    reference=archspec.compile(wrong, backend=framework))
    assert not report.passed and all(c.passed for c in report.layers)  # torch = keras
    for backend in ("torch", "keras"):
        first = report.reference.first_difference(backend)
        assert (first.layer, first.reference_layer) == ("conv2d_2", "conv2d_2")
        assert first.max_diff > first.tolerance
        assert report.reference.backends[backend][0].passed  # conv2d_1 comes before it


def test_a_different_activation_shows_at_its_own_layer_in_keras(spec_dir, backends, tmp_path):
    spec = spec_dir / "mnist_cnn.yaml"
    wrong = tmp_path / "tanh.yaml"
    wrong.write_text(spec.read_text().replace("kernel_size: 3, activation: relu}",
                                              "kernel_size: 3, activation: tanh}", 1))
    report = verify(archspec.analyze(spec),
                    reference=archspec.compile(wrong, backend="keras"))
    assert report.reference.first_difference("torch").layer == "conv2d_1"
    assert report.reference.first_difference("keras").layer == "conv2d_1"


# --- what is not a reference -------------------------------------------------------------------

@pytest.mark.parametrize("name, message", [
    ("os.system", "--reference must be keras.applications.<Name> or torchvision.models.<name>"),
    ("keras.applications.VGG16(weights='imagenet')", "--reference must be"),
    ("keras.applications.__builtins__", "is not a model of keras.applications"),
    ("keras.applications.vgg16", "did you mean keras.applications.VGG16?"),
    ("keras.applications.NoSuchNet", "is not a model of keras.applications"),
])
def test_a_name_that_is_not_a_reference_is_a_usage_error(spec_dir, backends, name, message):
    result = run_verify(str(spec_dir / "lenet5.yaml"), "--reference", name)
    assert result.exit_code == 2, result.output
    assert message in result.output and "Traceback" not in result.output


def test_a_reference_that_is_not_installed_is_a_usage_error(spec_dir, backends, monkeypatch):
    monkeypatch.setitem(sys.modules, "torchvision", None)  # import torchvision fails
    monkeypatch.delitem(sys.modules, "torchvision.models", raising=False)
    result = run_verify(str(spec_dir / "resnet18.yaml"), "--reference",
                        "torchvision.models.resnet18")
    assert result.exit_code == 2, result.output
    assert "torchvision cannot be imported here" in result.output


@pytest.mark.parametrize("spec, name, message", [
    ("lenet5", "MobileNetV3Small", "its weights do not fit the spec's models: the reference "
                                   "has 88 layers with weights, the spec 5"),
    # 28x28 is below VGG16's smallest input
    ("mnist_cnn", "VGG16", "keras.applications.VGG16(weights=None, input_shape=(28, 28, 1), "
                           "classes=10, classifier_activation='softmax') cannot be built"),
])
def test_a_reference_the_spec_does_not_reproduce_fails(spec_dir, backends, spec, name,
                                                       message):
    result = run_verify(str(spec_dir / f"{spec}.yaml"), "--reference",
                        f"keras.applications.{name}")
    assert result.exit_code == 1, result.output
    assert f"FAIL {message}" in result.output, result.output


# --- the rule for skipped reference tests -----------------------------------------------------

POLICY_TESTS = textwrap.dedent("""
    import pytest

    @pytest.mark.reference
    def test_reference_that_skips():
        pytest.skip("torchvision is not installed")

    def test_other_that_skips():
        pytest.skip("not a reference")

    @pytest.mark.reference
    def test_reference_that_passes():
        pass
""")


@pytest.mark.parametrize("env, fails", [({}, False), ({"ARCHSPEC_REQUIRE_REFERENCES": "1"}, True),
                                        ({"CI": "true"}, True)])
def test_a_skipped_reference_test_fails_where_references_are_required(tmp_path, env, fails):
    (tmp_path / "pytest.ini").write_text("[pytest]\n")
    (tmp_path / "test_policy.py").write_text(POLICY_TESTS)
    clean = {k: v for k, v in os.environ.items() if k not in ("CI", "ARCHSPEC_REQUIRE_REFERENCES")}
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "reference_policy", "-p", "no:cacheprovider",
         "-rfs", str(tmp_path)], cwd=tmp_path, capture_output=True, text=True, timeout=120,
        env={**clean, **env, "PYTHONPATH": str(Path(__file__).parent)})
    summary = result.stdout.strip().splitlines()[-1]
    if fails:
        assert result.returncode == 1, result.stdout
        assert "1 failed, 1 passed, 1 skipped" in summary
        assert "FAILED test_policy.py::test_reference_that_skips" in result.stdout
        assert "references are required" in result.stdout
        assert "torchvision is not installed" in result.stdout
    else:
        assert result.returncode == 0, result.stdout
        assert "1 passed, 2 skipped" in summary
