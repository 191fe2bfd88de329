"""The analysis of the utility layers and of broadcasting merges, without any framework: the
shapes, counts and receptive fields worked out here by hand, and located errors that show
shapes in the spec's layout."""

from __future__ import annotations

import pytest

import archspec
from archspec.errors import SpecError


def _spec(shape, layers, layout="channels_last") -> dict:
    return {"archspec": 1, "name": "t", "input": {"shape": shape, "layout": layout},
            "layers": layers}


def _error(doc):
    """The first diagnostic of an invalid spec."""
    with pytest.raises(SpecError) as info:
        archspec.analyze(doc)
    return info.value.diagnostics[0]


def test_a_squeeze_excitation_gate_broadcasts_and_sees_the_whole_input():
    graph = archspec.analyze(_spec([4, 8, 6], [
        {"Conv2D": {"filters": 4, "kernel_size": 3, "padding": "same", "name": "main"}},
        {"GlobalAveragePooling2D": {"keepdims": True}},
        {"Conv2D": {"filters": 2, "kernel_size": 1, "activation": "relu"}},
        {"Conv2D": {"filters": 4, "kernel_size": 1, "activation": "sigmoid", "name": "gate"}},
        {"Multiply": {"inputs": ["main", "gate"], "name": "scaled"}}], "channels_first"))
    scaled = graph["scaled"]
    assert graph.to_spec_layout(scaled.meta["shape"]) == (4, 8, 6)
    assert scaled.meta["macs"] == 0 and scaled.meta["trainable"] == 0
    assert scaled.meta["rf"] is None  # the gate pooled the whole map


@pytest.mark.parametrize("layout, shapes", [
    ("channels_last", "[8, 6, 4], [4]"), ("channels_first", "[4, 8, 6], [4]")])
def test_merges_of_different_ranks_are_refused_with_shapes_in_the_specs_layout(layout, shapes):
    shape = [8, 6, 4] if layout == "channels_last" else [4, 8, 6]
    d = _error(_spec(shape, [
        {"Conv2D": {"filters": 4, "kernel_size": 1, "name": "main"}},
        {"GlobalAveragePooling2D": {"name": "pooled"}},
        {"Add": {"inputs": ["main", "pooled"]}}], layout))
    assert d.path == "layers[2]"
    assert f"Add needs inputs of one rank, got {shapes}" in d.message
    assert "keepdims: true" in d.hint


def test_sizes_that_differ_and_are_not_1_are_refused():
    d = _error(_spec([4, 6, 3], [
        {"MaxPooling2D": {"pool_size": [4, 1], "name": "rows"}},  # [1, 6, 3]
        {"MaxPooling2D": {"pool_size": [1, 2], "inputs": "input", "name": "cols"}},  # [4, 3, 3]
        {"Multiply": {"inputs": ["rows", "cols"]}}]))
    assert "Multiply needs inputs of one shape, got [1, 6, 3], [4, 3, 3]" in d.message
    assert "only sizes of 1 may differ" in d.message


def test_sizes_of_1_on_different_axes_broadcast_to_both():
    graph = archspec.analyze(_spec([4, 6, 3], [
        {"MaxPooling2D": {"pool_size": [4, 1], "name": "rows"}},  # [1, 6, 3]
        {"MaxPooling2D": {"pool_size": [1, 6], "inputs": "input", "name": "cols"}},  # [4, 1, 3]
        {"Add": {"inputs": ["rows", "cols"], "name": "sum"}}]))
    assert graph["sum"].meta["shape"] == (4, 6, 3)


def test_permute_moves_the_receptive_field_with_its_axes():
    graph = archspec.analyze(_spec([9, 8, 2], [
        {"Conv2D": {"filters": 2, "kernel_size": [5, 1], "name": "tall"}},  # rf 5 x 1
        {"Permute": {"dims": [2, 1, 3], "name": "swapped"}},
        {"Conv2D": {"filters": 2, "kernel_size": [3, 1], "name": "after"}},
        {"Permute": {"dims": [3, 1, 2], "name": "moved"}}]))
    assert graph["tall"].meta["rf"] == (5, 1)
    assert graph["swapped"].meta["shape"] == (8, 5, 2)
    assert graph["swapped"].meta["rf"] == (1, 5)
    assert graph["after"].meta["rf"] == (3, 5)
    # Once channels move, fields per spatial axis describe nothing: not tracked ("global").
    assert graph["moved"].meta["shape"] == (2, 6, 5) and graph["moved"].meta["rf"] is None


def test_permute_dims_count_in_the_specs_layout():
    graph = archspec.analyze(_spec([3, 8, 5], [{"Permute": {"dims": [2, 3, 1], "name": "p"}}],
                                   "channels_first"))
    assert graph.to_spec_layout(graph["p"].meta["shape"]) == (8, 5, 3)


@pytest.mark.parametrize("dims, message", [
    ([1, 1, 2], "dims must list each of the axes 1 to 3 once"),
    ([0, 1, 2], "dims must list each of the axes 1 to 3 once"),
])
def test_permute_dims_must_be_a_permutation_after_the_batch(dims, message):
    d = _error(_spec([4, 5, 3], [{"Permute": {"dims": dims}}]))
    assert message in d.message and d.path == "layers[0].dims"


def test_permute_dims_must_match_the_rank():
    d = _error(_spec([4, 5, 3], [{"Permute": {"dims": [2, 1]}}]))
    assert "dims [2, 1] has 2 entries, the input 3 axes" in d.message


def test_normalization_counts_keras_statistics_and_checks_their_length():
    graph = archspec.analyze(_spec([3, 8, 8], [
        {"Normalization": {"axis": 1, "mean": [0.485, 0.456, 0.406],
                           "variance": [0.052441, 0.050176, 0.050625], "name": "n"}}],
        "channels_first"))
    assert graph["n"].meta["non_trainable"] == 7 and graph["n"].meta["trainable"] == 0
    d = _error(_spec([3, 8, 8], [{"Normalization": {"mean": [1, 2, 3], "variance": [1, 2, 3]}}],
                     "channels_first"))
    assert "mean has 3 values; axis -1 of the input has 8 entries" in d.message


@pytest.mark.parametrize("args, message", [
    ({"mean": [1.0, 2.0], "variance": 1.0}, "mean and variance must have the same form"),
    ({"mean": 0.0, "variance": -1.0}, "a variance cannot be negative"),
    ({"mean": [], "variance": []}, "non-empty list"),
    ({"variance": 1.0}, "missing required field 'mean'"),
])
def test_normalization_arguments(args, message):
    d = _error(_spec([4], [{"Normalization": args}]))
    assert message in d.message, d.message


def test_rescaling_and_layer_scale_counts():
    graph = archspec.analyze(_spec([6, 6, 3], [
        {"Rescaling": {"scale": [1.0, 2.0, 3.0], "name": "r"}},
        {"LayerScale": {"name": "ls"}}]))
    assert (graph["r"].meta["trainable"], graph["r"].meta["non_trainable"]) == (0, 0)
    assert graph["ls"].meta["trainable"] == 3 and graph["ls"].layer.init_values == 1e-6
    d = _error(_spec([6, 6, 3], [{"Rescaling": {"scale": [1.0, 2.0]}}]))
    assert "scale has 2 values; the input has 3 channels" in d.message


def test_python_constructors_take_keras_positional_order():
    assert archspec.Rescaling(0.5, 1.0) == archspec.Rescaling(scale=0.5, offset=1.0)
    assert archspec.StochasticDepth(0.1).rate == 0.1
    assert archspec.Permute([2, 1]).dims == (2, 1)
    assert archspec.LayerScale(0.5).init_values == 0.5
    assert archspec.Normalization(1, mean=0.0, variance=1.0).axis == 1
    with pytest.raises(archspec.ArgumentError, match="rate"):
        archspec.StochasticDepth(1.0)
