"""The ONNX graph under construction, and the one idea that keeps it free of transposes: every
value remembers its layout.

ONNX's convolutions, pools and BatchNormalization want channels first (N, C, *spatial); Dense,
LayerNormalization over features and attention want channels last (N, *spatial, C). A value is
held in whichever layout the layer that made it wanted, and converted only where a consumer
needs the other one: a channels-last CNN is transposed once after the input, a ViT once more
where its patches become a sequence. Values of one canonical dimension (features) have no
layout ("flat")."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

FIRST, LAST, FLAT = "channels_first", "channels_last", "flat"


def layout_for(shape: tuple[int, ...], wanted: str) -> str:
    """The layout a value of canonical ``shape`` is held in when ``wanted`` is asked for."""
    return FLAT if len(shape) < 2 else wanted


def onnx_axis(axis: int, shape: tuple[int, ...], layout: str) -> int:
    """A canonical axis (no batch, channels last) → its index in a tensor held in ``layout``."""
    if layout == FIRST:
        return 1 if axis == len(shape) - 1 else axis + 2
    return axis + 1


def held_shape(shape: tuple[int, ...], layout: str) -> tuple[int, ...]:
    """The tensor's dims after the batch, as held."""
    return (shape[-1],) + tuple(shape[:-1]) if layout == FIRST else tuple(shape)


def _to_first(rank: int) -> list[int]:
    return [0, rank] + list(range(1, rank))


def _to_last(rank: int) -> list[int]:
    return [0] + list(range(2, rank + 1)) + [1]


@dataclass
class Value:
    tensor: str
    shape: tuple[int, ...]  # canonical, no batch
    layout: str


# TensorProto's codes, spelled here so that the emitter tables load without onnx installed
# (the completeness test reads them in the framework-free loop).
FLOAT, INT64 = 1, 7
_DTYPES = {np.dtype(np.float32): FLOAT, np.dtype(np.int64): INT64}


def _model():
    from onnx import ModelProto
    return ModelProto()


@dataclass
class OnnxGraph:
    """Nodes written straight into ``model.graph`` as they are made, initializers kept as
    arrays (see ``const``); ``values`` maps a layer's name to its output as held."""
    model: Any = field(default_factory=_model)
    values: dict[str, Value] = field(default_factory=dict)
    arrays: list[tuple[str, np.ndarray]] = field(default_factory=list)  # the initializers
    reserved: set[str] = field(default_factory=set)  # the layers' names: their outputs' own
    _converted: dict[tuple[str, str], str] = field(default_factory=dict)
    _names: set[str] = field(default_factory=set)

    def __post_init__(self) -> None:
        self._names |= self.reserved

    def fresh(self, base: str) -> str:
        """A tensor name no other tensor has: ``base``, else ``base/1``, ``base/2``..."""
        name, n = base, 0
        while name in self._names:
            n += 1
            name = f"{base}/{n}"
        self._names.add(name)
        return name

    def op(self, op_type: str, inputs: list[str], output: str, **attrs: Any) -> str:
        """Add one node writing a fresh tensor named after ``output``; returns that name."""
        from onnx import helper
        out = self.fresh(output)
        self.model.graph.node.append(helper.make_node(op_type, inputs, [out], name=out, **attrs))
        return out

    def name_output(self, tensor: str, layer: str) -> str:
        """Give a layer's output tensor the layer's name: the last op's output when it made
        it (``layer/...``), else (a layer that passes its input on) an Identity."""
        nodes = self.model.graph.node
        if nodes and list(nodes[-1].output) == [tensor] and tensor.startswith(layer + "/"):
            nodes[-1].output[0] = nodes[-1].name = layer
        else:
            from onnx import helper
            nodes.append(helper.make_node("Identity", [tensor], [layer], name=layer))
        return layer

    @property
    def nodes(self):
        return self.model.graph.node

    def const(self, name: str, array: Any, dtype: Any = np.float32) -> str:
        """A weight or constant. Kept as an array until the model is written: copied into
        protobuf only for an in-memory ModelProto (``materialize``); ``wire.write`` streams
        it to the file from numpy's memory."""
        tensor_name = self.fresh(name)
        self.arrays.append((tensor_name, np.require(np.asarray(array, dtype=dtype),
                                                    requirements="C")))
        return tensor_name

    def materialize(self):
        """The ModelProto with every constant copied in as an initializer."""
        for name, array in self.arrays:
            tensor = self.model.graph.initializer.add()
            tensor.name, tensor.data_type = name, _DTYPES[array.dtype]
            tensor.dims.extend(array.shape)
            tensor.raw_data = array.tobytes()  # little-endian: numpy's order on every host
        self.arrays = []
        return self.model

    def ints(self, name: str, values: list[int]) -> str:
        return self.const(name, np.asarray(values, dtype=np.int64), np.int64)

    def held(self, value_name: str, wanted: str) -> str:
        """The tensor of a value in ``wanted`` layout, transposing (once per value) if needed."""
        value = self.values[value_name]
        target = layout_for(value.shape, wanted)
        if value.layout == target or value.layout == FLAT:
            return value.tensor
        key = (value_name, target)
        if key not in self._converted:
            rank = len(value.shape)
            perm = _to_first(rank) if target == FIRST else _to_last(rank)
            self._converted[key] = self.op("Transpose", [value.tensor],
                                           f"{value.tensor}/{target}", perm=perm)
        return self._converted[key]

    def broadcastable(self, name: str, array: np.ndarray, shape: tuple[int, ...],
                      layout: str) -> str:
        """A constant given over canonical ``shape``'s axes (size 1 where it broadcasts), laid
        out to broadcast against a tensor held in ``layout``, with a leading batch 1."""
        array = np.asarray(array, dtype=np.float32).reshape(
            np.broadcast_shapes(np.shape(array), (1,) * len(shape)))
        if layout == FIRST:
            array = np.moveaxis(array, -1, 0)
        return self.const(name, array[None])


def value_info(name: str, shape: tuple[int, ...], layout: str, elem_type: int = FLOAT) -> Any:
    from onnx import helper
    return helper.make_tensor_value_info(name, elem_type, ["N", *held_shape(shape, layout)])

