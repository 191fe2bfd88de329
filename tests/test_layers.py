"""Every layer type's shape rule and counts, from the table in layer_cases.yaml."""

from pathlib import Path

import pytest
import yaml

from archspec.ops.base import layer_types
from archspec.ops.plugins import cases as plugin_cases

# The installed plugins' types are checked as the built-in ones, from the rows they bring.
CASES = yaml.safe_load((Path(__file__).parent / "layer_cases.yaml").read_text()) + plugin_cases()


def _type_and_args(entry):
    if isinstance(entry, str):
        return entry, {}
    (name, args), = entry.items()
    return name, args or {}


def _case_id(case):
    name, args = _type_and_args(case["layer"])
    return f"{name}-{'-'.join(f'{k}={v}' for k, v in args.items())}"[:80]


@pytest.mark.parametrize("case", CASES, ids=[_case_id(c) for c in CASES])
def test_layer_case(case):
    name, args = _type_and_args(case["layer"])
    layer = layer_types()[name].model_validate(args)
    inputs = [tuple(s) for s in case.get("inputs", [case.get("input")])]
    result = layer.infer(inputs)
    assert list(result.shape) == case["shape"]
    assert result.trainable == case.get("params", 0)
    assert result.non_trainable == case.get("non_trainable", 0)
    if "macs" in case:
        assert result.macs == case["macs"]


def test_every_layer_type_has_a_case():
    covered = {_type_and_args(c["layer"])[0] for c in CASES}
    missing = sorted(set(layer_types()) - covered)
    assert not missing, f"layer types without a case in layer_cases.yaml: {missing}"


def test_every_layer_type_has_a_shape_rule():
    from archspec.ops.base import Layer
    lacking = [n for n, cls in layer_types().items() if cls.infer is Layer.infer]
    assert not lacking


def test_positional_shortcuts():
    from archspec import Conv2D, Dense, Dropout
    assert Conv2D(32, 3, activation="relu") == Conv2D(filters=32, kernel_size=3, activation="relu")
    assert Dense(10).units == 10 and Dropout(0.5).rate == 0.5
    with pytest.raises(TypeError):
        Dense(10, 20)


@pytest.mark.parametrize("args, shape", [
    ({"pool_size": 2, "padding": 2}, (5, 5, 1)),          # the first window is all padding
    ({"pool_size": 1, "padding": [[0, 2], [0, 0]]}, (1, 4, 1)),  # the last rows are
])
def test_pooling_windows_of_only_padding_are_refused(args, shape):
    from archspec.errors import ShapeError
    layer = layer_types()["MaxPooling2D"].model_validate(args)
    with pytest.raises(ShapeError, match="only padding"):
        layer.infer([shape])


def test_merge_errors_show_shapes_in_the_specs_layout():
    from archspec.errors import ShapeError
    add = layer_types()["Add"].model_validate({})
    with pytest.raises(ShapeError, match=r"\[64, 8, 8\], \[32, 8, 8\]"):
        add.infer([(8, 8, 64), (8, 8, 32)], channels_first=True)
    with pytest.raises(ShapeError, match=r"\[8, 8, 64\], \[8, 8, 32\]"):
        add.infer([(8, 8, 64), (8, 8, 32)], channels_first=False)
    concat = layer_types()["Concatenate"].model_validate({"axis": 1})
    with pytest.raises(ShapeError, match=r"\[64, 8, 8\], \[32, 4, 4\]"):
        concat.infer([(8, 8, 64), (4, 4, 32)], channels_first=True)
