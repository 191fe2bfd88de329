"""YAML, JSON and Python forms of a spec are one model."""

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import archspec
from archspec import (
    Add,
    BatchNormalization,
    Conv2D,
    Dense,
    Flatten,
    GlobalAveragePooling2D,
    MaxPooling2D,
    ReLU,
    Spec,
    call,
    repeat,
)
from archspec.spec.load import validate_document
from archspec.spec.source import parse

ZOO = ["mnist_cnn", "lenet5", "vgg16", "resnet_course", "inception_course", "googlenet",
       "mobilenet_v2", "resnet50", "densenet", "mobilenet_v3"]


def reload(text):
    return validate_document(*parse(text))


@pytest.mark.parametrize("name", ZOO)
def test_yaml_and_json_round_trip(spec_dir, name):
    spec = archspec.load(spec_dir / f"{name}.yaml")
    assert reload(spec.to_yaml()) == spec
    assert reload(spec.to_json()) == spec
    assert archspec.loads(spec.to_json()) == spec  # JSON text is accepted as a spec too
    original = archspec.check(spec).to_dict()
    assert archspec.check(reload(spec.to_yaml())).to_dict() == original


def test_python_construction_equals_yaml(spec_dir):
    built = Spec(
        name="mnist_cnn",
        description="Conv32-Pool-Conv64-Pool-Flatten-Dense128-Dense10, from the course",
        input=[28, 28, 1],
        layers=[Conv2D(32, 3, activation="relu"), MaxPooling2D(2),
                Conv2D(64, 3, activation="relu"), MaxPooling2D(2), Flatten(),
                Dense(128, activation="relu"), Dense(10, activation="softmax")])
    from_file = archspec.load(spec_dir / "mnist_cnn.yaml")
    assert archspec.check(built).to_dict() == archspec.check(from_file).to_dict()
    assert reload(built.to_yaml()) == built


def test_python_blocks_and_repeat():
    from archspec import BlockDef
    spec = Spec(
        name="tiny_resnet", input=[32, 32, 3], params={"n": 2},
        # Layer objects hold values; arguments with ${...} are written as plain mappings.
        blocks={"res": BlockDef(params=["f"], layers=[
            {"Conv2D": {"filters": "${f}", "kernel_size": 3, "padding": "same"}},
            BatchNormalization(), ReLU(),
            {"Conv2D": {"filters": "${f}", "kernel_size": 3, "padding": "same", "name": "main"}},
            Add(inputs=["input", "main"])])},
        layers=[Conv2D(16, 3, padding="same"), repeat("${n}", [call("res", f=16)]),
                GlobalAveragePooling2D(), Dense(10)])
    report = archspec.check(spec)
    per_block = 2 * (16 * 9 * 16 + 16) + 2 * 16
    assert report.totals["trainable_params"] == 448 + 2 * per_block + 170
    assert report.totals["non_trainable_params"] == 2 * 32
    assert report.totals["layers"] == 1 + 2 * 5 + 2
    assert reload(spec.to_yaml()) == spec
    assert archspec.check(reload(spec.to_json())).to_dict() == report.to_dict()


# Hypothesis: random sequential CNNs written in Python survive YAML and JSON unchanged.
layers = st.one_of(
    st.builds(lambda f, k: Conv2D(f, k, padding="same"), st.integers(1, 64), st.integers(1, 5)),
    st.builds(lambda p: MaxPooling2D(p, padding="same"), st.integers(1, 3)),
    st.just(BatchNormalization()), st.just(ReLU()),
)


@settings(max_examples=50, deadline=None)
@given(st.lists(layers, min_size=1, max_size=8), st.integers(1, 100))
def test_random_specs_round_trip(body, units):
    spec = Spec(name="random", input=[16, 16, 3], layers=body + [Flatten(), Dense(units)])
    assert reload(spec.to_yaml()) == spec
    assert reload(json.dumps(json.loads(spec.to_json()))) == spec
    assert archspec.check(reload(spec.to_yaml())).to_dict() == archspec.check(spec).to_dict()


def test_extends_merges_params(tmp_path, spec_dir):
    base = (spec_dir / "resnet.yaml").read_text()
    (tmp_path / "family.yaml").write_text(base)
    (tmp_path / "wide.yaml").write_text("extends: family.yaml\nname: r34\nparams: {depth: 34}\n")
    spec = archspec.load(tmp_path / "wide.yaml")
    assert spec.name == "r34" and spec.params["depth"] == 34 and spec.params["classes"] == 1000
    assert archspec.check(spec).totals["trainable_params"] == 21_797_672


def test_channels_first_layout():
    spec = Spec(name="cf", input={"shape": [3, 32, 32], "layout": "channels_first"},
                layers=[Conv2D(8, 3), {"Concatenate": {"axis": 1, "inputs": ["conv2d_1", "conv2d_1"]}},
                        {"Softmax": {"axis": 1}}])
    report = archspec.check(spec)
    assert report.input_shape == [3, 32, 32]
    assert report.layers[0].output_shape == [8, 30, 30]
    assert report.layers[1].output_shape == [16, 30, 30]  # axis 1 is channels here
    assert report.graph.layers[2].meta["resolved"]["axis"] == 2  # canonical channels-last
