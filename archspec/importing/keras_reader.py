"""Keras 3 models (functional or sequential) → ``FlatModel``: every layer in archspec's
vocabulary with the model's own names, in the order Keras lists them.

Sources: a ``.keras`` file (loaded with Keras' safe mode: no Lambda code is run) or a
``keras.applications.<Name>`` (built untrained, nothing downloaded). Every layer archspec
cannot express is collected and reported together in one ``UnsupportedModel`` error, by name,
class and reason; none is dropped.
"""

from __future__ import annotations

import heapq
import json
import zipfile
from typing import Any, Optional

from .arguments import Unsupported, essential, validated
from .flat import FlatLayer, FlatModel, unsupported
from .keras_layers import convert

INPUT = "input"
# archspec's compiled Keras code pads explicitly before a 'valid' layer, in a layer named
# after it: reading the pair back gives the one layer of the spec.
# Paddings archspec has no layer for, read only to be merged into the convolution after them.
PADDINGS_TO_MERGE = frozenset({"ZeroPadding3D"})
_PADDED_TYPES = frozenset({"Conv1D", "Conv2D", "Conv3D", "DepthwiseConv1D", "DepthwiseConv2D",
                           "SeparableConv1D", "SeparableConv2D"})


def load_keras(source: str, input_shape: Optional[tuple[int, ...]] = None):
    """The Keras model ``source`` names: a ``.keras`` file or ``keras.applications.<Name>``."""
    if source.startswith("keras.applications."):
        from ..reference import UnknownReference, resolve_reference
        try:
            _, builder = resolve_reference(source)
        except UnknownReference as exc:
            raise ValueError(str(exc)) from None
        options: dict[str, Any] = {"weights": None}
        if input_shape is not None:
            options["input_shape"] = tuple(input_shape)
        return builder(**options)
    import keras

    from ..backends import keras_runtime, keras_sequence_runtime  # noqa: F401 - registers
    try:
        return keras.saving.load_model(source, compile=False, safe_mode=True)
    except OSError:
        raise
    except Exception as exc:  # noqa: BLE001 - a damaged or foreign file fails in many ways
        problems = _unloadable_layers(source)
        if problems:
            raise unsupported(problems, source, hint="Keras cannot load the model with these "
                              "layers; the others are checked once they are standard Keras "
                              "layers") from None
        raise ValueError(f"Keras cannot load {source}: {exc}") from None


def _unloadable_layers(path: str) -> list[tuple[str, str, str]]:
    """The layers of a ``.keras`` file Keras cannot rebuild here (a Lambda, which safe mode
    refuses to run, or a class no code registered), read from its config alone."""
    try:
        with zipfile.ZipFile(path) as archive:
            config = json.loads(archive.read("config.json"))
    except (OSError, KeyError, ValueError, zipfile.BadZipFile):
        return []
    if not isinstance(config, dict) or not isinstance(config.get("config", {}), dict):
        return []
    import keras
    problems = []
    for entry in config.get("config", {}).get("layers", []):
        kind = entry.get("class_name", "?")
        registered = entry.get("registered_name") or kind
        if kind == "Lambda":
            problems.append((entry.get("config", {}).get("name", "?"), kind,
                             "a Lambda runs arbitrary Python code, which has no archspec form"))
        elif keras.saving.get_registered_object(registered) is None and not hasattr(
                keras.layers, kind):
            problems.append((entry.get("config", {}).get("name", "?"), registered,
                             "a custom layer class: archspec cannot know what it computes"))
    return problems


def read_keras(model, source: str = "<model>", input_shape: Optional[tuple[int, ...]] = None,
               weights: bool = False) -> FlatModel:
    """``model`` as a FlatModel (channels-last, Keras' layout). ``input_shape`` fills sizes the
    model leaves open (``None``). Raises UnsupportedModel listing every layer archspec cannot
    express, ValueError for a model that is not one network (several inputs or outputs)."""
    graph = _Graph(model)
    shape = _input_shape(graph.input_shape, input_shape)
    notes: list[str] = []
    problems: list[tuple[str, str, str]] = []
    layers = []
    for op, inputs in graph.ordered():
        try:
            layers.append(_flat_layer(op, inputs, notes, weights))
        except Unsupported as exc:
            problems.append((op.name, _class_label(op), str(exc)))
    layers = _fuse_padding(layers)
    problems += [(layer.name, layer.type, "no archspec layer type computes it")
                 for layer in layers if layer.type in PADDINGS_TO_MERGE]
    problems += graph.problems
    if problems:
        raise unsupported(problems, source, hint="archspec imports only layers with an "
                          "archspec type; rewrite these with standard Keras layers")
    return FlatModel(name=_spec_name(model.name), input_shape=shape, channels_first=False,
                     layers=layers, description=f"imported from {source}", framework="keras",
                     notes=notes)


def _input_shape(declared: tuple, given: Optional[tuple]) -> tuple[int, ...]:
    if given is not None:
        if len(given) != len(declared) or any(d is not None and d != g
                                              for d, g in zip(declared, given)):
            raise ValueError(f"--input {list(given)} does not fit the model's input "
                             f"{[d for d in declared]}")
        return tuple(int(g) for g in given)
    if any(d is None for d in declared):
        raise ValueError(f"the model's input {list(declared)} has open sizes: give them with "
                         f"--input (e.g. --input 224,224,3)")
    return tuple(int(d) for d in declared)


def _spec_name(name: str) -> str:
    import re
    cleaned = re.sub(r"[^A-Za-z0-9_.\-]", "_", name)[:64]
    return cleaned if cleaned and cleaned[0] not in ".-" else f"model{cleaned}"[:64]


def _class_label(op) -> str:
    import keras
    registered = keras.saving.get_registered_name(type(op))
    return registered if registered != type(op).__name__ else type(op).__name__


def _is_archspec_helper(op) -> bool:
    import keras
    return keras.saving.get_registered_name(type(op)).startswith("archspec>")


def _is_keras_class(op) -> bool:
    return (type(op).__module__ or "").split(".")[0] == "keras"


def _flat_layer(op, inputs: list[str], notes: list[str], weights: bool) -> FlatLayer:
    helper = _is_archspec_helper(op)
    if not helper and not _is_keras_class(op):
        raise Unsupported(f"a custom layer class (from {type(op).__module__}): archspec cannot "
                          f"know what it computes")
    if type(op).__name__ == "Lambda":
        raise Unsupported("a Lambda runs arbitrary Python code, which has no archspec form")
    mine: list[str] = []
    type_name, args = convert(type(op).__name__, op.get_config(), mine, op, helper=helper)
    if type_name not in PADDINGS_TO_MERGE:
        args = essential(type_name, _last_axis(args, op))
    if not getattr(op, "trainable", True):
        mine.append("frozen (trainable=False) in Keras; archspec counts its weights as "
                    "trainable")
    notes.extend(f"{op.name}: {note}" for note in mine)
    if type_name == "MultiHeadAttention" and len(inputs) == 2 and inputs[0] == inputs[1]:
        inputs = inputs[:1]  # attention to itself: archspec's single-input form
    layer = FlatLayer(name=op.name, type=type_name, args=args, inputs=inputs)
    if weights:
        layer.weights = _weights(op, type_name, args)
    return layer


def _last_axis(args: dict, op) -> dict:
    """Keras' positive index of the channel axis (``axis: 3`` on an image) is archspec's -1:
    the spelling a person reads as "the channels" whatever the rank."""
    axis = args.get("axis")
    if not isinstance(axis, int) or axis <= 0:
        return args
    try:
        shapes = op.input if isinstance(op.input, (list, tuple)) else [op.input]
        rank = len(shapes[0].shape)
    except (AttributeError, ValueError, IndexError):
        return args
    return {**args, "axis": -1} if axis == rank - 1 else args


def _weights(op, type_name: str, args: dict) -> dict:
    """The layer's variables by archspec's slot names (the path below the layer; by position
    where Keras names them otherwise, as keras.applications' ConvNeXt LayerScale does)."""
    from ..weights import keras_to_numpy
    declared = [slot.keras for slot in validated(type_name, args).weight_slots()]
    names = [v.path[len(op.name) + 1:] if v.path.startswith(op.name + "/") else v.name
             for v in op.weights]
    if set(names) != set(declared) and len(names) == len(declared):
        names = declared
    values = {name: keras_to_numpy(v) for name, v in zip(names, op.weights)}
    if type_name == "Normalization" and not values:  # constants in Keras: weights in archspec
        import numpy as np
        mean, variance = (np.asarray(args[k], dtype="float32") for k in ("mean", "variance"))
        values = {"mean": mean.reshape(-1), "variance": variance.reshape(-1),
                  "count": np.zeros((), dtype="int64")}
    return values


def _fuse_padding(layers: list[FlatLayer]) -> list[FlatLayer]:
    """``X_pad`` (ZeroPadding) read only by a 'valid' convolution ``X``: archspec's Keras code
    for a convolution with explicit padding; it reads back as that convolution."""
    readers: dict[str, list[FlatLayer]] = {}
    for layer in layers:
        for name in layer.inputs:
            readers.setdefault(name, []).append(layer)
    out = []
    for layer in layers:
        users = readers.get(layer.name, [])
        target = users[0] if len(users) == 1 else None
        if layer.type.startswith("ZeroPadding") and target is not None \
                and target.type in _PADDED_TYPES and layer.name == f"{target.name}_pad" \
                and target.args.get("padding", "valid") == "valid":
            padding = layer.args.get("padding", 1)
            target.args = essential(target.type, {**target.args, "padding": padding})
            target.inputs = list(layer.inputs)
            continue
        out.append(layer)
    return out


class _Graph:
    """The layers a model's output depends on, each with the names of the layers it reads,
    nested models opened in place. Shared layers (one layer called on several inputs) and
    layers with several outputs are problems: a spec layer is one call. Iterative: a deep
    model must not exhaust Python's recursion limit."""

    def __init__(self, model):
        self.problems: list[tuple[str, str, str]] = []
        self.calls: dict[int, tuple[Any, Any]] = {}  # id(op) → (op, its node in this model)
        self.alias: dict[int, Any] = {}  # a nested model's tensors → the tensors they are
        inputs, outputs = _endpoints(model)
        if len(inputs) != 1 or len(outputs) != 1:
            raise ValueError(f"the model has {len(inputs)} inputs and {len(outputs)} outputs; "
                             f"a spec has one of each")
        self.input_shape = tuple(inputs[0].shape[1:])
        self.input = inputs[0]
        self.rank = _listing(model)
        self._walk(outputs[0])

    def _walk(self, output) -> None:
        stack, seen, opened = [output], set(), set()
        while stack:
            tensor = stack.pop()
            if id(tensor) in seen or tensor is self.input:
                continue
            seen.add(id(tensor))
            if id(tensor) in self.alias:
                stack.append(self.alias[id(tensor)])
                continue
            op, node_index, tensor_index = tensor._keras_history
            node = op._inbound_nodes[node_index]
            if hasattr(op, "layers") and hasattr(op, "outputs"):  # a nested model: open it
                if id(op) in opened:
                    self._problem(op, "a nested model called more than once (shared weights)")
                    continue
                opened.add(id(op))
                inner_inputs, inner_outputs = _endpoints(op)
                for inner, outer in zip(inner_inputs, node.input_tensors):
                    self.alias[id(inner)] = outer
                self.alias[id(tensor)] = inner_outputs[tensor_index]
                stack.append(inner_outputs[tensor_index])
                continue
            self._record(op, node, tensor_index)
            stack.extend(node.input_tensors)

    def _record(self, op, node, tensor_index: int) -> None:
        if type(op).__name__ == "InputLayer":
            self._problem(op, "a second model input: a spec has one")
        elif id(op) in self.calls and self.calls[id(op)][1] is not node:
            self._problem(op, "called more than once (shared weights): a spec layer is one "
                              "call")
        elif tensor_index or len(node.output_tensors) > 1:
            self._problem(op, "has several outputs: a spec layer has one")
        self.calls.setdefault(id(op), (op, node))

    def _problem(self, op, why: str) -> None:
        self.problems.append((op.name, type(op).__name__, why))

    def name_of(self, tensor) -> str:
        while id(tensor) in self.alias:
            tensor = self.alias[id(tensor)]
        return INPUT if tensor is self.input else tensor._keras_history[0].name

    def ordered(self) -> list[tuple[Any, list[str]]]:
        """Topological order, Keras' own listing where it allows (the order a person reads the
        model in, and the same for every instance of a repeated block)."""
        inputs = {key: [self.name_of(t) for t in node.input_tensors]
                  for key, (op, node) in self.calls.items()}
        producer = {op.name: key for key, (op, _) in self.calls.items()}
        rank = {key: self.rank.get(key, (len(self.rank),)) for key in self.calls}
        waiting = {key: {producer[n] for n in names if n in producer}
                   for key, names in inputs.items()}
        readers: dict[int, list[int]] = {}
        for key, deps in waiting.items():
            for dep in deps:
                readers.setdefault(dep, []).append(key)
        ready = [(rank[k], k) for k, deps in waiting.items() if not deps]
        heapq.heapify(ready)
        out = []
        while ready:
            _, key = heapq.heappop(ready)
            out.append((self.calls[key][0], inputs[key]))
            for reader in readers.get(key, []):
                waiting[reader].discard(key)
                if not waiting[reader]:
                    heapq.heappush(ready, (rank[reader], reader))
        return out


def _listing(model, prefix: tuple = ()) -> dict[int, tuple]:
    """Each layer's place in Keras' listing of the model, nested models' layers in theirs."""
    out: dict[int, tuple] = {}
    for i, layer in enumerate(model.layers):
        if hasattr(layer, "layers") and hasattr(layer, "outputs"):
            out.update(_listing(layer, prefix + (i,)))
        else:
            out[id(layer)] = prefix + (i,)
    return out


def _endpoints(model) -> tuple[list, list]:
    try:
        inputs, outputs = model.inputs, model.outputs
    except (AttributeError, ValueError):
        inputs = outputs = None
    if not inputs or not outputs:
        raise ValueError(f"model {model.name!r} has not been built: call it on an input or "
                         f"give it an Input first")
    return list(inputs), list(outputs)
