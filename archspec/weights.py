"""Weight exchange between the compiled models of one spec.

Weights travel as an *exchange dict*: spec layer name → {weight name: numpy array}, with Keras'
names and layouts (the spec's vocabulary): ``kernel`` (kh, kw, in, out), a depthwise ``kernel``
(kh, kw, in, multiplier), separable ``depthwise_kernel`` and ``pointwise_kernel``, transposed
``kernel`` (kh, kw, out, in), Dense ``kernel`` (in, out) with rows in Keras' flatten order,
BatchNormalization ``gamma``/``beta``/``moving_mean``/``moving_variance``, Normalization
``mean``/``variance``/``count``, LayerScale ``gamma`` (C,) (torch: (C, 1, ..., 1)),
MultiHeadAttention's per-head ``query/kernel`` (d, heads, key_dim), ``query/bias`` (heads,
key_dim), ... ``attention_output/kernel`` (heads, value_dim, d) (torch: nn.MultiheadAttention's
packed ``in_proj_weight`` (3d, d), or one nn.Linear each), ClassToken ``token`` (1, d) and
PositionEmbedding ``embeddings`` (length, d) (torch: a bare parameter with a leading batch axis
of 1). Every conversion is a transpose, reshape or row permutation, so a round trip is
bit-identical.

Which weights a layer has, where torch keeps them and which conversion applies is declared on
its op class (``slots``, see ops/base.py); a layer with parameters and no declared slots is
refused here rather than silently left with its initial weights.

Only numpy is needed here; torch and Keras objects are touched through their own methods.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from .backends.common import Facts
from .ir.graph import Graph, Node
from .ops.base import WeightSlot

Exchange = dict[str, dict[str, np.ndarray]]


def framework_of(model: Any) -> str:
    """"keras" or "torch". Keras is asked first: on Keras' torch backend every Keras model is
    also a ``torch.nn.Module`` (with ``state_dict``), but its weights live in Keras layers."""
    if any(_package(cls) == "keras" for cls in type(model).__mro__):
        return "keras"
    if any(_package(cls) == "torch" for cls in type(model).__mro__):
        return "torch"
    raise TypeError(f"not a compiled torch or Keras model: {type(model).__name__}")


def _package(cls: type) -> str:
    return (getattr(cls, "__module__", None) or "").split(".")[0]


# --- layout conversions (torch ↔ Keras), one place each --------------------------------------

def _conv_to_keras(w: np.ndarray) -> np.ndarray:
    """(out, in, *k) → (*k, in, out); the same permutation maps a transposed torch kernel
    (in, out, *k) to Keras' (*k, out, in)."""
    return w.transpose(tuple(range(2, w.ndim)) + (1, 0))


def _conv_to_torch(k: np.ndarray) -> np.ndarray:
    return k.transpose((k.ndim - 1, k.ndim - 2) + tuple(range(k.ndim - 2)))


def _depthwise_to_keras(w: np.ndarray, channels: int) -> np.ndarray:
    """(C*M, 1, *k) → (*k, C, M)."""
    spatial = w.shape[2:]
    w = w.reshape((channels, w.shape[0] // channels) + spatial)
    return w.transpose(tuple(range(2, w.ndim)) + (0, 1))


def _depthwise_to_torch(k: np.ndarray) -> np.ndarray:
    rank = k.ndim - 2
    channels, mult = k.shape[-2:]
    w = k.transpose((rank, rank + 1) + tuple(range(rank)))
    return w.reshape((channels * mult, 1) + k.shape[:rank])


def _per_position_to_keras(w: np.ndarray, rank: int) -> np.ndarray:
    """torch (C, *spatial) → Keras (*spatial, C); torch's per-channel (C,) → (1, ..., C)."""
    if w.ndim == 1:
        return w.reshape((1,) * (rank - 1) + w.shape)
    return np.moveaxis(w, 0, -1)


def _per_position_to_torch(k: np.ndarray) -> np.ndarray:
    """The inverse: a weight shared over every spatial axis is torch's per-channel (C,)."""
    w = np.moveaxis(k, -1, 0)
    return w.reshape(w.shape[:1]) if all(n == 1 for n in w.shape[1:]) else w


def flatten_permutation(graph: Graph, node: Node) -> np.ndarray | None:
    """For a Dense fed directly by a Flatten that each framework does in its own order
    (torch: C, H, W; Keras: H, W, C): ``keras_rows = torch_rows[perm]``. None otherwise."""
    if node.type != "Dense":
        return None
    source = graph[node.inputs[0]]
    if source.type != "Flatten" or not Facts.of(graph).flatten_order_free(source):
        return None
    shape = source.meta["input_shapes"][0]
    if len(shape) < 2:
        return None
    size = int(np.prod(shape))
    torch_order = np.arange(size).reshape((shape[-1],) + tuple(shape[:-1]))
    return torch_order.transpose(tuple(range(1, len(shape))) + (0,)).ravel()


# --- torch ---------------------------------------------------------------------------------------

def to_numpy(t) -> np.ndarray:
    return t.detach().cpu().numpy().copy()


def weight_slots(node: Node) -> tuple[WeightSlot, ...]:
    """The weights ``node``'s layer declares; refuses a layer that has parameters and none."""
    slots = node.layer.weight_slots(node.meta.get("input_shapes"))
    if not slots and (node.meta["trainable"] or node.meta["non_trainable"]):
        raise ValueError(f"{node.type} '{node.name}' has parameters but declares no weight "
                         f"slots: declare them as `slots` on its class in archspec/ops/")
    return slots


def _slot(node: Node, name: str) -> WeightSlot:
    for slot in weight_slots(node):
        if slot.keras == name:
            return slot
    raise ValueError(f"{node.type} '{node.name}' has no weight named {name!r}")


def torch_object(model, path: str):
    """The submodule at a dotted path — or the parameter, for a layer the torch model holds
    as a bare parameter of its container (ClassToken, PositionEmbedding)."""
    parent, _, last = path.rpartition(".")
    return getattr(model.get_submodule(parent) if parent else model, last)


def torch_slots(module, node: Node) -> dict[str, Any]:
    """Keras weight name → the torch tensor holding it (a view of its part of a packed one)."""
    out = {}
    for slot in weight_slots(node):
        tensor = module
        for part in slot.torch.split(".") if slot.torch else ():
            tensor = getattr(tensor, part, None)
        if tensor is None:
            raise ValueError(f"{node.type} '{node.name}': its torch module "
                             f"{type(module).__name__} has no {slot.torch} for {slot.keras}")
        if slot.part is not None:
            index, count = slot.part
            rows = tensor.shape[0] // count
            tensor = tensor.narrow(0, index * rows, rows)
        out[slot.keras] = tensor
    return out


def _dense_to_keras(w: np.ndarray, node: Node, graph: Graph) -> np.ndarray:
    kernel = w.T
    perm = flatten_permutation(graph, node)
    return kernel[perm] if perm is not None else kernel


def _dense_to_torch(k: np.ndarray, node: Node, graph: Graph) -> np.ndarray:
    perm = flatten_permutation(graph, node)
    if perm is not None:
        rows = np.empty_like(k)
        rows[perm] = k
        k = rows
    return k.T


def _in_channels(node: Node) -> int:
    return node.meta["input_shapes"][0][-1]


def _heads(node: Node) -> int:
    return node.layer.num_heads


# Per-head projections: Keras (in, heads, size) ↔ torch's linear weight (heads * size, in),
# heads outermost along its rows, as nn.MultiheadAttention splits them; the output projection
# Keras (heads, size, out) ↔ torch (out, heads * size).
_HEADS_TO_KERAS = {
    "heads_in": lambda w, node, graph: w.T.reshape((w.shape[1], _heads(node), -1)),
    "heads_bias": lambda w, node, graph: w.reshape((_heads(node), -1)),
    "heads_out": lambda w, node, graph: w.T.reshape((_heads(node), -1, w.shape[0])),
    "batched": lambda w, node, graph: w[0],  # torch's (1, *shape) parameter → (*shape)
}
_HEADS_TO_TORCH = {
    "heads_in": lambda k, node, graph: k.reshape((k.shape[0], -1)).T,
    "heads_bias": lambda k, node, graph: k.reshape(-1),
    "heads_out": lambda k, node, graph: k.reshape((-1, k.shape[-1])).T,
    "batched": lambda k, node, graph: k[None],
}


_TO_KERAS = {
    "conv": lambda w, node, graph: _conv_to_keras(w),
    "depthwise": lambda w, node, graph: _depthwise_to_keras(w, _in_channels(node)),
    "dense": _dense_to_keras,
    "vector": lambda w, node, graph: w,
    "per_position": lambda w, node, graph: _per_position_to_keras(
        w, len(node.meta["input_shapes"][0])),
    "per_channel": lambda w, node, graph: w.reshape(w.shape[:1]),
    **_HEADS_TO_KERAS,
}
_TO_TORCH = {
    "conv": lambda k, node, graph: _conv_to_torch(k),
    "depthwise": lambda k, node, graph: _depthwise_to_torch(k),
    "dense": _dense_to_torch,
    "vector": lambda k, node, graph: k,
    "per_position": lambda k, node, graph: _per_position_to_torch(k),
    # (C,) ↔ (C, 1, ..., 1), broadcasting over (N, C, *spatial): torchvision's layer_scale.
    "per_channel": lambda k, node, graph: k.reshape(
        k.shape + (1,) * (len(node.meta["input_shapes"][0]) - 1)),
    **_HEADS_TO_TORCH,
}


LAYOUTS = frozenset(_TO_KERAS)


def torch_to_keras_array(name: str, array: np.ndarray, node: Node, graph: Graph) -> np.ndarray:
    return _TO_KERAS[_slot(node, name).layout](array, node, graph)


def keras_to_torch_array(name: str, array: np.ndarray, node: Node, graph: Graph) -> np.ndarray:
    return _TO_TORCH[_slot(node, name).layout](array, node, graph)


def torch_weights(model, graph: Graph) -> Exchange:
    from .backends.torch_backend import attribute_names
    attrs = attribute_names(graph)
    out: Exchange = {}
    for node in graph.live():
        slots = torch_slots(torch_object(model, attrs[node.name]), node)
        if slots:
            out[node.name] = {k: torch_to_keras_array(k, to_numpy(v), node, graph)
                              for k, v in slots.items()}
    return out


def set_torch_weights(model, graph: Graph, weights: Exchange) -> None:
    import torch

    from .backends.torch_backend import attribute_names
    attrs = attribute_names(graph)
    with torch.no_grad():
        for node in graph.live():
            slots = torch_slots(torch_object(model, attrs[node.name]), node)
            _check_names(node, slots, weights)
            for name, tensor in slots.items():
                value = keras_to_torch_array(name, weights[node.name][name], node, graph)
                _check_shape(node, name, tuple(tensor.shape), value.shape)
                # ascontiguousarray makes a 0-d array (Normalization's count) 1-d.
                tensor.copy_(torch.from_numpy(np.ascontiguousarray(value).reshape(value.shape)))


# --- Keras ---------------------------------------------------------------------------------------

def keras_to_numpy(value) -> np.ndarray:
    """A Keras tensor or variable of any Keras backend → a numpy copy. ``np.asarray`` is not
    enough: on the torch backend outputs are tensors that require grad, and refuse it."""
    from keras import ops
    with warnings.catch_warnings():
        # Variables' and torch tensors' __array__ predate numpy 2's copy keyword: numpy
        # warns on each conversion, to no effect on the values.
        warnings.filterwarnings("ignore", "__array__ implementation", DeprecationWarning)
        return np.array(ops.convert_to_numpy(value), copy=True)


def _keras_slots(model, node: Node) -> dict[str, Any]:
    """Keras weight name → variable; the names must be the ones the op class declares, or the
    torch side of an exchange would miss some. A weight of a sublayer is named by its path
    below the layer (MultiHeadAttention's ``query/kernel``)."""
    layer = model.get_layer(node.name)
    slots = {_keras_name(w, layer.name): w for w in layer.weights}
    declared = {s.keras for s in weight_slots(node)}
    if set(slots) != declared:
        raise ValueError(f"{node.type} '{node.name}': the Keras layer's weights "
                         f"{sorted(slots)} are not the declared slots {sorted(declared)}")
    return slots


def _keras_name(variable, layer: str) -> str:
    path = getattr(variable, "path", "")
    return path[len(layer) + 1:] if path.startswith(layer + "/") else variable.name


def keras_weights(model, graph: Graph) -> Exchange:
    out: Exchange = {}
    for node in graph.live():
        slots = _keras_slots(model, node)
        if slots:
            out[node.name] = {k: keras_to_numpy(v) for k, v in slots.items()}
    return out


def set_keras_weights(model, graph: Graph, weights: Exchange) -> None:
    for node in graph.live():
        slots = _keras_slots(model, node)
        _check_names(node, slots, weights)
        for name, variable in slots.items():
            value = weights[node.name][name]
            _check_shape(node, name, tuple(variable.shape), value.shape)
            variable.assign(value)


def _check_names(node: Node, slots: dict, weights: Exchange) -> None:
    have = set(weights.get(node.name, {}))
    if slots and have != set(slots):
        raise ValueError(f"{node.type} '{node.name}': weights {sorted(have)} do not match the "
                         f"model's {sorted(slots)}")


def _check_shape(node: Node, name: str, want: tuple, got: tuple) -> None:
    if tuple(want) != tuple(got):
        raise ValueError(f"{node.type} '{node.name}': {name} has shape {list(got)}, the model "
                         f"needs {list(want)}")


# --- the public API ------------------------------------------------------------------------------

def get_weights(model, graph: Graph) -> Exchange:
    return torch_weights(model, graph) if framework_of(model) == "torch" \
        else keras_weights(model, graph)


def set_weights(model, graph: Graph, weights: Exchange) -> None:
    if framework_of(model) == "torch":
        set_torch_weights(model, graph, weights)
    else:
        set_keras_weights(model, graph, weights)


def transfer_weights(src, dst, spec, params=None) -> None:
    """Copy every weight of ``src`` into ``dst``: compiled models of the same spec, Keras to
    torch, torch to Keras, or within one framework. Layout differences (kernel axes, depthwise
    and transposed kernels, Dense transposes, the rows of a Dense after a Flatten, BatchNorm
    statistics) are handled; the outputs then agree."""
    from .analysis import analyze
    graph = spec if isinstance(spec, Graph) else analyze(spec, params)
    set_weights(dst, graph, get_weights(src, graph))


def load_file(model, path: str) -> None:
    """Load saved weights into a compiled model: a torch ``state_dict`` file (torch.save) or
    Keras weights (``.weights.h5``)."""
    if framework_of(model) == "torch":
        import torch
        model.load_state_dict(torch.load(path, map_location="cpu", weights_only=True))
    else:
        model.load_weights(path)


def save_file(model, path: str) -> None:
    if framework_of(model) == "torch":
        import torch
        torch.save(model.state_dict(), path)
    else:
        if not str(path).endswith(".weights.h5"):
            raise ValueError(f"Keras weights files must end in .weights.h5, got {path}")
        model.save_weights(path)
