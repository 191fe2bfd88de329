"""Load the weights of a reference implementation (a torchvision model, a keras.applications
model) into the compiled model of a zoo spec that reproduces it — in either framework. A user
with pretrained ImageNet weights for one framework gets the same network in the other.

Matching: layers with weights are paired by name where the names agree once "." and "_" are
treated alike (torchvision's ``layer1.0.conv1`` is the spec's ``layer1_0_conv1``), and the rest
in order; every pair must agree in kind and weight shapes, or nothing is loaded.

References by name (``verify --reference``): ``keras.applications.<Name>`` or
``torchvision.models.<name>`` only, looked up as attributes of those modules (user text is never
evaluated) and built untrained, so nothing is downloaded.
"""

from __future__ import annotations

import importlib
import importlib.util
import inspect
import re
import sys
from typing import Any, Callable

import numpy as np

from .ir.graph import Graph, Node
from .ops.base import layer_types
from .weights import (
    Exchange,
    framework_of,
    keras_to_numpy,
    set_weights,
    to_numpy,
    torch_slots,
    torch_to_keras_array,
)


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


def _kind_of_type(name: str) -> str:
    """The declared kind of the layer type called ``name`` (Keras' layer classes and some of
    torch's modules are named like archspec's types); the name itself otherwise."""
    cls = layer_types().get(name)
    return cls.kind if cls is not None else name


def _torch_module_kind(module) -> str:
    name = type(module).__name__
    if name.startswith("Conv"):
        return "conv"
    if name == "Linear":
        return "dense"
    return "norm" if "Norm" in name else _kind_of_type(name)


def _torch_leaves(reference) -> list[tuple[str, Any]]:
    """Leaf modules with weights, and the bare parameters of modules with children
    (torchvision ConvNeXt's ``layer_scale``), each under its own path."""
    out = []
    for name, m in reference.named_modules():
        if not list(m.children()):
            if list(m.parameters(recurse=False)) or list(m.buffers(recurse=False)):
                out.append((name, m))
        else:
            out += [(f"{name}.{key}" if name else key, p)
                    for key, p in m.named_parameters(recurse=False)]
    return out


def _bare_parameter(item, node: Node) -> bool:
    """A bare torch parameter pairs with a layer held as one (its slot has no torch path)."""
    return type(item).__name__ == "Parameter" and all(
        not slot.torch for slot in node.layer.weight_slots())


def _keras_kind(layer) -> str:
    return _kind_of_type(type(layer).__name__)


def _keras_layers(model) -> list:
    """A Keras model's layers with the layers of nested models in their place
    (keras.applications' ConvNeXt wraps its stem and downsampling in Sequential models)."""
    out = []
    for layer in model.layers:
        out.extend(_keras_layers(layer) if hasattr(layer, "layers") else [layer])
    return out


def reference_pairs(reference, graph: Graph, keras_model=None) -> list[tuple[Node, str, Any]]:
    """Every spec layer with weights and the reference's layer (Keras) or leaf module (torch)
    it takes them from, in the spec's order. Raises ValueError where they do not pair."""
    if framework_of(reference) == "torch":
        theirs = _torch_leaves(reference)
        ours = _weighted_nodes(graph)
        kind_of = _torch_module_kind
    else:
        theirs = [(layer.name, layer) for layer in _keras_layers(reference) if layer.weights]
        # Keras lists a functional model's layers in its own graph order, not the spec's:
        # pair in the order the spec's own Keras model lists them.
        from .backends import build
        model = keras_model if keras_model is not None else build(graph, "keras")
        ours = [graph[layer.name] for layer in model.layers if layer.weights]
        kind_of = _keras_kind
    name_of = {id(item): name for name, item in theirs}
    pairs = []
    for node, item in _pair(ours, theirs):
        if kind_of(item) != node.layer.kind and not _bare_parameter(item, node):
            raise ValueError(f"{node.type} '{node.name}' cannot take the weights of a "
                             f"{type(item).__name__} ('{name_of[id(item)]}')")
        pairs.append((node, name_of[id(item)], item))
    order = {node.name: i for i, node in enumerate(graph.live())}
    return sorted(pairs, key=lambda pair: order[pair[0].name])


def reference_exchange(pairs: list[tuple[Node, str, Any]], graph: Graph) -> Exchange:
    """The reference's weights as the exchange dict of ``graph``'s compiled models."""
    out: Exchange = {}
    for node, _, item in pairs:
        if hasattr(item, "named_parameters") or type(item).__name__ == "Parameter":
            out[node.name] = {k: torch_to_keras_array(k, to_numpy(v), node, graph)
                              for k, v in torch_slots(item, node).items()}
        else:
            out[node.name] = _keras_layer_weights(item, node)
    return out


def _keras_layer_weights(layer, node: Node) -> dict[str, np.ndarray]:
    """A Keras layer's weights by name — by the declared slots' names, in order, where the
    layer names them otherwise but has as many (keras.applications' ConvNeXt LayerScale
    leaves its gamma unnamed: "variable"); shapes are checked when they are set."""
    names = [w.name for w in layer.weights]
    declared = [slot.keras for slot in node.layer.weight_slots()]
    if set(names) != set(declared) and len(names) == len(declared):
        names = declared
    return {name: keras_to_numpy(w) for name, w in zip(names, layer.weights)}


def load_reference_weights(model, reference, graph: Graph) -> None:
    """Copy a reference implementation's weights into ``model`` (a compiled torch or Keras
    model of ``graph``). Shapes are checked layer by layer."""
    keras_model = model if framework_of(model) == "keras" else None
    set_weights(model, graph, reference_exchange(
        reference_pairs(reference, graph, keras_model), graph))


# --- references by name ----------------------------------------------------------------------

_NAME = re.compile(r"(keras\.applications|torchvision\.models)\.([A-Za-z_][A-Za-z0-9_]*)")
# Auxiliary classifiers exist for training only; the zoo's specs, like inference, omit them.
_TORCHVISION_OPTIONS = {"googlenet": {"aux_logits": False, "init_weights": True},
                        "inception_v3": {"aux_logits": False, "init_weights": True}}


class UnknownReference(ValueError):
    """A --reference that is not of the allowed form, not installed, or not a model there."""


def _triton_would_crash() -> bool:
    return "tensorflow" in sys.modules and "triton" not in sys.modules \
        and importlib.util.find_spec("triton") is not None


def resolve_reference(name: str) -> tuple[str, Callable]:
    """``keras.applications.<Name>`` or ``torchvision.models.<name>`` → (framework, the
    function that builds it). Only attributes of those two modules are reachable."""
    match = _NAME.fullmatch(name)
    if match is None:
        raise UnknownReference(f"--reference must be keras.applications.<Name> or "
                               f"torchvision.models.<name>, not {name!r}")
    module_name, attr = match.groups()
    if module_name == "torchvision.models" and _triton_would_crash():
        raise UnknownReference(f"{name}: torchvision loads triton, which crashes a process that "
                               f"has loaded TensorFlow already; import torchvision (or triton) "
                               f"before keras")
    try:
        module = importlib.import_module(module_name)
    except Exception as exc:  # noqa: BLE001 - a broken install fails in its own ways
        package = module_name.split(".")[0]
        raise UnknownReference(f"{name}: {package} cannot be imported here ({type(exc).__name__}"
                               f": {exc}); install it to compare with its models") from None
    if module_name == "torchvision.models":
        known = module.list_models(module=module)
        framework = "torch"
    else:
        known = [n for n, v in vars(module).items() if n[:1].isupper() and inspect.isfunction(v)]
        framework = "keras"
    if attr not in known:
        close = [k for k in known if k.lower() == attr.lower()]
        hint = f" (did you mean {module_name}.{close[0]}?)" if close else ""
        raise UnknownReference(f"{name} is not a model of {module_name}{hint}")
    return framework, getattr(module, attr)


def _builder_options(framework: str, builder: Callable, graph: Graph) -> dict[str, Any]:
    """What the reference is built with: never pretrained weights (nothing is downloaded),
    and the head the spec has — its class count and, in Keras, its classifier activation."""
    options: dict[str, Any] = {"weights": None}
    head = graph[graph.output]
    if framework == "torch":
        options.update(_TORCHVISION_OPTIONS.get(builder.__name__, {}))
        if head.type == "Dense":
            options["num_classes"] = head.layer.units
        return options
    accepted = inspect.signature(builder).parameters
    options["input_shape"] = tuple(graph.input_shape)
    if head.type == "Dense":
        options["classes"] = head.layer.units
        options["classifier_activation"] = head.layer.activation
    return {k: v for k, v in options.items() if k == "weights" or k in accepted}


def build_reference(name: str, graph: Graph) -> tuple[Any, str]:
    """The named reference, untrained and in inference mode, shaped like ``graph``'s input
    and head; and how it was called, for the report."""
    framework, builder = resolve_reference(name)
    options = _builder_options(framework, builder, graph)
    call = f"{name}({', '.join(f'{k}={v!r}' for k, v in options.items())})"
    try:
        model = builder(**options)
    except (ValueError, TypeError) as exc:  # the spec's input or head does not suit it
        raise ValueError(f"{call} cannot be built: {exc}") from None
    return (model.eval() if framework == "torch" else model), call


def randomize_statistics(reference, rng) -> None:
    """Untrained BatchNorm layers normalize with mean 0 and variance 1 and untrained biases
    are 0, which would hide a mix-up of their vectors: give them distinct values."""
    if framework_of(reference) == "torch":
        import torch
        with torch.no_grad():
            for module in reference.modules():
                norm = "Norm" in type(module).__name__
                # bare parameters (ConvNeXt's layer_scale: 1e-6 untrained, which would hide
                # each block's branch) scale as a norm's weight does
                bare = {key for key, _ in module.named_parameters(recurse=False)} \
                    if list(module.children()) else set()
                for key, tensor in list(module.named_parameters(recurse=False)) + list(
                        module.named_buffers(recurse=False)):
                    if key == "bias" or key in bare or (norm and key in (
                            "weight", "running_mean", "running_var")):
                        low = 0.5 if key in ("weight", "running_var") or key in bare else -0.5
                        tensor.copy_(torch.from_numpy(rng.uniform(
                            low, low + 1.0, tuple(tensor.shape)).astype(np.float32)))
        return
    for layer in _keras_layers(reference):
        cls = layer_types().get(type(layer).__name__)
        slots = cls.slots if cls else ()
        ranges = {slot.keras: slot.verify_range for slot in slots}
        # a weight named otherwise than its slot takes the slot's range by position, as
        # _keras_layer_weights pairs it (ConvNeXt's LayerScale gamma is "variable")
        positional = len(layer.weights) == len(slots)
        for i, w in enumerate(layer.weights):
            span = ranges.get(w.name) or ((-0.5, 0.5) if w.name == "bias" else None) or (
                slots[i].verify_range if positional else None)
            if span is not None:
                w.assign(rng.uniform(*span, tuple(w.shape)).astype("float32"))
        # Keras' Normalization computes with constants it derived from its variables when it
        # was built (keras.applications' EfficientNet input): assigning them changes nothing
        # until it derives them again.
        if hasattr(layer, "finalize_state"):
            layer.finalize_state()
