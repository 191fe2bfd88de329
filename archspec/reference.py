"""Load the weights of a reference implementation (a torchvision model, a keras.applications
model) into the compiled model of a zoo spec that reproduces it — in either framework. A user
with pretrained ImageNet weights for one framework gets the same network in the other.

Matching: layers with weights are paired by name where the names agree once "." and "_" are
treated alike (torchvision's ``layer1.0.conv1`` is the spec's ``layer1_0_conv1``), and the rest
in order; every pair must agree in kind and weight shapes, or nothing is loaded.
"""

from __future__ import annotations

import re

import numpy as np

from .ir.graph import Graph, Node
from .weights import (
    Exchange,
    framework_of,
    set_weights,
    to_numpy,
    torch_slots,
    torch_to_keras_array,
)

_KIND = {"Conv1D": "conv", "Conv2D": "conv", "DepthwiseConv1D": "conv", "DepthwiseConv2D": "conv",
         "Dense": "dense", "BatchNormalization": "norm"}


def _weighted_nodes(graph: Graph) -> list[Node]:
    return [n for n in graph.live() if n.meta["trainable"] or n.meta["non_trainable"]]


def _normal(name: str) -> str:
    return re.sub(r"[._]+", "_", name).lower()


def _pair(ours: list[Node], theirs: list[tuple[str, object]]) -> list[tuple[Node, object]]:
    by_name = {_normal(name): item for name, item in theirs}
    pairs, rest_ours = {}, []
    for node in ours:
        match = by_name.pop(_normal(node.name), None)
        if match is None:
            rest_ours.append(node)
        else:
            pairs[node.name] = (node, match)
    remaining = [item for name, item in theirs if _normal(name) in by_name]
    if len(rest_ours) != len(remaining):
        raise ValueError(f"the reference has {len(theirs)} layers with weights, the spec "
                         f"{len(ours)}; they cannot be paired")
    for node, item in zip(rest_ours, remaining):
        pairs[node.name] = (node, item)
    return [pairs[n.name] for n in ours]


def _torch_module_kind(module) -> str:
    name = type(module).__name__
    if name.startswith("Conv"):
        return "conv"
    if name == "Linear":
        return "dense"
    return "norm" if "Norm" in name else name


def from_torchvision(reference, graph: Graph) -> Exchange:
    """A torchvision-style module → the exchange dict of ``graph``'s compiled models."""
    leaves = [(name, m) for name, m in reference.named_modules()
              if not list(m.children()) and (list(m.parameters(recurse=False))
                                             or list(m.buffers(recurse=False)))]
    out: Exchange = {}
    for node, module in _pair(_weighted_nodes(graph), leaves):
        if _torch_module_kind(module) != _KIND.get(node.type):
            raise ValueError(f"{node.type} '{node.name}' cannot take the weights of a "
                             f"{type(module).__name__}")
        slots = torch_slots(module, node)
        out[node.name] = {k: torch_to_keras_array(k, to_numpy(v), node, graph)
                          for k, v in slots.items()}
    return out


def from_keras_application(reference, graph: Graph) -> Exchange:
    """A keras.applications model → the exchange dict of ``graph``'s compiled models."""
    from .api import build
    layers = [(layer.name, layer) for layer in reference.layers if layer.weights]
    # Keras lists a functional model's layers in its own graph order, not the spec's: pair in
    # the order the spec's own Keras model lists them.
    ours = [graph[layer.name] for layer in build(graph, "keras").layers if layer.weights]
    out: Exchange = {}
    for node, layer in _pair(ours, layers):
        kind = {"Conv2D": "conv", "DepthwiseConv2D": "conv", "Dense": "dense",
                "BatchNormalization": "norm"}.get(type(layer).__name__)
        if kind != _KIND.get(node.type):
            raise ValueError(f"{node.type} '{node.name}' cannot take the weights of a "
                             f"{type(layer).__name__} ('{layer.name}')")
        out[node.name] = {w.name: np.array(w.numpy(), copy=True) for w in layer.weights}
    return out


def load_reference_weights(model, reference, graph: Graph) -> None:
    """Copy a reference implementation's weights into ``model`` (a compiled torch or Keras
    model of ``graph``). Shapes are checked layer by layer."""
    exchange = from_torchvision(reference, graph) if framework_of(reference) == "torch" \
        else from_keras_application(reference, graph)
    set_weights(model, graph, exchange)
