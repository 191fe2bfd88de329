"""Weights drawn as the backends draw them (Keras' initializers and fans), from a seed, without
a framework: what an exported model holds when no weight file is given."""

from __future__ import annotations

import math

import numpy as np

from ..ir.graph import Graph, Node
from ..weights import keras_to_torch_array, torch_to_keras_array

# Keras' truncated normal keeps values within two standard deviations; this is the std of
# the unit normal so truncated, which VarianceScaling divides by.
_TRUNCATED_STD = 0.87962566103423978
_DRAWN_AS_ONNX_HOLDS = frozenset({"conv", "depthwise"})
_DEFAULTS = {"gamma": "ones", "moving_variance": "ones", "beta": "zeros", "moving_mean": "zeros",
             "token": "zeros"}


def keras_fans(shape: tuple[int, ...]) -> tuple[float, float]:
    """Keras' ``compute_fans``: a kernel's last two axes are (in, out), the others taps."""
    if len(shape) == 0:
        return 1.0, 1.0
    if len(shape) == 1:
        return float(shape[0]), float(shape[0])
    if len(shape) == 2:
        return float(shape[0]), float(shape[1])
    taps = math.prod(shape[:-2])
    return float(shape[-2] * taps), float(shape[-1] * taps)


def draw(scheme: str, shape: tuple[int, ...], rng: np.random.Generator,
         held: tuple[int, ...] | None = None) -> np.ndarray:
    """Values for a weight of Keras shape ``shape`` (which gives the fans), drawn in the
    shape ``held`` (default: the same)."""
    fan_in, fan_out = keras_fans(shape)
    shape = held or shape
    if scheme == "zeros":
        return np.zeros(shape, np.float32)
    if scheme == "ones":
        return np.ones(shape, np.float32)
    if scheme == "uniform":  # Keras' RandomUniform at its defaults (Embedding's)
        return _uniform(rng, 0.05, shape)
    family, distribution = scheme.rsplit("_", 1)
    fan = {"glorot": (fan_in + fan_out) / 2, "he": fan_in / 2, "lecun": fan_in}[family]
    if distribution == "uniform":
        return _uniform(rng, math.sqrt(3.0 / fan), shape)
    std = math.sqrt(1.0 / fan) / _TRUNCATED_STD
    values = rng.standard_normal(shape, dtype=np.float32)
    while np.any(outside := np.abs(values) > 2):  # redraw outside two std, as Keras does
        values[outside] = rng.standard_normal(int(outside.sum()), dtype=np.float32)
    values *= std
    return values


def _uniform(rng: np.random.Generator, limit: float, shape: tuple[int, ...]) -> np.ndarray:
    """Uniform in [-limit, limit), drawn as float32 directly (half the time of float64)."""
    values = rng.random(shape, dtype=np.float32)
    values *= 2 * limit
    values -= limit
    return values


def scheme_of(layer, slot: str) -> str:
    """The initializer a layer names for a weight: ``<slot>_initializer``, the one its prefix
    names (depthwise_kernel → depthwise_initializer), else its one ``initializer``, else
    Keras' default for weights of that name."""
    head = slot.split("/")[-1]
    for attribute in (f"{head}_initializer", f"{head.split('_')[0]}_initializer",
                      "depthwise_initializer" if head == "kernel" else "",
                      "initializer"):
        value = getattr(layer, attribute, None) if attribute else None
        if isinstance(value, str):
            return value
    if head == "bias":
        return "zeros"
    return _DEFAULTS.get(head, "glorot_uniform")


def initial_weights(graph: Graph, seed: int = 0) -> dict[str, dict[str, np.ndarray]]:
    """Every live layer's weights in Keras' layout, by layer name and Keras weight name."""
    rng = np.random.default_rng(seed)
    weights = {}
    for node in graph.live():
        if node.layer is None:
            continue
        weights[node.name] = _layer_weights(node, graph, rng)
    return weights


def _layer_weights(node: Node, graph: Graph, rng: np.random.Generator) -> dict[str, np.ndarray]:
    layer = node.layer
    slots = layer.weight_slots(node.meta["input_shapes"])
    if not slots:
        return {}
    shapes = layer.weight_shapes(node.meta["input_shapes"], graph.channels_first)
    given = layer.initial_weights()
    out = {}
    for slot in slots:
        shape = tuple(shapes[slot.keras])
        if slot.keras in given:
            out[slot.keras] = np.broadcast_to(np.asarray(given[slot.keras], np.float32),
                                              shape).copy()
        elif slot.layout in _DRAWN_AS_ONNX_HOLDS:
            # Drawn in ONNX's (and torch's) order and handed out as a Keras-layout view, so
            # the exporter's transpose back is free. The values are as random either way.
            held = keras_to_torch_array(slot.keras, np.empty(shape, np.float32), node,
                                        graph).shape
            drawn = draw(scheme_of(layer, slot.keras), shape, rng, held)
            out[slot.keras] = torch_to_keras_array(slot.keras, drawn, node, graph)
        else:
            out[slot.keras] = draw(scheme_of(layer, slot.keras), shape, rng)
    return out
